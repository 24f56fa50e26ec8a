"""rdflib's SPARQL parser, one thread at a time, for decisions that must follow the query's structure.

rdflib's parser (pyparsing, with its packrat cache) is not safe to run from several threads at once:
concurrent parses of valid queries fail at random, so every caller in the package parses through here.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

PARSING = threading.Lock()


def parse_query(text: str) -> Any:
    """rdflib's parse tree of the query (`ParseException` or `RecursionError` on a text it refuses)."""
    from rdflib.plugins.sparql.parser import parseQuery

    with PARSING:
        return parseQuery(text)


def algebra(text: str) -> Any:
    """rdflib's algebra of the query (the parser's own errors on a text it refuses)."""
    from rdflib.plugins.sparql.algebra import translateQuery

    tree = parse_query(text)
    with PARSING:  # translation reads the parser's results; kept in turn with the parses
        return translateQuery(tree).algebra


SERVICE = frozenset({"ServiceGraphPattern"})
# what makes an answer depend on more than the data: the clock, randomness, fresh blank nodes, other hosts
VOLATILE = SERVICE | {"Builtin_NOW", "Builtin_RAND", "Builtin_UUID", "Builtin_STRUUID", "Builtin_BNODE"}


def holds(node: Any, names: frozenset[str]) -> bool:
    """Whether an rdflib algebra tree holds a node named in `names` (sub-selects and EXISTS included)."""
    seen: set[int] = set()
    stack = [node]
    while stack:  # no recursion: a deeply nested query must not exhaust the stack here
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if getattr(node, "name", None) in names:
            return True
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list | tuple):
            stack.extend(node)
    return False


@functools.lru_cache(maxsize=512)
def volatile(text: str) -> bool:
    """Whether the answer may differ between two runs on the same data (NOW, RAND, UUID, STRUUID, BNODE,
    SERVICE), on rdflib's algebra; a query rdflib cannot parse counts as volatile."""
    try:
        return holds(algebra(text), VOLATILE)
    except Exception:  # ParseException, RecursionError: not known to be safe to keep
        return True


@functools.lru_cache(maxsize=256)
def has_own_slice(text: str) -> bool | None:
    """Whether the query ends with its own LIMIT/OFFSET or a trailing VALUES block; None for an ASK
    query (a page means nothing to it) or a text rdflib cannot parse."""
    try:
        tree = parse_query(text)[1]
    except Exception:  # ParseException, RecursionError: the engine will report its own error
        return None
    if tree.name == "AskQuery":
        return None
    return "limitoffset" in tree or "valuesClause" in tree


OrderKeys = tuple[tuple[str, bool], ...]  # (projected variable, descending) in the clause's order


@functools.lru_cache(maxsize=256)
def order_clause(text: str) -> tuple[int, int, OrderKeys] | None:
    """Where a SELECT query's own ORDER BY clause lies in `text` (start, end) and its keys, when every key
    is a variable the query projects and the query has no LIMIT/OFFSET of its own; else None.

    The clause's place is proposed from the text's tokens (the `ORDER` word after the WHERE group, up to a
    LIMIT, OFFSET, VALUES or the end) and accepted only when rdflib's algebra of the text without it is
    the algebra of the query with its ordering step removed: the parser, not the tokens, decides."""
    from .sparqltext import tokens

    start = end = None
    depth = 0
    closed = False  # whether a group has closed: solution modifiers follow the WHERE group
    for kind, value, pos in tokens(text):
        if kind != "word":
            depth += 1 if value == "{" else -1
            closed = closed or depth == 0
            continue
        if depth or not closed or (pos and text[pos - 1] in "?$:"):
            continue  # inside or before the WHERE group, a variable, or the local part of a prefixed name
        word = value.upper()
        if start is None and word == "ORDER":
            start = pos
        elif start is not None and word in ("LIMIT", "OFFSET", "VALUES"):
            end = pos
            break
    if start is None:
        return None
    end = len(text) if end is None else end
    try:
        ordered = algebra(text)
        unordered = algebra(text[:start] + "\n" + text[end:])
    except Exception:  # ParseException, RecursionError: the engine reports its own error
        return None
    if getattr(ordered, "name", None) != "SelectQuery":
        return None
    parent = ordered
    while getattr(parent.p, "name", None) in ("Distinct", "Reduced"):
        parent = parent.p
    project = parent.p
    if getattr(project, "name", None) != "Project" or getattr(project.p, "name", None) != "OrderBy":
        return None  # a Slice (own LIMIT/OFFSET) on top, or no ordering step right under the projection
    projected = {str(v) for v in project["PV"]}
    keys = []
    for condition in project.p["expr"]:
        expr = getattr(condition, "expr", condition) if getattr(condition, "name", None) == "OrderCondition" \
            else condition
        if type(expr).__name__ != "Variable" or str(expr) not in projected:
            return None  # an expression or an unprojected variable: only the engine can order on it
        keys.append((str(expr), getattr(condition, "order", None) == "DESC"))
    project["p"] = project.p.p  # the same tree with its ordering step removed ...
    if not _same(ordered, unordered):  # ... must be what the text without the clause means
        return None
    return start, end, tuple(keys)


