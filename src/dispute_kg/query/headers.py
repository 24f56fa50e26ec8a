"""The `#+` metadata header of stored queries (grlc's convention: YAML behind `#+ `).

The header block is the run of lines at the top of the file that start with `#+`; with that prefix
(and one space after it) removed, the block is YAML, read by PyYAML's safe loader as grlc reads it.
What YAML cannot read, or reads as something other than a mapping of known keys, is refused with the
file, line and column in the `.rq` file, never guessed at: a line without a colon, a stray line between
keys, a key given twice, a `#+` line after the query has begun.

A `columns:` list documents the result columns: for each variable the query projects, a `label`
people read as its header and a one-line `description`. It is checked against the projection that
Oxigraph's SPARQL parser reports for the query (never against the text of its SELECT line): a column
the query does not project, a column given twice or one without a label is refused, located like
every other refusal. Columns left out are allowed here (a project's own queries may document some);
the shipped queries document every one, which a test enforces.

Importing yaml costs more than a stored query does on the quick route, so `dispute-kg query run`
reads headers already parsed from the query index (`query.index`) and never imports this module.
"""

from __future__ import annotations

from typing import Any

import yaml

from ..errors import InputError

# The keys a header may have and the YAML type each must be: grlc's keys and ours (`parameters`).
KNOWN_KEYS: dict[str, tuple[type, ...]] = {
    "summary": (str,), "description": (str,), "tags": (list,), "defaults": (list,),
    "parameters": (list,), "endpoint": (str,), "method": (str,), "pagination": (int,),
    "enumerate": (list,), "transform": (dict,), "endpoint_in_url": (bool,), "columns": (list,),
}
COLUMN_KEYS = ("name", "label", "description")
PREFIX = "#+"


class _StrictLoader(yaml.SafeLoader):
    """The safe loader, refusing a key given twice (YAML keeps the last one silently)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if isinstance(key, list | dict):  # `[a]: b` or `{a: b}: c`: unhashable, and no name anyway
            raise yaml.constructor.ConstructorError(None, None, "a key must be a plain word, not a list or a "
                                                    "mapping", key_node.start_mark)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} is given twice (first at line {seen[key].start_mark.line + 1})",
                key_node.start_mark)
        seen[key] = key_node
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def split_header(text: str) -> tuple[list[str], str]:
    """The header's lines (prefix removed) and the rest of the text."""
    lines = text.splitlines()
    n = 0
    while n < len(lines) and lines[n].startswith(PREFIX):
        n += 1
    return [_strip(line) for line in lines[:n]], "\n".join(lines[n:])


def _strip(line: str) -> str:
    rest = line[len(PREFIX):]
    return rest[1:] if rest.startswith(" ") else rest


def _prefix_width(line: str) -> int:
    return len(PREFIX) + (1 if line[len(PREFIX):].startswith(" ") else 0)


def read_header(text: str, path: str | None = None) -> tuple[dict[str, Any], str]:
    """The header as a dict and the query text after it; an unreadable header raises InputError
    naming `path`, the line and the column (1-based, counted in the `.rq` file)."""
    raw = text.splitlines()
    lines, body = split_header(text)
    for number, line in enumerate(raw[len(lines):], start=len(lines) + 1):
        if line.startswith(PREFIX):
            raise InputError("a `#+` header line after the query has begun (the header must be the first "
                             "lines of the file, with no other line between them)", path=path, line=number,
                             column=1)
    if not lines:
        return {}, body
    loader = _StrictLoader("\n".join(lines) + "\n")
    try:
        node = loader.get_single_node()
        header = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        # Where the construct that failed began (a key with no `:` after it) when YAML says so, else where
        # it noticed: the next line's start is the wrong place to send someone for a missing colon.
        mark = exc.context_mark or exc.problem_mark
        problem = exc.problem or exc.context or "cannot read the header"
        if exc.context and exc.context_mark is not None:
            problem += f" ({exc.context})"
        line, column = _locate(mark, raw, len(lines))
        raise InputError(f"query header is not valid YAML: {problem}", path=path, line=line,
                         column=column) from None
    except yaml.YAMLError as exc:
        raise InputError(f"query header is not valid YAML: {exc}", path=path, line=1) from None
    finally:
        loader.dispose()
    if header is None:
        return {}, body
    if not isinstance(header, dict):
        line, column = _locate(node.start_mark, raw, len(lines))
        raise InputError("the query header must be `key: value` lines (found a line with no `key:`)",
                         path=path, line=line, column=column)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node)
        value = header[key]
        line, column = _locate(key_node.start_mark, raw, len(lines))
        if key not in KNOWN_KEYS:
            known = ", ".join(KNOWN_KEYS)
            raise InputError(f"unknown header key {key!r} (known: {known})", path=path, line=line, column=column)
        if value is not None and not isinstance(value, KNOWN_KEYS[key]):
            want = " or ".join(_TYPE_NAMES[t] for t in KNOWN_KEYS[key])
            line, column = _locate(value_node.start_mark, raw, len(lines))
            got = _TYPE_NAMES.get(type(value), type(value).__name__)
            raise InputError(f"header key {key!r} must be {want}, not {got}", path=path, line=line, column=column)
        if key in ("tags", "defaults", "parameters", "columns") and isinstance(value, list):
            item_type = str if key == "tags" else dict
            for item, item_node in zip(value, value_node.value, strict=True):
                if not isinstance(item, item_type):
                    line, column = _locate(item_node.start_mark, raw, len(lines))
                    raise InputError(f"each item of {key!r} must be {_TYPE_NAMES[item_type]}, not "
                                     f"{_TYPE_NAMES.get(type(item), type(item).__name__)}", path=path, line=line,
                                     column=column)
        if key == "columns" and value:
            header["columns"] = _checked_columns(value, value_node, text, path, raw, len(lines))
    return header, body


