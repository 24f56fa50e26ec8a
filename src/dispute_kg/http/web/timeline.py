"""The timeline (`/timeline`): every dated event, and the agreement it concluded, drawn to scale as
inline SVG. x is proportional to time; a date known to the day is a point, a month or a year is a band
covering that whole period, so the precision the source gives stays visible. Events the sources date
only relative to others ("after World War 2") are listed, not drawn."""

from __future__ import annotations

import datetime as dt
from typing import Any

from ...rdf.namespaces import DEF
from ..app import App, Request
from .layout import Data, ask, entity_path, esc, iri_link, page, url

X0, WIDTH, ROW, TOP = 24.0, 952.0, 40, 56
UNDATED = f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dk: <{DEF}>
SELECT DISTINCT ?event ?label ?relation ?other ?otherLabel WHERE {{
  ?event a dk:Event ; rdfs:label ?label .
  FILTER NOT EXISTS {{ ?event dk:date ?date }}
  OPTIONAL {{
    {{ ?event dk:after ?other . BIND ("after" AS ?relation) }}
    UNION {{ ?event dk:before ?other . BIND ("before" AS ?relation) }}
    UNION {{ ?event dk:anniversaryOf ?other . BIND ("anniversary of" AS ?relation) }}
    ?other rdfs:label ?otherLabel .
  }}
}} ORDER BY ?label"""


def _v(row: dict[str, Any], name: str) -> str | None:
    term = row.get(name)
    return term["value"] if term else None


def period(value: str, precision: str) -> tuple[dt.date, dt.date]:
    """The period a date names, end exclusive: 1855 -> [1855-01-01, 1856-01-01)."""
    if precision == "year":
        y = int(value[:4] if not value.startswith("-") else value[:5])
        return dt.date(y, 1, 1), dt.date(y + 1, 1, 1)
    if precision == "month":
        y, m = int(value[:4]), int(value[5:7])
        return dt.date(y, m, 1), dt.date(y + (m == 12), m % 12 + 1, 1)
    day = dt.date.fromisoformat(value[:10])
    return day, day + dt.timedelta(days=1)


def years(d: dt.date) -> float:
    """A date as a fractional year, day-accurate."""
    start = dt.date(d.year, 1, 1)
    return d.year + (d - start).days / (dt.date(d.year + 1, 1, 1) - start).days


def human(value: str, precision: str) -> str:
    if precision == "day":
        d = dt.date.fromisoformat(value[:10])
        return f"{d.day} {d.strftime('%B')} {d.year}"
    if precision == "month":
        d = dt.date(int(value[:4]), int(value[5:7]), 1)
        return f"{d.strftime('%B')} {d.year}"
    return value


def timeline_data(app: App, req: Request) -> Data:
    rows = app.kg.run_result("timeline", {}, limit=app.settings.max_rows).rows
    events = []
    for row in rows:
        date, precision = row["date"]["value"], _v(row, "precision") or "day"
        if precision == "unknown":
            continue
        start, end = period(date, precision)
        events.append({"event": row["event"]["value"], "label": row["eventLabel"]["value"],
                       "date": date, "precision": precision, "shown": human(date, precision),
                       "kind": _v(row, "kind"), "agreement": _v(row, "agreement"),
                       "agreement_label": _v(row, "agreementLabel"), "place": _v(row, "placeLabel"),
                       "page": entity_path(row["event"]["value"]),
                       "agreement_page": entity_path(_v(row, "agreement") or ""),
                       "period": [start.isoformat(), end.isoformat()]})
    if events:
        first = min(years(dt.date.fromisoformat(e["period"][0])) for e in events)
        last = max(years(dt.date.fromisoformat(e["period"][1])) for e in events)
        t0, t1 = int(first // 10 * 10), int(-(-last // 10) * 10)
    else:
        t0, t1 = 1850, 2030
    span = t1 - t0

    def x(d: str) -> float:
        return round(X0 + (years(dt.date.fromisoformat(d)) - t0) / span * WIDTH, 3)

    for i, e in enumerate(events):
        e["row"] = i
        e["x"] = x(e["period"][0])
        e["x_end"] = x(e["period"][1]) if e["precision"] != "day" else e["x"]
    undated: dict[str, dict[str, Any]] = {}
    for row in ask(app, UNDATED).rows:
        ev = row["event"]["value"]
        entry = undated.setdefault(ev, {"event": ev, "label": row["label"]["value"], "page": entity_path(ev),
                                        "relations": []})
        if _v(row, "other"):
            rel = {"relation": _v(row, "relation"), "other": _v(row, "other"), "label": _v(row, "otherLabel"),
                   "page": entity_path(_v(row, "other") or "")}
            if rel not in entry["relations"]:
                entry["relations"].append(rel)
    return {"scale": {"start": f"{t0:04d}-01-01", "end": f"{t1:04d}-01-01", "x0": X0, "width": WIDTH,
                      "unit": "x = x0 + (fractional year - start year) / (end year - start year) * width"},
            "events": events, "undated": list(undated.values())}


def timeline_svg(app: App, d: Data) -> str:
    t0, t1 = int(d["scale"]["start"][:4]), int(d["scale"]["end"][:4])
    events = d["events"]
    height = TOP + ROW * max(len(events), 1) + 10
    parts = [f'<svg class="timeline" viewBox="0 0 1000 {height}" role="group" aria-labelledby="tl-title tl-desc" '
             f'data-start="{t0}" data-end="{t1}" data-x0="{X0}" data-width="{WIDTH}">',
             '<title id="tl-title">Timeline of dated events, drawn to scale</title>',
             f'<desc id="tl-desc">From {t0} to {t1}. Points are dates known to the day; bands cover a whole '
             'year or month when the source gives only that.</desc>']
    step = 10 if t1 - t0 <= 200 else 50
    for year in range(t0, t1 + 1, step):
        xx = X0 + (year - t0) / (t1 - t0) * WIDTH
        major = year % (step * 2) == 0
        parts.append(f'<line class="grid{" major" if major else ""}" x1="{xx:.3f}" x2="{xx:.3f}" y1="28" '
                     f'y2="{height - 6}"/>')
        if major or t1 - t0 <= 100:
            parts.append(f'<text class="tick" x="{xx:.3f}" y="20" text-anchor="middle" data-year="{year}">'
                         f'{year}</text>')
    parts.append(f'<line class="axis" x1="{X0}" x2="{X0 + WIDTH}" y1="28" y2="28"/>')
    for e in events:
        y = TOP + e["row"] * ROW
        href = e["agreement_page"] or e["page"]
        title = e["agreement_label"] or e["label"]
        note = f"{e['label']}: {e['shown']} (precision: {e['precision']})"
        if e["precision"] == "day":
            mark = (f'<circle class="mark day" cx="{e["x"]}" cy="{y}" r="6" data-date="{esc(e["date"])}" '
                    f'data-precision="day"/>')
            right = e["x"] + 12
        else:
            w = max(e["x_end"] - e["x"], 0.5)
            mark = (f'<rect class="mark {esc(e["precision"])}" x="{e["x"]}" y="{y - 8}" width="{w:.3f}" '
                    f'height="16" rx="1" data-date="{esc(e["date"])}" data-precision="{esc(e["precision"])}"/>')
            right = e["x_end"] + 8
        left_side = e["x"] > X0 + WIDTH * 0.6
        tx, anchor = (e["x"] - 12, "end") if left_side else (right, "start")
        guide = f'<line class="guide" x1="{e["x"]}" x2="{e["x"]}" y1="28" y2="{y}"/>'
        label = f"{title} — {e['shown']}" + (" (year)" if e["precision"] == "year" else "")
        parts.append(f'<a href="{esc(url(app, href or "/"))}" class="event" data-event="{esc(e["event"])}">'
                     f'<title>{esc(note)}</title>{guide}{mark}'
                     f'<text x="{tx:.3f}" y="{y + 5}" text-anchor="{anchor}">{esc(label)}</text></a>')
    parts.append("</svg>")
    return "".join(parts)


def timeline_render(app: App, d: Data) -> str:
    rows = "".join(
        f'<tr><td><time datetime="{esc(e["date"])}">{esc(e["shown"])}</time></td><td>{esc(e["precision"])}</td>'
        f'<td>{iri_link(app, e["event"], e["label"])}</td><td>{esc(e["kind"] or "")}</td>'
        f'<td>{iri_link(app, e["agreement"], e["agreement_label"]) if e["agreement"] else ""}</td>'
        f'<td>{esc(e["place"] or "")}</td></tr>' for e in d["events"])
    undated = "".join(
        f'<li>{iri_link(app, u["event"], u["label"])}'
        + "".join(f' — {esc(r["relation"])} {iri_link(app, r["other"], r["label"])}' for r in u["relations"])
        + "</li>" for u in d["undated"]) or "<li>None.</li>"
    body = f"""
