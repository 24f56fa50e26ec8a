"""Links to Wikidata: an endpoint client, reconciliation, link records, re-checks and the snapshot.

Everything talks SPARQL. The live path goes through SPARQLWrapper to the Wikidata Query Service (or
any endpoint given with `--endpoint`); the offline path runs the very same queries in-process with
pyoxigraph over `data/wikidata/snapshot.ttl`, which is written in Wikidata's own vocabulary.

Links are `skos:exactMatch` (never `owl:sameAs`: the OWL RL closure would copy every Wikidata
triple onto our entity), each with an SSSOM-style record. A wrong link is worse than no link, so
only a clear winner above the score threshold becomes a link; everything else is reported and kept
as an explicit pending-review record.
"""

from __future__ import annotations

import email.utils
import json
import os
import socket
import threading
import time
import urllib.error
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from .errors import BackendUnavailable, CheckFailed, InputError
from .namespaces import DEF, ID
from .project import Project

DEFAULT_ENDPOINT = "https://query.wikidata.org/sparql"
CONTACT_URL = "https://w3id.org/dispute-kg"
WD = "http://www.wikidata.org/entity/"
WDT = "http://www.wikidata.org/prop/direct/"
SSSOM = "https://w3id.org/sssom/"
SEMAPV = "https://w3id.org/semapv/vocab/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SCHEMA = "http://schema.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
EXACT_MATCH = SKOS + "exactMatch"
NO_TERM_FOUND = SSSOM + "NoTermFound"
MAPPING_BASE = ID + "mapping/wikidata/"
LINKS_FILE = Path("data/links/wikidata.ttl")
SNAPSHOT_FILE = Path("data/wikidata/snapshot.ttl")
TYPE_MAP_FILE = Path("data/wikidata/type-map.tsv")
EVIDENCE_DOC = "docs/wikidata-evidence.md"
OFFLINE = "offline snapshot data/wikidata/snapshot.ttl"
TOOL = "dispute-kg link"

PREFIXES = f"""PREFIX wd: <{WD}>
PREFIX wdt: <{WDT}>
PREFIX rdfs: <{RDFS}>
PREFIX skos: <{SKOS}>
PREFIX schema: <{SCHEMA}>
"""


def tool_version() -> str:
    from . import __version__

    return str(__version__)


def user_agent() -> str:
    """Wikimedia's User-Agent policy: tool name/version, a contact URL, and the library."""
    try:
        import SPARQLWrapper

        lib = f" SPARQLWrapper/{SPARQLWrapper.__version__}"
    except Exception:  # pragma: no cover - SPARQLWrapper is a dependency
        lib = ""
    return f"dispute-kg/{tool_version()} ({CONTACT_URL}; dispute-kg maintainers){lib}"


def qid(iri: str) -> str:
    return iri[len(WD):] if iri.startswith(WD) else iri


# -- endpoints ------------------------------------------------------------------------------

_ONE_AT_A_TIME = threading.Lock()  # Wikimedia asks for at most one concurrent query per client


@dataclass
class RetryPolicy:
    timeout: float = 60.0  # seconds per request
    retries: int = 4  # further attempts after the first
    backoff: float = 2.0  # first wait; doubled after every failed attempt
    max_wait: float = 120.0  # cap on any single wait, including Retry-After

    def wait(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_wait)
        return min(self.backoff * (2 ** attempt), self.max_wait)


