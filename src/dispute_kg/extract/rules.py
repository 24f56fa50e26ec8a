"""The rules: spaCy's rule-based pipeline over one source text, proposing candidates.

Mentions come first (known names from the gazetteer through `PhraseMatcher`; new things from the
shape of the text: a title before a name, names before an island head noun, a capitalised name ending
in an agreement head noun, a nationality before "government"). Statements, positions, claims and events
are then read off the sentences, using the mentions as their arguments. Every rule has a name and a
confidence, and every span is a character range of the stored text, so its quote is `text[start:end]`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from spacy.language import Language
from spacy.matcher import Matcher, PhraseMatcher
from spacy.tokens import Doc, Span

from ..rdf.namespaces import ID
from . import dates
from .candidates import Candidate
from .gazetteer import Entry, Gazetteer
from .lexicon import (
    AGREEMENT_HEADS,
    ASSESSING_GROUPS,
    DEMONYMS,
    GIVE_UP,
    GROUP_NOUNS,
    ISLAND_HEADS,
    LIST_GLUE,
    MODAL_INTENTION,
    MODAL_NECESSITY,
    NEGATIONS,
    SPEECH_VERBS,
    STANCE_NOUNS,
    STANCE_VERBS,
    STATES,
    TITLES,
)

ACTOR_GROUPS = {"State", "Government", "Person", "Group", "Organisation"}
PATHS = {"State": "state", "Government": "government", "Person": "person", "Group": "group", "Office": "office",
         "Territory": "territory", "Place": "place", "Agreement": "agreement", "Organisation": "organisation",
         "Issue": "issue", "Event": "event"}
GROUP_OF = {"Island": "Territory", "IslandGroup": "Territory", "Territory": "Territory", "City": "Place",
            "Place": "Place", "Treaty": "Agreement", "PeaceTreaty": "Agreement", "JointDeclaration": "Agreement",
            "Agreement": "Agreement", "State": "State", "Government": "Government", "Person": "Person",
            "Group": "Group", "Office": "Office", "Organisation": "Organisation", "War": "Event"}
DIRECTIONS = {"northern", "southern", "eastern", "western", "north", "south", "east", "west", "central"}
TERRITORY_CUES = [("return", "of"), ("returning",), ("transfer", "of"), ("transferring",), ("sovereignty", "over"),
                  ("control", "of"), ("claims", "to"), ("claim", "to"), ("annexation", "of"), ("annexed",),
                  ("occupation", "of"), ("occupied",), ("ownership", "of"), ("handover", "of")]
CLAUSE_BREAKS = {"while", "whereas", "but", ";", "although", "since", "because"}
UNDISPUTED = {"undisputed", "indisputable", "unquestionable", "inherent", "integral", "inalienable",
              "not", "undeniable"}


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "x"


@dataclass
class Mention:
    start: int  # token indices
    end: int
    cstart: int  # character offsets
    cend: int
    text: str
    iri: str
    type: str
    group: str
    known: bool
    rule: str
    confidence: float
    wikidata: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


def build_nlp(gaz: Gazetteer) -> tuple[Language, PhraseMatcher, PhraseMatcher, PhraseMatcher, Matcher]:
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("paragraph_breaks")
    exact = PhraseMatcher(nlp.vocab, attr="ORTH")
    lower = PhraseMatcher(nlp.vocab, attr="LOWER")
    for name, iri in gaz.phrases():
        matcher = lower if name == name.lower() else exact
        matcher.add(iri, [nlp.make_doc(name)])
    titles = PhraseMatcher(nlp.vocab, attr="LOWER")
    titles.add("TITLE", [nlp.make_doc(t) for t in TITLES])
    titles.add("STATE", [nlp.make_doc(t) for t in STATES])
    dm = Matcher(nlp.vocab)
    month = {"LOWER": {"IN": ["january", "february", "march", "april", "may", "june", "july", "august",
                              "september", "october", "november", "december", "jan", "feb", "mar", "apr", "jun",
                              "jul", "aug", "sep", "sept", "oct", "nov", "dec"]}}
    year = {"SHAPE": "dddd"}
    day = {"SHAPE": {"IN": ["d", "dd"]}}
    dm.add("DATE", [[month, day, {"ORTH": ","}, year], [month, day, year], [day, month, year], [month, year],
                    [{"LOWER": {"IN": ["in", "since", "until", "by", "of"]}}, year],
                    [{"LOWER": "on"}, {"LOWER": {"IN": ["monday", "tuesday", "wednesday", "thursday", "friday",
                                                       "saturday", "sunday"]}}],
                    [{"LOWER": {"IN": ["last", "this"]}}, {"LOWER": "year"}],
                    [{"LOWER": {"IN": ["yesterday", "today"]}}],
                    [{"LOWER": "on"}, month, day]])
    return nlp, exact, lower, titles, dm


@Language.component("paragraph_breaks")
def paragraph_breaks(doc: Doc) -> Doc:
    """A line break ends a sentence: headlines and datelines carry no full stop."""
    for i, tok in enumerate(doc[:-1]):
        if "\n" in tok.text_with_ws:
            doc[i + 1].is_sent_start = True
    return doc


class Extraction:
    def __init__(self, nlp: tuple, gaz: Gazetteer, text: str, stem: str, published: dt.date | None) -> None:
        self.nlp, self.exact, self.lower, self.titles, self.datem = nlp
        self.gaz, self.text, self.stem, self.published = gaz, text, stem, published
        self.doc: Doc = self.nlp(text)
        self.low = [t.lower_ for t in self.doc]  # plain strings: slicing a list is far cheaper than a Doc
        self.mentions: list[Mention] = []
        self.candidates: list[Candidate] = []
        self.entities: dict[str, Candidate] = {}  # new entity IRI -> its candidate
        self.events: dict[str, Candidate] = {}
        self.quotes = self._quotes()

    # -- helpers -----------------------------------------------------------------------------------
    def span(self, start: int, end: int) -> Span:
        return self.doc[start:end]

    def chars(self, start: int, end: int) -> tuple[int, int]:
        sp = self.doc[start:end]
        return sp.start_char, sp.end_char

    def _quotes(self) -> list[tuple[int, int]]:
        """Character ranges inside paired quotation marks, paragraph by paragraph."""
        out: list[tuple[int, int]] = []
        pos = 0
        for para in self.text.split("\n"):
            opened = None
            for i, ch in enumerate(para):
                if ch in "\"“”":
                    if opened is None and ch != "”":
                        opened = i
                    elif opened is not None and ch != "“":
                        out.append((pos + opened + 1, pos + i))
                        opened = None
            pos += len(para) + 1
        return out

    def in_quote(self, cstart: int, cend: int) -> tuple[int, int] | None:
        for q in self.quotes:
            if q[0] <= cstart and cend <= q[1]:
                return q
        return None

    def mention_at(self, tok: int) -> Mention | None:
        for m in self.mentions:
            if m.start <= tok < m.end:
                return m
        return None

    def mentions_in(self, start: int, end: int, groups: set[str] | None = None) -> list[Mention]:
        return [m for m in self.mentions if start <= m.start and m.end <= end and (groups is None or m.group in groups)]

    # -- mentions ----------------------------------------------------------------------------------
    def find_mentions(self) -> None:
        doc = self.doc
        found: list[Mention] = []
        for matcher in (self.exact, self.lower):
            for match_id, s, e in matcher(doc):
                iri = self.nlp.vocab.strings[match_id]
                entry = self.gaz.entries[iri]
                found.append(self._from_entry(entry, s, e, "gazetteer.label", 0.95 if entry.known else 0.85))
        found += self._titled_people()
        found += self._state_names()
        found += self._island_names()
        found += self._islands_of()
        found += self._agreement_names()
        found += self._governments()
        found += self._groups()
        found += self._territory_by_context(found)
        found += self._acronyms(found)
        # a headline's capitals say nothing about names: only the graph's names are found there
        found = [m for m in found if m.rule.startswith("gazetteer") or not self._headline(m.start)]
        self.mentions = _resolve_overlaps(found)
        self._surnames()
        self._place_by_context()
        self.mentions.sort(key=lambda m: m.start)

    def _from_entry(self, entry: Entry, s: int, e: int, rule: str, conf: float) -> Mention:
        cs, ce = self.chars(s, e)
        return Mention(s, e, cs, ce, self.text[cs:ce], entry.iri, entry.kind, entry.group, entry.known, rule, conf,
                       entry.wikidata)

    def _new(self, s: int, e: int, kind: str, rule: str, conf: float, label: str | None = None,
             **extra: Any) -> Mention:
        cs, ce = self.chars(s, e)
        surface = self.text[cs:ce]
        label = label or surface
        known = [x for x in self.gaz.by_name(label) if x.group == GROUP_OF.get(kind, kind) or not x.group]
        if known:
            return self._from_entry(known[0], s, e, rule, conf)
        iri = f"{ID}{PATHS[GROUP_OF.get(kind, kind)]}/{slug(label)}"
        return Mention(s, e, cs, ce, surface, iri, kind, GROUP_OF.get(kind, kind), False, rule, conf,
                       extra={"label": label, **extra})

    def _state_names(self) -> list[Mention]:
        out = []
        for match_id, s, e in self.titles(self.doc):
            if self.nlp.vocab.strings[match_id] != "STATE" or self._headline(s):
                continue
            if self.doc[s:e].text in STATES:  # as written: "Chad" the state, not "chad"
                out.append(self._new(s, e, "State", "state.name-of-a-state", 0.8))
        return out

    def _titled_people(self) -> list[Mention]:
        out = []
        for match_id, s, e in self.titles(self.doc):
            if self.nlp.vocab.strings[match_id] != "TITLE":
                continue
            j = e
            while j < len(self.doc) and j - e < 3 and self.doc[j].is_title and self.doc[j].lower_ not in SPEECH_VERBS:
                j += 1
            if j == e:
                continue
            title = self.doc[s:e].text
            office = [x for x in self.gaz.by_name(title) if x.group in ("Office", "")]
            om = (self._from_entry(office[0], s, e, "office.title-before-name", 0.85) if office
                  else self._new(s, e, "Office", "office.title-before-name", 0.8, label=title))
            if om.group == "":
                om.type, om.group = "Office", "Office"
                om.iri = f"{ID}office/{slug(title)}" if not om.known else om.iri
                om.known = False
                om.extra = {"label": title}
            out.append(om)
            person = self._new(e, j, "Person", "person.title-before-name", 0.9, office=om.iri)
            out.append(person)
        return out

    def _island_names(self) -> list[Mention]:
        out = []
        doc = self.doc
        for i, tok in enumerate(doc):
            head = ISLAND_HEADS.get(tok.lower_)
            if not head or (tok.lower_ == "chain" and (i == 0 or doc[i - 1].lower_ != "islands")):
                continue
            if tok.lower_ == "chain":
                continue
            # walk back over capitalised names joined by commas and "and"
            names: list[tuple[int, int]] = []
            j = i - 1
            end = i
            while j >= 0 and (doc[j].is_title or doc[j].lower_ in LIST_GLUE) and not doc[j].is_sent_start:
                if doc[j].lower_ in LIST_GLUE:
                    if end > j + 1:
                        names.append((j + 1, end))
                    end = j
                j -= 1
            if j >= 0 and doc[j].is_title and doc[j].is_sent_start:
                j -= 1
            if end > j + 1:
                names.append((j + 1, end))
            names = [(s, e) for s, e in names if all(doc[k].is_title for k in range(s, e))
                     and doc[s].lower_ not in DIRECTIONS and doc[s].lower_ != "the"]
            if not names:
                continue
            stop = i + 1 + (1 if i + 1 < len(doc) and doc[i + 1].lower_ == "chain" else 0)
            if tok.is_title and len(names) == 1 and names[0][1] == i:
                s = names[0][0]
                out.append(self._new(s, stop, head, "territory.name-island-head", 0.9))
            else:
                for s, e in names:
                    kind = "Island" if len(names) > 1 else head
                    out.append(self._new(s, e, kind, "territory.names-before-island-head", 0.85))
        return out

    def _islands_of(self) -> list[Mention]:
        """"the islands of Iturup, Kunashir, Shikotan and the Habomai group": the head comes first."""
        out = []
        doc = self.doc
        for i in range(len(doc) - 2):
            if self.low[i] not in ("islands", "island", "isles") or self.low[i + 1] != "of":
                continue
            j = i + 2
            names = 0
            while j < len(doc):
                if self.low[j] in LIST_GLUE:
                    j += 1
                    continue
                if not doc[j].is_title or self.low[j] in DIRECTIONS:
                    break
                e = j
                while e < len(doc) and doc[e].is_title:
                    e += 1
                group = e < len(doc) and self.low[e] in ("group", "islands", "archipelago")
                kind = "IslandGroup" if group else "Island"
                out.append(self._new(j, e + (1 if group else 0), kind, "territory.names-after-islands-of", 0.8,
                                     label=doc[j:e].text))
                names += 1
                j = e + (1 if group else 0)
            if names == 0:
                continue
        return out

    def _agreement_names(self) -> list[Mention]:
        out = []
        doc = self.doc
        for i, tok in enumerate(doc):
            kind = AGREEMENT_HEADS.get(tok.lower_)
            if not kind:
                continue
            j = i
            if tok.is_title and self._headline(i):
                continue
            if tok.is_title:  # "Soviet-Japanese Joint Declaration", "Treaty of Shimoda"
                while j > 0 and (doc[j - 1].is_title or doc[j - 1].text == "-" or doc[j - 1].shape_ == "dddd") \
                        and not (doc[j - 1].is_sent_start and doc[j - 1].lower_ in ("the", "in")):
                    j -= 1
                    if doc[j].shape_ == "dddd":
                        break
                e = i + 1
                if e + 1 < len(doc) and doc[e].lower_ == "of" and doc[e + 1].is_title:
                    e += 2
                if j == i and e == i + 1:
                    continue
                if doc[j].lower_ == "the":
                    j += 1
                kind = "JointDeclaration" if doc[i - 1].lower_ == "joint" and kind == "JointDeclaration" else (
                    "Treaty" if kind == "JointDeclaration" else kind)
                out.append(self._agreement(j, e, kind, "agreement.capitalised-name", 0.9))
                continue
            # lower case: "peace treaty", "the 1855 bilateral treaty on trade and borders",
            # "agreements reached in Singapore in 2018", "a joint declaration"
            if tok.lower_ == "treaty" and i > 0 and doc[i - 1].lower_ == "peace":
                s = i - 1
                if s >= 3 and doc[s - 1].text == "-" and doc[s - 2].lower_ == "post":
                    s -= 3
                out.append(self._agreement(s, i + 1, "PeaceTreaty", "agreement.peace-treaty", 0.85,
                                           label="peace treaty"))
                continue
            if tok.lower_ in ("treaty", "treaties") and i + 2 < len(doc) and doc[i + 1].lower_ in ("on", "of"):
                e = i + 2
                while e < len(doc) and (doc[e].is_alpha and doc[e].lower_ not in ("in", "with", "which", "that")):
                    e += 1
                s = i
                while s > 0 and (doc[s - 1].shape_ == "dddd" or doc[s - 1].lower_ in
                                 ("bilateral", "border", "boundary", "trilateral", "multilateral")):
                    s -= 1
                out.append(self._agreement(s, e, "Treaty", "agreement.treaty-on-subject", 0.8))
                continue
            if tok.lower_ == "declaration" and i > 0 and doc[i - 1].lower_ == "joint":
                out.append(self._agreement(i - 1, i + 1, "JointDeclaration", "agreement.joint-declaration", 0.7,
                                           corefer=True))
                continue
            if tok.lower_ in ("agreements", "agreement", "accords") and i + 1 < len(doc) \
                    and doc[i + 1].lower_ in ("reached", "signed", "concluded"):
                e = i + 2
                place = when = None
                while e + 1 < len(doc) and doc[e].lower_ == "in":
                    if doc[e + 1].shape_ == "dddd":
                        when = doc[e + 1].text
                    elif doc[e + 1].is_title:
                        place = e + 1
                    else:
                        break
                    e += 2
                if place is None and when is None:
                    continue
                label = doc[i:e].text
                out.append(self._agreement(i, e, "Agreement", "agreement.reached-in", 0.75, label=label,
                                           year=when, place_tok=place))
        return out

    def _headline(self, i: int) -> bool:
        """A line in title case (the headline): its capitals say nothing about names."""
        start = self.text.rfind("\n", 0, self.doc[i].idx) + 1
        end = self.text.find("\n", self.doc[i].idx)
        words = [w for w in self.text[start:end if end >= 0 else None].split() if w[:1].isalpha()]
        return len(words) >= 4 and sum(w[0].isupper() for w in words) >= 0.8 * len(words)

    def _agreement(self, s: int, e: int, kind: str, rule: str, conf: float, label: str | None = None,
                   **extra: Any) -> Mention:
        m = self._new(s, e, kind, rule, conf, label=label, **extra)
        year = next((t.text for t in self.doc[s:e] if t.shape_ == "dddd"), None)
        if year and "year" not in m.extra:
            m.extra["year"] = year
        return m

    def _governments(self) -> list[Mention]:
        out = []
        doc = self.doc
        for i, tok in enumerate(doc):
            if tok.lower_ not in ("government", "cabinet", "administration") or i == 0:
                continue
            state_name = DEMONYMS.get(doc[i - 1].lower_)
            if not state_name:
                continue
            s = i - 1
            states = [x for x in self.gaz.by_name(state_name) if x.group == "State"]
            state_iri = states[0].iri if states and states[0].known else f"{ID}state/{slug(state_name)}"
            m = self._new(s, i + 1, "Government", "government.nationality-government", 0.85,
                          label=f"{doc[i - 1].text} {tok.lower_}", state=state_iri, state_name=state_name)
            out.append(m)
        return out

    def _groups(self) -> list[Mention]:
        out = []
        for i, tok in enumerate(self.doc):
            if tok.lower_ in GROUP_NOUNS and i + 1 < len(self.doc) and (
                    self.doc[i + 1].lower_ in STANCE_VERBS or self.doc[i + 1].lower_ in SPEECH_VERBS):
                out.append(self._new(i, i + 1, "Group", "group.plural-noun-subject", 0.8, label=tok.lower_))
        return out

    def _territory_by_context(self, found: list[Mention]) -> list[Mention]:
        out = []
        doc = self.doc
        for i in range(len(doc)):
            # "lays claim to the Falkland Islands ... and to South Georgia": a second object of the claim
            sent = doc[i].sent
            claimed = any(self.low[k] in ("claim", "claims") for k in range(sent.start, i))
            for cue in [*TERRITORY_CUES, *([("and", "to")] if claimed else [])]:
                n = len(cue)
                if tuple(self.low[i:i + n]) != cue:
                    continue
                j = i + n
                if j < len(doc) and doc[j].lower_ == "the":
                    j += 1
                e = j
                while e < len(doc) and doc[e].is_title and doc[e].lower_ not in DEMONYMS:
                    e += 1
                if e > j and (doc[j].lower_ not in DIRECTIONS or e - j > 1):  # "South Georgia", not "Northern"
                    out.append(self._new(j, e, "Territory", "territory.object-of-transfer-or-sovereignty", 0.7))
        return out

    def _acronyms(self, found: list[Mention]) -> list[Mention]:
        taken = {k for m in found for k in range(m.start, m.end)}
        out = []
        for i, tok in enumerate(self.doc):
            if (tok.is_upper and tok.is_alpha and 2 <= len(tok.text) <= 6 and i not in taken and i > 0
                    and self.doc[i - 1].lower_ == "the" and not self.gaz.by_name(tok.text)):
                out.append(self._new(i, i + 1, "State", "state.acronym-after-the", 0.5))
        return out

    def _surnames(self) -> None:
        people = [m for m in self.mentions if m.group == "Person" and len(m.text.split()) > 1]
        taken = {k for m in self.mentions for k in range(m.start, m.end)}
        for p in people:
            parts = set(p.text.split())  # family name first or last: "Li Ming", "Hirokazu Matsuno"
            for i, tok in enumerate(self.doc):
                nxt = self.low[i + 1] if i + 1 < len(self.doc) else ""
                if tok.text in parts and i not in taken and (nxt in SPEECH_VERBS or nxt in STANCE_VERBS):
                    cs, ce = self.chars(i, i + 1)
                    self.mentions.append(Mention(i, i + 1, cs, ce, tok.text, p.iri, p.type, p.group, p.known,
                                                 "person.surname-of-earlier-name", 0.85, p.wikidata,
                                                 {"alias_of": p.iri}))
                    taken.add(i)

    def _place_by_context(self) -> None:
        for m in self.mentions:
            if not m.group and m.start > 0 and self.doc[m.start - 1].lower_ in ("in", "at", "from", "to"):
                m.type, m.group = "City", "Place"

    # -- entity candidates -------------------------------------------------------------------------
    def entity_candidates(self) -> None:
        for m in self.mentions:
            if m.known or (not m.group and not m.wikidata):
                if m.known:
                    self.candidates.append(Candidate("mention", m.iri, "", {}, [(m.cstart, m.cend)], m.rule,
                                                     m.confidence))
                continue
            if not m.group:
                continue  # a Wikidata item of unknown kind, in no role: nothing to propose
            if m.wikidata and m.iri.startswith("http://www.wikidata.org/"):
                label = m.text if not m.text.isupper() else m.text.title()
                m.extra.setdefault("label", label)
                m.iri = f"{ID}{PATHS[m.group]}/{slug(m.extra['label'])}"
            if m.group == "Agreement":
                m.iri = self._corefer_agreement(m)
            if m.iri in self.entities:
                self.entities[m.iri].spans.append((m.cstart, m.cend))
                continue
            fields: dict[str, list[dict[str, Any]]] = {"label": [{"text": m.extra.get("label", m.text), "lang": "en"}]}
            if m.group == "Government":
                fields["governmentOf"] = [{"iri": m.extra["state"]}]
                self._ensure_state(m.extra["state"], m.extra["state_name"])
            if m.group == "Agreement":
                fields["agreementStatus"] = [{"iri": _dk("Concluded")}]
            c = Candidate("entity", m.iri, m.type, fields, [(m.cstart, m.cend)], m.rule, m.confidence)
            if m.wikidata:
                c.notes.append(f"reconcile: Wikidata {m.wikidata} has this label (pending, not linked)")
            self.entities[m.iri] = c
            self.candidates.append(c)

    def _corefer_agreement(self, m: Mention) -> str:
        def words(label: str) -> set[str]:
            return {w for w in re.split(r"[^a-z]+", label.lower()) if w and w not in ("the", "a")}

        mine = words(m.extra.get("label", m.text))
        for iri, c in self.entities.items():
            if c.type in ("Agreement", "Treaty", "PeaceTreaty", "JointDeclaration") and iri != m.iri:
                theirs = words(c.label)
                if mine == theirs or ((m.rule == "agreement.joint-declaration" or len(mine) <= 2) and mine < theirs):
                    return iri
        return m.iri

    def _ensure_state(self, iri: str, name: str) -> None:
        if any(e.iri == iri for e in self.gaz.entries.values()) or iri in self.entities:
            return
        wd = [x for x in self.gaz.by_name(name) if not x.known]
        if wd and any(m.iri == iri for m in self.mentions):
            return
        # the state is named only through its adjective: propose it, cited by the adjective's span
        for m in self.mentions:
            if m.extra.get("state") == iri:
                s, e = m.start, m.start + 1
                cs, ce = self.chars(s, e)
                c = Candidate("entity", iri, "State", {"label": [{"text": name, "lang": "en"}]}, [(cs, ce)],
                              "state.from-nationality-adjective", 0.6)
                self.entities[iri] = c
                self.candidates.append(c)
                return

    def node_of(self, m: Mention) -> str:
        """The IRI a mention stands for in the draft: our entity, or the new entity proposed for it."""
        if m.iri.startswith("http://www.wikidata.org/"):
            return f"{ID}{PATHS.get(m.group, 'thing')}/{slug(m.extra.get('label', m.text))}"
        return m.iri

    def state_of(self, m: Mention) -> str:
        if m.group == "Government":
            return m.extra.get("state") or self.gaz.government_of.get(m.iri, self.node_of(m))
        return self.node_of(m)

    # -- dates -------------------------------------------------------------------------------------
    def dates_in(self, start: int, end: int) -> list[tuple[int, int, dates.DateValue]]:
        out = []
        for _, s, e in self.datem(self.doc[start:end]):
            words = [t.text for t in self.doc[start + s:start + e] if t.lower_ not in ("in", "on", "since", "until",
                                                                                       "by", "of")]
            value = dates.parse(words, self.published)
            if value:
                out.append((start + s, start + e, value))
        # the longest match at each place ("October 19, 1956", not "1956")
        out.sort(key=lambda x: (-(x[1] - x[0]), x[0]))
        kept: list[tuple[int, int, dates.DateValue]] = []
        for d in out:
            if not any(k[0] < d[1] and d[0] < k[1] for k in kept):
                kept.append(d)
        return sorted(kept, key=lambda x: x[0])

    # -- statements --------------------------------------------------------------------------------
    def statements(self) -> None:
        doc = self.doc
        last_person: Mention | None = None
        last_date: dict[str, dates.DateValue] = {}
        done_quotes: set[tuple[int, int]] = set()
        for sent in doc.sents:
            toks = list(range(sent.start, sent.end))
            persons = [m for m in self.mentions_in(sent.start, sent.end, {"Person"})
                       if not self.in_quote(m.cstart, m.cend)]
            if self._headline(sent.start):
                continue
            speech = [i for i in toks
                      if doc[i].lower_ in SPEECH_VERBS and not self.in_quote(doc[i].idx, doc[i].idx + 1)]
            for v in speech:
                speaker, attr_start = self._speaker_near(v, sent, last_person)
                if speaker is None:
                    continue
                quote_range = None
                mode = "ReportedSpeech"
                # a quotation ending just before the attribution: direct speech
                before = [q for q in self.quotes if q[1] <= doc[attr_start].idx and q[1] >= doc[attr_start].idx - 4
                          and len(self.text[q[0]:q[1]].split()) >= 6]
                if before:
                    quote_range, mode = before[-1], "DirectQuote"
                    attr = (doc[attr_start].idx, self._clause_end(v, sent))
                elif v + 1 < sent.end and doc[v + 1].lower_ == "that":  # "He stressed that ..."
                    qs = doc[v + 2].idx if v + 2 < sent.end else None
                    if qs is None:
                        continue
                    quote_range = (qs, self._sent_end_char(sent))
                    attr = (doc[attr_start].idx, doc[v + 1].idx + len(doc[v + 1].text))
                elif attr_start > sent.start and doc[attr_start - 1].text == ",":  # "..., X said on Monday."
                    quote_range = (self._clause_start(sent, doc[attr_start].idx), doc[attr_start - 1].idx)
                    attr = (doc[attr_start].idx, self._clause_end(v, sent))
                else:
                    continue
                if quote_range in done_quotes or quote_range[1] - quote_range[0] < 20:
                    continue
                done_quotes.add(quote_range)
                self._statement(speaker, mode, quote_range, attr, v, sent, last_date)
                last_person = speaker
            if persons:
                last_person = persons[-1]

    def _clause_start(self, sent: Span, before: int) -> int:
        """The sentence start, but not before its paragraph, nor inside a dateline ("TOKYO (Agency) ")."""
        start = max(sent.start_char, self.text.rfind("\n", 0, before) + 1)
        first = self.text[start:].split(" ", 1)[0]
        if first.isupper() and len(first) > 1:
            close = self.text.find(") ", start, before)
            if close > 0 and "(" in self.text[start:close]:
                start = close + 2
        return start

    def _speaker_near(self, v: int, sent: Span, last_person: Mention | None) -> tuple[Mention | None, int]:
        doc = self.doc
        prev = self.mention_at(v - 1) if v > sent.start else None
        if prev and prev.group == "Person":
            # include a title right before the name ("Chief Cabinet Secretary Hirokazu Matsuno said")
            start = prev.start
            office = self.mention_at(start - 1) if start > 0 else None
            if office and office.group == "Office":
                start = office.start
            return prev, start
        if v > sent.start and doc[v - 1].lower_ in ("he", "she") and last_person is not None:
            return last_person, v - 1
        nxt = self.mention_at(v + 1) if v + 1 < sent.end else None  # "..., said Matsuno."
        if nxt and nxt.group == "Person":
            return nxt, v
        return None, v

    def _clause_end(self, v: int, sent: Span) -> int:
        end = sent.end
        while end > v + 1 and self.doc[end - 1].is_punct:
            end -= 1
        return self.doc[end - 1].idx + len(self.doc[end - 1].text)

    def _sent_end_char(self, sent: Span) -> int:
        end = sent.end
        while end > sent.start + 1 and self.doc[end - 1].is_punct:
            end -= 1
        return self.doc[end - 1].idx + len(self.doc[end - 1].text)

    def _statement(self, speaker: Mention, mode: str, quote: tuple[int, int], attr: tuple[int, int], v: int,
                   sent: Span, last_date: dict[str, dates.DateValue]) -> None:
        node = self.node_of(speaker)
        quote_text = self.text[quote[0]:quote[1]]
        a_tok = self.doc.char_span(attr[0], attr[1], alignment_mode="expand")
        ds = self.dates_in(a_tok.start, a_tok.end) if a_tok is not None else []
        notes = []
        date = ds[0][2] if ds else last_date.get(node)
        if ds and date.resolved_from:
            notes.append(f"date resolved from {date.resolved_from!r} against publication {self.published}")
        elif not ds and date is not None:
            notes.append("date taken from the same speaker's earlier statement in this report")
        elif date is None and self.published is not None:
            date = dates.DateValue(self.published.isoformat(), "date", "publication date")
            notes.append("no date in the text: the publication date, to be checked")
        if date is not None:
            last_date[node] = date
        fields: dict[str, list[dict[str, Any]]] = {
            "label": [{"text": f"{speaker.extra.get('label', speaker.text)}: {_short(quote_text)}", "lang": "en"}],
            "speaker": [{"iri": node}], "speechMode": [{"iri": _dk(mode)}],
            "quote": [{"value": quote_text, "datatype": "string"}]}
        office = speaker.extra.get("office") or self._office_of(speaker)
        if office:
            fields["speakerOffice"] = [{"iri": office}]
        if date is not None:
            fields["date"] = [date.as_field()]
        venue = self._venue(a_tok, speaker, date) if a_tok is not None else None
        if venue:
            fields["venue"] = [{"iri": venue}]
        spans = sorted({quote, attr})
        c = Candidate("statement", f"{ID}statement/{self.stem}-{quote[0]}-{quote[1]}", "Statement", fields, spans,
                      f"statement.{'quote-then-attribution' if mode == 'DirectQuote' else 'reported-speech'}",
                      0.85 if mode == "DirectQuote" else 0.75, notes)
        self.candidates.append(c)

    def _office_of(self, speaker: Mention) -> str | None:
        for m in self.mentions:
            if m.iri == speaker.iri and m.extra.get("office"):
                return m.extra["office"]
        return None

    def _venue(self, a_tok: Span, speaker: Mention, date: dates.DateValue | None) -> str | None:
        words = [t.lower_ for t in a_tok]
        for kind, cue in (("PressConference", ["press", "conference"]), ("PressConference", ["news", "conference"]),
                          ("PressConference", ["briefing"])):
            for i in range(len(words) - len(cue) + 1):
                if words[i:i + len(cue)] == cue:
                    place = next((m for m in self.mentions_in(a_tok.start + i, a_tok.end)
                                  if m.group in ("Place", "") or m.type in ("City",)), None)
                    label = "press conference" + (f" in {place.text}" if place else "") + (
                        f" of {date.value}" if date else "")
                    iri = f"{ID}event/{slug(label)}"
                    s, e = a_tok.start + i, a_tok.start + i + len(cue)
                    cs, ce = self.chars(s, e if not place else place.end)
                    if iri in self.events:
                        return iri
                    fields: dict[str, list[dict[str, Any]]] = {"label": [{"text": label, "lang": "en"}],
                                                               "participant": [{"iri": self.node_of(speaker)}]}
                    if date:
                        fields["date"] = [date.as_field()]
                    if place:
                        fields["place"] = [{"iri": self.node_of(place)}]
                    c = Candidate("event", iri, kind, fields, [(cs, ce)], "event.press-conference", 0.8)
                    self.events[iri] = c
                    self.candidates.append(c)
                    return iri
        return None

    # -- positions and claims ----------------------------------------------------------------------
    def positions(self) -> None:
        doc = self.doc
        last_in_quote: dict[tuple[int, int], str] = {}
        # who said what: the quoted or reported words of each statement, and the side its speaker speaks for
        said = [(max(st.spans, key=lambda x: x[1] - x[0]), st.fields["speaker"][0]["iri"])
                for st in self.candidates if st.kind == "statement"]
        side: dict[str, str] = {}
        for sent in doc.sents:
            if self._headline(sent.start):
                continue
            for cstart, cend in self._clauses(sent):
                cues = self._cues(cstart, cend)
                if not cues:
                    continue
                # the first cue with a holder; a cue without one may still take the quote's earlier holder
                first = cues[0][0]
                holder = None
                for i, k in cues:
                    holder = self._holder(i, sent, k)
                    if holder is not None:
                        first = i
                        cues = [c for c in cues if c[0] >= i] or cues
                        break
                quote = self.in_quote(doc[first].idx, doc[first].idx + 1)
                if holder is None and quote is not None and quote in last_in_quote:
                    holder_iri = last_in_quote[quote]
                elif holder is None:
                    continue
                else:
                    holder_iri = self._actor_node(holder, first)
                speaker = next((who for (qs, qe), who in said if qs <= doc[first].idx < qe), None)
                modal = doc[first].lower_ not in STANCE_VERBS and doc[first].lower_ not in STANCE_NOUNS
                if quote is not None and modal and speaker in side and doc[first].lower_ not in ("we", "i"):
                    # "Tokyo must recognise ...", in the words of Russia's minister: a demand of the speaker's side
                    holder_iri = side[speaker]
                elif speaker is not None and speaker not in side:
                    side[speaker] = holder_iri
                if quote is not None:
                    last_in_quote[quote] = holder_iri
                kinds = []
                for _, k in cues:
                    if k not in kinds:
                        kinds.append(k)
                if holder is not None and holder.group == "Group" and holder.text.lower() in ASSESSING_GROUPS:
                    kinds = ["Assessment" if k == "Belief" else k for k in kinds]
                start = holder.start if holder is not None and holder.start >= cstart else cstart
                while start < cend and (doc[start].is_punct or doc[start].is_space):
                    start += 1
                end = cend
                if quote is not None:
                    while end > start + 1 and doc[end - 1].idx >= quote[1]:
                        end -= 1
                for v in range(first + 1, end):  # "..., Chief Cabinet Secretary X said on Monday."
                    if doc[v].lower_ in SPEECH_VERBS and self._speaker_near(v, sent, None)[0] is not None:
                        a = self._speaker_near(v, sent, None)[1]
                        if a > start and doc[a - 1].text == ",":
                            end = a - 1
                            break
                while end > start + 1 and (doc[end - 1].is_punct or doc[end - 1].lower_ in ("while", "and")):
                    end -= 1
                s_char, e_char = doc[start].idx, doc[end - 1].idx + len(doc[end - 1].text)
                if self._claim(sent, start, end, holder, kinds, (s_char, e_char)):
                    continue
                stance = self.text[s_char:e_char]
                fields: dict[str, list[dict[str, Any]]] = {
                    "label": [{"text": f"{self._label_of(holder_iri)}: {_short(stance)}", "lang": "en"}],
                    "holder": [{"iri": holder_iri}], "stanceKind": [{"iri": _dk(k)} for k in kinds],
                    "stance": [{"text": stance, "lang": "en"}]}
                topics = [self.node_of(m) for m in self.mentions_in(start, end, {"Agreement", "Issue"})]
                if topics:
                    fields["topic"] = [{"iri": t} for t in dict.fromkeys(topics)]
                terr = [self.node_of(m) for m in self.mentions_in(start, end, {"Territory"})]
                if terr:
                    fields["concernsTerritory"] = [{"iri": t} for t in dict.fromkeys(terr)]
                rule = "position.stance-cue" + ("-in-quote" if quote else "")
                self.candidates.append(Candidate("position", f"{ID}position/{self.stem}-{s_char}-{e_char}", "Position",
                                                 fields, [(s_char, e_char)], rule, 0.7 if holder else 0.55))

    def _clauses(self, sent: Span) -> list[tuple[int, int]]:
        cuts = [sent.start]
        for i in range(sent.start + 1, sent.end):
            if self.doc[i].lower_ in CLAUSE_BREAKS and (self.doc[i - 1].text == ","
                                                        or self.doc[i].lower_ in ("while", "whereas")):
                cuts.append(i)
        # a quotation's sentences are clauses of their own
        cuts.append(sent.end)
        return [(a, b) for a, b in itertools.pairwise(cuts) if b > a]

    def _cues(self, start: int, end: int) -> list[tuple[int, str]]:
        doc = self.doc
        out = []
        conditional = False
        for i in range(start, end):
            low = self.low[i]
            if low == "if":
                conditional = True
            if low == "," and conditional:
                conditional = False
            if conditional:
                continue
            prev = self.low[i - 1] if i > 0 else ""
            if low in STANCE_VERBS and prev not in ("is", "was", "be", "been", "are", "were", "the", "a", "to", "in",
                                                    "of", "with", "this", "that", "our", "his", "her"):
                if low in ("call", "calls", "called") and not (i + 1 < end and doc[i + 1].lower_ in ("for", "on")):
                    continue
                out.append((i, STANCE_VERBS[low]))
            elif low in STANCE_NOUNS and (prev in ("the", "its", "their", "serious", "strong", "was")
                                          or (i + 1 < end and doc[i + 1].lower_ in ("arose", "came", "from"))):
                out.append((i, STANCE_NOUNS[low]))
            elif low in ("claim", "claims") and prev in ("lays", "lay", "laid", "stakes", "staked", "its", "their"):
                out.append((i, "Demand"))
            elif low in ("claims", "claimed") and (
                    getattr(self.mention_at(i + 1), "group", "") == "Territory"
                    or getattr(self.mention_at(i - 1), "group", "") in ("State", "Government")):
                out.append((i, "Demand"))
            modals = [*((p, "Demand") for p in MODAL_NECESSITY), *((p, "Intention") for p in MODAL_INTENTION)]
            for pattern, kind in modals:
                if tuple(self.low[i:i + len(pattern)]) == pattern and i + len(pattern) <= end:
                    out.append((i, kind))
            if low in NEGATIONS or (low == "did" and i + 1 < end and doc[i + 1].lower_ in NEGATIONS):
                for j in range(i + 1, min(i + 4, end)):
                    for verb in GIVE_UP:
                        if tuple(self.low[j:j + len(verb)]) == verb:
                            out.append((j, "Refusal"))
        return out

    def _holder(self, cue: int, sent: Span, kind: str) -> Mention | None:
        doc = self.doc
        if doc[cue].lower_ in STANCE_NOUNS:  # "opposition arose from X"
            for j in range(cue + 1, min(cue + 5, sent.end)):
                if doc[j].lower_ == "from":
                    m = self.mention_at(j + 1) or (self.mention_at(j + 2) if j + 2 < sent.end else None)
                    if m and (m.group in ACTOR_GROUPS or not m.group):
                        return m
        for j in range(cue - 1, sent.start - 1, -1):
            low = doc[j].lower_
            m = self.mention_at(j)
            if m and (m.group in ACTOR_GROUPS or not m.group or m.group == "Place") and m.group != "Office":
                if j + 1 < len(doc) and doc[m.end].lower_ == "'s":
                    continue
                return m
            if low in ("it", "its", "they", "their", "we", "our") or (low == "government"
                                                                       and doc[j - 1].lower_ == "the"):
                return self._antecedent(j, low)
        return None

    def _antecedent(self, j: int, word: str) -> Mention | None:
        groups = {"Government"} if word == "government" else {"State", "Government"}
        if word in ("we", "our"):  # in a quotation: the speaker's side, the government the report last named
            govs = [m for m in self.mentions if m.end <= j and m.group == "Government"]
            if govs:
                return govs[-1]
        earlier = [m for m in self.mentions if m.end <= j and m.group in groups]
        return earlier[-1] if earlier else None

    def _actor_node(self, m: Mention, at: int = 0) -> str:
        if not m.group or m.group == "Place":
            # a capital named for its government ("Tokyo considers"): the government the gazetteer
            # knows under that name, else the name's own entity for the reviewer to retype
            govs = [e for e in self.gaz.by_name(m.text) if e.group == "Government"]
            if govs:
                return govs[0].iri
            # else the government the report last named: a capital speaks for it
            earlier = [g for g in self.mentions if g.group == "Government" and g.end <= (at or m.start)]
            if earlier:
                return self.node_of(earlier[-1])
        return self.node_of(m)

    def _label_of(self, iri: str) -> str:
        if iri in self.entities:
            return self.entities[iri].label
        e = self.gaz.entries.get(iri)
        return e.names[0] if e and e.names else iri.rsplit("/", 1)[-1]

    def _claim(self, sent: Span, start: int, end: int, holder: Mention | None, kinds: list[str],
               span: tuple[int, int]) -> bool:
        doc = self.doc
        words = [t.lower_ for t in doc[start:end]]
        undisputed = "sovereignty" in words and any(w in UNDISPUTED for w in words) and "Insistence" in kinds
        claim = "Demand" in kinds and "Refusal" not in kinds and any(w in ("claim", "claims") for w in words)
        if not (undisputed or claim) or holder is None or holder.group not in ("State", "Government"):
            return False
        terr = self._claimed_territories(start, end)
        if not terr:
            return False
        claimant = self.state_of(holder)
        fields: dict[str, list[dict[str, Any]]] = {
            "label": [{"text": f"{self._label_of(claimant)}: claim to {', '.join(self._label_of(t) for t in terr)}",
                       "lang": "en"}],
            "claimant": [{"iri": claimant}], "claimedTerritory": [{"iri": t} for t in terr],
            "claimKind": [{"iri": _dk("UndisputedSovereignty" if undisputed else "TerritorialClaim")}],
            "stanceKind": [{"iri": _dk("Insistence" if undisputed else "Demand")}],
            "stance": [{"text": self.text[span[0]:span[1]], "lang": "en"}]}
        for i in range(start, end):
            low = doc[i].lower_
            if low in ("citing", "cites", "cited") or (low == "basis" and doc[i - 1].lower_ == "the"):
                basis = [self.node_of(m) for m in self.mentions_in(i, end, {"Agreement"})][:1]
                if basis:
                    fields["citesBasis"] = [{"iri": basis[0]}]
        anaphor = getattr(self, "_anaphor", None)
        if anaphor is not None:
            phrase = self.text[anaphor[0]:anaphor[1]]
            coref = f"{ID}coreference/{self.stem}-{anaphor[0]}-{anaphor[1]}"
            self.candidates.append(Candidate(
                "coreference", coref, "Coreference",
                {"label": [{"text": f"'{phrase}' in {self._label_of(claimant)}'s claim", "lang": "en"}],
                 "phrase": [{"text": phrase}], "refersTo": [{"iri": t} for t in terr]},
                [anaphor], "claim.coreference-of-the-last-list", 0.7))
            fields["statesCoreference"] = [{"iri": coref}]
        for q in self.quotes:
            if span[0] <= q[0] and q[1] <= span[1] and len(self.text[q[0]:q[1]].split()) <= 5:
                name = self.text[q[0]:q[1]].strip(" ,.")
                fields["nameUsed"] = [{"text": name, "lang": "en"}]
                self._name_used_territory(name, q[0] + self.text[q[0]:q[1]].index(name))
        self.candidates.append(Candidate("claim", f"{ID}claim/{self.stem}-{span[0]}-{span[1]}", "Claim", fields, [span],
                                         "claim.undisputed-sovereignty" if undisputed else "claim.lays-claim-to",
                                         0.75))
        return True

    def _name_used_territory(self, name: str, start: int) -> None:
        """The claimant's own name for what it claims ("which Tokyo refers to as its 'Northern Territories'")
        names a territory too: proposed as one, for the reviewer to relate to the claimed parts."""
        iri = f"{ID}territory/{slug(name)}"
        known = [e for e in self.gaz.by_name(name) if e.group == "Territory" and e.known]
        if known or iri in self.entities:
            return
        kind = "IslandGroup" if name.split()[-1].lower() in ("islands", "territories", "isles") else "Territory"
        c = Candidate("entity", iri, kind, {"label": [{"text": name, "lang": "en"}]}, [(start, start + len(name))],
                      "territory.name-used-in-claim", 0.6)
        self.entities[iri] = c
        self.candidates.append(c)

    def _claimed_territories(self, start: int, end: int) -> list[str]:
        doc = self.doc
        found = []
        for m in self.mentions_in(start, end, {"Territory"}):
            if any(q[0] <= m.cstart and m.cend <= q[1] for q in self.quotes):
                continue  # the claimant's own name for it ("which it calls the 'Diaoyu Islands'")
            # the list right after "claims to"/"over": stop at "in X's" (the group they belong to)
            if m.start > start and doc[m.start - 1].lower_ == "'s":
                continue
            if m.start > start and doc[m.start - 1].lower_ == "in":
                continue
            found.append(self.node_of(m))
        self._anaphor = None
        if not found:  # "over the islands": the territories of the last list before this clause
            for i in range(start, end):
                if doc[i].lower_ in ("islands", "territories") and doc[i - 1].lower_ == "the":
                    found = self._last_territory_list(start)
                    if found:  # the phrase refers to them: said as a coreference, not silently
                        self._anaphor = (doc[i - 1].idx, doc[i].idx + len(doc[i].text))
                    break
        return list(dict.fromkeys(found))

    def _last_territory_list(self, before: int) -> list[str]:
        ts = [m for m in self.mentions if m.end <= before and m.group == "Territory"
              and not (m.start > 0 and self.doc[m.start - 1].lower_ in ("'s", "in"))
              and not self.in_quote(m.cstart, m.cend)]  # a name used in quotation marks is not a further part
        if not ts:
            return []
        sent = self.doc[ts[-1].start].sent
        return list(dict.fromkeys(self.node_of(m) for m in ts if sent.start <= m.start < sent.end))

    # -- agreements and events ---------------------------------------------------------------------
    def events_(self) -> None:
        doc = self.doc
        agreements = [m for m in self.mentions if m.group == "Agreement"]
        for m in agreements:
            node = self.node_of(m)
            sent = doc[m.start].sent
            words = [t.lower_ for t in sent]
            never = "never" in words and any(w in words for w in ("signed", "concluded", "resulted"))
            if never and node in self.entities:
                self.entities[node].fields["agreementStatus"] = [{"iri": _dk("NeverConcluded")}]
            # "the Joint Declaration signed on October 19, 1956": a signing, dated
            if m.end < sent.end and doc[m.end].lower_ == "signed":
                ds = self.dates_in(m.end, min(m.end + 6, sent.end))
                self._event("Signing", node, m, (m.cstart, self.chars(m.end, ds[0][1])[1] if ds else m.cend),
                            ds[0][2] if ds else None, "event.agreement-signed-on", [])
            elif m.extra.get("year") and m.rule != "agreement.reached-in":
                self._event("Conclusion", node, m, (m.cstart, m.cend), dates.DateValue(m.extra["year"], "gYear"),
                            "event.year-of-agreement", [])
            elif m.rule == "agreement.reached-in":
                place = None
                if m.extra.get("place_tok") is not None:
                    t = m.extra["place_tok"]
                    place = self._new(t, t + 1, "City", "place.in-after-agreements-reached", 0.7)
                    if not place.known and self.node_of(place) not in self.entities:
                        c = Candidate("entity", self.node_of(place), "City",
                                      {"label": [{"text": place.text, "lang": "en"}]}, [(place.cstart, place.cend)],
                                      place.rule, place.confidence)
                        self.entities[c.node] = c
                        self.candidates.append(c)
                year = dates.DateValue(m.extra["year"], "gYear") if m.extra.get("year") else None
                self._event("Conclusion", node, m, (m.cstart, m.cend), year, "event.agreements-reached-in", [],
                            place=place)
        for sent in doc.sents:
            toks = list(range(sent.start, sent.end))
            for i in toks:
                low = doc[i].lower_
                if low == "signed" and i > sent.start and not (self.mention_at(i - 1) and
                                                               self.mention_at(i - 1).group == "Agreement"):
                    self._signed_by(sent, i)
                if low == "agreed" and i + 2 < sent.end and doc[i + 1].lower_ == "to" and doc[i + 2].is_alpha \
                        and doc[i + 2].lower_ not in ("the", "a", "an", "consider"):
                    self._agreed_to(sent, i)
                if low == "became" and i + 2 < sent.end and doc[i + 1].lower_ == "part" and doc[i + 2].lower_ == "of":
                    self._became_part_of(sent, i)
                if low in ("returning", "return") and i + 1 < sent.end:
                    self._return(sent, i)
                if low == "years" and i > sent.start and doc[i - 1].like_num and i + 2 < sent.end \
                        and doc[i + 1].lower_ in ("have", "has", "had") and doc[i + 2].lower_ in ("passed", "elapsed"):
                    self._anniversary(sent, i - 1)

    def _event(self, kind: str, agreement: str, m: Mention | None, span: tuple[int, int],
               date: dates.DateValue | None, rule: str, parties: list[str], place: Mention | None = None) -> Candidate:
        iri = f"{ID}event/{slug(kind + ' ' + agreement.rsplit('/', 1)[-1])}"
        c = self.events.get(iri)
        if c is None:
            label = f"{'signing' if kind == 'Signing' else 'conclusion'} of {self._label_of(agreement)}"
            c = Candidate("event", iri, kind, {"label": [{"text": label, "lang": "en"}],
                                               "concludes": [{"iri": agreement}]}, [], rule, 0.75)
            self.events[iri] = c
            self.candidates.append(c)
        if span not in c.spans:
            c.spans.append(span)
        if date is not None:
            old = c.fields.get("date")
            rank = {"gYear": 0, "gYearMonth": 1, "date": 2}
            if not old or rank[date.datatype] > rank[old[0]["datatype"]]:
                c.fields["date"] = [date.as_field()]
        prop = "signatory" if kind == "Signing" else "participant"
        for p in parties:
            if {"iri": p} not in c.fields.setdefault(prop, []):
                c.fields[prop].append({"iri": p})
        if place is not None:
            c.fields["place"] = [{"iri": self.node_of(place)}]
        if kind == "Signing" and agreement in self.entities:
            self.entities[agreement].fields["agreementStatus"] = [{"iri": _dk("Signed")}]
        return c

    def _subjects(self, sent: Span, verb: int) -> list[Mention]:
        """The states joined by "and" right before a verb ("the Soviet Union and Japan signed")."""
        out = []
        j = verb - 1
        while j >= sent.start:
            m = self.mention_at(j)
            if m and m.group in ("State", "Government"):
                out.insert(0, m)
                j = m.start - 1
                continue
            if self.doc[j].lower_ in ("and", ",", "the"):
                j -= 1
                continue
            break
        return out

    def _signed_by(self, sent: Span, i: int) -> None:
        parties = self._subjects(sent, i)
        obj = next((m for m in self.mentions_in(i + 1, min(i + 6, sent.end), {"Agreement"})), None)
        if not parties or obj is None:
            return
        ds = self.dates_in(sent.start, sent.end)
        span = (parties[0].cstart, obj.cend)
        self._event("Signing", self.node_of(obj), obj, span, ds[0][2] if ds else None, "event.states-signed",
                    [self.state_of(p) for p in parties])

    def _agreed_to(self, sent: Span, i: int) -> None:
        parties = self._subjects(sent, i)
        if len(parties) < 2:
            return
        end = i + 2
        while end < sent.end and not self.doc[end].is_punct and not (
                self.doc[end].lower_ == "on" and end + 2 < sent.end and self.doc[end + 2].lower_ == "basis"):
            end += 1
        what = self.doc[i + 2:end].text
        label = f"agreement to {what}"
        iri = f"{ID}agreement/{slug(label)}"
        cs, ce = self.doc[i].idx, self.chars(i, end)[1]
        ds = self.dates_in(sent.start, sent.end)
        if iri not in self.entities:
            c = Candidate("entity", iri, "Agreement", {"label": [{"text": label, "lang": "en"}],
                                                       "agreementStatus": [{"iri": _dk("Concluded")}]},
                          [(cs, ce)], "agreement.states-agreed-to", 0.7)
            self.entities[iri] = c
            self.candidates.append(c)
        self._event("Conclusion", iri, None, (parties[0].cstart, ce), ds[0][2] if ds else None,
                    "event.states-agreed-to", [self.state_of(p) for p in parties])

    def _became_part_of(self, sent: Span, i: int) -> None:
        state = next((m for m in self.mentions_in(i + 3, min(i + 6, sent.end)) if m.group == "State"), None)
        if state is None:
            return
        terr = self._last_territory_list(i)
        if not terr:
            return
        end = i + 3
        while end < sent.end and not self.doc[end].is_punct:
            end += 1
        start = i - 1 if self.doc[i - 1].lower_ == "which" else i
        cs, ce = self.doc[start].idx, self.chars(start, end)[1]
        label = f"{', '.join(self._label_of(t) for t in terr)} become part of {self._label_of(self.node_of(state))}"
        self.candidates.append(Candidate("event", f"{ID}event/{self.stem}-{cs}-{ce}", "TerritorialChange",
                                         {"label": [{"text": label, "lang": "en"}],
                                          "territoryChanged": [{"iri": t} for t in terr],
                                          "toState": [{"iri": self.state_of(state)}]},
                                         [(cs, ce)], "event.became-part-of", 0.7))

    def _return(self, sent: Span, i: int) -> None:
        j = i + 1 + (1 if self.doc[i + 1].lower_ == "of" else 0)
        terr = self.mention_at(j) or (self.mention_at(j + 1) if j + 1 < sent.end else None)
        if terr is None or terr.group != "Territory":
            return
        to_state = None
        end = terr.end
        for k in range(terr.end, min(terr.end + 6, sent.end)):
            if self.doc[k].lower_ in DEMONYMS and k + 1 < sent.end and self.doc[k + 1].lower_ == "sovereignty":
                name = DEMONYMS[self.doc[k].lower_]
                states = [m for m in self.mentions if m.group == "State" and m.text == name]
                to_state = self.node_of(states[0]) if states else None
                end = k + 2
                break
            m = self.mention_at(k)
            if m and m.group == "State" and self.doc[k - 1].lower_ in ("to", "under"):
                to_state, end = self.node_of(m), m.end
                break
        if to_state is None:
            return
        cs, ce = self.doc[i].idx, self.chars(i, end)[1]
        label = f"return of {terr.text} to {self._label_of(to_state)}"
        self.candidates.append(Candidate("event", f"{ID}event/{self.stem}-{cs}-{ce}", "TerritorialChange",
                                         {"label": [{"text": label, "lang": "en"}],
                                          "territoryChanged": [{"iri": self.node_of(terr)}],
                                          "toState": [{"iri": to_state}]}, [(cs, ce)], "event.return-of-territory",
                                         0.65))

    def _anniversary(self, sent: Span, n: int) -> None:
        """"65 years have passed since the signing of X": the duration is kept as stated."""
        try:
            years = int(self.doc[n].text)
        except ValueError:
            return
        agreement = next((m for m in self.mentions_in(n, sent.end, {"Agreement"})), None)
        if agreement is None:
            return
        event = self.events.get(f"{ID}event/{slug('Signing ' + self.node_of(agreement).rsplit('/', 1)[-1])}")
        if event is None:
            return
        cs, ce = self.doc[n].idx, agreement.cend
        self.candidates.append(Candidate(
            "event", f"{ID}event/{self.stem}-{cs}-{ce}", "Anniversary",
            {"label": [{"text": f"{years} years since the {event.label}", "lang": "en"}],
             "anniversaryOf": [{"iri": event.node}], "yearsElapsed": [{"value": str(years), "datatype": "integer"}]},
            [(cs, ce)], "event.years-have-passed", 0.6,
            [f"duration kept as stated: {self.text[cs:ce]!r}"]))

    def run(self) -> list[Candidate]:
        self.find_mentions()
        self.entity_candidates()
        self.events_()
        self.statements()
        self.positions()
        # voices: a statement voices the positions its quote contains
        positions = [c for c in self.candidates if c.kind in ("position", "claim")]
        for st in (c for c in self.candidates if c.kind == "statement"):
            q = max(st.spans, key=lambda s: s[1] - s[0])
            voiced = [p.node for p in positions if q[0] <= p.spans[0][0] and p.spans[0][1] <= q[1]]
            if voiced:
                st.fields["voices"] = [{"iri": v} for v in voiced]
        # a new person's surname becomes an alias
        for m in self.mentions:
            if m.rule == "person.surname-of-earlier-name" and m.iri in self.entities:
                alias = {"text": m.text, "lang": "en"}
                if alias not in self.entities[m.iri].fields.setdefault("altLabel", []):
                    self.entities[m.iri].fields["altLabel"].append(alias)
                self.entities[m.iri].spans.append((m.cstart, m.cend))
        for c in self.candidates:
            c.spans = sorted(dict.fromkeys(c.spans))
        return self.candidates


def _dk(local: str) -> str:
    from ..rdf.namespaces import DEF

    return DEF + local


def _short(text: str, n: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n].rsplit(" ", 1)[0] + "…"


def _resolve_overlaps(found: list[Mention]) -> list[Mention]:
    """Longest first; at equal length a known thing before a new one, then the more confident rule."""
    order = sorted(found, key=lambda m: (-(m.end - m.start), not m.group, not m.known, -m.confidence, m.start))
    taken: set[int] = set()
    out = []
    for m in order:
        if any(k in taken for k in range(m.start, m.end)):
            continue
        out.append(m)
        taken.update(range(m.start, m.end))
    return out