<h1>Timeline</h1>
<p class="lede">Dated events and the agreements they concluded,
{esc(d['scale']['start'][:4])}–{esc(d['scale']['end'][:4])}, drawn to scale. Each links to its page.</p>
<div class="legend"><span><svg width="22" height="14" aria-hidden="true">
<circle class="mark day" cx="11" cy="7" r="5"/></svg> date known to the day</span>
<span><svg width="22" height="14" aria-hidden="true"><rect class="mark year" x="2" y="1" width="18" height="12"/></svg>
only the year is known: the band covers the whole year (to scale)</span></div>
<div class="svg-wrap timeline-wrap" role="region" aria-label="Timeline chart, scrollable"
 tabindex="0">{timeline_svg(app, d)}</div>
<section aria-labelledby="tl-table-h"><h2 id="tl-table-h">The same events as a table</h2>
<div class="table-wrap" role="region" aria-label="Events" tabindex="0"><table><thead><tr><th scope="col">date</th>
<th scope="col">precision</th><th scope="col">event</th><th scope="col">kind</th><th scope="col">agreement</th>
<th scope="col">place</th></tr></thead><tbody>{rows}</tbody></table></div></section>
<section aria-labelledby="undated-h"><h2 id="undated-h">Not drawn: events the sources do not date</h2>
<p class="meta">They are placed only relative to other events, so no position on the axis would be honest.</p>
<ul>{undated}</ul></section>"""
    return page(app, "Timeline", body, current="/timeline", json_href=url(app, "/timeline?_format=json"))
