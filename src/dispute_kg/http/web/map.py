"""The map (`/map`): the disputed islands where they are, over Natural Earth coastlines and borders.

The base layer is `static/basemap.json` (Natural Earth 1:10m admin-0, from the npm package world-atlas;
see `basemap`), drawn as inline SVG in an equirectangular projection scaled by cos(44.25°), so that
the region around the islands keeps its shape. Countries are styled by their state's role in the
dispute, read from the graph: a state that claims the islands, and the state that holds them (the
last successor of the state that received them in a territorial change).

Each territory is placed from the Wikidata snapshot's coordinate location (P625) of its linked item
when there is one; otherwise from the Natural Earth polygon listed for it in `NE_ISLANDS`, whose
source is stated on the page. Nothing is placed from anywhere else: what cannot be placed is listed
with the reason.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ...rdf.namespaces import DEF, ID
from ..app import App, Request
from .basemap import load, ring_containing
from .layout import Data, ask, entity_path, esc, iri_link, page, url

WIDTH = 1000.0
MID_LATITUDE = 44.25
# the part of the base layer the map shows: the islands and eastern Hokkaido (west, south, east, north)
VIEW = (141.3, 42.2, 149.8, 46.2)
POINT = re.compile(r"Point\(\s*(-?[\d.]+(?:[eE][-+]?\d+)?)\s+(-?[\d.]+(?:[eE][-+]?\d+)?)\s*\)", re.I)
# Natural Earth names the admin-0 country, not the state of our graph: the pairing is stated here.
NE_STATES = {"Japan": ID + "state/japan", "Russia": ID + "state/russian-federation"}
# Territories Natural Earth draws as islands of Russia's admin-0 feature: the island ring at a point
# inside it (a ring of the 1:10m data; the point only selects the ring, it is not drawn).
NE_ISLANDS = {ID + "territory/iturup": (147.9, 45.0), ID + "territory/kunashir": (146.2, 44.3),
              ID + "territory/shikotan": (146.75, 43.8), ID + "territory/habomai": (146.15, 43.5)}
SUCCESSION = f"""PREFIX dk: <{DEF}>
SELECT ?old ?new WHERE {{ ?s dk:predecessor ?old ; dk:successor ?new }}"""


def parse_point(wkt: str | None) -> tuple[float, float] | None:
    """WKT `Point(lon lat)` -> (lon, lat); None when absent or not a point."""
    m = POINT.search(wkt or "")
    if not m:
        return None
    lon, lat = float(m.group(1)), float(m.group(2))
    return (lon, lat) if -180 <= lon <= 180 and -90 <= lat <= 90 else None


def _v(row: dict[str, Any], name: str) -> str | None:
    term = row.get(name)
    return term["value"] if term else None


def roles(app: App) -> dict[str, set[str]]:
    """Each state's role in the dispute: claimant (a dk:Claim), holder (the current successor of the
    state that received the islands)."""
    out: dict[str, set[str]] = {}
    received: set[str] = set()
    for row in app.kg.run_result("disputed-territories").rows:
        actor, role = row["actor"]["value"], row["role"]["value"]
        if role == "claims":
            out.setdefault(actor, set()).add("claimant")
        elif role == "received the territory":
            received.add(actor)
    successor = {row["old"]["value"]: row["new"]["value"] for row in ask(app, SUCCESSION).rows}
    for state in received:
        seen = {state}
        while state in successor and successor[state] not in seen:
            state = successor[state]
            seen.add(state)
        out.setdefault(state, set()).add("holder")
    return out


def projection() -> dict[str, Any]:
    west, south, east, north = load()["region"]
    kx = WIDTH / (east - west)
    ky = kx / math.cos(math.radians(MID_LATITUDE))
    return {"name": f"equirectangular, scaled by cos({MID_LATITUDE}°)", "west": west, "east": east,
            "south": south, "north": north, "width": WIDTH, "height": round((north - south) * ky, 2),
            "kx": kx, "ky": ky, "view": _view_box(west, north, kx, ky)}


def _view_box(west: float, north: float, kx: float, ky: float) -> list[float]:
    w, s, e, n = VIEW
    return [round((w - west) * kx, 1), round((north - n) * ky, 1), round((e - w) * kx, 1), round((n - s) * ky, 1)]


def xy(pr: dict[str, Any], lon: float, lat: float) -> tuple[float, float]:
    return round((lon - pr["west"]) * pr["kx"], 1), round((pr["north"] - lat) * pr["ky"], 1)


def map_data(app: App, req: Request) -> Data:
    pr = projection()
    state_roles = roles(app)
    base = load()
    countries = []
    for f in base["countries"]:
        state = NE_STATES.get(f["name"])
        role = _role(state_roles.get(state or "", set()))
        countries.append({"name": f["name"], "state": state, "page": entity_path(state) if state else None,
                          "role": role})
    labels = {}
    for row in app.kg.run_result("territories-enriched").rows:
        labels[row["territory"]["value"]] = row
    territories, missing = [], []
    for ent, row in sorted(labels.items(), key=lambda kv: kv[1]["label"]["value"]):
        label = row["label"]["value"]
        where = parse_point(_v(row, "coordinates"))
        if where:
            territories.append({"entity": ent, "label": label, "page": entity_path(ent), "lon": where[0],
                                "lat": where[1], "source": "Wikidata snapshot, coordinate location (P625)",
                                "wikidata": _v(row, "wikidata"), "ring": None})
            continue
        if ent in NE_ISLANDS:
            ring = ring_containing(*NE_ISLANDS[ent])
            if ring:
                lon = round(sum(p[0] for p in ring) / len(ring), 2)
                lat = round(sum(p[1] for p in ring) / len(ring), 2)
                if ring_containing(lon, lat) is not ring:  # a curved island: its mean lies off it
                    lon, lat = NE_ISLANDS[ent]
                territories.append({"entity": ent, "label": label, "page": entity_path(ent), "lon": lon, "lat": lat,
                                    "source": "Natural Earth 1:10m admin-0 polygon (world-atlas 2.0.2); "
                                              "the marker is a point of that polygon",
                                    "wikidata": _v(row, "wikidata"), "ring": ring})
                continue
        why = (_v(row, "pending") or ("its Wikidata item has no coordinate location (P625) in the snapshot"
                                      if _v(row, "wikidata") else "it is not linked to Wikidata"))
        missing.append({"entity": ent, "label": label, "why": why + ", and Natural Earth draws no polygon for it"
                        if ent not in NE_ISLANDS else why, "page": entity_path(ent)})
    for t in territories:
        t["x"], t["y"] = xy(pr, t["lon"], t["lat"])
    w, s, e, n = base["region"]
    others = [{"entity": st, "roles": sorted(r), "page": entity_path(st)} for st, r in sorted(state_roles.items())
              if st not in NE_STATES.values()]
    return {"projection": pr, "basemap_source": base["source"], "countries": countries, "territories": territories,
            "missing": missing, "other_states": others,
            "region": {"west": w, "south": s, "east": e, "north": n}}


def _role(r: set[str]) -> str:
    if {"claimant", "holder"} <= r:
        return "holder"  # holds and asserts its sovereignty: drawn as the holder
    return "holder" if "holder" in r else "claimant" if "claimant" in r else "other"


def _path(pr: dict[str, Any], ring: list[list[float]]) -> str:
    pts = [xy(pr, lon, lat) for lon, lat in ring]
    return "M" + "L".join(f"{x:g} {y:g}" for x, y in pts) + "Z"


def map_svg(app: App, d: Data) -> str:
    pr = d["projection"]
    w, h = pr["width"], pr["height"]
    base = {f["name"]: f for f in load()["countries"]}
    vx, vy, vw, vh = pr["view"]
    parts = [f'<svg class="map" viewBox="{vx:g} {vy:g} {vw:g} {vh:g}" role="group" '
             'aria-labelledby="map-title map-desc">',
             '<title id="map-title">The southern Kuril Islands north-east of Hokkaido</title>',
             f'<desc id="map-desc">Natural Earth coastlines and borders, longitude {VIEW[0]:g}° to {VIEW[2]:g}° '
             f'east, latitude {VIEW[1]:g}° to {VIEW[3]:g}° north. '
             + esc("; ".join(f"{t['label']} at {t['lat']:g}° N {t['lon']:g}° E" for t in d["territories"]))
             + '.</desc>', f'<rect class="sea" x="0" y="0" width="{w:g}" height="{h:g}"/>']
    for lon in range(math.ceil(VIEW[0]), int(VIEW[2]) + 1):
        x, _ = xy(pr, lon, pr["north"])
        parts.append(f'<line class="grat" x1="{x:g}" x2="{x:g}" y1="0" y2="{h:g}"/>'
                     f'<text class="grat-label" x="{x + 3:g}" y="{vy + vh - 6:g}">{lon}°E</text>')
    for lat in range(math.ceil(VIEW[1]), int(VIEW[3]) + 1):
        _, y = xy(pr, pr["west"], lat)
        parts.append(f'<line class="grat" x1="0" x2="{w:g}" y1="{y:g}" y2="{y:g}"/>'
                     f'<text class="grat-label" x="{vx + 4:g}" y="{y - 4:g}">{lat}°N</text>')
    islands = {tuple(map(tuple, t["ring"])) for t in d["territories"] if t["ring"]}
    for c in d["countries"]:
        rings = [r for r in base[c["name"]]["rings"] if tuple(map(tuple, r)) not in islands]
        parts.append(f'<path class="land {esc(c["role"])}" data-country="{esc(c["name"])}" '
                     f'd="{"".join(_path(pr, r) for r in rings)}"/>')
    for t in d["territories"]:
        if t["ring"]:
            parts.append(f'<path class="land disputed" d="{_path(pr, t["ring"])}"/>')
    label_at = {"iturup": (14, -14, "start"), "kunashir": (-14, -10, "end"), "shikotan": (14, 4, "start"),
                "habomai": (-12, 20, "end")}
    for t in d["territories"]:
        dx, dy, anchor = label_at.get(t["entity"].rsplit("/", 1)[-1], (12, 5, "start"))
        parts.append(f'<a href="{esc(url(app, t["page"] or "/"))}" class="place territory" '
                     f'data-entity="{esc(t["entity"])}" data-lat="{t["lat"]}" data-lon="{t["lon"]}">'
                     f'<title>{esc(t["label"])}: {t["lat"]:g}° N {t["lon"]:g}° E ({esc(t["source"])})</title>'
                     f'<circle class="m territory" cx="{t["x"]:g}" cy="{t["y"]:g}" r="7"/>'
                     f'<text class="place-label" x="{t["x"] + dx:g}" y="{t["y"] + dy:g}" text-anchor="{anchor}">'
                     f'{esc(t["label"])}</text></a>')
    for name, lon, lat in (("Hokkaido (Japan)", 142.9, 43.3), ("Sea of Okhotsk", 146.0, 45.6),
                           ("Pacific Ocean", 148.3, 42.8)):
        x, y = xy(pr, lon, lat)
        parts.append(f'<text class="area-label" x="{x:g}" y="{y:g}" text-anchor="middle">{esc(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def map_render(app: App, d: Data) -> str:
    legend = [("claimant", "claims the islands and does not hold them"),
              ("holder", "holds the islands (successor of the state that received them)"),
              ("disputed", "a disputed island, drawn from Natural Earth"),
              ("other", "other land")]
    legend_html = "".join(f'<li><svg width="22" height="16" aria-hidden="true"><rect class="land {k}" x="1" y="1" '
                          f'width="20" height="14"/></svg> <span class="legend-name">{esc(k)}</span>: {esc(v)}</li>'
                          for k, v in legend)
    who = {c["role"]: c for c in d["countries"] if c["state"]}
    styled = "; ".join(f'{iri_link(app, c["state"], c["name"])} as {esc(role)}' for role, c in sorted(who.items()))
    rows = "".join(
        f'<tr><td>{iri_link(app, t["entity"], t["label"])}</td><td>{t["lat"]:g}° N, {t["lon"]:g}° E</td>'
        f'<td>{esc(t["source"])}</td></tr>' for t in d["territories"])
    missing = "".join(f'<li>{iri_link(app, m["entity"], m["label"])}: {esc(m["why"])}</li>' for m in d["missing"])
    src = d["basemap_source"]
    body = f"""
