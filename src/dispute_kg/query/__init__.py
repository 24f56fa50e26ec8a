"""Stored queries: the `#+` header (`headers`), the catalogue (`catalog`), binding parameters as RDF
terms (`binding`), the query index the quick route reads (`index`) and output formats (`results`)."""