def parse_retry_after(value: str | None) -> float | None:
    """`Retry-After` is delay-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class Endpoint:
    """A remote SPARQL endpoint reached through SPARQLWrapper, politely."""

    def __init__(self, url: str = DEFAULT_ENDPOINT, policy: RetryPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep, log: Callable[[str], None] | None = None) -> None:
        self.url = url
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.log = log
        self.description = url

    def _request(self, query: str, fmt: str) -> Any:
        from SPARQLWrapper import GET, JSON, TURTLE, SPARQLWrapper

        sw = SPARQLWrapper(self.url, agent=user_agent())
        sw.setMethod(GET)
        sw.setTimeout(max(1, round(self.policy.timeout)) if self.policy.timeout >= 1 else 1)
        sw.setReturnFormat(JSON if fmt == "json" else TURTLE)
        sw.setQuery(query)
        # SPARQLWrapper only takes whole seconds; enforce sub-second timeouts on the socket too.
        old = socket.getdefaulttimeout()
        socket.setdefaulttimeout(self.policy.timeout)
        try:
            result = sw.query()
            if fmt == "json":
                return json.loads(result.response.read().decode("utf-8"))
            return result.response.read()
        finally:
            socket.setdefaulttimeout(old)

    def _run(self, query: str, fmt: str) -> Any:
        from SPARQLWrapper.SPARQLExceptions import EndPointInternalError, EndPointNotFound, QueryBadFormed

        attempts = self.policy.retries + 1
        last = ""
        with _ONE_AT_A_TIME:
            for attempt in range(attempts):
                retry_after: float | None = None
                try:
                    started = time.monotonic()
                    answer = self._request(query, fmt)
                    if time.monotonic() - started > self.policy.timeout:
                        raise TimeoutError("response took longer than the timeout")
                    return answer
                except QueryBadFormed as exc:
                    raise InputError(f"the endpoint {self.url} rejected the query: {exc}") from None
                except urllib.error.HTTPError as exc:
                    if exc.code != 429 and exc.code < 500:
                        raise BackendUnavailable(f"Wikidata endpoint {self.url} answered HTTP {exc.code} "
                                                 f"{exc.reason}") from None
                    retry_after = parse_retry_after(exc.headers.get("Retry-After") if exc.headers else None)
                    last = f"HTTP {exc.code} {exc.reason}"
                except EndPointInternalError:
                    last = "HTTP 500 internal server error"
                except EndPointNotFound:
                    raise BackendUnavailable(f"Wikidata endpoint {self.url} answered HTTP 404: "
                                             "no SPARQL service at that address") from None
                except TimeoutError:
                    last = f"no answer within {self.policy.timeout:g} s"
                except urllib.error.URLError as exc:
                    reason = exc.reason
                    if isinstance(reason, TimeoutError):
                        last = f"no answer within {self.policy.timeout:g} s"
                    else:
                        last = f"cannot connect ({reason})"
                except (ConnectionError, OSError) as exc:
                    last = f"cannot connect ({exc})"
                except ValueError as exc:  # a body that is not the format asked for
                    last = f"unreadable answer ({exc})"
                if attempt + 1 < attempts:
                    delay = self.policy.wait(attempt, retry_after)
                    if self.log:
                        self.log(f"{self.url}: {last}; retrying in {delay:.2f} s "
                                 f"(attempt {attempt + 2} of {attempts})")
                    self.sleep(delay)
        raise BackendUnavailable(f"cannot reach the Wikidata endpoint {self.url}: {last} "
                                 f"(gave up after {attempts} attempt(s)); run with --offline to use "
                                 f"{SNAPSHOT_FILE.as_posix()} instead")

    def select(self, query: str) -> list[dict[str, dict[str, str]]]:
        answer = self._run(query, "json")
        try:
            return list(answer["results"]["bindings"])
        except (KeyError, TypeError):
            raise BackendUnavailable(f"the endpoint {self.url} did not answer with SPARQL JSON results") from None

    def construct(self, query: str) -> bytes:
        return self._run(query, "turtle")


class SnapshotEndpoint:
    """The same queries, answered in-process from the snapshot file."""

    def __init__(self, path: Path) -> None:
        if not path.exists():
            raise InputError("the Wikidata snapshot is missing; run `dispute-kg wikidata refresh` online",
                             path=str(path))
        self.store = ox.Store()
        self.store.load(path.read_bytes(), format=ox.RdfFormat.TURTLE)
        self.url = "offline"
        self.description = OFFLINE

    def select(self, query: str) -> list[dict[str, dict[str, str]]]:
        solutions = self.store.query(query)
        return list(json.loads(solutions.serialize(format=ox.QueryResultsFormat.JSON))["results"]["bindings"])

    def construct(self, query: str) -> bytes:
        return self.store.query(query).serialize(format=ox.RdfFormat.TURTLE)


# -- the type map ---------------------------------------------------------------------------

def load_type_map(project: Project) -> dict[str, list[str]]:
    """our class IRI -> compatible Wikidata class IRIs, from data/wikidata/type-map.tsv."""
    path = project.root / TYPE_MAP_FILE
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read the type map: {exc.strerror}", path=TYPE_MAP_FILE.as_posix()) from None
    out: dict[str, list[str]] = {}
    header_seen = False
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if not header_seen:
            header_seen = True
            if cols[0] == "our_class":
                continue
        if len(cols) < 2 or not cols[0].startswith("dk:") or not cols[1].startswith("wd:Q"):
            raise InputError("expected `dk:Class<TAB>wd:Q...<TAB>label<TAB>note`", path=TYPE_MAP_FILE.as_posix(),
                             line=n)
        out.setdefault(DEF + cols[0][3:], []).append(WD + cols[1][3:])
    return out


# -- our entities ---------------------------------------------------------------------------

@dataclass
class Entity:
    iri: str
    label: str
    aliases: list[str]
    classes: list[str]
    inception: str | None = None
    dissolution: str | None = None

    @property
    def slug(self) -> str:
        return self.iri[len(ID):] if self.iri.startswith(ID) else self.iri

    def names(self) -> list[str]:
        return [self.label, *[a for a in self.aliases if a != self.label]]


LINKABLE = ["State", "Territory", "Island", "IslandGroup", "Agreement", "Treaty", "PeaceTreaty",
            "JointDeclaration", "Person", "Office", "Place", "City", "Organisation", "NewsAgency",
            "NewsOrganisation", "War", "TerritorialDispute"]


def project_entities(project: Project) -> list[Entity]:
    """Entities of a linkable class, read straight from the data files (no build needed)."""
    from .rdfio import read_quads

    store = ox.Store()
    skip = ("data/links/", "data/wikidata/")
    quads = []
    for path in project.data_files:
        rel = project.relpath(path)
        if rel.startswith(skip):
            continue
        quads.extend(ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph())
                     for q in read_quads(path, None, display=rel))
    store.extend(quads)
    values = " ".join(f"dk:{c}" for c in LINKABLE)
    rows = store.query(f"""PREFIX dk: <{DEF}> PREFIX rdfs: <{RDFS}> PREFIX skos: <{SKOS}>
        SELECT ?e ?class ?label ?alias ?inception ?dissolution WHERE {{
          VALUES ?class {{ {values} }}
          ?e a ?class ; rdfs:label ?label .
          FILTER (LANG(?label) = "en" || LANG(?label) = "")
          OPTIONAL {{ ?e skos:altLabel ?alias }}
          OPTIONAL {{ ?e dk:inception ?inception }}
          OPTIONAL {{ ?e dk:dissolution ?dissolution }}
        }}""")
    found: dict[str, Entity] = {}
    for row in rows:
        iri = row["e"].value
        ent = found.setdefault(iri, Entity(iri, row["label"].value, [], []))
        cls = row["class"].value
        if cls not in ent.classes:
            ent.classes.append(cls)
        if row["alias"] is not None and row["alias"].value not in ent.aliases:
            ent.aliases.append(row["alias"].value)
        if row["inception"] is not None:
            ent.inception = row["inception"].value
        if row["dissolution"] is not None:
            ent.dissolution = row["dissolution"].value
    for ent in found.values():
        ent.aliases.sort()
        ent.classes.sort()
    return [found[k] for k in sorted(found)]


# -- reconciliation -------------------------------------------------------------------------

def _lit(text: str) -> str:
    return json.dumps(text, ensure_ascii=False) + "@en"


def candidate_query(names: Iterable[str], compatible: Iterable[str]) -> str:
    """Items whose English label or alias is one of `names`, with their types and facts.

    `?compatible` is bound when the item is an instance (wdt:P31/wdt:P279*) of a class our type
    map accepts; the same text runs on the Wikidata Query Service and on the snapshot.
    """
    name_values = " ".join(_lit(n) for n in names)
    class_values = " ".join(f"wd:{qid(c)}" for c in compatible) or "wd:Q0"
    return PREFIXES + f"""SELECT ?item ?name ?how ?label ?description ?type ?typeLabel ?compatible
       ?inception ?dissolution WHERE {{
  VALUES ?name {{ {name_values} }}
  {{ ?item rdfs:label ?name . BIND ("label" AS ?how) }}
  UNION
  {{ ?item skos:altLabel ?name . BIND ("alias" AS ?how) }}
  OPTIONAL {{ ?item rdfs:label ?label . FILTER (LANG(?label) = "en") }}
  OPTIONAL {{ ?item schema:description ?description . FILTER (LANG(?description) = "en") }}
  OPTIONAL {{ ?item wdt:P31 ?type .
             OPTIONAL {{ ?type rdfs:label ?typeLabel . FILTER (LANG(?typeLabel) = "en") }} }}
  OPTIONAL {{ VALUES ?compatible {{ {class_values} }} ?item wdt:P31/wdt:P279* ?compatible . }}
  OPTIONAL {{ ?item wdt:P571 ?inception }}
  OPTIONAL {{ ?item wdt:P576 ?dissolution }}
}}"""


@dataclass
class Candidate:
    id: str
    name: str
    description: str = ""
    score: int = 0
    match: bool = False
    type: list[dict[str, str]] = field(default_factory=list)
    matched_names: list[tuple[str, str]] = field(default_factory=list)  # (name, "label"|"alias")
    compatible: list[str] = field(default_factory=list)
    direct: bool = False
    inception: str | None = None
    dissolution: str | None = None
    why: str = ""

    def api(self) -> dict[str, Any]:
        """The Reconciliation Service API shape."""
        return {"id": self.id, "name": self.name, "description": self.description, "score": self.score,
                "match": self.match, "type": self.type}


def _year(value: str | None) -> str | None:
    if not value:
        return None
    v = value.lstrip("+")
    return v[:4] if len(v) >= 4 and v[:4].isdigit() else None


def score_candidate(entity: Entity, cand: Candidate) -> None:
    """0-100: name (label 60 / alias 50 / alias-to-alias 40) + type (30 direct, 25 via subclass)
    + context (dates: +10 agreeing years, -20 a dissolution our entity does not have)."""
    name = 0
    notes = []
    for text, how in cand.matched_names:
        if text == entity.label and how == "label":
            s = 60
        elif text == entity.label or how == "label":
            s = 50
        else:
            s = 40
        name = max(name, s)
    notes.append(f"name {name}")
    kind = (30 if cand.direct else 25) if cand.compatible else 0
    notes.append(f"type {kind}")
    context = 0
    ours_in, theirs_in = _year(entity.inception), _year(cand.inception)
    ours_out, theirs_out = _year(entity.dissolution), _year(cand.dissolution)
    if ours_in and theirs_in and ours_in == theirs_in:
        context += 5
    if ours_out and theirs_out and ours_out == theirs_out:
        context += 5
    if theirs_out and not ours_out and any(c.endswith("#State") for c in entity.classes):
        context -= 20
    if ours_out and theirs_out and ours_out != theirs_out:
        context -= 20
    if context:
        notes.append(f"dates {context:+d}")
    cand.score = max(0, min(100, name + kind + context))
    cand.why = ", ".join(notes)


def find_candidates(endpoint: Endpoint | SnapshotEndpoint, entity: Entity,
                    compatible: list[str]) -> list[Candidate]:
    rows = endpoint.select(candidate_query(entity.names(), compatible))
    by_item: dict[str, Candidate] = {}
    types: dict[str, dict[str, str]] = {}
    for row in rows:
        item = row["item"]["value"]
        if not item.startswith(WD):
            continue
        cand = by_item.setdefault(item, Candidate(qid(item), ""))
        if "label" in row:
            cand.name = row["label"]["value"]
        if "description" in row:
            cand.description = row["description"]["value"]
        pair = (row["name"]["value"], row["how"]["value"])
        if pair not in cand.matched_names:
            cand.matched_names.append(pair)
        if "type" in row:
            t = row["type"]["value"]
            types.setdefault(item, {})[qid(t)] = row.get("typeLabel", {}).get("value", qid(t))
        if "compatible" in row and row["compatible"]["value"] not in cand.compatible:
            cand.compatible.append(row["compatible"]["value"])
        if "inception" in row:
            cand.inception = row["inception"]["value"]
        if "dissolution" in row:
            cand.dissolution = row["dissolution"]["value"]
    for item, cand in by_item.items():
        cand.type = [{"id": k, "name": v} for k, v in sorted(types.get(item, {}).items())]
        cand.direct = any(WD + t["id"] in compatible for t in cand.type)
        cand.compatible.sort()
        cand.matched_names.sort()
        if not cand.name:
            cand.name = cand.matched_names[0][0]
        score_candidate(entity, cand)
    return sorted(by_item.values(), key=lambda c: (-c.score, c.id))


@dataclass
class Outcome:
    entity: Entity
    status: str  # "linked", "kept", "ambiguous", "no-candidate", "type-mismatch", "below-threshold", "no-type-map"
    winner: Candidate | None = None
    candidates: list[Candidate] = field(default_factory=list)
    rejected: list[Candidate] = field(default_factory=list)
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"entity": self.entity.iri, "label": self.entity.label, "status": self.status,
                "reason": self.reason, "result": [c.api() for c in self.candidates],
                "rejected_on_type": [c.api() for c in self.rejected]}


MARGIN = 15


def decide(entity: Entity, cands: list[Candidate], min_score: int) -> Outcome:
    fitting = [c for c in cands if c.compatible]
    rejected = [c for c in cands if not c.compatible]
    if not cands:
        return Outcome(entity, "no-candidate", reason="no Wikidata item has this label or alias")
    if not fitting:
        listed = "; ".join(f"{c.id} {c.name!r} ({', '.join(t['name'] for t in c.type) or 'no type'})"
                           for c in rejected)
        return Outcome(entity, "type-mismatch", rejected=rejected,
                       reason=f"candidates by name, none of a compatible type: {listed}")
    best = fitting[0]
    above = [c for c in fitting if c.score >= min_score]
    if not above:
        return Outcome(entity, "below-threshold", candidates=fitting, rejected=rejected,
                       reason=f"best candidate {best.id} scores {best.score} < {min_score}")
    if len(above) > 1 and above[0].score - above[1].score < MARGIN:
        listed = ", ".join(f"{c.id} {c.name!r} ({c.score})" for c in above)
        return Outcome(entity, "ambiguous", candidates=fitting, rejected=rejected,
                       reason=f"ambiguous, needs review: {listed}")
    best.match = True
    return Outcome(entity, "linked", winner=best, candidates=fitting, rejected=rejected,
                   reason=f"{best.id} {best.name!r} score {best.score} ({best.why})")


# -- link records ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Record:
    subject: str
    subject_label: str
    object: str  # a wd: IRI, or NO_TERM_FOUND for a pending-review record
    object_label: str = ""
    justification: str = SEMAPV + "LexicalMatching"
    confidence: str | None = None
    tool: str = TOOL
    tool_version: str = ""
    date: str = ""
    source_version: str = ""
    comment: str = ""
    see_also: str = ""

    @property
    def pending(self) -> bool:
        return self.object == NO_TERM_FOUND

    @property
    def node(self) -> str:
        return MAPPING_BASE + (self.subject[len(ID):] if self.subject.startswith(ID) else self.subject)


def _esc(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


LINKS_HEADER = """# Links from dispute-kg entities to Wikidata items: skos:exactMatch (never owl:sameAs), each with
# an SSSOM-style mapping record (https://w3id.org/sssom/). Records whose object is sssom:NoTermFound
# are pending review: the entity stays unlinked until a verified item is found.
# Written by `dispute-kg link`; edit by hand only to curate, then run `dispute-kg link --check`.
"""


def render_links(records: Iterable[Record]) -> str:
    """A deterministic Turtle text: the same records always give the same bytes."""
    out = [LINKS_HEADER,
           f"@prefix rdfs: <{RDFS}> .", f"@prefix skos: <{SKOS}> .", f"@prefix sssom: <{SSSOM}> .",
           f"@prefix semapv: <{SEMAPV}> .", f"@prefix wd: <{WD}> .", f"@prefix xsd: <{XSD}> .", ""]
    for r in sorted(records, key=lambda r: r.subject):
        if not r.pending:
            out.append(f"<{r.subject}> skos:exactMatch wd:{qid(r.object)} .")
            out.append("")
        target = f"wd:{qid(r.object)}" if not r.pending else "sssom:NoTermFound"
        label = (f"{r.subject_label} exactMatch Wikidata {qid(r.object)}" if not r.pending
                 else f"{r.subject_label}: Wikidata link pending review")
        lines = [f"<{r.node}> a sssom:Mapping",
                 f"rdfs:label {_esc(label)}@en",
                 f"sssom:subject_id <{r.subject}>",
                 f"sssom:subject_label {_esc(r.subject_label)}",
                 "sssom:predicate_id skos:exactMatch",
                 f"sssom:object_id {target}"]
        if r.object_label:
            lines.append(f"sssom:object_label {_esc(r.object_label)}")
        lines.append(f"sssom:mapping_justification semapv:{r.justification[len(SEMAPV):]}"
                     if r.justification.startswith(SEMAPV) else f"sssom:mapping_justification <{r.justification}>")
        if r.confidence is not None:
            lines.append(f'sssom:confidence "{float(r.confidence):.2f}"^^xsd:double')
        lines.append(f"sssom:mapping_tool {_esc(r.tool)}")
        if r.tool_version:
            lines.append(f"sssom:mapping_tool_version {_esc(r.tool_version)}")
        if r.date:
            lines.append(f'sssom:mapping_date "{r.date}"^^xsd:date')
        lines.append(f"sssom:object_source <{WD}>")
        if r.source_version:
            lines.append(f"sssom:object_source_version {_esc(r.source_version)}")
        if r.see_also:
            lines.append(f"sssom:see_also {_esc(r.see_also)}")
        if r.comment:
            lines.append(f"sssom:comment {_esc(r.comment)}")
        out.append(" ;\n    ".join(lines) + " .")
        out.append("")
    return "\n".join(out)


def read_links(path: Path) -> list[Record]:
    if not path.exists():
        return []
    from .rdfio import read_quads

    store = ox.Store()
    store.extend(ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in read_quads(path, None))
    rows = store.query(f"""PREFIX sssom: <{SSSOM}>
        SELECT * WHERE {{
          ?m a sssom:Mapping ; sssom:subject_id ?s ; sssom:object_id ?o .
          OPTIONAL {{ ?m sssom:subject_label ?sl }} OPTIONAL {{ ?m sssom:object_label ?ol }}
          OPTIONAL {{ ?m sssom:mapping_justification ?j }} OPTIONAL {{ ?m sssom:confidence ?c }}
          OPTIONAL {{ ?m sssom:mapping_tool ?t }} OPTIONAL {{ ?m sssom:mapping_tool_version ?tv }}
          OPTIONAL {{ ?m sssom:mapping_date ?d }} OPTIONAL {{ ?m sssom:object_source_version ?sv }}
          OPTIONAL {{ ?m sssom:comment ?cm }} OPTIONAL {{ ?m sssom:see_also ?sa }}
        }} ORDER BY ?s""")

    def v(row: Any, name: str, default: str = "") -> str:
        term = row[name]
        return term.value if term is not None else default

    records = []
    seen: set[str] = set()
    for row in rows:
        subject = row["s"].value
        if subject in seen:
            raise InputError(f"more than one mapping record for <{subject}>", path=str(path))
        seen.add(subject)
        records.append(Record(subject, v(row, "sl"), row["o"].value, v(row, "ol"),
                              v(row, "j", SEMAPV + "LexicalMatching"), row["c"].value if row["c"] else None,
                              v(row, "t", TOOL), v(row, "tv"), v(row, "d"), v(row, "sv"), v(row, "cm"),
                              v(row, "sa")))
    return records


def write_atomic(path: Path, text: str) -> bool:
    """Replace `path` with `text` in one step; do nothing when the bytes would not change."""
    data = text.encode("utf-8")
    if path.exists() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return True


def today() -> str:
    return time.strftime("%Y-%m-%d", time.gmtime())


@dataclass
class LinkReport:
    outcomes: list[Outcome]
    records: list[Record]
    changed: bool
    written: bool

    def to_dict(self) -> dict[str, Any]:
        return {"changed": self.changed, "written": self.written, "outcomes": [o.to_dict() for o in self.outcomes]}


def reconcile(project: Project, endpoint: Endpoint | SnapshotEndpoint, *, min_score: int = 80,
              dry_run: bool = False, links_path: Path | None = None) -> LinkReport:
    """Link every linkable entity that has no link yet; keep existing links and pending records.

    The links file is written only after every query succeeded, atomically, and only if it changes,
    so a second run with the same answers changes nothing.
    """
    path = links_path or project.root / LINKS_FILE
    existing = {r.subject: r for r in read_links(path)}
    type_map = load_type_map(project)
    records = dict(existing)
    outcomes = []
    for entity in project_entities(project):
        compatible = sorted({c for cls in entity.classes for c in type_map.get(cls, [])})
        old = existing.get(entity.iri)
        if old is not None and not old.pending:
            outcomes.append(Outcome(entity, "kept", reason=f"already linked to {qid(old.object)}"))
            continue
        if not compatible:
            outcome = Outcome(entity, "no-type-map",
                              reason="the type map (data/wikidata/type-map.tsv) has no Wikidata class for "
                                     f"{', '.join(c.rsplit('#', 1)[-1] for c in entity.classes)}")
        else:
            outcome = decide(entity, find_candidates(endpoint, entity, compatible), min_score)
        outcomes.append(outcome)
        if outcome.status == "linked" and outcome.winner is not None:
            w = outcome.winner
            records[entity.iri] = Record(
                entity.iri, entity.label, WD + w.id, w.name, SEMAPV + "LexicalMatching",
                f"{w.score / 100:.2f}", TOOL, tool_version(), today(), endpoint.description,
                f"exact English label/alias match and a compatible wdt:P31/wdt:P279* type: {outcome.reason}")
        elif old is None:
            records[entity.iri] = Record(
                entity.iri, entity.label, NO_TERM_FOUND, "", SEMAPV + "UnspecifiedMatching", None, TOOL,
                tool_version(), today(), endpoint.description, f"PENDING REVIEW: {outcome.reason}")
        # an existing pending record stays as it was: it may carry a curator's explanation
    text = render_links(records.values())
    changed = not path.exists() or path.read_text(encoding="utf-8") != text
    written = False
    if changed and not dry_run:
        written = write_atomic(path, text)
    return LinkReport(outcomes, sorted(records.values(), key=lambda r: r.subject), changed, written)


# -- re-checking links ----------------------------------------------------------------------

@dataclass
class LinkCheck:
    record: Record
    problems: list[str]
    detail: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def check_links(project: Project, endpoint: Endpoint | SnapshotEndpoint,
                links_path: Path | None = None) -> list[LinkCheck]:
    """For every link: the item exists, its type is still compatible, a label or alias still matches."""
    path = links_path or project.root / LINKS_FILE
    type_map = load_type_map(project)
    entities = {e.iri: e for e in project_entities(project)}
    results = []
    for rec in read_links(path):
        if rec.pending:
            continue
        problems = []
        entity = entities.get(rec.subject)
        if entity is None:
            results.append(LinkCheck(rec, [f"our entity <{rec.subject}> is no longer of a linkable class"]))
            continue
        compatible = sorted({c for cls in entity.classes for c in type_map.get(cls, [])})
        values = " ".join(f"wd:{qid(c)}" for c in compatible) or "wd:Q0"
        rows = endpoint.select(PREFIXES + f"""SELECT ?p ?label ?alias ?type ?compatible WHERE {{
  BIND (<{rec.object}> AS ?item)
  ?item ?p ?any .
  OPTIONAL {{ ?item rdfs:label ?label . FILTER (LANG(?label) = "en") }}
  OPTIONAL {{ ?item skos:altLabel ?alias . FILTER (LANG(?alias) = "en") }}
  OPTIONAL {{ ?item wdt:P31 ?type }}
  OPTIONAL {{ VALUES ?compatible {{ {values} }} ?item wdt:P31/wdt:P279* ?compatible . }}
}} LIMIT 2000""")
        if not rows:
            results.append(LinkCheck(rec, [f"{qid(rec.object)} does not exist (no statements; deleted or "
                                           "never created)"]))
            continue
        names = {r[k]["value"] for r in rows for k in ("label", "alias") if k in r}
        types = sorted({qid(r["type"]["value"]) for r in rows if "type" in r})
        if not any("compatible" in r for r in rows):
            problems.append(f"{qid(rec.object)} is no longer of a compatible type (P31: "
                            f"{', '.join(types) or 'none'}; expected an instance of "
                            f"{', '.join(qid(c) for c in compatible)})")
        if not names & set(entity.names()):
            problems.append(f"no English label or alias of {qid(rec.object)} ({', '.join(sorted(names)) or 'none'}) "
                            f"matches ours ({', '.join(entity.names())})")
        results.append(LinkCheck(rec, problems, f"P31 {', '.join(types)}"))
    return results


# -- SSSOM export ---------------------------------------------------------------------------

SSSOM_COLUMNS = ["subject_id", "subject_label", "predicate_id", "object_id", "object_label",
                 "mapping_justification", "confidence", "mapping_tool", "mapping_tool_version",
                 "mapping_date", "object_source", "object_source_version", "see_also", "comment"]


def _curie(iri: str) -> str:
    for prefix, ns in (("dkid", ID), ("wikidata", WD), ("semapv", SEMAPV), ("skos", SKOS), ("sssom", SSSOM)):
        if iri.startswith(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def export_sssom(records: Iterable[Record], *, include_pending: bool = True) -> str:
    lines = ["# curie_map:", f"#   dkid: {ID}", f"#   wikidata: {WD}", f"#   semapv: {SEMAPV}",
             f"#   skos: {SKOS}", f"#   sssom: {SSSOM}",
             "# mapping_set_id: https://w3id.org/dispute-kg/mappings/wikidata.sssom.tsv",
             "# license: https://creativecommons.org/licenses/by/4.0/",
             "# subject_source: https://w3id.org/dispute-kg/id/",
             f"# object_source: {WD}", "\t".join(SSSOM_COLUMNS)]
    for r in sorted(records, key=lambda r: r.subject):
        if r.pending and not include_pending:
            continue
        confidence = f"{float(r.confidence):.2f}" if r.confidence else ""
        row = [_curie(r.subject), r.subject_label, "skos:exactMatch", _curie(r.object), r.object_label,
               _curie(r.justification), confidence, r.tool, r.tool_version, r.date, "wikidata:",
               r.source_version, r.see_also, r.comment]
        lines.append("\t".join(c.replace("\t", " ").replace("\n", " ") for c in row))
    return "\n".join(lines) + "\n"


# -- the snapshot ---------------------------------------------------------------------------

SNAPSHOT_FACTS = ["P297", "P298", "P571", "P576", "P625", "P2046"]


def refresh_queries(qids: Iterable[str], compatible: Iterable[str]) -> list[str]:
    """CONSTRUCT queries that rebuild the snapshot for the linked items from a live endpoint."""
    items = " ".join(f"wd:{q}" for q in sorted(set(qids)))
    classes = " ".join(f"wd:{qid(c)}" for c in sorted(set(compatible)))
    facts = "\n  UNION ".join(f"{{ ?item wdt:{p} ?v . BIND (wdt:{p} AS ?p) }}" for p in SNAPSHOT_FACTS)
    return [
        PREFIXES + f"""CONSTRUCT {{ ?item rdfs:label ?l ; skos:altLabel ?a ; schema:description ?d }} WHERE {{
  VALUES ?item {{ {items} }}
  {{ ?item rdfs:label ?l . FILTER (LANG(?l) = "en") }}
  UNION {{ ?item skos:altLabel ?a . FILTER (LANG(?a) = "en") }}
  UNION {{ ?item schema:description ?d . FILTER (LANG(?d) = "en") }}
}}""",
        PREFIXES + f"""CONSTRUCT {{ ?item wdt:P31 ?type . ?type rdfs:label ?tl }} WHERE {{
  VALUES ?item {{ {items} }}
  ?item wdt:P31 ?type .
  OPTIONAL {{ ?type rdfs:label ?tl . FILTER (LANG(?tl) = "en") }}
}}""",
        PREFIXES + f"""CONSTRUCT {{ ?mid wdt:P279 ?super }} WHERE {{
  VALUES ?item {{ {items} }}
  VALUES ?class {{ {classes} }}
  ?item wdt:P31 ?type .
  ?type wdt:P279* ?mid .
  ?mid wdt:P279 ?super .
  ?super wdt:P279* ?class .
}}""",
        PREFIXES + f"""CONSTRUCT {{ ?class rdfs:label ?cl }} WHERE {{
  VALUES ?class {{ {classes} }}
  ?class rdfs:label ?cl . FILTER (LANG(?cl) = "en")
}}""",
        PREFIXES + f"""CONSTRUCT {{ ?item ?p ?v }} WHERE {{
  VALUES ?item {{ {items} }}
  {facts}
}}""",
    ]


SNAPSHOT_HEADER = """# SNAPSHOT of Wikidata (not live data), taken {date} from {source}.
# Written by `dispute-kg wikidata refresh`; it holds the items data/links/wikidata.ttl links to, their
# English labels, aliases and descriptions, their wdt:P31 types with the wdt:P279 steps up to the
# classes of data/wikidata/type-map.tsv, and the facts the enrichment queries use
# ({facts}). `dispute-kg link --offline` answers its SPARQL from this file.
"""


def refresh_snapshot(project: Project, endpoint: Endpoint | SnapshotEndpoint, *,
                     output: Path | None = None) -> tuple[Path, int]:
    links = [r for r in read_links(project.root / LINKS_FILE) if not r.pending]
    if not links:
        raise InputError("no links to snapshot: run `dispute-kg link` first", path=LINKS_FILE.as_posix())
    compatible = sorted({c for cs in load_type_map(project).values() for c in cs})
    graph = ox.Store()
    for query in refresh_queries([qid(r.object) for r in links], compatible):
        graph.load(endpoint.construct(query), format=ox.RdfFormat.TURTLE)
    triples = sorted({(q.subject, q.predicate, q.object) for q in graph}, key=lambda t: tuple(str(x) for x in t))
    body = ox.serialize([ox.Triple(*t) for t in triples], format=ox.RdfFormat.TURTLE,
                        prefixes={"wd": WD, "wdt": WDT, "rdfs": RDFS, "skos": SKOS, "schema": SCHEMA,
                                  "xsd": XSD}).decode("utf-8")
    header = SNAPSHOT_HEADER.format(date=today(), source=endpoint.description,
                                    facts=", ".join("wdt:" + p for p in SNAPSHOT_FACTS))
    target = output or project.root / SNAPSHOT_FILE
    write_atomic(target, header + "\n" + body)
    return target, len(triples)


def network_reaches(url: str, timeout: float = 3.0) -> bool:
    """Whether a TCP connection to the endpoint's host can be opened at all (no request is sent)."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=timeout):
            return True
    except OSError:
        return False


