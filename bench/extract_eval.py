"""Extraction measured against hand-made gold: recall, precision and exact spans per report and kind.

    python bench/extract_eval.py            # writes the `extract-eval` section of bench/RESULTS.md

Each report is extracted in a fresh project that holds only the ontology, shapes, queries, the background
knowledge and the Wikidata snapshot (never the report's own assertions), with the report registered as
its only source. The draft is compared with the gold graph:

- mentions: every state, territory, person, office and agreement the gold derives from the report is
  recall's denominator; a proposed new entity or known-thing mention of those kinds is correct when its
  label or span matches a gold entity of the same kind (label or alias, case-insensitive; or overlapping
  one of the entity's own selections);
- statements: speaker and date right (the statement's date, or its venue's);
- claims: claimant and every gold territory; positions (claims included): holder and a gold stance kind,
  on a span overlapping the gold node's selection;
- spans exact: the draft's Turtle is parsed and every TextQuoteSelector's oa:exact compared with the text
  at its TextPositionSelector;
- time: the `dispute-kg extract` command as a cold process.

Reports: the shipped article (gold: its curated assertions) and the short reports in bench/extract/,
written for this benchmark and released under CC0 (each registered with that licence in its metadata).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import rdflib

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

DK = rdflib.Namespace("https://w3id.org/dispute-kg/def#")
PROV = rdflib.Namespace("http://www.w3.org/ns/prov#")
OA = rdflib.Namespace("http://www.w3.org/ns/oa#")
RDFS, SKOS = rdflib.RDFS, rdflib.SKOS
GROUPS = {"State": {"State"}, "Territory": {"Territory", "Island", "IslandGroup"}, "Person": {"Person"},
          "Office": {"Office"}, "Agreement": {"Agreement", "Treaty", "PeaceTreaty", "JointDeclaration"}}


def reports() -> list[tuple[str, Path, Path, Path]]:
    """(stem, text, metadata, gold) for the article and every report in bench/extract/."""
    out = [("urdupoint-2021-10-18", ROOT / "data/sources/urdupoint-2021-10-18.txt",
            ROOT / "data/sources/urdupoint-2021-10-18.ttl", ROOT / "data/assertions/urdupoint-2021-10-18.ttl")]
    for text in sorted((HERE / "extract").glob("*.txt")):
        out.append((text.stem, text, text.with_suffix(".ttl"), text.with_name(text.stem + ".gold.ttl")))
    return out


def make_project(tmp: Path, stem: str, text: Path, meta: Path) -> Path:
    proj = tmp / stem
    for folder in ("ontology", "shapes", "queries"):
        shutil.copytree(ROOT / folder, proj / folder)
    shutil.copytree(ROOT / "data/wikidata", proj / "data/wikidata")
    (proj / "data/assertions").mkdir(parents=True)
    shutil.copy(ROOT / "data/assertions/background.ttl", proj / "data/assertions/background.ttl")
    (proj / "data/sources").mkdir(parents=True)
    shutil.copy(text, proj / f"data/sources/{stem}.txt")
    shutil.copy(meta, proj / f"data/sources/{stem}.ttl")
    return proj


def group_of(g: rdflib.Graph, node: rdflib.term.Node) -> str:
    types = {str(t).rsplit("#", 1)[-1] for t in g.objects(node, rdflib.RDF.type)}
    return next((k for k, v in GROUPS.items() if types & v), "")


def names(g: rdflib.Graph, node: rdflib.term.Node) -> set[str]:
    out = {str(o).casefold().removeprefix("the ") for p in (RDFS.label, SKOS.altLabel) for o in g.objects(node, p)}
    return out


def spans(g: rdflib.Graph, node: rdflib.term.Node) -> list[tuple[int, int]]:
    out = []
    for sel in g.objects(node, PROV.wasDerivedFrom):
        for s in g.objects(sel, OA.hasSelector):
            start, end = g.value(s, OA.start), g.value(s, OA.end)
            if start is not None:
                out.append((int(start), int(end)))
    return out


def overlaps(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> bool:
    return any(x0 < y1 and y0 < x1 for x0, x1 in a for y0, y1 in b)


def same_actor(draft: rdflib.Graph, d: rdflib.term.Node, gold: rdflib.Graph, g: rdflib.term.Node) -> bool:
    dn = names(draft, d) | {n for s in draft.objects(d, DK.governmentOf) for n in names(draft, s)}
    gn = names(gold, g) | {n for s in gold.objects(g, DK.governmentOf) for n in names(gold, s)}
    return bool(dn & gn)


def ratio(a: int, b: int) -> str:
    return f"{a / b:.2f} ({a}/{b})" if b else "n/a"


def evaluate(stem: str, text_path: Path, meta: Path, gold_path: Path, tmp: Path) -> dict[str, str]:
    proj = make_project(tmp, stem, text_path, meta)
    t0 = time.perf_counter()
    run = subprocess.run([sys.executable, "-m", "dispute_kg", "--project", str(proj), "extract", stem],
                         capture_output=True, text=True)
    seconds = time.perf_counter() - t0
    if run.returncode != 0:
        raise SystemExit(f"extract failed on {stem}: {run.stderr.strip()}")
    text = text_path.read_text(encoding="utf-8")
    draft = rdflib.Graph().parse(proj / "drafts" / f"{stem}.ttl")
    gold = rdflib.Graph().parse(gold_path)
    gold.parse(ROOT / "data/assertions/background.ttl")
    source_sel = {s for s in gold.subjects(OA.hasSource, rdflib.URIRef(f"https://w3id.org/dispute-kg/id/source/{stem}"))}
    row: dict[str, str] = {"report": stem, "chars": str(len(text)), "extract s (cold)": f"{seconds:.2f}"}
    # mentions
    gold_ents = [n for n in set(gold.subjects(rdflib.RDF.type, None)) if group_of(gold, n)
                 and any(s in source_sel for s in gold.objects(n, PROV.wasDerivedFrom))]
    prop_ents = [n for n in set(draft.subjects(PROV.wasDerivedFrom, None))
                 if group_of(draft, n) or group_of(gold, n)]

    def matches(p: rdflib.term.Node, g: rdflib.term.Node) -> bool:
        kind = group_of(draft, p) or group_of(gold, p)
        if kind != group_of(gold, g):
            return False
        return p == g or bool(names(draft, p) & names(gold, g)) or overlaps(spans(draft, p), spans(gold, g))

    found = sum(any(matches(p, g) for p in prop_ents) for g in gold_ents)
    right = sum(any(matches(p, g) for g in gold_ents) for p in prop_ents)
    row["mentions recall"], row["mentions precision"] = ratio(found, len(gold_ents)), ratio(right, len(prop_ents))
    # statements
    gst = list(gold.subjects(rdflib.RDF.type, DK.Statement))
    dst = list(draft.subjects(rdflib.RDF.type, DK.Statement))

    def dates(g: rdflib.Graph, n: rdflib.term.Node) -> set[str]:
        return {str(d) for d in g.objects(n, DK.date)} | {str(d) for v in g.objects(n, DK.venue)
                                                          for d in g.objects(v, DK.date)}

    def st_ok(d: rdflib.term.Node, g: rdflib.term.Node) -> bool:
        return (overlaps(spans(draft, d), spans(gold, g))
                and any(same_actor(draft, a, gold, b) for a in draft.objects(d, DK.speaker)
                        for b in gold.objects(g, DK.speaker)) and bool(dates(draft, d) & dates(gold, g)))

    row["statements (speaker+date)"] = ratio(sum(any(st_ok(d, g) for d in dst) for g in gst), len(gst))
    row["statements precision"] = ratio(sum(any(st_ok(d, g) for g in gst) for d in dst), len(dst))
    # claims
    gcl = list(gold.subjects(rdflib.RDF.type, DK.Claim))
    dcl = list(draft.subjects(rdflib.RDF.type, DK.Claim))

    def cl_ok(d: rdflib.term.Node, g: rdflib.term.Node) -> bool:
        terr_d = {n for t in draft.objects(d, DK.claimedTerritory) for n in names(draft, t)}
        need = [names(gold, t) for t in gold.objects(g, DK.claimedTerritory)]
        return (any(same_actor(draft, a, gold, b) for a in draft.objects(d, DK.claimant)
                    for b in gold.objects(g, DK.claimant)) and all(n & terr_d for n in need))

    row["claims (claimant+territories)"] = ratio(sum(any(cl_ok(d, g) for d in dcl) for g in gcl), len(gcl))
    # positions, claims included
    gpo = list(gold.subjects(rdflib.RDF.type, DK.Position)) + gcl
    dpo = list(draft.subjects(rdflib.RDF.type, DK.Position)) + dcl

    def po_ok(d: rdflib.term.Node, g: rdflib.term.Node) -> bool:
        hd = list(draft.objects(d, DK.holder)) + list(draft.objects(d, DK.claimant))
        hg = list(gold.objects(g, DK.holder)) + list(gold.objects(g, DK.claimant))
        return (overlaps(spans(draft, d), spans(gold, g)) and any(same_actor(draft, a, gold, b) for a in hd for b in hg)
                and bool(set(draft.objects(d, DK.stanceKind)) & set(gold.objects(g, DK.stanceKind))))

    row["positions (holder+stance)"] = ratio(sum(any(po_ok(d, g) for d in dpo) for g in gpo), len(gpo))
    row["positions precision"] = ratio(sum(any(po_ok(d, g) for g in gpo) for d in dpo), len(dpo))
    # spans exact
    sels = list(draft.subjects(rdflib.RDF.type, DK.TextSelection))
    exact = 0
    for sel in sels:
        q = next((s for s in draft.objects(sel, OA.hasSelector) if (s, OA.exact, None) in draft), None)
        p = next((s for s in draft.objects(sel, OA.hasSelector) if (s, OA.start, None) in draft), None)
        if q is not None and p is not None:
            exact += text[int(draft.value(p, OA.start)):int(draft.value(p, OA.end))] == str(draft.value(q, OA.exact))
    row["spans exact"] = ratio(exact, len(sels))
    return row


def cold(args: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run([sys.executable, *args], capture_output=True, check=True)
    return time.perf_counter() - t0


def main() -> int:
    from results import write_section

    # the machine's state in this run, for reading the extraction times: a bare interpreter, the CLI's
    # start-up, and spaCy's import with a blank English pipeline (the floor of any spaCy-based extractor)
    base = {"python -c pass": cold(["-c", "pass"]),
            "dispute-kg --help": cold(["-m", "dispute_kg", "--help"]),
            "import spacy + spacy.blank('en')": cold(["-c", "import spacy; spacy.blank('en')"])}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for stem, text, meta, gold in reports():
            rows.append(evaluate(stem, text, meta, gold, Path(tmp)))
            print(rows[-1], flush=True)
    cols = list(rows[0])
    table = "| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n"
    table += "".join("| " + " | ".join(r.get(c, "") for c in cols) + " |\n" for r in rows)
    measures = [c for c in cols if not c.startswith("extract s") and ("recall" in c or "precision" in c
                                                                  or "exact" in c or c.endswith(")"))]

    def value(cell: str) -> float | None:
        return float(cell.split()[0]) if cell and cell[0].isdigit() else None

    gaps = []
    for c in measures:
        ref = value(rows[0][c])
        others = [v for r in rows[1:] if (v := value(r[c])) is not None]
        if ref is not None and others:
            gaps.append(f"{c}: article {ref:.2f}, lowest other report {min(others):.2f}")
    baseline = ", ".join(f"`{k}` {v:.2f} s" for k, v in base.items())
    table += ("\nCold start-up on this machine in the same run: " + baseline + ". The extraction time above is"
              " a cold `dispute-kg extract` process (interpreter, spaCy, gazetteer, rules, writing the draft).\n\n"
              "Article against the other reports: " + "; ".join(gaps) + ".\n")
    body = ("Each report extracted in a project without its own assertions (ontology, shapes, background, "
            "Wikidata snapshot only), compared with its gold graph; the reports in bench/extract/ were written "
            "for this benchmark (CC0). Ratios are (found/gold) for recall and (right/proposed) for precision.\n\n"
            + table)
    write_section("extract-eval", "Extraction against gold (bench/extract_eval.py)", body,
                  script="bench/extract_eval.py")
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
