"""A remote SPARQL 1.1 endpoint (Oxigraph server, Fuseki, GraphDB, Virtuoso, QLever, Neptune).

Selector: `sparql:QUERY_URL[;update=URL][;gsp=URL][;timeout=SECONDS]`. Queries go through
SPARQLWrapper (GET for short queries, form-encoded POST for long ones, SPARQL JSON results, or
N-Triples for CONSTRUCT/DESCRIBE). Update needs `update=`; bulk loading and reading one graph use
the Graph Store Protocol when `gsp=` is given and fall back to SPARQL Update/CONSTRUCT otherwise.

Credentials come from the environment, never from the command line (where `ps` and shell history
would show them): `DISPUTE_KG_SPARQL_TOKEN` (HTTP bearer) or `DISPUTE_KG_SPARQL_USER` with
`DISPUTE_KG_SPARQL_PASSWORD` (HTTP basic).

Parameters are bound as RDF terms by a `VALUES` block inserted at the start of the outermost WHERE
group, each term serialised with N-Triples escaping and checked first, so no value can change the
query. Reads see what the endpoint's default graph is; point it at a union default graph
(`oxigraph serve --union-default-graph`, Fuseki `tdb2:unionDefaultGraph true`) to query the named
graphs `push` writes, as the embedded store does.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..errors import BackendUnavailable, InputError, QueryTimeout
from ..rdf.namespaces import GRAPH
from ..rdf.sparqltext import query_form, where_brace
from ..rdf.terms import insert_values, iri_text, term_text
from .base import QuadTerms, Result, Selector, Term

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
USER_AGENT = "dispute-kg/0.1 (https://w3id.org/dispute-kg; SPARQL client)"
GET_LIMIT = 1500  # longer queries are POSTed: URLs past ~2 kB are refused by some servers and proxies
DEFAULT_TIMEOUT = 60.0
BATCH = 5000

ENV_USER, ENV_PASSWORD, ENV_TOKEN = "DISPUTE_KG_SPARQL_USER", "DISPUTE_KG_SPARQL_PASSWORD", "DISPUTE_KG_SPARQL_TOKEN"



def bind_values(sparql: str, bindings: Mapping[str, Term] | None) -> str:
    """The query with the bindings as a VALUES block at the start of its outermost WHERE group."""
    if not bindings:
        return sparql
    brace = where_brace(sparql)
    if brace is None:
        raise InputError("cannot bind parameters: the query has no WHERE group")
    if any(t.get("type") == "bnode" for t in bindings.values()):
        raise InputError("cannot bind a variable to a blank node on a remote endpoint")
    return insert_values(sparql, brace, dict(bindings))


def normalise(term: Term) -> Term:
    """A result term in the package's one shape: `typed-literal` is a literal, xsd:string is implicit."""
    kind = term.get("type")
    if kind == "typed-literal" or kind == "literal":
        out = {"type": "literal", "value": term["value"]}
        if term.get("xml:lang"):
            out["xml:lang"] = term["xml:lang"]
        elif term.get("datatype") and term["datatype"] not in (XSD_STRING, RDF_LANG_STRING):
            out["datatype"] = term["datatype"]
        return out
    return {"type": kind, "value": term["value"]}


def quads_ntriples(quads: Iterable[QuadTerms]) -> str:
    return "".join(f"{term_text(s)} {term_text(p)} {term_text(o)} .\n" for s, p, o, _ in quads)