def _same(a: Any, b: Any, ignore: frozenset[str] = frozenset()) -> bool:
    """Structural equality of two rdflib algebra trees, node names included (a CompValue's dict
    equality ignores its name), leaving out the fields named in `ignore`."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y) or getattr(x, "name", None) != getattr(y, "name", None):
            return False
        if isinstance(x, dict):
            if x.keys() != y.keys():
                return False
            stack.extend((x[k], y[k]) for k in x if k not in ignore)
        elif isinstance(x, list | tuple):
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y, strict=True))
        elif x != y:
            return False
    return True


# A query whose page is found from fewer columns than it shows (`deferred_lookups`): the texts of the
# OPTIONAL blocks left out, where variables go into the projection and which, the lookups to make for the
# page's rows (subject variable, value variable, the block's group), the query's own columns, DISTINCT,
# and the prologue (PREFIX and BASE) the groups are read with.
# the variables in scope that rdflib keeps on each node: derived from the rest of the tree, so two trees
# that differ only there (a node whose subtree lost a block) mean the same
SCOPE = frozenset({"_vars"})
Deferred = tuple[tuple[str, ...], int, str, tuple[tuple[str, str, str], ...], tuple[str, ...], bool, str]


@functools.lru_cache(maxsize=256)
def deferred_lookups(text: str, keys: OrderKeys) -> Deferred | None:
    """The OPTIONAL lookups of an unordered SELECT `text` that a page can make for its own rows alone.

    A block qualifies when it is a top-level `OPTIONAL { ... }` with no FILTER, its pattern names only a
    subject variable every row already binds and one value variable that the query projects, that is no
    key of `keys` and that nothing else in the query reads. Then each row of the query without the block
    stands for the rows the block gives it (each value, or one row without it), in the same place of the
    order: the block's values can be found for the rows of one page after the rest is ordered. Blocks are
    proposed from the text's tokens and accepted only when rdflib's algebra of the text without them is
    the query's algebra with their LeftJoins removed (and the subject variables projected first)."""
    from .sparqltext import tokens

    blocks: list[tuple[int, int, int, int]] = []  # (OPTIONAL at, `{` at, `}` at, end)
    depth, select_end, after_select, optional_at, open_at, block_at, select_at = 0, None, False, None, None, 0, 0
    for kind, value, pos in tokens(text):
        if kind == "word":
            word = value.upper()
            if pos and text[pos - 1] in "?$:":
                continue  # a variable, or the local part of a prefixed name
            if after_select and word in ("DISTINCT", "REDUCED") and not text[select_end:pos].strip():
                select_end = pos + len(value)
            after_select = False
            if depth == 0 and select_end is None and word == "SELECT":
                select_at, select_end, after_select = pos, pos + len(value), True
            optional_at = pos if depth == 1 and word == "OPTIONAL" else None
            continue
        after_select = False
        if value == "{":
            depth += 1
            if depth == 2 and optional_at is not None and not text[optional_at + len("OPTIONAL"):pos].strip():
                open_at, block_at = pos, optional_at
            optional_at = None
        else:
            depth -= 1
            if depth == 1 and open_at is not None:
                blocks.append((block_at, open_at, pos, pos + 1))
                open_at = None
    if not blocks or select_end is None:
        return None
    try:
        tree = algebra(text)
    except Exception:  # ParseException, RecursionError: the engine reports its own error
        return None
    top = tree
    if getattr(top, "name", None) != "SelectQuery":
        return None
    distinct = getattr(top.p, "name", None) == "Distinct"
    parent = top.p if getattr(top.p, "name", None) in ("Distinct", "Reduced") else top
    project = parent.p
    if getattr(project, "name", None) != "Project":
        return None
    columns = tuple(str(v) for v in project["PV"])
    key_names = {name for name, _ in keys}
    chain = _optional_chain(project)  # (holder, field) of each LeftJoin on the top chain
    found: list[tuple[tuple[int, int, int, int], int, str, str]] = []
    for block in blocks:
        at, _, _, end = block
        try:
            without = algebra(text[:at] + text[end:])
        except Exception:
            continue
        for place, (holder, field) in enumerate(chain):
            join = holder[field]
            holder[field] = join.p1  # the query's tree without this LeftJoin ...
            same = _same(tree, without, SCOPE)
            holder[field] = join
            if same:  # ... is what the text without the block means: the block is this LeftJoin
                lookup = _lookup(join, tree, columns, key_names)
                if lookup is not None:
                    found.append((block, place, *lookup))
                break
    if not found:
        return None
    subjects = [s for _, _, s, _ in found if s not in columns]
    subjects = list(dict.fromkeys(subjects))
    insert = "".join(f" ?{s}" for s in subjects)
    reduced = text
    for (at, _, _, end), _, _, _ in sorted(found, key=lambda f: -f[0][0]):
        reduced = reduced[:at] + reduced[end:]
    reduced = reduced[:select_end] + insert + reduced[select_end:]
    for place in sorted((place for _, place, _, _ in found), reverse=True):  # the deepest first
        holder, field = chain[place]
        holder[field] = holder[field].p1
    from rdflib.term import Variable

    project["PV"] = [Variable(s) for s in subjects] + list(project["PV"])
    if "PV" in top:
        top["PV"] = list(project["PV"])
    try:
        if not _same(tree, algebra(reduced), SCOPE):
            return None
    except Exception:
        return None
    if any(text.count(text[at:end]) != 1 for (at, _, _, end), _, _, _ in found):
        return None  # the route removes each block by its text: it must be found in one place only
    lookups = tuple((s, v, text[open_at + 1:close_at]) for (_, open_at, close_at, _), _, s, v in found)
    return (tuple(text[at:end] for (at, _, _, end), _, _, _ in found), select_end, insert, lookups, columns,
            distinct, text[:select_at])


