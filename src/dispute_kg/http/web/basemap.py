"""The map's base layer: Natural Earth coastlines and borders, trimmed to the dispute's region.

`static/basemap.json` is made once, offline, from the npm package `world-atlas` 2.0.2 (Natural Earth
4.1.0 admin-0 countries at 1:10m, TopoJSON; Natural Earth is public domain, the package is ISC):

    npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    python -m dispute_kg.http.web.basemap package/countries-10m.json

It keeps the countries whose polygons reach into `REGION`, clips their rings to the region's
rectangle (Sutherland-Hodgman, so every ring stays closed; the page draws inside the same rectangle)
and rounds coordinates to 0.01° (about 1 km), which keeps the file small enough to ship. The islands of the
southern Kurils are polygons of Russia's admin-0 feature in Natural Earth; `ISLANDS` names the ring
that contains each island's point from the Wikidata snapshot or, where the snapshot has none, the
ring Natural Earth draws at the listed bounding box (see docs/web.md for the sources).
"""

from __future__ import annotations

import json
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

STATIC = Path(__file__).parent / "static" / "basemap.json"
# west, south, east, north: Hokkaido, southern Sakhalin, the Kurils and northern Honshu
REGION = (139.0, 41.0, 151.0, 47.5)
SOURCE = {"package": "world-atlas@2.0.2 (npm)", "file": "countries-10m.json",
          "data": "Natural Earth 4.1.0, Admin 0 - Countries, 1:10m", "licence": "public domain (Natural Earth); "
          "package ISC", "url": "https://www.naturalearthdata.com/downloads/10m-cultural-vectors/"}


def decode(topology: dict[str, Any], name: str = "countries") -> list[dict[str, Any]]:
    """TopoJSON -> GeoJSON-like features (`{"name", "rings"}`), rings as lists of (lon, lat)."""
    sx, sy = topology["transform"]["scale"]
    tx, ty = topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:  # delta-encoded, quantised
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)

    def ring(indexes: list[int]) -> list[tuple[float, float]]:
        out: list[tuple[float, float]] = []
        for i in indexes:
            pts = arcs[i] if i >= 0 else list(reversed(arcs[~i]))
            out.extend(pts[1:] if out else pts)
        return out

    features = []
    for geom in topology["objects"][name]["geometries"]:
        polys = geom.get("arcs") or []
        if geom["type"] == "Polygon":
            polys = [polys]
        elif geom["type"] != "MultiPolygon":
            continue
        rings = [ring(r) for poly in polys for r in poly]
        features.append({"name": (geom.get("properties") or {}).get("name", ""), "rings": rings})
    return features


def _inside(ring: list[tuple[float, float]], region: tuple[float, float, float, float]) -> bool:
    w, s, e, n = region
    return any(w <= x <= e and s <= y <= n for x, y in ring)


def clip(ring: list[tuple[float, float]], region: tuple[float, float, float, float]) -> list[tuple[float, float]]:
    """Sutherland-Hodgman: the part of a ring inside an axis-aligned rectangle, as one closed ring."""
    w, s, e, n = region
    edges = ((lambda p: p[0] >= w, lambda a, b: _at_x(a, b, w)), (lambda p: p[0] <= e, lambda a, b: _at_x(a, b, e)),
             (lambda p: p[1] >= s, lambda a, b: _at_y(a, b, s)), (lambda p: p[1] <= n, lambda a, b: _at_y(a, b, n)))
    out = list(ring)
    for inside, cross in edges:
        if not out:
            break
        pts, out = out, []
        prev = pts[-1]
        for cur in pts:
            if inside(cur):
                if not inside(prev):
                    out.append(cross(prev, cur))
                out.append(cur)
            elif inside(prev):
                out.append(cross(prev, cur))
            prev = cur
    return out


def _at_x(a: tuple[float, float], b: tuple[float, float], x: float) -> tuple[float, float]:
    return (x, a[1] + (b[1] - a[1]) * (x - a[0]) / (b[0] - a[0]))


def _at_y(a: tuple[float, float], b: tuple[float, float], y: float) -> tuple[float, float]:
    return (a[0] + (b[0] - a[0]) * (y - a[1]) / (b[1] - a[1]), y)


def trim(features: list[dict[str, Any]], region: tuple[float, float, float, float] = REGION) -> dict[str, Any]:
    out = []
    for f in features:
        rings = []
        for r in f["rings"]:
            if not _inside(r, region):
                continue
            pts: list[list[float]] = []
            for x, y in clip(r, region):
                p = [round(x, 2), round(y, 2)]
                if not pts or pts[-1] != p:
                    pts.append(p)
            if len(pts) >= 3:
                rings.append(pts)
        if rings:
            out.append({"name": f["name"], "rings": rings})
    return {"source": SOURCE, "region": list(region), "countries": sorted(out, key=lambda f: f["name"])}


@lru_cache(maxsize=1)
def load() -> dict[str, Any]:
    """The shipped base layer (`{"source", "region", "countries": [{"name", "rings"}]}`)."""
    return json.loads(STATIC.read_text(encoding="utf-8"))


def ring_containing(lon: float, lat: float, country: str = "Russia") -> list[list[float]] | None:
    """The base layer's ring of `country` that contains the point (even-odd rule), if any."""
    for f in load()["countries"]:
        if f["name"] != country:
            continue
        for r in f["rings"]:
            if _contains(r, lon, lat):
                return r
    return None


def _contains(ring: list[list[float]], x: float, y: float) -> bool:
    inside = False
    j = len(ring) - 1
    for i in range(len(ring)):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m dispute_kg.http.web.basemap PATH/TO/world-atlas/countries-10m.json", file=sys.stderr)
        return 2
    topology = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    doc = trim(decode(topology))
    STATIC.write_text(json.dumps(doc, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {STATIC} ({STATIC.stat().st_size} bytes, {len(doc['countries'])} countries)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
