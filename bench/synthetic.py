"""Deterministic synthetic projects built from our own ontology's vocabulary, for benchmarks.

`generate_project(dest, triples)` writes a complete, valid project: the shipped ontology, shapes and
queries, synthetic source texts with their metadata, and N-Triples assertion files whose every node
is derived from a span of those texts. The same seed gives the same bytes.

    python bench/synthetic.py /tmp/synthetic-100k 100000
"""

from __future__ import annotations

import hashlib
import random
import shutil
import sys
from pathlib import Path

from dispute_kg.rdf.namespaces import DEF, ID, PREFIXES

ROOT = Path(__file__).resolve().parent.parent
DK = DEF
RDF_TYPE = PREFIXES["rdf"] + "type"
LABEL = PREFIXES["rdfs"] + "label"
PROV = PREFIXES["prov"] + "wasDerivedFrom"
OA = PREFIXES["oa"]
XSD = PREFIXES["xsd"]
DCT = PREFIXES["dct"]

UNITS_PER_SOURCE = 250
SYLLABLES = ["ka", "ri", "to", "mu", "sha", "ne", "lo", "vi", "da", "gor", "an", "is", "tek", "bel", "ru", "mo"]


def _name(rng: random.Random, parts: int = 3) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize()


def _lit(text: str, datatype: str | None = None, lang: str | None = None) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    if lang:
        return f'"{escaped}"@{lang}'
    if datatype:
        return f'"{escaped}"^^<{datatype}>'
    return f'"{escaped}"'


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def t(self, s: str, p: str, o: str) -> None:
        self.lines.append(f"<{s}> <{p}> {o} .")

    def iri(self, s: str, p: str, o: str) -> None:
        self.t(s, p, f"<{o}>")


class _Source:
    """Accumulates sentences of one synthetic source and mints a selection for each."""

    def __init__(self, slug: str, out: _Writer) -> None:
        self.slug, self.out, self.text = slug, out, ""

    def sentence(self, words: str) -> str:
        if self.text:
            self.text += " "
        start = len(self.text)
        self.text += words
        end = len(self.text)
        sel = f"{ID}selection/{self.slug}/{start}-{end}"
        w = self.out
        w.iri(sel, RDF_TYPE, DK + "TextSelection")
        w.iri(sel, OA + "hasSource", f"{ID}source/{self.slug}")
        w.iri(sel, OA + "hasSelector", sel + "/quote")
        w.iri(sel, OA + "hasSelector", sel + "/position")
        w.iri(sel + "/quote", RDF_TYPE, OA + "TextQuoteSelector")
        w.t(sel + "/quote", OA + "exact", _lit(words))
        w.iri(sel + "/position", RDF_TYPE, OA + "TextPositionSelector")
        w.t(sel + "/position", OA + "start", _lit(str(start), XSD + "integer"))
        w.t(sel + "/position", OA + "end", _lit(str(end), XSD + "integer"))
        return sel


def _node(w: _Writer, iri: str, cls: str, label: str, sel: str) -> None:
    w.iri(iri, RDF_TYPE, DK + cls)
    w.t(iri, LABEL, _lit(label, lang="en"))
    w.iri(iri, PROV, sel)


def _unit(rng: random.Random, u: int, src: _Source, w: _Writer, states: list[tuple[str, str]],
          people: list[tuple[str, str]]) -> None:
    (a, a_name), (b, b_name) = rng.sample(states, 2)
    person, person_name = rng.choice(people)
    island_name = _name(rng)
    terr = f"{ID}territory/synthetic-{u}"
    _node(w, terr, "Island", island_name, src.sentence(f"{island_name} is an island in unit {u}."))
    claim = f"{ID}claim/synthetic-{u}"
    _node(w, claim, "Claim", f"{a_name}'s claim to {island_name}",
          src.sentence(f"{a_name} lays claim to {island_name} (unit {u})."))
    w.iri(claim, DK + "claimant", a)
    w.iri(claim, DK + "claimedTerritory", terr)
    w.iri(claim, DK + "claimKind", DK + "TerritorialClaim")
    w.iri(claim, DK + "stanceKind", DK + "Demand")
    w.t(claim, DK + "stance", _lit(f"{a_name} claims {island_name}", lang="en"))
    year = rng.randint(1950, 2020)
    agreement = f"{ID}agreement/synthetic-{u}"
    _node(w, agreement, "Treaty", f"treaty {u} on {island_name}",
          src.sentence(f"{a_name} and {b_name} signed treaty {u} on {island_name} in {year}."))
    w.iri(agreement, DK + "agreementStatus", DK + "Signed")
    signing = f"{ID}event/synthetic-signing-{u}"
    _node(w, signing, "Signing", f"signing of treaty {u}", src.sentence(f"Treaty {u} was signed in {year}."))
    w.iri(signing, DK + "concludes", agreement)
    w.iri(signing, DK + "signatory", a)
    w.iri(signing, DK + "signatory", b)
    w.t(signing, DK + "date", _lit(f"{year}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}", XSD + "date"))
    provision = f"{ID}provision/synthetic-{u}"
    _node(w, provision, "Provision", f"treaty {u}: consider transferring {island_name}",
          src.sentence(f"{b_name} agreed to consider transferring {island_name} to {a_name}."))
    w.iri(provision, DK + "provisionOf", agreement)
    w.iri(provision, DK + "provisionKind", DK + "ConsiderTransfer")
    w.t(provision, DK + "provides", _lit(f"consider transferring {island_name}", lang="en"))
    w.iri(provision, DK + "provisionTerritory", terr)
    w.iri(provision, DK + "obligedParty", b)
    w.iri(provision, DK + "beneficiary", a)
    position = f"{ID}position/synthetic-{u}"
    _node(w, position, "Position", f"{b_name}'s view of treaty {u}",
          src.sentence(f"{b_name} believes treaty {u} settles the matter of {island_name}."))
    w.iri(position, DK + "holder", b)
    w.iri(position, DK + "stanceKind", DK + "Belief")
    w.t(position, DK + "stance", _lit(f"treaty {u} settles the matter", lang="en"))
    w.iri(position, DK + "topic", agreement)
    statement = f"{ID}statement/synthetic-{u}"
    quote = f"Treaty {u} is final, {person_name} said."
    _node(w, statement, "Statement", f"{person_name} on treaty {u}", src.sentence(quote))
    w.iri(statement, DK + "speaker", person)
    w.iri(statement, DK + "speechMode", DK + "DirectQuote")
    w.t(statement, DK + "quote", _lit(quote))
    w.iri(statement, DK + "voices", position)