# -- the backend ------------------------------------------------------------------------------
class SparqlStore:
    name = "sparql"

    def __init__(self, query_url: str, update_url: str | None = None, gsp_url: str | None = None, *,
                 timeout: float = DEFAULT_TIMEOUT) -> None:
        for url in (query_url, update_url, gsp_url):
            if url is not None and urllib.parse.urlsplit(url).scheme not in ("http", "https"):
                raise InputError(f"sparql: store URL {url!r} must start with http:// or https://")
        self.query_url, self.update_url, self.gsp_url = query_url, update_url, gsp_url
        self.timeout = timeout
        caps = {"named_graphs", "persistent"}
        if update_url:
            caps.add("update")
        if gsp_url:
            caps.add("graph_store")
        self.capabilities = frozenset(caps)

    @classmethod
    def open(cls, selector: Selector, *, project: Any = None, read_only: bool = False) -> SparqlStore:
        if not selector.location:
            raise InputError("the sparql: store needs a query URL, e.g. sparql:http://127.0.0.1:7878/query")
        unknown = [k for k, _ in selector.options if k not in ("update", "gsp", "timeout")]
        if unknown:
            raise InputError(f"unknown sparql: store option {unknown[0]!r} (known: update, gsp, timeout)")
        timeout = selector.option("timeout")
        try:
            seconds = float(timeout) if timeout else DEFAULT_TIMEOUT
        except ValueError:
            raise InputError(f"sparql: store option timeout={timeout!r} is not a number of seconds") from None
        update = None if read_only else selector.option("update")
        return cls(selector.location, update, selector.option("gsp"), timeout=seconds)

    def __repr__(self) -> str:
        return f"SparqlStore({self.query_url!r}, update={self.update_url!r}, gsp={self.gsp_url!r})"

    # -- HTTP --------------------------------------------------------------------------------
    def _auth_header(self) -> str | None:
        token = os.environ.get(ENV_TOKEN)
        if token:
            return f"Bearer {token}"
        user, password = os.environ.get(ENV_USER), os.environ.get(ENV_PASSWORD)
        if user and password is not None:
            return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        return None

    def _wrapper(self, text: str, timeout: float, accept: str, update: bool = False) -> Any:
        from SPARQLWrapper import GET, POST, URLENCODED, SPARQLWrapper

        sw = SPARQLWrapper(self.query_url, updateEndpoint=self.update_url, agent=USER_AGENT)
        sw.setQuery(text)
        # SPARQLWrapper guesses the kind with a regex that comments and strings can fool (a header saying
        # "insert" made it send a query as an update); we know the kind, from sparqltext's tokens
        sw.queryType = "INSERT" if update else (query_form(text) or "SELECT")
        sw.setMethod(POST if update or len(text) > GET_LIMIT else GET)
        sw.setRequestMethod(URLENCODED)
        # content negotiation by the Accept header only: SPARQLWrapper would also add format=xml&output=xml,
        # which Fuseki and Virtuoso obey over the Accept header
        sw.setOnlyConneg(True)
        sw.setTimeout(max(1, int(timeout + 0.999)))
        sw.addCustomHttpHeader("Accept", accept)
        auth = self._auth_header()
        if auth:
            sw.addCustomHttpHeader("Authorization", auth)
        return sw

    def _call(self, fn: Any, url: str, timeout: float) -> Any:
        """Run one HTTP exchange, turning transport failures into the package's errors."""
        from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

        try:
            return fn()
        except SPARQLWrapperException as exc:
            status = {"QueryBadFormed": 400, "Unauthorized": 401, "EndPointNotFound": 404,
                      "URITooLong": 414, "EndPointInternalError": 500}.get(type(exc).__name__, 0)
            raise self._http_error(url, status, _exc_body(exc)) from None
        except urllib.error.HTTPError as exc:
            raise self._http_error(url, exc.code, exc.read().decode("utf-8", "replace")) from None
        except TimeoutError:
            raise QueryTimeout(f"{url} did not answer within {timeout:g} s") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError | socket.timeout):
                raise QueryTimeout(f"{url} did not answer within {timeout:g} s") from None
            raise BackendUnavailable(f"cannot reach SPARQL endpoint {url}: {exc.reason}") from None
        except (ConnectionError, OSError) as exc:
            raise BackendUnavailable(f"cannot reach SPARQL endpoint {url}: {exc}") from None

    def _http_error(self, url: str, status: int, body: str) -> Exception:
        detail = " ".join(body.split())[:300]
        if status == 400:
            return InputError(f"the endpoint refused the request as malformed: {detail}")
        if status in (401, 403):
            return BackendUnavailable(f"{url} answered {status}: set {ENV_TOKEN}, or {ENV_USER} and "
                                      f"{ENV_PASSWORD}, to credentials it accepts")
        if status in (408, 503, 504) or "timeout" in body.lower() or "timed out" in body.lower():
            return QueryTimeout(f"{url} stopped the query ({status}): {detail}")
        return BackendUnavailable(f"{url} answered HTTP {status or 'error'}: {detail}")

    def _request(self, method: str, url: str, data: bytes | None, content_type: str | None,
                 accept: str = "*/*", timeout: float | None = None) -> bytes:
        """A plain HTTP exchange (Graph Store Protocol), with the same auth and errors."""
        seconds = timeout or self.timeout
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("User-Agent", USER_AGENT)
        req.add_header("Accept", accept)
        if content_type:
            req.add_header("Content-Type", content_type)
        auth = self._auth_header()
        if auth:
            req.add_header("Authorization", auth)

        def go() -> bytes:
            with urllib.request.urlopen(req, timeout=seconds) as response:
                return response.read()

        return self._call(go, url, seconds)

    # -- Store protocol ----------------------------------------------------------------------
    def query(self, sparql: str, bindings: Mapping[str, Term] | None = None, *,
              limit: int | None = None, timeout: float | None = None) -> Result:
        text = bind_values(sparql, bindings)
        seconds = timeout or self.timeout
        form = query_form(text)
        graph = form in ("CONSTRUCT", "DESCRIBE")
        accept = "application/n-triples" if graph else "application/sparql-results+json"
        sw = self._wrapper(text, seconds, accept)
        body = self._call(lambda: sw.query().response.read(), self.query_url, seconds)
        if graph:
            return _graph_result(body, limit)
        try:
            doc = json.loads(body)
        except ValueError:
            raise BackendUnavailable(f"{self.query_url} did not answer with SPARQL JSON results") from None
        if "boolean" in doc:
            return Result("ask", boolean=bool(doc["boolean"]))
        variables = list(doc.get("head", {}).get("vars", []))
        bindings_out = doc.get("results", {}).get("bindings", [])
        truncated = limit is not None and len(bindings_out) > limit
        rows = [{k: normalise(v) for k, v in row.items()} for row in bindings_out[:limit]]
        return Result("select", variables=variables, rows=rows, truncated=truncated)

    def update(self, sparql: str) -> None:
        from .base import require

        require(self, "update")
        sw = self._wrapper(sparql, self.timeout, "*/*", update=True)
        self._call(lambda: sw.query().response.read(), self.update_url or "", self.timeout)

    def add_quads(self, quads: Iterable[QuadTerms]) -> None:
        """Add quads, one request per graph and batch: GSP POST when available, else INSERT DATA."""
        if not (self.gsp_url or self.update_url):
            from .base import require

            require(self, "update")
        by_graph: dict[str | None, list[QuadTerms]] = {}
        for q in quads:
            by_graph.setdefault(q[3]["value"] if q[3] else None, []).append(q)
        for graph, items in by_graph.items():
            # one request per graph with blank nodes: each request gives its labels fresh identities
            step = len(items) if any(t["type"] == "bnode" for q in items for t in q[:3]) else BATCH
            for start in range(0, len(items), step):
                self.add_graph_batch(graph, items[start:start + step])

    def add_graph_batch(self, graph: str | None, quads: list[QuadTerms]) -> None:
        body = quads_ntriples(quads)
        if self.gsp_url:
            url = self._gsp_target(graph)
            self._request("POST", url, body.encode("utf-8"), "application/n-triples")
            return
        target = f"GRAPH {iri_text(graph)} {{\n{body}}}" if graph else body
        if any(t["type"] == "bnode" for q in quads for t in q[:3]):
            # SPARQL 1.1 lets INSERT DATA hold blank nodes, but some engines (Virtuoso 7) refuse them in a
            # "constant clause"; a template with an empty WHERE means the same to every engine: one
            # solution, so each label becomes one fresh blank node for the whole request
            self.update(f"INSERT {{\n{target}}} WHERE {{}}")
            return
        self.update(f"INSERT DATA {{\n{target}}}")

    def _gsp_target(self, graph: str | None) -> str:
        sep = "&" if "?" in (self.gsp_url or "") else "?"
        if graph is None:
            return f"{self.gsp_url}{sep}default"
        return f"{self.gsp_url}{sep}{urllib.parse.urlencode({'graph': graph})}"

    def graphs(self) -> list[str]:
        """The project's named graphs on the endpoint. Engines keep graphs of their own beside them
        (Virtuoso's `virtrdf#` system graph holds about 2,500 triples), so only the graphs under the
        project's graph namespace, the ones `push` and `add` write, are the project's."""
        rows = self.query(f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {_OURS} }} ORDER BY ?g").rows
        return [r["g"]["value"] for r in rows if "g" in r]

    def graph_triples(self, graph: str) -> Iterator[tuple[Term, Term, Term]]:
        """The triples of one named graph (GSP GET when available, else CONSTRUCT)."""
        if self.gsp_url:
            body = self._request("GET", self._gsp_target(graph), None, None, accept="application/n-triples")
            yield from _graph_result(body, None).triples
            return
        yield from self.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH {iri_text(graph)} {{ ?s ?p ?o }} }}").triples

    def quads(self) -> Iterator[QuadTerms]:
        """The quads of every named graph (the graphs `push` writes); default-graph-only triples of an
        endpoint are not listed, as a union default graph cannot tell them apart."""
        for graph in self.graphs():
            g = {"type": "uri", "value": graph}
            for s, p, o in self.graph_triples(graph):
                yield s, p, o, g

    def count(self, graph: str | None = None) -> int:
        where = f"GRAPH {iri_text(graph)} {{ ?s ?p ?o }}" if graph else f"GRAPH ?g {{ ?s ?p ?o }} {_OURS}"
        rows = self.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}").rows
        return int(rows[0]["n"]["value"]) if rows else 0

    def clear(self) -> None:
        """Drop every graph (used by `push --replace`)."""
        self.update("DROP ALL")

    def close(self) -> None:
        pass


_OURS = f'FILTER (STRSTARTS(STR(?g), "{GRAPH}"))'


def _exc_body(exc: Exception) -> str:
    text = str(exc)
    return text.split("Response:", 1)[-1].strip().lstrip("b'\"").rstrip("'\"")


def _graph_result(body: bytes, limit: int | None) -> Result:
    import pyoxigraph as ox

    from .oxigraph import term_to_json

    triples = []
    truncated = False
    try:
        for t in ox.parse(body, format=ox.RdfFormat.N_TRIPLES):
            if limit is not None and len(triples) >= limit:
                truncated = True
                break
            triples.append((term_to_json(t.subject), term_to_json(t.predicate), term_to_json(t.object)))
    except SyntaxError as exc:
        raise BackendUnavailable(f"the endpoint answered with malformed N-Triples: {exc}") from None
    return Result("graph", triples=triples, truncated=truncated)
