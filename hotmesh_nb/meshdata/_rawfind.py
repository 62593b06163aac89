"""The original's raw form of ``find``: ``FT.SEARCH`` arguments in, its reply shape out.

``md.find('animal', {'index': 'animals'}, '@_legs:[4 +inf]', 'RETURN', 1, '_name',
'LIMIT', 0, 5)`` answers as ``FT.SEARCH animals @_legs:[4 +inf] RETURN 1 _name LIMIT 0
5`` does: ``[count, key, [field, value, ...], ...]``, where ``key`` is the record's job
hash key (:meth:`MeshData.mint_key`). ``NOCONTENT`` gives ``[count, key, ...]`` and
``LIMIT 0 0`` just ``[count]``. Without ``RETURN`` every field of each hash comes back,
as with ``FT.SEARCH``.

The answers are the same on the native index and on our fallback: the search itself
runs through :class:`~hotmesh_nb.search.SearchEngine` (the query is one argument, so it
can never add arguments of its own), and the fields are read from the hashes here.
Only arguments with the same meaning on both indexes are taken — ``RETURN``,
``LIMIT``, ``SORTBY`` (``ASC``/``DESC``) and ``NOCONTENT`` — and ``RETURN``/``SORTBY``
name searchable fields (``_name``, or a schema name); anything else is refused with a
:class:`~hotmesh_nb.QueryError` naming what is accepted. The original's
``'FT.SEARCH', <index>, <query>, ...`` form works too (the index is looked up in the
namespace, never outside it), and ``'FT._LIST'`` lists the namespace's indexes; other
``FT.*`` commands (which create, drop or alter indexes) are refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..search import SearchOptions
from ..search._search_query import QueryError

OPTION_KEYS = frozenset({"index", "namespace", "taskQueue", "workflowName", "search"})
"""Keys of the original's ``find`` options object."""

_ACCEPTED = "RETURN n field..., LIMIT offset count, SORTBY field [ASC|DESC] and NOCONTENT"


@dataclass
class RawFind:
    """A raw ``find`` call, read and checked."""

    query: str
    """The search query (RediSearch syntax)."""
    index: str | None = None
    """The index named by the call (None: the entity's)."""
    namespace: str | None = None
    """The namespace named by the options object."""
    returns: list[str] | None = None
    """Hash fields of ``RETURN`` (None: every field)."""
    offset: int = 0
    """``LIMIT`` offset."""
    limit: int = 10
    """``LIMIT`` count (FT.SEARCH's default is 10)."""
    sort_by: str | None = None
    """Hash field of ``SORTBY``."""
    ascending: bool = True
    """``ASC`` (default) or ``DESC``."""
    no_content: bool = False
    """``NOCONTENT``: keys only."""
    list_indexes: bool = False
    """``FT._LIST`` was asked for."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Unused options the original takes (``taskQueue``, ``workflowName``)."""


def options_of(options: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """``(index, namespace)`` of the original's options object, or a clear error."""
    unknown = sorted(str(k) for k in options if k not in OPTION_KEYS)
    if unknown:
        raise QueryError(
            f"find options have unknown keys {unknown}: the original's find takes "
            f"{sorted(OPTION_KEYS)}"
        )
    index = options.get("index")
    search = options.get("search")
    if index is None and search is not None:
        index = search.index if isinstance(search, SearchOptions) else dict(search).get("index")
    namespace = options.get("namespace")
    for name, value in (("index", index), ("namespace", namespace)):
        if value is not None and (not isinstance(value, str) or not value):
            raise QueryError(f"find's {name} must be a non-empty string, not {value!r}")
    return index, namespace


def parse(args: Sequence[Any], index: str | None) -> RawFind:
    """Read ``args`` (a query, then ``FT.SEARCH`` arguments; or an ``FT.*`` command)."""
    words = list(args)
    if not words:
        raise QueryError("find needs a query ('*' for every record), then FT.SEARCH arguments")
    head = words[0]
    if isinstance(head, str) and head.upper().startswith("FT."):
        command = head.upper()
        if command == "FT._LIST" and len(words) == 1:
            return RawFind("", list_indexes=True)
        if command != "FT.SEARCH":
            raise QueryError(
                f"find runs FT.SEARCH (and FT._LIST) only, not {head}: create indexes with "
                "create_search_index(), list them with list_search_indexes()"
            )
        if len(words) < 3:
            raise QueryError("FT.SEARCH needs an index and a query: 'FT.SEARCH', index, query")
        index = _text(words[1], "the FT.SEARCH index")
        words = words[2:]
    query = _text(words[0], "the query")
    found = RawFind(query, index=index)
    _options(found, words[1:])
    return found


def _text(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise QueryError(f"{what} must be a non-empty string, not {value!r}")
    return value


def _count(value: Any, what: str) -> int:
    """A non-negative whole number given as a number or numeric text."""
    if isinstance(value, bool):
        raise QueryError(f"{what} must be a whole number, not {value!r}")
    try:
        number = int(str(value).strip()) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise QueryError(f"{what} must be a whole number, not {value!r}") from None
    if number < 0 or (isinstance(value, float) and not value.is_integer()):
        raise QueryError(f"{what} must be a whole number of at least 0, not {value!r}")
    return number


def _options(found: RawFind, words: list[Any]) -> None:
    position = 0
    while position < len(words):
        word = words[position]
        keyword = word.upper() if isinstance(word, str) else None
        if keyword == "RETURN":
            if position + 1 >= len(words):
                raise QueryError("RETURN needs a count, then that many fields")
            count = _count(words[position + 1], "the RETURN count")
            names = words[position + 2 : position + 2 + count]
            if len(names) != count:
                raise QueryError(f"RETURN {count} names {len(names)} field(s): {names!r}")
            found.returns = [_text(n, "a RETURN field") for n in names]
            position += 2 + count
        elif keyword == "LIMIT":
            if position + 2 >= len(words):
                raise QueryError("LIMIT needs an offset and a count: 'LIMIT', 0, 10")
            found.offset = _count(words[position + 1], "the LIMIT offset")
            found.limit = _count(words[position + 2], "the LIMIT count")
            position += 3
        elif keyword == "SORTBY":
            if position + 1 >= len(words):
                raise QueryError("SORTBY needs a field: 'SORTBY', '_legs', 'DESC'")
            found.sort_by = _text(words[position + 1], "the SORTBY field")
            position += 2
            order = words[position] if position < len(words) else None
            if isinstance(order, str) and order.upper() in ("ASC", "DESC"):
                found.ascending = order.upper() == "ASC"
                position += 1
        elif keyword == "NOCONTENT":
            found.no_content = True
            position += 1
        else:
            raise QueryError(
                f"find does not take {word!r} here: after the query it takes {_ACCEPTED} "
                "(the arguments that answer alike on the native index and the fallback)"
            )


def field_of(name: str, options: SearchOptions, what: str) -> tuple[str, str]:
    """``(schema name, hash field)`` of a RETURN/SORTBY name, or a clear error.

    A searchable field is named as stored (``_legs``) or by its schema name
    (``legs``); engine fields of the job hash are not searchable data.
    """
    for schema_name in options.schema:
        if name in (schema_name, options.hash_field(schema_name)):
            return schema_name, options.hash_field(schema_name)
    if name.startswith("_") and len(name) > 1:
        return name[1:], name
    known = ", ".join(options.hash_field(n) for n in options.schema) or "none in its schema"
    raise QueryError(
        f"{what} {name!r} is not a searchable field of index '{options.index}' ({known}; "
        "any other searchable field is named with its '_', e.g. '_color')"
    )
