"""A remote SPARQL 1.1 endpoint (Oxigraph server, Fuseki, GraphDB, Virtuoso, QLever, Neptune).

Selector: `sparql:QUERY_URL[;update=URL][;gsp=URL][;timeout=SECONDS][;retries=N]`. Requests go
through the package's one SPARQL HTTP client (`http_client`): SPARQLWrapper forms them (GET for short
queries, form-encoded POST for long ones, SPARQL JSON results, or N-Triples for CONSTRUCT/DESCRIBE);
each attempt has a wall-clock timeout; 429/502/503/504 and refused connections are retried (default 2
more attempts) honouring Retry-After, while a query that ran out of time is not repeated. Update
needs `update=`; bulk loading and reading one graph use the Graph Store Protocol when `gsp=` is given
and fall back to SPARQL Update/CONSTRUCT otherwise.

Credentials come from the environment, never from the command line (where `ps` and shell history
would show them): `DISPUTE_KG_SPARQL_TOKEN` (HTTP bearer) or `DISPUTE_KG_SPARQL_USER` with
`DISPUTE_KG_SPARQL_PASSWORD` (HTTP basic, or digest when the server asks for it).

Parameters are bound as RDF terms by a `VALUES` block inserted at the start of the outermost WHERE
group, each term serialised with N-Triples escaping and checked first, so no value can change the
query. Reads see what the endpoint's default graph is; point it at a union default graph
(`oxigraph serve --union-default-graph`, Fuseki `tdb2:unionDefaultGraph true`) to query the named
graphs `push` writes, as the embedded store does.
"""

from __future__ import annotations

import math
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from ..errors import InputError
from ..rdf.convert import insert_values, ntriples, term_text
from ..rdf.namespaces import GRAPH
from ..rdf.sparqltext import where_brace
from ..rdf.terms import iri
from .base import QuadTerms, Result, Selector, Term
from .http_client import Auth, HttpClient, RetryPolicy, SparqlClient

DEFAULT_TIMEOUT = 60.0
DEFAULT_RETRIES = 2
BATCH = 5000
LONG_LINE = 16 * 1024  # bytes of one N-Triples line beyond which a triple is sent by SPARQL Update


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


