"""Reading MeshData's ``search`` options in our shape and in the original's.

Two things are called ``search`` in MeshData:

* the **index** (``MeshData(search=...)``, ``connect(search=...)``,
  ``create_search_index(search=...)``): a :class:`~hotmesh_nb.SearchOptions`
  or a dict ``{'index', 'prefix'?, 'schema'?}`` — the original's
  ``WorkflowSearchOptions``, whose ``data`` key is accepted and ignored there;
* the **field values** a record is seeded with (``exec(search=...)``) or
  given (``set(...)``): ``{'name': 'cat', 'legs': 4}``, or the original's
  ``{'data': {'name': 'cat', 'legs': 4}}`` (``set`` also takes the original's
  ``{'search': {'data': {...}}}``).

Anything else is refused with a ``ValueError`` or ``TypeError`` that shows the
accepted shapes: nothing is stored as ``'[object Object]'``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from typing import Any

from ..search import SearchOptions

INDEX_KEYS = frozenset({"index", "prefix", "schema", "data"})
"""Keys of an index given as a dict (the original's ``WorkflowSearchOptions``)."""

_FIELDS_SHAPES = (
    "pass {'field': value, ...} or the original's {'data': {'field': value, ...}}, "
    "with text, numbers or booleans as values"
)


def index_options(search: SearchOptions | Mapping[str, Any] | None) -> SearchOptions | None:
    """An index given as :class:`SearchOptions` or a dict, else a clear error."""
    if search is None or isinstance(search, SearchOptions):
        return search
    if not isinstance(search, Mapping):
        raise TypeError(
            f"search must be SearchOptions or a dict {{'index', 'prefix', 'schema'}}, "
            f"not {type(search).__name__}"
        )
    unknown = sorted(str(k) for k in search if k not in INDEX_KEYS)
    if unknown:
        raise ValueError(
            f"search index options have unknown keys {unknown}: use 'index' (the index "
            "name), 'prefix' (record id prefixes) and 'schema' ({field: {'type': 'TAG' | "
            "'TEXT' | 'NUMERIC', ...}})"
        )
    index = search.get("index")
    if not isinstance(index, str) or not index:
        raise ValueError(
            f"search index options need an 'index' name (a non-empty string), got {index!r}"
        )
    schema = search.get("schema")
    if schema is not None and not isinstance(schema, Mapping):
        raise TypeError(f"search 'schema' must be a dict of fields, not {type(schema).__name__}")
    prefix = search.get("prefix")
    if prefix is not None and not isinstance(prefix, (str, list, tuple)):
        raise TypeError(
            f"search 'prefix' must be a string or a list of strings, not {type(prefix).__name__}"
        )
    return SearchOptions(index, prefix, dict(schema) if schema is not None else None)


def field_values(
    search: Mapping[str, Any] | None, what: str = "search", *, nested: bool = False
) -> dict[str, Any] | None:
    """The field values of ``search`` in either shape, checked; None when not given.

    ``nested`` also unwraps the original's ``{'search': {'data': {...}}}`` (the
    options object of its ``set``).
    """
    if search is None:
        return None
    if not isinstance(search, Mapping):
        raise TypeError(f"{what} must be a dict: {_FIELDS_SHAPES}; got {type(search).__name__}")
    if nested and isinstance(search.get("search"), Mapping) and len(search) == 1:
        search = search["search"]
    if isinstance(search.get("data"), Mapping):
        others = sorted(str(k) for k in search if k != "data")
        if any(k not in INDEX_KEYS for k in others):
            raise ValueError(
                f"{what} mixes the original's {{'data': {{...}}}} with other fields {others}: "
                f"{_FIELDS_SHAPES}"
            )
        search = search["data"]
    values: dict[str, Any] = {}
    for name, value in search.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"{what} field names must be non-empty strings, not {name!r}")
        if isinstance(value, (str, int)) or (isinstance(value, float) and math.isfinite(value)):
            values[name] = value  # bool is an int: stored as 'true' / 'false'
            continue
        raise ValueError(
            f"{what} field {name!r} holds {type(value).__name__} {value!r}, which a searchable "
            f"field cannot store: {_FIELDS_SHAPES}"
        )
    return values


_RESERVED_MARKERS = "-md:"
"""Prefix of MeshData's own marker fields (a held record's result)."""


def marker_values(marker: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The original's ``marker`` (``{'-name': value}``) checked; None when not given.

    A name may be written with or without its ``-``. Names ending in ``-`` are the
    replay ledger's (``-proxy-1-``, ``-signal-in-``) and ``-md:`` names MeshData's own:
    a marker there would corrupt the record, so both are refused, as are values
    that are not text, numbers or booleans.
    """
    if marker is None:
        return None
    if not isinstance(marker, Mapping):
        raise TypeError(
            f"exec's marker must be a dict {{'-name': value}}, not {type(marker).__name__}"
        )
    values: dict[str, Any] = {}
    for name, value in marker.items():
        if not isinstance(name, str) or name.strip("-") == "":
            raise ValueError(f"marker names are non-empty strings such as '-stage', not {name!r}")
        field = name if name.startswith("-") else f"-{name}"
        if field.endswith("-") or field.startswith(_RESERVED_MARKERS):
            raise ValueError(
                f"marker {name!r} is reserved: names ending in '-' belong to the replay "
                "ledger and '-md:' names to MeshData; choose a name such as '-stage'"
            )
        if isinstance(value, (str, int)) or (isinstance(value, float) and math.isfinite(value)):
            values[field] = value
            continue
        raise ValueError(
            f"marker {name!r} holds {type(value).__name__} {value!r}: a marker stores text, "
            "numbers or booleans"
        )
    return values


_LEVELS = {
    "silly": logging.DEBUG,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
    "silent": logging.CRITICAL + 10,
}
"""The original's log level names (``logLevel``) and Python's, as logging levels."""


def log_level(value: str | int) -> int:
    """A logging level from a name (``'debug'``, the original's ``'warn'``, ``'silent'``)
    or a number (``logging.DEBUG``)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _LEVELS:
        return _LEVELS[value.strip().lower()]
    raise ValueError(
        f"log_level must be a logging level (logging.DEBUG, 10) or one of "
        f"{', '.join(repr(n) for n in _LEVELS)}, not {value!r}"
    )
