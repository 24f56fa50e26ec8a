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


def subquery_groups(text: str, variables: set[str]) -> list[tuple[int, tuple[str, ...]]]:
    """The `{` opening the WHERE group of each subquery (a SELECT inside the query's braces) whose own
    patterns, outside its own subqueries, use one of `variables`; with the variables each uses, sorted.

    A stored query's parameter is one value for the whole query, but SPARQL scopes a subquery's
    variables apart: a VALUES block at the outermost group does not reach a grouped subquery, which the
    engine then evaluates for every node in the graph before joining. Binding the parameter in each such
    group too lets `claims?state=...` read only that state's claims."""
    found: list[tuple[int, tuple[str, ...]]] = []
    frames: list[tuple[int, int, set[str]]] = []  # (depth outside the group, offset of its brace, uses)
    depth = 0
    select_at: int | None = None  # depth of a SELECT whose group has not opened yet
    for kind, value, pos in tokens(text):
        if kind == "word":
            if value.upper() == "SELECT" and pos > 0 and text[pos - 1] not in "?$":
                select_at = depth
            elif pos > 0 and text[pos - 1] in "?$" and value in variables and frames:
                frames[-1][2].add(value)
        elif value == "{":
            if select_at is not None and select_at == depth:
                frames.append((depth, pos, set()))
                select_at = None
            depth += 1
        elif value == "}":
            depth -= 1
            if frames and frames[-1][0] == depth:
                outside, at, uses = frames.pop()
                if outside > 0 and uses:  # the outermost SELECT is bound at `where_brace`
                    found.append((at, tuple(sorted(uses))))
    return sorted(found)
