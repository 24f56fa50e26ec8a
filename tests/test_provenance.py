"""Span provenance, read straight from the repository files, and sentence coverage."""

from __future__ import annotations

import hashlib

import pytest
import rdflib
from conftest import ARTICLE, ROOT

from dispute_kg.validation.provenance import sentences

OA = rdflib.Namespace("http://www.w3.org/ns/oa#")


def test_article_is_stored_byte_for_byte_with_its_hash():
    data = (ROOT / "data/sources/urdupoint-2021-10-18.txt").read_bytes()
    assert len(data) == 2886 and not data.endswith(b"\n")
    meta = rdflib.Graph().parse(ROOT / "data/sources/urdupoint-2021-10-18.ttl")
    recorded = {str(o) for o in meta.objects(None, rdflib.URIRef("https://w3id.org/dispute-kg/def#sha256"))}
    assert recorded == {hashlib.sha256(data).hexdigest()}


def test_every_selector_in_the_files_reproduces_its_quote():
    g = rdflib.Graph().parse(ROOT / "data/assertions/urdupoint-2021-10-18.ttl")
    checked = 0
    for selection in g.subjects(OA.hasSource, None):
        quote = next(s for s in g.objects(selection, OA.hasSelector) if (s, OA.exact, None) in g)
        pos = next(s for s in g.objects(selection, OA.hasSelector) if (s, OA.start, None) in g)
        start, end = int(g.value(pos, OA.start)), int(g.value(pos, OA.end))
        assert ARTICLE[start:end] == str(g.value(quote, OA.exact)), selection
        checked += 1
    assert checked >= 50


@pytest.mark.parametrize("text,expected", [
    ("One. Two.", ["One.", "Two."]),
    ('He said "Yes. No," then left. Next one.', ['He said "Yes.', 'No," then left.', "Next one."]),
    ("Title\n\nBody one. Body two.", ["Title", "Body one.", "Body two."]),
    ("signed on October 19, 1956 to be. Done.", ["signed on October 19, 1956 to be.", "Done."]),
])
def test_sentence_splitting(text, expected):
    assert [text[s:e] for s, e in sentences(text)] == expected


def test_every_sentence_except_the_titles_is_cited(kg):
    rows = kg.coverage()
    titles = [r for r in rows if r.is_title]
    assert [r.text for r in titles] == ["Japan To Seek Immediate Resolution Of Peace Treaty Issue With Russia",
                                        "Japan to Seek Immediate Resolution of Peace Treaty Issue With Russia"]
    uncited = [r.text for r in rows if not r.is_title and not r.cited_by]
    assert uncited == []
    assert len(rows) == 17