def open_endpoint(url: str | None, offline: bool, project: Project, *, timeout: float = 60.0, retries: int = 4,
                  backoff: float = 2.0, log: Callable[[str], None] | None = None) -> Endpoint | SnapshotEndpoint:
    """The live endpoint, or the offline snapshot when asked for, or when no endpoint was named and the
    default one cannot be reached at all (said on stderr: snapshot answers are never passed off as live)."""
    snapshot = SnapshotEndpoint(project.root / SNAPSHOT_FILE)
    if offline:
        return snapshot
    if url is None and not network_reaches(DEFAULT_ENDPOINT):
        if log:
            log(f"no network route to {DEFAULT_ENDPOINT}: answering offline from {SNAPSHOT_FILE} "
                "(a dated snapshot, not live data); pass --endpoint URL to insist on a live endpoint")
        return snapshot
    return Endpoint(url or DEFAULT_ENDPOINT, RetryPolicy(timeout=timeout, retries=retries, backoff=backoff), log=log)


def outcome_summary(report: LinkReport) -> dict[str, int]:
    counts: dict[str, int] = {}
    for o in report.outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    return counts


def fail_if_problems(checks: list[LinkCheck]) -> None:
    bad = [c for c in checks if not c.ok]
    if bad:
        raise CheckFailed(f"{len(bad)} of {len(checks)} Wikidata link(s) failed the re-check")


__all__ = ["DEFAULT_ENDPOINT", "Candidate", "Endpoint", "Entity", "LinkCheck", "LinkReport", "Outcome", "Record",
           "RetryPolicy", "SnapshotEndpoint", "check_links", "export_sssom", "fail_if_problems", "open_endpoint",
           "read_links", "reconcile", "refresh_snapshot", "render_links", "replace", "user_agent"]