def _optional_chain(project: Any) -> list[tuple[Any, str]]:
    """Where each LeftJoin of the query's top group hangs: down from the projection through BINDs,
    FILTERs and the left side of each LeftJoin."""
    out: list[tuple[Any, str]] = []
    holder, field = project, "p"
    while True:
        node = holder[field]
        name = getattr(node, "name", None)
        if name == "LeftJoin":
            out.append((holder, field))
            holder, field = node, "p1"
        elif name in ("Extend", "Filter"):
            holder, field = node, "p"
        else:
            return out


def _lookup(join: Any, tree: Any, columns: tuple[str, ...], keys: set[str]) -> tuple[str, str] | None:
    """(subject, value) when the LeftJoin `join` may be looked up for a page's rows alone, else None."""
    from rdflib.term import Variable

    if getattr(join.expr, "name", None) != "TrueFilter" or getattr(join.p2, "name", None) != "BGP":
        return None
    names = {str(t) for triple in join.p2["triples"] for t in triple if isinstance(t, Variable)}
    if len(names) != 2:
        return None
    for s in names:
        (v,) = names - {s}
        if v in columns and v not in keys and s in _certain(join.p1) and _only_here(tree, join.p2, v):
            return s, v
    return None


def _certain(node: Any) -> set[str]:
    """Variables every solution of the pattern binds (a subset: what cannot be told is left out)."""
    from rdflib.term import Variable

    name = getattr(node, "name", None)
    if name == "BGP":
        return {str(t) for triple in node["triples"] for t in triple if isinstance(t, Variable)}
    if name == "Join":
        return _certain(node.p1) | _certain(node.p2)
    if name in ("LeftJoin", "Minus"):
        return _certain(node.p1)
    if name == "Filter":
        return _certain(node.p)
    if name == "Extend":
        bound = _certain(node.p)
        if isinstance(node.expr, Variable) and str(node.expr) in bound:
            bound = bound | {str(node.var)}
        return bound
    if name == "Union":
        return _certain(node.p1) & _certain(node.p2)
    return set()


def _only_here(tree: Any, block: Any, variable: str) -> bool:
    """Whether `variable` occurs in `tree` only inside `block` and in projection lists (the variable
    sets rdflib keeps on each node do not count)."""
    from rdflib.term import Variable

    target = Variable(variable)
    stack = [tree]
    while stack:
        node = stack.pop()
        if node is block:
            continue
        if isinstance(node, dict):
            stack.extend(value for key, value in node.items() if key not in ("_vars", "PV"))
        elif isinstance(node, list | tuple | set | frozenset):
            stack.extend(node)
        elif node == target:
            return False
    return True
