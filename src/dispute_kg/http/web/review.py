"""The review page (`/review/<slug>`): a source's text with the extractor's candidates highlighted by
kind, a side panel to accept, edit or reject each, and new assertions made from a selection of the text.

- `GET /review/<slug>`: the page (or `?_format=json`: the draft). It reads ``drafts/<slug>.json`` when
  `dispute-kg extract` wrote one, and otherwise extracts in memory.
- `POST /review/<slug>/accept`: `{"accept": [ids], "edits": {id: fields}, "new": [{type, start, end,
  fields}], "reject": [ids]}`. Rejections are remembered; the accepted candidates become one Turtle file
  (``drafts/<slug>.accepted.ttl``, from the same conversion as the command-line draft) that is added with
  `KnowledgeGraph.add`, the path `dispute-kg add` takes. The answer carries the validation report with each
  problem tied to the candidate whose node it is about, so the page shows it beside the text.

The POST routes write, so they are refused unless `serve` runs with `--allow-update`, and need the update
token as a bearer token, checked by the guard `/api/additions` uses (`app.check_token`).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from ...rdf.namespaces import ID, shorten
from ..app import App, HTTPError, Request, Response, check_token, json_response
from .layout import Data, esc, page, url

SLUG = r"(?P<slug>[A-Za-z0-9._-]+)"
KIND_CLASS = {"entity": "k-entity", "mention": "k-mention", "statement": "k-statement", "position": "k-position",
              "claim": "k-claim", "event": "k-event", "coreference": "k-mention"}
NEW_TYPES = {"Position": "position", "Statement": "statement", "Claim": "claim", "State": "entity",
             "Government": "entity", "Territory": "entity", "Island": "entity", "IslandGroup": "entity",
             "Person": "entity", "Group": "entity", "Office": "entity", "Agreement": "entity", "Treaty": "entity",
             "Place": "entity", "City": "entity", "Issue": "entity"}
PATH_OF = {"position": "position", "statement": "statement", "claim": "claim"}
DATATYPES = {"string", "date", "gYear", "gYearMonth", "integer"}
FIELD = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
STYLE = """<style>
.review { display: grid; grid-template-columns: minmax(0, 3fr) minmax(18rem, 2fr); gap: 1.5rem; }
#review-text { white-space: pre-wrap; font-family: inherit; line-height: 1.9; background: #fff; color: #1a1a1a;
  border: 1px solid #ccc; padding: 1rem; }
