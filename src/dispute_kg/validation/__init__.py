"""Validate new assertions against the current graph, incrementally, without changing anything.

The pipeline (DESIGN.md, "Validating new assertions"), one module a part:

1. parse every input file (errors located to file:line:column; no TriG named graphs) and apply the
   input rules (size, prefixes, no blank nodes, subjects under id/, no ontology or source-text edits,
   no term the ontology marks dk:derived, no project records: history, registered sources' metadata;
   every typed literal valid for its datatype; Wikidata links of a type the type map allows,
   `wikidata_links`);
2. vocabulary: every dk: term used must be defined by the ontology, and every term of a reused
   vocabulary (SKOS, PROV-O, ...) by that vocabulary (`vocabularies`; closest term suggested);
3. neighbourhood: the input's nodes and their outgoing edges in the built store, which already
   holds the OWL 2 RL closure of the current graph, form the part of the graph the input touches;
4. OWL 2 RL closes ontology + input + that neighbourhood: the new entailments of the input (rules.py,
   the build's SPARQL-rules reasoner, when the result is consistent; otherwise owlrl, whose equality
   semantics then decide which nodes a refusal reports; DISPUTE_KG_REASONER=owlrl forces owlrl);
5. focus nodes: the input's and the new entailments' nodes, plus every node whose shapes reach a
   changed triple through the shapes' paths and SHACL-SPARQL patterns (read backwards); the data
   each focus node's shapes read (read forwards along the same paths) is fetched from the store;
6. pyshacl validates only those focus nodes (``focus_nodes``) on that data;
7. provenance: every new selection's offsets reproduce its quote in a registered source;
8. OWL consistency (disjoint classes, functional properties, owl:differentFrom) and the QC checks
   of queries/checks/ on the focus nodes;
9. duplicates: triples already in the graph are reported and not stored twice; an input with
   nothing new, or a new assertion node that repeats an existing one, is refused.

Because the store holds the closure of the current graph, and each OWL 2 RL rule this ontology
uses joins the input only with the input's own nodes' edges (inverses and transitive closures are
materialised), the local closure adds exactly what a whole-graph closure would add; and because
each focus node gets every triple its shapes can read, the violations equal a full validation's
(tests/test_incremental.py checks both on random inputs).

Modules: `inputs` (steps 1-2), `wikidata_links` (the link type rule, shared with `check`), `schema`
and `shape_paths` (the ontology and shapes, read once per process, and the paths the shapes read),
`neighbourhood` (steps 3-5), `stages` (steps 6-9), `pipeline` (`validate`, which runs them, and
`full_validation`, the reference), `report` (what they find), `common` (shared names);
`shacl_store` runs the shapes as queries inside the store for `check`. `pipeline.validate` is the
entry point `validate`, `add` and the API call.
"""
