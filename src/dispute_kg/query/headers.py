"""The `#+` metadata header of stored queries (grlc's convention: YAML behind `#+ `).

Parsed without a YAML library so the query path stays light; the header is a small YAML subset:
`key: value`, lists of `- item`, lists of `- name: value` mappings (one or more keys each), and
the empty flow collections `[]` and `{}`.
"""

from __future__ import annotations

from typing import Any


def split_header(text: str) -> tuple[list[str], str]:
    header, body, in_header = [], [], True
    for line in text.splitlines():
        if in_header and line.startswith("#+"):
            header.append(line[2:].removeprefix(" "))
        else:
            in_header = False
            body.append(line)
    return header, "\n".join(body)


def _scalar(value: str) -> Any:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    if value == "[]":
        return []
    if value == "{}":
        return {}
    if value in ("true", "false"):
        return value == "true"
    if value.lstrip("-").isdigit():
        return int(value)
    return value


def parse_header(lines: list[str]) -> dict[str, Any]:
    """Parse the YAML subset; indentation decides nesting."""
    root: dict[str, Any] = {}
    stack: list[tuple[int, Any]] = [(-1, root)]
    pending_key: list[tuple[int, dict, str]] = []
    for raw in lines:
        if not raw.strip() or raw.lstrip().startswith("#"):
            continue
        indent = len(raw) - len(raw.lstrip())
        line = raw.strip()
        while stack and indent <= stack[-1][0]:
            stack.pop()
        parent = stack[-1][1]
        if pending_key and indent > pending_key[-1][0]:
            _, owner, key = pending_key.pop()
            container: Any = [] if line.startswith("- ") or line == "-" else {}
            owner[key] = container
            stack.append((indent - 1, container))
            parent = container
        else:
            pending_key.clear()
        if line.startswith("-"):
            item = line[1:].strip()
            if not isinstance(parent, list):
                continue
            if ":" in item and not item.startswith(("http:", "https:")) and _is_mapping(item):
                key, _, value = item.partition(":")
                entry: dict[str, Any] = {}
                parent.append(entry)
                if value.strip():
                    entry[key.strip()] = _scalar(value)
                else:
                    pending_key.append((indent, entry, key.strip()))
                stack.append((indent, entry))
            else:
                parent.append(_scalar(item))
            continue
        key, _, value = line.partition(":")
        if isinstance(parent, dict):
            if value.strip():
                parent[key.strip()] = _scalar(value)
            else:
                pending_key.append((indent, parent, key.strip()))
    return root


def _is_mapping(item: str) -> bool:
    key, sep, _ = item.partition(":")
    return bool(sep) and " " not in key.strip() and key.strip() != ""


def read_header(text: str) -> tuple[dict[str, Any], str]:
    lines, body = split_header(text)
    return parse_header(lines), body
