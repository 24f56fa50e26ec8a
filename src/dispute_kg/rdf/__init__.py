"""RDF terms and IO: the project's namespaces, the SPARQL JSON term shape every store returns,
reading files with located errors, the reused vocabularies' terms, and export. Imports nothing above it."""
