"""The map (`/map`): territories and states placed by the coordinates the Wikidata snapshot gives
(`wdt:P625` of the linked item, or of the state's capital `wdt:P36` when the snapshot has it), drawn as
SVG in a plain equirectangular projection (x = longitude, y = latitude, no tiles, no coastlines).
Nothing is placed without coordinates from the snapshot: what is missing is listed with the reason."""

from __future__ import annotations

import math
import re
from typing import Any

from ...rdf.namespaces import DEF
from ..server import App, Request
from .layout import Data, entity_path, esc, iri_link, page, url

WIDTH = 1000.0
POINT = re.compile(r"Point\(\s*(-?[\d.]+(?:[eE][-+]?\d+)?)\s+(-?[\d.]+(?:[eE][-+]?\d+)?)\s*\)", re.I)
STATES = f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX sssom: <https://w3id.org/sssom/>
PREFIX wdt: <http://www.wikidata.org/prop/direct/>
PREFIX dk: <{DEF}>
SELECT ?state ?label ?wikidata ?coordinates ?capital ?capitalLabel ?capitalCoordinates ?pending WHERE {{
  ?state a dk:State ; rdfs:label ?label .
  OPTIONAL {{
    ?state skos:exactMatch ?wikidata .
    FILTER (STRSTARTS(STR(?wikidata), "http://www.wikidata.org/entity/"))
    OPTIONAL {{ ?wikidata wdt:P625 ?coordinates }}
    OPTIONAL {{ ?wikidata wdt:P36 ?capital .
               OPTIONAL {{ ?capital rdfs:label ?capitalLabel }} OPTIONAL {{ ?capital wdt:P625 ?capitalCoordinates }} }}
  }}
  OPTIONAL {{ ?record sssom:subject_id ?state ; sssom:object_id sssom:NoTermFound ; sssom:comment ?pending }}
}} ORDER BY ?label"""
ROLE_NAMES = {"claims": "claimant", "received the territory": "holder", "takes a position": "position"}


def _v(row: dict[str, Any], name: str) -> str | None:
    term = row.get(name)
    return term["value"] if term else None


def parse_point(wkt: str | None) -> tuple[float, float] | None:
    """WKT `Point(lon lat)` -> (lon, lat); None when absent or not a point."""
    m = POINT.search(wkt or "")
    if not m:
        return None
    lon, lat = float(m.group(1)), float(m.group(2))
    return (lon, lat) if -180 <= lon <= 180 and -90 <= lat <= 90 else None


def map_data(app: App, req: Request) -> Data:
    roles: dict[str, set[str]] = {}
    for row in app.kg.run_result("disputed-territories").rows:
        roles.setdefault(row["actor"]["value"], set()).add(ROLE_NAMES.get(row["role"]["value"], "position"))
    points: list[dict[str, Any]] = []
    missing: list[dict[str, Any]] = []
    for row in app.kg.run_result("territories-enriched").rows:
        ent, label = row["territory"]["value"], row["label"]["value"]
        where = parse_point(_v(row, "coordinates"))
        if where:
            points.append({"entity": ent, "label": label, "kind": "territory", "roles": [],
                           "lon": where[0], "lat": where[1], "wikidata": _v(row, "wikidata"), "property": "P625",
                           "page": entity_path(ent)})
        else:
            why = (_v(row, "pending") or ("its Wikidata item has no coordinate location (P625) in the snapshot"
                                          if _v(row, "wikidata") else "it is not linked to Wikidata"))
            missing.append({"entity": ent, "label": label, "what": "territory", "why": why, "page": entity_path(ent)})
    seen: set[str] = set()
    for row in app.kg.store.query(STATES).rows:
        ent, label = row["state"]["value"], row["label"]["value"]
        if ent in seen:
            continue
        seen.add(ent)
        state_roles = sorted(roles.get(ent, set()))
        capital = parse_point(_v(row, "capitalCoordinates"))
        own = parse_point(_v(row, "coordinates"))
        wd = _v(row, "wikidata")
        if capital:
            points.append({"entity": ent, "label": f"{_v(row, 'capitalLabel') or 'capital'} (capital of {label})",
                           "kind": "capital", "roles": state_roles, "lon": capital[0], "lat": capital[1],
                           "wikidata": _v(row, "capital"), "property": "P36/P625", "page": entity_path(ent)})
            continue
        if not wd:
            why = _v(row, "pending") or "it is not linked to Wikidata"
        elif own:
            why = ("the snapshot records no capital (P36) for its Wikidata item; the state is drawn at the item's "
                   "own coordinate location (P625) instead")
        else:
            why = "the snapshot has neither a capital (P36) nor a coordinate location (P625) for its Wikidata item"
        missing.append({"entity": ent, "label": label, "what": "capital", "why": why, "page": entity_path(ent),
                        "roles": state_roles})
        if own:
            points.append({"entity": ent, "label": label, "kind": "state", "roles": state_roles, "lon": own[0],
                           "lat": own[1], "wikidata": wd, "property": "P625", "page": entity_path(ent)})
    projection = project(points)
    return {"projection": projection, "points": points, "missing": missing,
            "legend": {"claimant": "claims the disputed islands", "holder": "received the islands (holds them)",
                       "position": "takes a position on them", "other": "no role in the dispute"}}


def project(points: list[dict[str, Any]]) -> dict[str, Any]:
    """Extent (padded, on a 10° grid) and x/y for each point: x = (lon - west) * k, y = (north - lat) * k."""
    if points:
        west = math.floor((min(p["lon"] for p in points) - 10) / 10) * 10
        east = math.ceil((max(p["lon"] for p in points) + 10) / 10) * 10
        south = math.floor((min(p["lat"] for p in points) - 10) / 10) * 10
        north = math.ceil((max(p["lat"] for p in points) + 10) / 10) * 10
    else:
        west, east, south, north = 120, 160, 30, 60
    west, east, south, north = max(west, -180), min(east, 180), max(south, -90), min(north, 90)
    while (north - south) < 0.35 * (east - west) and (north < 90 or south > -90):
        north, south = min(north + 10, 90), max(south - 10, -90)
    k = WIDTH / (east - west)
    for p in points:
        p["x"] = round((p["lon"] - west) * k, 2)
        p["y"] = round((north - p["lat"]) * k, 2)
    return {"name": "equirectangular (plate carrée)", "west": west, "east": east, "south": south, "north": north,
            "width": WIDTH, "height": round((north - south) * k, 2), "scale": k}


def _role(p: dict[str, Any]) -> str:
    roles = set(p.get("roles") or [])
    if {"claimant", "holder"} <= roles:
        return "both"
    for r in ("holder", "claimant", "position"):
        if r in roles:
            return r
    return "other"


def marker(p: dict[str, Any]) -> str:
    x, y, role = p["x"], p["y"], _role(p)
    if p["kind"] == "territory":
        return f'<path class="m territory" d="M{x} {y - 8} L{x + 8} {y + 6} L{x - 8} {y + 6} Z"/>'
    if role == "holder":
        return f'<rect class="m holder" x="{x - 7}" y="{y - 7}" width="14" height="14"/>'
    if role == "both":
        return f'<path class="m both" d="M{x} {y - 9} L{x + 9} {y} L{x} {y + 9} L{x - 9} {y} Z"/>'
    return f'<circle class="m {role}" cx="{x}" cy="{y}" r="7"/>'


def map_svg(app: App, d: Data) -> str:
    pr = d["projection"]
    w, h, k = pr["width"], pr["height"], pr["scale"]
    west, east, south, north = pr["west"], pr["east"], pr["south"], pr["north"]
    step = 10 if east - west <= 120 else 30
    parts = [f'<svg class="map" viewBox="-40 -10 {w + 80} {h + 40}" role="img" aria-labelledby="map-title map-desc">',
             '<title id="map-title">Places from the Wikidata snapshot</title>',
             f'<desc id="map-desc">Equirectangular projection, longitude {west}° to {east}°, latitude {south}° to '
             f'{north}°. No coastlines are drawn.</desc>',
             f'<rect class="sea" x="0" y="0" width="{w}" height="{h}"/>']
    for lon in range(int(west), int(east) + 1, step):
        x = (lon - west) * k
        parts.append(f'<line class="grat" x1="{x:.2f}" x2="{x:.2f}" y1="0" y2="{h}"/>'
                     f'<text class="grat-label" x="{x:.2f}" y="{h + 16}" text-anchor="middle">{abs(lon)}°'
                     f'{"E" if lon > 0 else "W" if lon < 0 else ""}</text>')
    for lat in range(int(south), int(north) + 1, 10):
        y = (north - lat) * k
        parts.append(f'<line class="grat" x1="0" x2="{w}" y1="{y:.2f}" y2="{y:.2f}"/>'
                     f'<text class="grat-label" x="-6" y="{y + 4:.2f}" text-anchor="end">{abs(lat)}°'
                     f'{"N" if lat > 0 else "S" if lat < 0 else ""}</text>')
    for p in d["points"]:
        right = p["x"] < w * 0.75
        tx = p["x"] + 12 if right else p["x"] - 12
        coords = f"{abs(p['lat']):g}°{'N' if p['lat'] >= 0 else 'S'} {abs(p['lon']):g}°{'E' if p['lon'] >= 0 else 'W'}"
        what = {"state": "the state's Wikidata coordinate location (P625), not its capital",
                "capital": "the capital's coordinate location", "territory": "coordinate location"}[p["kind"]]
        role = _role(p)
        parts.append(f'<a href="{esc(url(app, p["page"] or "/"))}" class="place {role}" '
                     f'data-entity="{esc(p["entity"])}">'
                     f'<title>{esc(p["label"])}: {coords} — {esc(what)}; role: {esc(role)}</title>{marker(p)}'
                     f'<text x="{tx:.2f}" y="{p["y"] + 5:.2f}" text-anchor="{"start" if right else "end"}">'
                     f'{esc(p["label"])}</text></a>')
    parts.append("</svg>")
    return "".join(parts)


def map_render(app: App, d: Data) -> str:
    legend = d["legend"]
    items = [("claimant", '<circle class="m claimant" cx="9" cy="9" r="6"/>'),
             ("holder", '<rect class="m holder" x="3" y="3" width="12" height="12"/>'),
             ("both", '<path class="m both" d="M9 1 L17 9 L9 17 L1 9 Z"/>'),
             ("position", '<circle class="m position" cx="9" cy="9" r="6"/>'),
             ("other", '<circle class="m other" cx="9" cy="9" r="6"/>'),
             ("territory", '<path class="m territory" d="M9 2 L16 15 L2 15 Z"/>')]
    texts = {**legend, "both": "claims and holds", "territory": "territory (its own coordinates)"}
    legend_html = "".join(f'<li><svg width="18" height="18" aria-hidden="true">{shape}</svg> '
                          f'<span class="legend-name">{esc(k)}</span>: {esc(texts[k])}</li>' for k, shape in items)
    rows = "".join(f'<li>{iri_link(app, m["entity"], m["label"])} ({esc(m["what"])}): {esc(m["why"])}</li>'
                   for m in d["missing"]) or "<li>Nothing: every territory and capital has coordinates.</li>"
    placed = "".join(
        f'<tr><td>{iri_link(app, p["entity"], p["label"])}</td><td>{esc(p["kind"])}</td>'
        f'<td>{esc(", ".join(p["roles"]) or "—")}</td>'
        f'<td>{p["lat"]:g}, {p["lon"]:g}</td><td>{iri_link(app, p["wikidata"]) if p["wikidata"] else ""} '
        f'{esc(p["property"])}</td></tr>' for p in d["points"])
    n_terr = sum(1 for p in d["points"] if p["kind"] == "territory")
    notes = []
    if any(m["what"] == "territory" for m in d["missing"]):
        notes.append(f"{sum(1 for m in d['missing'] if m['what'] == 'territory')} territories have no coordinates "
                     "in the snapshot (most because their Wikidata links are still pending review).")
    if any(p["kind"] == "state" for p in d["points"]):
        notes.append("Where the snapshot has no capital for a state, the state is drawn at its Wikidata item's "
                     "own coordinate location (P625), marked as such.")
    missing_note = esc(" ".join(notes))
    body = f"""
<h1>Map</h1>
<p class="lede">Places drawn from the coordinates in the Wikidata snapshot (<code>data/wikidata/snapshot.ttl</code>),
nothing else: {len(d['points'])} placed, {n_terr} of them territories. A plain equirectangular projection, without
map tiles or coastlines.</p>
<p class="notice"><strong>What is missing.</strong> No coordinates are invented. {missing_note}
The list below says why for each.</p>
<ul class="legend-list">{legend_html}</ul>
<div class="svg-wrap" role="region" aria-label="Map" tabindex="0">{map_svg(app, d)}</div>
<section aria-labelledby="placed-h"><h2 id="placed-h">Placed</h2>
<div class="table-wrap" role="region" aria-label="Placed" tabindex="0"><table><thead><tr><th scope="col">place</th>
<th scope="col">drawn as</th><th scope="col">role in the dispute</th><th scope="col">latitude, longitude</th>
<th scope="col">from</th></tr></thead><tbody>{placed}</tbody></table></div></section>
<section aria-labelledby="missing-h"><h2 id="missing-h">Not placed, and why</h2>
<ul class="missing">{rows}</ul></section>"""
    return page(app, "Map", body, current="/map", json_href=url(app, "/map?_format=json"))
