"""Containers that remember where in which YAML file they came from.

The loader builds :class:`LDict` / :class:`LList` instead of plain ``dict`` /
``list`` so that validation, which runs long after parsing (and after ``$ref``
files have been spliced together), can still name the file and line of the
offending key. Compiled specs never hold these types: :func:`to_plain` turns a
located tree back into plain JSON-compatible data.
"""

from __future__ import annotations

from typing import Any

from hotmesh_nb.errors import ValidationError


class LDict(dict):
    """A ``dict`` with the file and line of the mapping and of each of its keys."""

    __slots__ = ("file", "key_lines", "line")

    def __init__(self, *args: Any, file: str | None = None, line: int | None = None) -> None:
        super().__init__(*args)
        self.file = file
        self.line = line
        self.key_lines: dict[str, int] = {}


class LList(list):
    """A ``list`` with the file and line of the sequence and of each item."""

    __slots__ = ("file", "item_lines", "line")

    def __init__(self, *args: Any, file: str | None = None, line: int | None = None) -> None:
        super().__init__(*args)
        self.file = file
        self.line = line
        self.item_lines: list[int | None] = []


def file_of(node: Any, default: str | None = None) -> str | None:
    """The file a located node came from (``default`` for plain values)."""
    return getattr(node, "file", None) or default


def line_of(node: Any, key: Any = None) -> int | None:
    """The line of ``node[key]`` (or of ``node`` itself when ``key`` is None).

    Scalars carry no marks, so a scalar's position is the line of the key or
    item that holds it; falls back to the container's own line.
    """
    if isinstance(node, LDict):
        if key is not None and key in node.key_lines:
            return node.key_lines[key]
        return node.line
    if isinstance(node, LList):
        if isinstance(key, int) and 0 <= key < len(node.item_lines):
            line = node.item_lines[key]
            if line is not None:
                return line
        return node.line
    return None


def to_plain(value: Any) -> Any:
    """Deep-copy a located tree into plain ``dict``/``list`` values.

    Raises :class:`ValidationError` on a structure that refers to itself (a
    recursive YAML alias), which JSON - and therefore Redis storage - cannot
    represent.
    """
    return _plain(value, set())


def _plain(value: Any, active: set[int]) -> Any:
    if isinstance(value, dict):
        if id(value) in active:
            raise ValidationError(
                "a YAML alias refers to the mapping that contains it; "
                "recursive structures cannot be stored - expand the alias by hand",
                file=file_of(value),
                line=line_of(value),
            )
        active.add(id(value))
        try:
            return {str(k): _plain(v, active) for k, v in value.items()}
        finally:
            active.discard(id(value))
    if isinstance(value, list):
        if id(value) in active:
            raise ValidationError(
                "a YAML alias refers to the sequence that contains it; "
                "recursive structures cannot be stored - expand the alias by hand",
                file=file_of(value),
                line=line_of(value),
            )
        active.add(id(value))
        try:
            return [_plain(v, active) for v in value]
        finally:
            active.discard(id(value))
    return value
