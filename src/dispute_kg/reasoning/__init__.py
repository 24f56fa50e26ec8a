"""OWL 2 RL reasoning: owlrl for small graphs (`closure`) and SPARQL rules iterated to a fixpoint inside
Oxigraph for large ones (`rules`); both give the same entailments."""