<h1>Map</h1>
<p class="lede">The four disputed islands north-east of Hokkaido, over Natural Earth coastlines and borders.
Styled from the graph: {styled}.</p>
<ul class="legend-list">{legend_html}</ul>
<figure class="map-figure">
<div class="svg-wrap map-wrap" role="region" aria-label="Map, scrollable" tabindex="0">{map_svg(app, d)}</div>
<figcaption class="meta">Coastlines and borders: {esc(src["data"])}, from the npm package {esc(src["package"])}
({esc(src["licence"])}), trimmed to {d["region"]["west"]:g}–{d["region"]["east"]:g}° E,
{d["region"]["south"]:g}–{d["region"]["north"]:g}° N. Natural Earth draws de facto borders: the islands are part
of its Russia feature.</figcaption>
</figure>
<section aria-labelledby="placed-h"><h2 id="placed-h">Where each territory is drawn, and from what</h2>
<div class="table-wrap" role="region" aria-label="Territories table" tabindex="0"><table><thead><tr>
<th scope="col">territory</th><th scope="col">latitude, longitude</th><th scope="col">source</th></tr></thead>
<tbody>{rows}</tbody></table></div></section>
<section aria-labelledby="missing-h"><h2 id="missing-h">Not drawn, and why</h2>
<ul class="missing">{missing or "<li>Nothing: every territory is drawn.</li>"}</ul></section>"""
    return page(app, "Map", body, current="/map", json_href=url(app, "/map?_format=json"))
