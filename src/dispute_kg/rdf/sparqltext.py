"""Small lexical facts about SPARQL text, found without parsing it: is it an update, where is
its outermost WHERE group. Comments, strings and IRIs are skipped so they cannot mislead."""

from __future__ import annotations

import re

_TOKEN = re.compile(
    r'(?P<comment>#[^\n]*)'
    r'|(?P<string>"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\')'
    r'|(?P<iri><[^<>"{}|^`\\\s]*>)'
    r'|(?P<word>[A-Za-z_][A-Za-z_0-9-]*)'
    r'|(?P<brace>[{}])',
    re.S,
)

UPDATE_WORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
QUERY_WORDS = {"SELECT", "CONSTRUCT", "ASK", "DESCRIBE"}


def tokens(text: str):
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind in ("comment", "string", "iri"):
            continue
        yield kind, m.group(), m.start()


def query_form(text: str) -> str | None:
    """The first query or update keyword outside comments, strings and IRIs (upper case)."""
    for kind, value, _ in tokens(text):
        if kind == "word":
            word = value.upper()
            if word in QUERY_WORDS or word in UPDATE_WORDS:
                return word
    return None


def where_brace(text: str) -> int | None:
    """Offset of the `{` that opens the outermost WHERE group (after CONSTRUCT's template)."""
    depth = 0
    seen_where = False
    form = None
    for kind, value, pos in tokens(text):
        if kind == "word":
            upper = value.upper()
            if form is None and upper in QUERY_WORDS:
                form = upper
            if depth == 0 and upper == "WHERE":
                seen_where = True
        elif value == "{":
            if depth == 0 and (seen_where or form != "CONSTRUCT"):
                return pos
            depth += 1
        elif value == "}":
            depth -= 1
    return None