# -- the backend ------------------------------------------------------------------------------
class SparqlStore:
    name = "sparql"

    def __init__(self, query_url: str, update_url: str | None = None, gsp_url: str | None = None, *,
                 timeout: float = DEFAULT_TIMEOUT, retries: int = DEFAULT_RETRIES) -> None:
        from ..rdf.terms import check_http_url

        for url in (query_url, update_url, gsp_url):
            if url is not None:
                try:
                    check_http_url(url)
                except ValueError as exc:
                    raise InputError(f"sparql: store URL: {exc}") from None
        self.query_url, self.update_url, self.gsp_url = query_url, update_url, gsp_url
        self.timeout, self.retries = timeout, retries
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
        unknown = [k for k, _ in selector.options if k not in ("update", "gsp", "timeout", "retries")]
        if unknown:
            raise InputError(f"unknown sparql: store option {unknown[0]!r} (known: update, gsp, timeout, retries)")
        timeout, retries = selector.option("timeout"), selector.option("retries")
        try:
            seconds = float(timeout) if timeout else DEFAULT_TIMEOUT
        except ValueError:
            seconds = math.nan
        if not (seconds > 0 and math.isfinite(seconds)):
            raise InputError(f"sparql: store option timeout={timeout!r} is not a number of seconds above 0")
        if retries is not None and not (retries.isascii() and retries.isdigit()):
            raise InputError(f"sparql: store option retries={retries!r} is not a whole number of at least 0")
        update = None if read_only else selector.option("update")
        return cls(selector.location, update, selector.option("gsp"), timeout=seconds,
                   retries=int(retries) if retries is not None else DEFAULT_RETRIES)

    def selector(self) -> str:
        """The `sparql:` selector that opens this store again (a journal keeps it, to undo an update)."""
        options = [("update", self.update_url), ("gsp", self.gsp_url), ("timeout", f"{self.timeout:g}"),
                   ("retries", str(self.retries))]
        return "sparql:" + ";".join([self.query_url] + [f"{k}={v}" for k, v in options if v is not None])

    def __repr__(self) -> str:
        return f"SparqlStore({self.query_url!r}, update={self.update_url!r}, gsp={self.gsp_url!r})"

    # -- HTTP --------------------------------------------------------------------------------
    def _client(self, timeout: float | None = None) -> SparqlClient:
        policy = RetryPolicy(timeout=timeout or self.timeout, retries=self.retries, retry_timeouts=False)
        return SparqlClient(self.query_url, self.update_url, http=HttpClient(policy, auth=Auth.from_env()))

    def _request(self, method: str, url: str, data: bytes | None, content_type: str | None,
                 accept: str = "*/*") -> bytes:
        """A plain HTTP exchange (Graph Store Protocol), with the same auth, retries and errors."""
        headers = {"Accept": accept}
        if content_type:
            headers["Content-Type"] = content_type
        client = self._client().http
        return client.send(method, url, data, headers, idempotent=method in ("GET", "PUT"),
                           what="graph store").body

    # -- Store protocol ----------------------------------------------------------------------
    def query(self, sparql: str, bindings: Mapping[str, Term] | None = None, *,
              limit: int | None = None, timeout: float | None = None) -> Result:
        from ..rdf.convert import term_from_json
        from ..rdf.sparqltext import query_form

        text = bind_values(sparql, bindings)
        client = self._client(timeout)
        if query_form(text) in ("CONSTRUCT", "DESCRIBE"):
            return _graph_result(client.construct(text), limit, self.query_url)
        doc = client.select(text)
        if "boolean" in doc:
            return Result("ask", boolean=doc["boolean"])
        variables = list(doc["head"].get("vars", []))
        bindings_out = doc["results"]["bindings"]
        truncated = limit is not None and len(bindings_out) > limit
        try:
            rows = [{k: term_from_json(v) for k, v in row.items()} for row in bindings_out[:limit]]
        except (KeyError, TypeError, AttributeError, ValueError):
            from ..errors import BackendUnavailable

            raise BackendUnavailable(f"SPARQL endpoint {self.query_url} answered with malformed result "
                                     "terms") from None
        return Result("select", variables=variables, rows=rows, truncated=truncated)

    def update(self, sparql: str) -> None:
        from .base import require

        require(self, "update")
        self._client().update(sparql)

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
        body = ntriples(quads)
        if self.gsp_url and self.update_url and max(map(len, body.splitlines()), default=0) > LONG_LINE:
            # A graph store may judge a body's type from its first bytes, and one over-long line (a source's
            # full text as a literal) leaves it nothing to judge by: Virtuoso 7 then refuses the body as
            # text/plain. SPARQL Update carries such triples; the rest still go by the graph store.
            bnodes = any(t["type"] == "bnode" for q in quads for t in q[:3])
            long = [q for q in quads if bnodes or len(ntriples([q])) > LONG_LINE]
            rest = [] if bnodes else [q for q in quads if len(ntriples([q])) <= LONG_LINE]
            if rest:
                self._request("POST", self._gsp_target(graph), ntriples(rest), "application/n-triples")
            if bnodes:
                self._insert(graph, long)
                return
            group: list[QuadTerms] = []
            size = 0
            for q in long:  # a few MB per update, however many long literals the batch holds
                group.append(q)
                size += len(ntriples([q]))
                if size > 4 * 1024 * 1024:
                    self._insert(graph, group)
                    group, size = [], 0
            if group:
                self._insert(graph, group)
            return
        if self.gsp_url:
            url = self._gsp_target(graph)
            self._request("POST", url, body, "application/n-triples")
            return
        self._insert(graph, quads)

    def _insert(self, graph: str | None, quads: list[QuadTerms]) -> None:
        text = ntriples(quads).decode("utf-8")
        target = f"GRAPH {term_text(iri(graph))} {{\n{text}}}" if graph else text
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
            yield from _graph_result(body, None, self.query_url).triples
            return
        where = f"GRAPH {term_text(iri(graph))} {{ ?s ?p ?o }}"
        yield from self.query(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ {where} }}").triples

    def quads(self) -> Iterator[QuadTerms]:
        """The quads of every named graph (the graphs `push` writes); default-graph-only triples of an
        endpoint are not listed, as a union default graph cannot tell them apart."""
        for graph in self.graphs():
            g = iri(graph)
            for s, p, o in self.graph_triples(graph):
                yield s, p, o, g

    def count(self, graph: str | None = None) -> int:
        where = f"GRAPH {term_text(iri(graph))} {{ ?s ?p ?o }}" if graph else f"GRAPH ?g {{ ?s ?p ?o }} {_OURS}"
        rows = self.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}").rows
        return int(rows[0]["n"]["value"]) if rows else 0

    def clear(self) -> None:
        """Drop every graph (used by `push --replace`)."""
        self.update("DROP ALL")

    def close(self) -> None:
        pass


_OURS = f'FILTER (STRSTARTS(STR(?g), "{GRAPH}"))'


def _graph_result(body: bytes, limit: int | None, url: str) -> Result:
    import pyoxigraph as ox

    from ..errors import BackendUnavailable
    from ..rdf.convert import term_from_ox

    triples = []
    truncated = False
    try:
        for t in ox.parse(body, format=ox.RdfFormat.N_TRIPLES):
            if limit is not None and len(triples) >= limit:
                truncated = True
                break
            triples.append((term_from_ox(t.subject), term_from_ox(t.predicate), term_from_ox(t.object)))
    except SyntaxError as exc:
        raise BackendUnavailable(f"SPARQL endpoint {url} answered with malformed N-Triples: "
                                 f"{' '.join(str(exc).split())[:200]}") from None
    return Result("graph", triples=triples, truncated=truncated)
