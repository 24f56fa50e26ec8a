"""Store backends behind one interface (`base`): embedded Oxigraph (the default), an in-process rdflib
dataset, and any SPARQL 1.1 endpoint. Each is imported only when its selector scheme is used; backends
import only `rdf` and `errors`."""