def generate_project(dest: Path, triples: int, seed: int = 7) -> Path:
    """Write a valid project of roughly `triples` asserted triples into `dest` and return it."""
    dest = Path(dest)
    rng = random.Random(seed)
    for folder in ("ontology", "shapes", "queries"):
        shutil.copytree(ROOT / folder, dest / folder, dirs_exist_ok=True)
    (dest / "data" / "sources").mkdir(parents=True, exist_ok=True)
    (dest / "data" / "assertions").mkdir(parents=True, exist_ok=True)
    per_unit = 108  # measured: triples written by one _unit call, selections included
    units = max(1, triples // per_unit)
    publisher = f"{ID}organisation/synthetic-press"
    shared = _Writer()
    registry = _Source("synthetic-registry", shared)
    _node(shared, publisher, "NewsOrganisation", "Synthetic Press", registry.sentence("Synthetic Press publishes."))
    states = []
    for i in range(60):
        name = _name(rng, 2) + "ia"
        iri = f"{ID}state/synthetic-{i}"
        _node(shared, iri, "State", name, registry.sentence(f"{name} is state number {i}."))
        states.append((iri, name))
    people = []
    for i in range(200):
        name = f"{_name(rng, 2)} {_name(rng, 3)}"
        iri = f"{ID}person/synthetic-{i}"
        _node(shared, iri, "Person", name, registry.sentence(f"{name} is person number {i}."))
        people.append((iri, name))
    _write_source(dest, registry, publisher, "Synthetic registry of states and people")
    (dest / "data" / "assertions" / "synthetic-registry.nt").write_text("\n".join(shared.lines) + "\n")
    for first in range(0, units, UNITS_PER_SOURCE):
        slug = f"synthetic-{first // UNITS_PER_SOURCE:05d}"
        out = _Writer()
        src = _Source(slug, out)
        for u in range(first, min(units, first + UNITS_PER_SOURCE)):
            _unit(rng, u, src, out, states, people)
        _write_source(dest, src, publisher, f"Synthetic report {slug}")
        (dest / "data" / "assertions" / f"{slug}.nt").write_text("\n".join(out.lines) + "\n")
    return dest


def _write_source(dest: Path, src: _Source, publisher: str, title: str) -> None:
    text_path = dest / "data" / "sources" / f"{src.slug}.txt"
    text_path.write_text(src.text, encoding="utf-8")
    digest = hashlib.sha256(src.text.encode("utf-8")).hexdigest()
    iri = f"{ID}source/{src.slug}"
    w = _Writer()
    w.iri(iri, RDF_TYPE, DK + "Source")
    w.t(iri, LABEL, _lit(title, lang="en"))
    w.t(iri, DCT + "title", _lit(title, lang="en"))
    w.t(iri, DCT + "issued", _lit("2026-01-01", XSD + "date"))
    w.iri(iri, DCT + "publisher", publisher)
    w.t(iri, DK + "sha256", _lit(digest))
    (dest / "data" / "sources" / f"{src.slug}.ttl").write_text("\n".join(w.lines) + "\n")


if __name__ == "__main__":
    if len(sys.argv) != 3 or not sys.argv[2].isdigit():
        raise SystemExit("usage: python bench/synthetic.py DEST TRIPLES   (e.g. /tmp/synthetic-100k 100000)")
    target, size = Path(sys.argv[1]), int(sys.argv[2])
    generate_project(target, size)
    print(f"wrote {target}")
