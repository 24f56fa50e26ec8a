"""Context: whether what Wikidata says around a candidate agrees with what our graph says around the
entity. A name and a type are not enough: an archipelago called Habomai in a lake far away has both.

Our side: the items already linked from the entities near ours in the graph (the states that claim
or hold a territory, its parent, the office a person speaks in, an agreement's parties) and the years
our data gives. Their side: a few direct properties of the candidate, fetched in one query.
Only `agrees` lets a candidate become a link; `conflicts` lowers its score; `unknown` leaves it pending.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..rdf.namespaces import DEF

# Wikidata properties read around a candidate: country, located in, part of, coordinates,
# position held, signatory, point in time, inception, dissolved.
FACTS = ("P17", "P131", "P361", "P625", "P39", "P1891", "P585", "P571", "P576")
NEAR_KM = 1500.0  # a territory's item within this distance of a related item's coordinates is "near"
FAR_KM = 3000.0  # farther than this from every related item's coordinates conflicts

PLACE_CLASSES = {DEF + c for c in ("Territory", "Island", "IslandGroup", "Place", "City")}
PERSON_CLASSES = {DEF + "Person"}
AGREEMENT_CLASSES = {DEF + c for c in ("Agreement", "Treaty", "PeaceTreaty", "JointDeclaration")}
STATE_CLASSES = {DEF + "State"}
OFFICE_CLASSES = {DEF + "Office"}


@dataclass
class Surroundings:
    """What our graph says near one entity: linked items of related entities, and years."""

    related_items: set[str] = field(default_factory=set)  # wd: IRIs
    related_points: list[tuple[float, float]] = field(default_factory=list)  # (lon, lat)
    years: set[str] = field(default_factory=set)
    inception: str | None = None
    dissolution: str | None = None


@dataclass
class Verdict:
    state: str  # "agrees", "conflicts", "unknown"
    reasons: list[str]

    @property
    def text(self) -> str:
        return f"context {self.state}" + (f" ({'; '.join(self.reasons)})" if self.reasons else "")


def parse_point(wkt: str) -> tuple[float, float] | None:
    """`Point(lon lat)` as Wikidata writes P625; anything else is None."""
    text = wkt.strip()
    if text.startswith("<"):  # an optional CRS IRI before the point
        text = text.split(">", 1)[-1].strip()
    if not text.lower().startswith("point(") or not text.endswith(")"):
        return None
    parts = text[6:-1].split()
    if len(parts) != 2:
        return None
    try:
        lon, lat = float(parts[0]), float(parts[1])
    except ValueError:
        return None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return lon, lat


def km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(h)))


def year(value: str | None) -> str | None:
    if not value:
        return None
    v = value.lstrip("+")
    return v[:4] if len(v) >= 4 and v[:4].isdigit() else None


def judge(classes: list[str], ours: Surroundings, facts: dict[str, list[str]]) -> Verdict:
    """The context verdict for one candidate, from its facts (property id -> values)."""
    kinds = set(classes)
    agree: list[str] = []
    conflict: list[str] = []
    linked = ours.related_items
    if kinds & PLACE_CLASSES:
        for pid, what in (("P17", "country"), ("P131", "located in"), ("P361", "part of")):
            values = set(facts.get(pid, []))
            hit = values & linked
            if hit:
                agree.append(f"{what} {', '.join(sorted(v.rsplit('/', 1)[-1] for v in hit))} is linked from our graph")
            elif values and pid == "P17" and linked:
                conflict.append(f"country {', '.join(sorted(v.rsplit('/', 1)[-1] for v in values))} is none of the "
                                "states our graph relates to it")
        points = [p for p in (parse_point(v) for v in facts.get("P625", [])) if p]
        if points and ours.related_points:
            nearest = min(km(p, q) for p in points for q in ours.related_points)
            if nearest <= NEAR_KM:
                agree.append(f"coordinates {nearest:.0f} km from a related item")
            elif nearest > FAR_KM:
                conflict.append(f"coordinates {nearest:.0f} km from every related item")
    if kinds & PERSON_CLASSES:
        hit = set(facts.get("P39", [])) & linked
        if hit:
            agree.append("holds a position linked from our graph")
    if kinds & (AGREEMENT_CLASSES | OFFICE_CLASSES):
        hit = (set(facts.get("P1891", [])) | set(facts.get("P17", []))) & linked
        if hit:
            agree.append("a party or country linked from our graph")
    if kinds & AGREEMENT_CLASSES:
        theirs = {y for pid in ("P585", "P571") for y in map(year, facts.get(pid, [])) if y}
        if theirs and ours.years:
            if theirs & ours.years:
                agree.append(f"year {', '.join(sorted(theirs & ours.years))} agrees")
            else:
                conflict.append(f"year {', '.join(sorted(theirs))} is not ours ({', '.join(sorted(ours.years))})")
    if kinds & STATE_CLASSES:
        ours_in, ours_out = year(ours.inception), year(ours.dissolution)
        theirs_in = next((y for y in map(year, facts.get("P571", [])) if y), None)
        theirs_out = next((y for y in map(year, facts.get("P576", [])) if y), None)
        if ours_out and theirs_out:
            (agree if ours_out == theirs_out else conflict).append(f"dissolved {theirs_out} (ours {ours_out})")
        elif theirs_out and not ours_out:
            conflict.append(f"dissolved {theirs_out}; ours is not dissolved")
        elif ours_out and not theirs_out:
            conflict.append(f"not dissolved; ours was in {ours_out}")
        else:
            agree.append("neither is dissolved")
        if ours_in and theirs_in:
            (agree if ours_in == theirs_in else conflict).append(f"inception {theirs_in} (ours {ours_in})")
    if conflict:
        return Verdict("conflicts", conflict + agree)
    if agree:
        return Verdict("agrees", agree)
    return Verdict("unknown", ["nothing around the item confirms it"])
