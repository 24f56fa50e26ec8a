"""Dates in a report, at the precision the text gives, and relative dates resolved against publication.

Spans of tokens are found by spaCy `Matcher` patterns in `rules`; this module turns their words into an
xsd value. "on Monday" is the last Monday on or before the publication date; "last year" the year
before it. A resolved date says how it was resolved, so the reviewer sees it was not read literally.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .lexicon import MONTHS, WEEKDAYS


@dataclass(frozen=True)
class DateValue:
    value: str  # lexical form
    datatype: str  # date, gYearMonth, gYear
    resolved_from: str = ""  # the relative words, when the date was computed from the publication date

    def as_field(self) -> dict[str, str]:
        return {"value": self.value, "datatype": self.datatype}


def parse(words: list[str], published: dt.date | None) -> DateValue | None:
    w = [x.lower().strip(".,") for x in words if x.strip(".,")]
    if not w:
        return None
    if len(w) == 1 and w[0].isdigit() and len(w[0]) == 4:
        return DateValue(w[0], "gYear")
    if published is not None:
        if w[0] in WEEKDAYS and len(w) == 1:
            back = (published.weekday() - WEEKDAYS[w[0]]) % 7
            return DateValue((published - dt.timedelta(days=back)).isoformat(), "date", " ".join(words))
        if w == ["last", "year"]:
            return DateValue(str(published.year - 1), "gYear", " ".join(words))
        if w == ["this", "year"]:
            return DateValue(str(published.year), "gYear", " ".join(words))
        if w in (["yesterday"],):
            return DateValue((published - dt.timedelta(days=1)).isoformat(), "date", " ".join(words))
        if w in (["today"],):
            return DateValue(published.isoformat(), "date", " ".join(words))
        if len(w) == 2 and w[0] == "last" and w[1] in MONTHS:
            m = MONTHS[w[1]]
            year = published.year if m < published.month else published.year - 1
            return DateValue(f"{year}-{m:02d}", "gYearMonth", " ".join(words))
    nums = [x for x in w if x.isdigit()]
    months = [MONTHS[x] for x in w if x in MONTHS]
    years = [int(x) for x in nums if len(x) == 4]
    days = [int(x) for x in nums if len(x) <= 2]
    if months and years:
        if days and 1 <= days[0] <= 31:
            try:
                return DateValue(dt.date(years[0], months[0], days[0]).isoformat(), "date")
            except ValueError:
                return None
        return DateValue(f"{years[0]}-{months[0]:02d}", "gYearMonth")
    if months and days and published is not None and not years:
        # "on October 12" in a report: the last such day on or before publication
        try:
            d = dt.date(published.year, months[0], days[0])
        except ValueError:
            return None
        if d > published:
            d = d.replace(year=published.year - 1)
        return DateValue(d.isoformat(), "date", " ".join(words))
    if years:
        return DateValue(str(years[0]), "gYear")
    return None
