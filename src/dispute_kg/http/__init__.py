"""The graph over HTTP: the SPARQL endpoint and JSON API (`server`) and the web pages (`web`)."""
