"""The `#+` metadata header of stored queries (grlc's convention: YAML behind `#+ `).

The header block is the run of lines at the top of the file that start with `#+`; with that prefix
(and one space after it) removed, the block is YAML, read by PyYAML's safe loader as grlc reads it.
What YAML cannot read, or reads as something other than a mapping of known keys, is refused with the
file, line and column in the `.rq` file, never guessed at: a line without a colon, a stray line between
keys, a key given twice, a `#+` line after the query has begun.

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
    "enumerate": (list,), "transform": (dict,), "endpoint_in_url": (bool,),
}
PREFIX = "#+"


class _StrictLoader(yaml.SafeLoader):
    """The safe loader, refusing a key given twice (YAML keeps the last one silently)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
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
        if key in ("tags", "defaults", "parameters") and isinstance(value, list):
            item_type = str if key == "tags" else dict
            for item, item_node in zip(value, value_node.value, strict=True):
                if not isinstance(item, item_type):
                    line, column = _locate(item_node.start_mark, raw, len(lines))
                    raise InputError(f"each item of {key!r} must be {_TYPE_NAMES[item_type]}, not "
                                     f"{_TYPE_NAMES.get(type(item), type(item).__name__)}", path=path, line=line,
                                     column=column)
    return header, body


_TYPE_NAMES = {str: "text", list: "a list", dict: "a mapping (`key: value`)", int: "a number", bool: "true or false",
               float: "a number"}


def _locate(mark: yaml.Mark | None, raw: list[str], count: int) -> tuple[int | None, int | None]:
    """A YAML mark (0-based, in the stripped block) as a 1-based line and column of the `.rq` file."""
    if mark is None:
        return None, None
    line = min(mark.line, count - 1)
    return line + 1, mark.column + 1 + _prefix_width(raw[line])