#panel { max-height: 100vh; overflow: auto; }
#candidates label, #candidates input { display: inline; width: auto; margin: 0 .2rem; }
#review-text span[data-c] { cursor: pointer; }
.k-mention { border-bottom: 2px solid #8888; } .k-entity { border-bottom: 2px solid #1f6feb; }
.k-position { background: #fff3b0; } .k-claim { background: #ffd8a8; } .k-statement { background: #d0ebff; }
.k-event { background: #d3f9d8; } .is-current { outline: 2px solid #c2255c; }
.accepted { text-decoration: underline double #2b8a3e; } .rejected { opacity: .45; }
.has-problem { outline: 2px dashed #e03131; }
#candidates li { margin: .3rem 0; } #candidates .meta { color: #555; font-size: .85em; }
#panel fieldset { margin: .5rem 0; } #panel input[type=text] { width: 100%; }
#messages li.violation, #messages li.warning { color: #c92a2a; } #messages li.info { color: #555; }
.ok { color: #2b8a3e; }
</style>"""


def _draft(app: App, slug: str) -> Any:
    from ...errors import InputError
    from ...extract import extract, load_draft

    try:
        return load_draft(app.kg.project, slug)
    except InputError:
        return extract(app.kg.project, slug)  # in memory: a GET writes nothing


def review_data(app: App, req: Request) -> Data:
    from ...extract import gazetteer

    draft = _draft(app, req.params["slug"])
    gaz = gazetteer.load(app.kg.project)
    entities = [{"iri": e.iri, "label": e.names[0], "kind": e.kind} for e in gaz.entries.values()
                if e.known and e.names]
    entities += [{"iri": c.node, "label": c.label, "kind": c.type} for c in draft.candidates if c.kind == "entity"]
    return {"slug": draft.stem, "text": draft.text, "published": draft.published,
            "candidates": [c.to_dict() for c in draft.candidates], "reconciliation": draft.reconciliation,
            "entities": sorted(entities, key=lambda e: e["label"].casefold()),
            "can_update": bool(app.settings.allow_update)}


def _segments(text: str, candidates: list[dict[str, Any]]) -> str:
    """The text cut at every candidate boundary; each piece names the candidates covering it and takes the
    colour of the smallest (a mention inside a position shows as the mention)."""
    cuts = {0, len(text)}
    for c in candidates:
        for s, e in c["spans"]:
            cuts.update((s, e))
    points = sorted(cuts)
    out = []
    for a, b in itertools.pairwise(points):
        covering = [(e - s, c["id"], c["kind"]) for c in candidates for s, e in c["spans"] if s <= a and b <= e]
        piece = esc(text[a:b])
        if not covering:
            out.append(f'<span data-start="{a}">{piece}</span>')
            continue
        covering.sort()
        ids = " ".join(dict.fromkeys(cid for _, cid, _ in covering))
        out.append(f'<span data-start="{a}" data-c="{ids}" class="{KIND_CLASS[covering[0][2]]}">{piece}</span>')
    return "".join(out)


def review_render(app: App, d: Data) -> str:
    items = []
    for c in d["candidates"]:
        label = next((v.get("text", "") for v in c["fields"].get("label", [])), "") or shorten(c["node"])
        spans = ", ".join(f"{s}–{e}" for s, e in c["spans"])
        items.append(
            f'<li id="cand-{esc(c["id"])}" data-id="{esc(c["id"])}" data-key="{esc(c["key"])}">'
            f'<span class="{KIND_CLASS[c["kind"]]}">{esc(c["kind"])}</span> '
            f'<a href="#" class="pick">{esc(label)}</a> <span class="meta">{esc(c["type"] or "known")} · '
            f'{esc(c["rule"])} · {c["confidence"]:.2f} · {spans}</span>'
            f'<br><label><input type="radio" name="d-{esc(c["id"])}" value="accept"> accept</label> '
            f'<label><input type="radio" name="d-{esc(c["id"])}" value="reject"> reject</label></li>')
    options = "".join(f'<option value="{esc(e["iri"])}">{esc(e["label"])} ({esc(e["kind"])})</option>'
                      for e in d["entities"])
    types = "".join(f'<option value="{t}">{t}</option>' for t in NEW_TYPES)
    stances = "".join(f'<option value="{k}">{k}</option>' for k in
                      ("Belief", "Demand", "Insistence", "Intention", "Hope", "Assessment", "Opposition", "Threat",
                       "Refusal"))
    note = ("" if d["can_update"] else
            '<p class="notice">This server is read-only: start it with <code>serve --allow-update</code> to add.</p>')
    body = f"""
<h1>Review: {esc(d["slug"])}</h1>
<p>{len(d["candidates"])} candidate(s) proposed from the text (published {esc(d["published"])}).
Pick one to see its fields; accept, edit or reject it; select words in the text to make a new assertion.
Accepted candidates are validated as one addition.</p>{note}
<div class="review" id="review" data-slug="{esc(d["slug"])}"
     data-accept="{esc(url(app, f'/review/{d["slug"]}/accept'))}"
     data-candidates="{esc(json.dumps(d["candidates"]))}">
<section aria-label="Source text"><pre id="review-text">{_segments(d["text"], d["candidates"])}</pre>
<aside aria-live="polite"><h2>Validation</h2><ul id="messages"></ul><p id="verdict"></p></aside></section>
<section id="panel" aria-label="Candidates">
<label>Update token <input type="password" id="token" autocomplete="off"></label>
<p><button type="button" id="accept-all">Accept all</button>
<button type="button" id="submit">Validate and add</button></p>
<form id="editor" hidden><fieldset><legend>Fields of <span id="editor-id"></span></legend><div id="fields"></div>
<button type="button" id="save-edit">Keep these fields</button></fieldset></form>
<form id="from-selection" hidden><fieldset><legend>New assertion from the selection</legend>
<p id="selection-text"></p>
<label>Kind <select id="new-type">{types}</select></label>
<label>Label <input type="text" id="new-label"></label>
<label>Holder or speaker <input type="text" id="new-actor" list="entities"></label>
<label>Stance kind <select id="new-stance">{stances}</select></label>
<button type="button" id="add-new">Add to the accepted</button></fieldset></form>
<datalist id="entities">{options}</datalist>
<ol id="candidates">{"".join(items)}</ol>
<h2>New from selections</h2><ol id="new-list"></ol>
</section></div>
"""
    script = f'<script src="{esc(url(app, "/static/review.js"))}" defer></script>'
    return page(app, f"Review {d['slug']}", body, head=STYLE + script,
                json_href=url(app, f"/review/{d['slug']}?_format=json"), wide=True)


def _body(req: Request) -> dict[str, Any]:
    try:
        data = json.loads(req.body().decode("utf-8") or "{}")
    except (UnicodeDecodeError, ValueError) as exc:
        raise HTTPError(400, f"the body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise HTTPError(400, "the body must be a JSON object")
    return data


def _fields(raw: Any, where: str) -> dict[str, list[dict[str, Any]]]:
    """Fields from the browser, checked value by value (an IRI must parse as one; a datatype is one we use)."""
    import pyoxigraph as ox

    if not isinstance(raw, dict):
        raise HTTPError(400, f"{where}: fields must be an object")
    out: dict[str, list[dict[str, Any]]] = {}
    for prop, values in raw.items():
        if not isinstance(prop, str) or not FIELD.match(prop) or not isinstance(values, list):
            raise HTTPError(400, f"{where}: bad field {prop!r}")
        clean = []
        for v in values:
            if not isinstance(v, dict):
                raise HTTPError(400, f"{where}.{prop}: a value must be an object")
            if "iri" in v:
                iri = str(v["iri"]).strip()
                try:
                    ox.NamedNode(iri)
                except ValueError:
                    raise HTTPError(400, f"{where}.{prop}: {iri!r} is not an IRI") from None
                if not iri.startswith(("https://", "http://")):
                    raise HTTPError(400, f"{where}.{prop}: {iri!r} is not an http(s) IRI")
                clean.append({"iri": iri})
            elif "text" in v:
                clean.append({"text": str(v["text"]), "lang": str(v.get("lang") or "en")})
            elif "value" in v and v.get("datatype") in DATATYPES:
                clean.append({"value": str(v["value"]), "datatype": v["datatype"]})
            else:
                raise HTTPError(400, f"{where}.{prop}: a value needs iri, text, or value with a known datatype")
        if clean:
            out[prop] = clean
    return out


def accept_view(app: App) -> Any:
    def view(req: Request) -> Response:
        from ...extract import Draft, remember_rejections
        from ...extract.candidates import Candidate

        check_token(app, req)  # the guard of every route that changes the project
        slug = req.params["slug"]
        body = _body(req)
        draft = _draft(app, slug)
        by_id = {c.id: c for c in draft.candidates}
        for key in ("accept", "reject"):
            if not isinstance(body.get(key, []), list) or any(i not in by_id for i in body.get(key, [])):
                raise HTTPError(400, f"{key}: a list of candidate ids of this draft")
        rejected = [by_id[i].key for i in body.get("reject", [])]
        if rejected:
            remember_rejections(app.kg.project, slug, rejected)
        chosen: list[Candidate] = []
        edits = body.get("edits", {}) or {}
        if not isinstance(edits, dict):
            raise HTTPError(400, "edits: an object from candidate id to fields")
        for i in body.get("accept", []):
            c = by_id[i]
            if i in edits:
                c.fields = _fields(edits[i], f"edits.{i}")
            chosen.append(c)
        for n, raw in enumerate(body.get("new", []) or []):
            if not isinstance(raw, dict) or raw.get("type") not in NEW_TYPES:
                raise HTTPError(400, f"new[{n}]: type must be one of {', '.join(NEW_TYPES)}")
            try:
                start, end = int(raw["start"]), int(raw["end"])
            except (KeyError, TypeError, ValueError):
                raise HTTPError(400, f"new[{n}]: start and end must be character offsets") from None
            if not 0 <= start < end <= len(draft.text):
                raise HTTPError(400, f"new[{n}]: {start}-{end} is not a span of the text ({len(draft.text)} chars)")
            kind = NEW_TYPES[raw["type"]]
            path = PATH_OF.get(kind) or _entity_path(raw["type"])
            local = f"{slug}-{start}-{end}" if kind != "entity" else _slug(raw, draft.text[start:end])
            node = f"{ID}{path}/{local}"
            chosen.append(Candidate(kind, node, raw["type"], _fields(raw.get("fields", {}), f"new[{n}]"),
                                    [(start, end)], "curator.selection", 1.0, id=f"n{n + 1}"))
        if not chosen:
            return json_response({"conforms": None, "problems": [], "rejected": len(rejected),
                                  "message": "nothing accepted"})
        accepted = Draft(slug, draft.text, draft.published, chosen)
        folder = app.kg.project.root / "drafts"
        folder.mkdir(parents=True, exist_ok=True)
        # one file per request, so two reviewers' additions never share a file; kept only when added
        fd, name = tempfile.mkstemp(prefix=f".{slug}.accepted-", suffix=".ttl", dir=folder)
        path = Path(name)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(accepted.turtle())
        try:
            report, addition = app.kg.add([path], agent=str(body.get("agent") or "review page"),
                                          note=f"reviewed candidates from {slug}")
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        if addition is not None:
            os.replace(path, folder / f"{slug}.accepted.ttl")  # what was added last, for the curator
        else:
            path.unlink(missing_ok=True)
        nodes = {c.node: c.id for c in chosen}
        problems = []
        for p in report.problems:
            d = p.to_dict()
            full = ID + p.focus[3:] if p.focus.startswith("id:") else p.focus
            d["candidate"] = nodes.get(full, "")
            problems.append(d)
        return json_response({"conforms": addition is not None, "problems": problems, "rejected": len(rejected),
                              "addition": addition.to_dict() if addition is not None else None},
                             200 if addition is not None else 422)

    return view


def _entity_path(type_: str) -> str:
    from ...extract.rules import GROUP_OF, PATHS

    return PATHS.get(GROUP_OF.get(type_, type_), "thing")


def _slug(raw: dict[str, Any], selected: str) -> str:
    from ...extract.rules import slug

    label = next((v.get("text") for v in raw.get("fields", {}).get("label", []) if isinstance(v, dict)), None)
    return slug(label or selected)


def routes(app: App) -> list[tuple[Any, str, Any]]:
    from .layout import page_view

    return [("GET", rf"/review/{SLUG}", page_view(app, review_data, review_render)),
            ("POST", rf"/review/{SLUG}/accept", accept_view(app))]


__all__ = ["routes"]