def projected_variables(text: str, path: str | None = None) -> list[str] | None:
    """The variables a SELECT query projects, in order, as Oxigraph's SPARQL parser reports them
    (`SELECT *` and sub-selects included); None for ASK, CONSTRUCT and DESCRIBE. The query is prepared
    on an empty in-memory store and its solutions are never read, so nothing is evaluated or fetched."""
    import pyoxigraph as ox

    try:
        answer = ox.Store().query(text)
    except SyntaxError as exc:
        raise InputError(f"SPARQL syntax error: {exc}", path=path, line=exc.lineno, column=exc.offset) from None
    if isinstance(answer, ox.QuerySolutions):
        return [v.value for v in answer.variables]
    return None


def _checked_columns(value: list[dict[str, Any]], node: yaml.SequenceNode, text: str, path: str | None,
                     raw: list[str], count: int) -> list[dict[str, str]]:
    """The `columns:` items, checked against the query's projection, as {name, label, description} in
    the order the query projects them."""

    def refuse(message: str, at: yaml.Node) -> InputError:
        line, column = _locate(at.start_mark, raw, count)
        return InputError(f"header key 'columns': {message}", path=path, line=line, column=column)

    projected = projected_variables(text, path)
    if projected is None:
        raise refuse("only a SELECT query has columns to document (this query returns a graph or a yes/no)", node)
    shown = ", ".join(f"?{v}" for v in projected) or "nothing"
    seen: dict[str, yaml.Node] = {}
    out: dict[str, dict[str, str]] = {}
    for item, item_node in zip(value, node.value, strict=True):
        nodes: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in item_node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key not in COLUMN_KEYS:
                shown_key = repr(key) if key is not None else "that is not text"
                raise refuse(f"unknown key {shown_key} in a column (known: {', '.join(COLUMN_KEYS)})", key_node)
            nodes[key] = (key_node, value_node)
        for key in COLUMN_KEYS:
            if key in item and item[key] is not None and not isinstance(item[key], str):
                raise refuse(f"a column's {key!r} must be text", nodes[key][1])
        name = item.get("name")
        if not name:
            raise refuse("each column needs a `name:`, the variable it documents (without `?`)", item_node)
        name_node = nodes["name"][1]
        if name.startswith(("?", "$")):
            raise refuse(f"write the column name without {name[0]!r}: `name: {name[1:]}`", name_node)
        if name not in projected:
            raise refuse(f"{name!r} is not a variable the query projects (it projects {shown})", name_node)
        if name in seen:
            first, _ = _locate(seen[name].start_mark, raw, count)
            raise refuse(f"column {name!r} is documented twice (first at line {first})", name_node)
        seen[name] = name_node
        label = (item.get("label") or "").strip()
        if not label:
            raise refuse(f"column {name!r} has no `label:` (the header people read, such as 'Kind of claim')",
                         nodes["label"][1] if "label" in nodes else item_node)
        description = (item.get("description") or "").strip()
        if "\n" in description:
            raise refuse(f"the description of column {name!r} must be one line", nodes["description"][1])
        out[name] = {"name": name, "label": label, "description": description}
    return [out[v] for v in projected if v in out]


_TYPE_NAMES = {str: "text", list: "a list", dict: "a mapping (`key: value`)", int: "a number", bool: "true or false",
               float: "a number"}


def _locate(mark: yaml.Mark | None, raw: list[str], count: int) -> tuple[int | None, int | None]:
    """A YAML mark (0-based, in the stripped block) as a 1-based line and column of the `.rq` file."""
    if mark is None:
        return None, None
    line = min(mark.line, count - 1)
    return line + 1, mark.column + 1 + _prefix_width(raw[line])
