"""Names compared the way a curator would: case, diacritics and generic suffixes ("Island",
"Islands", "Oblast", "Prefecture", ...) set aside, in every language our data and the item give.

Two uses: `variants()` widens the exact-literal lookup sent to an endpoint (an index lookup on the
Wikidata Query Service, unlike a FILTER over every label), and `similarity()` scores what came back
with rapidfuzz, so "Moneron" meets "Moneron Island" and "Tyuleniy" meets "tyuleniy".
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz

# Generic words a place name carries in one source and not in another. Removed only at the ends.
GENERIC_SUFFIXES = ("islands", "island", "isles", "isle", "archipelago", "oblast", "prefecture", "krai",
                    "province", "village", "city", "town", "остров", "острова", "область", "島", "諸島", "県")
GENERIC_PREFIXES = ("island of", "isle of", "the")
# Words an exact-literal lookup adds to a name, so a same-name island, oblast or prefecture is found and
# then judged by its type (the lookup cannot be fuzzy: it must stay an index lookup on a large endpoint).
LOOKUP_SUFFIXES = ("Island", "Islands", "Oblast", "Prefecture")
# rapidfuzz ratio (folded names, generic words set aside) at which two names agree: "Kunashir" and
# "Kunashiri" (94) do, "Shikotan" and "Shakotan" (88) do not.
NAME_AGREES = 90.0
# Languages an exact-literal lookup is sent in besides the languages of our own names.
LOOKUP_LANGUAGES = ("en", "ja", "ru")


def fold(text: str) -> str:
    """Lower case, no diacritics, single spaces, no punctuation at the ends."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    bare = unicodedata.normalize("NFKC", bare).casefold()
    bare = " ".join(bare.replace("-", " ").replace("'", " ").split())
    return bare.strip(".,;:()[]\"")


def core(text: str) -> str:
    """The folded name without generic prefixes and suffixes ("Moneron Island" -> "moneron")."""
    name = fold(text)
    changed = True
    while changed:
        changed = False
        for suffix in GENERIC_SUFFIXES:
            if name.endswith(suffix) and len(name) > len(suffix):
                name = name[: -len(suffix)].rstrip()
                changed = True
        for prefix in GENERIC_PREFIXES:
            if name.startswith(prefix + " ") and len(name) > len(prefix) + 1:
                name = name[len(prefix) + 1:]
                changed = True
    return name or fold(text)


@dataclass(frozen=True)
class Name:
    """One name with its language tag ("" for none)."""

    text: str
    lang: str = ""


def variants(names: Iterable[Name]) -> list[Name]:
    """Spellings worth an exact-literal lookup: as given, title-cased, lower-cased, without "Island(s)"
    and with each of LOOKUP_SUFFIXES, in our languages and LOOKUP_LANGUAGES. Sorted, without repeats."""
    names = list(names)
    langs = sorted({n.lang for n in names if n.lang} | set(LOOKUP_LANGUAGES))
    spellings: set[str] = set()
    for n in names:
        base = n.text.strip()
        if not base:
            continue
        stem = base
        for suffix in (" Islands", " Island", " islands", " island"):
            if stem.endswith(suffix):
                stem = stem[: -len(suffix)]
        spellings.add(n.text)  # exactly as our data spells it, spaces and all
        for form in (base, stem, *(f"{stem} {word}" for word in LOOKUP_SUFFIXES)):
            spellings |= {form, form.lower(), form.title(), form[:1].upper() + form[1:]}
    return sorted({Name(s, lang) for s in spellings for lang in langs},
                  key=lambda n: (n.text, n.lang))


def similarity(ours: Iterable[str], theirs: Iterable[str]) -> tuple[float, str, str]:
    """The best (score 0-100, our name, their name) over every pair; 100 when the cores agree.

    rapidfuzz's ratio on the folded names, and on their cores (generic words removed); the better
    of the two counts, so "Moneron" vs "Moneron Island" is 100 and "Shikotan" vs "Shakotan" is not.
    """
    best = (0.0, "", "")
    for a in ours:
        fa, ca = fold(a), core(a)
        for b in theirs:
            fb, cb = fold(b), core(b)
            score = max(fuzz.ratio(fa, fb), fuzz.ratio(ca, cb))
            if score > best[0]:
                best = (float(score), a, b)
    return best
