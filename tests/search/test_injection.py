"""Query injection: a ``find_where`` value only ever matches itself, on both indexes.

Each payload is stored as the TAG and the TEXT value of a record of its own; two
other records are what an injected query would reach (every record, the
``open`` one, the numeric range, a fuzzy neighbour). Searching for the payload
must return exactly what a literal match returns: for a TAG, the one record
whose tag is the payload; for TEXT, the records holding the payload's words in
that order. The answers are written out by hand and checked on the native index
(RediSearch) and on the fallback index alike.
"""

from __future__ import annotations

import asyncio
import math
from decimal import Decimal
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis import exceptions as redis_errors
from search_helpers import needs_module

import hotmesh_nb
from hotmesh_nb.keys import DEFAULT_PARTITIONS, Keys
from hotmesh_nb.runtime import get_runtime
from hotmesh_nb.search import SearchEngine, SearchOptions, clauses_to_query
from hotmesh_nb.search._search_query import QueryError

SCHEMA = {
    "status": {"type": "TAG"},
    "note": {"type": "TEXT"},
    "amount": {"type": "NUMERIC"},
    "kind_of": {"type": "TAG"},
}

VICTIMS = {
    "v-1": {"status": "open", "note": "blue chair", "amount": 10, "kind_of": "x"},
    "v-2": {"status": "closed", "note": "red sofa", "amount": 20, "kind_of": "y"},
}

# payload → (rows of a TAG search for it, rows of a TEXT search for it); "p" is the
# payload's own record, p-NN the record of the NN-th payload.
PAYLOADS: list[tuple[str, list[str], list[str]]] = [
    ('x" | @_status:{open} "y', ["p"], ["p"]),  # quotes, |, @field:{…}
    ("z} | @_status:{open", ["p"], ["p"]),  # closes the tag braces
    ("@_amount:[0 +inf]", ["p"], ["p"]),  # a numeric range
    ('q\\" | @_status:{open} \\"', ["p"], ["p"]),  # escaped quotes
    ("-chair", ["p"], ["p", "v-1", "p-06", "p-07"]),  # negation; chair is theirs too
    ("*", ["p"], []),  # every record; as text it has no word
    ("(chair | sofa)", ["p"], ["p"]),  # an OR group
    ("sofa | chair", ["p"], ["p"]),  # OR between terms
    ("%%sofaa%%", ["p"], ["p"]),  # fuzzy: would reach v-2's sofa
    ("back\\\\slash\\", ["p"], ["p"]),  # backslashes, one trailing
    ("\\{open\\}", ["p"], ["p"]),  # escaped braces
    ("~blue", ["p"], ["p", "v-1"]),  # an optional term; blue is v-1's too
    ("$p", ["p"], ["p"]),  # a query parameter
    ("-@_status:{closed}", ["p"], ["p"]),  # a negated tag clause
    ("OR 1=1", ["p"], ["p"]),
    ('"', ["p"], []),  # a lone quote: no word
    ("a, b", [], ["p"]),  # a comma: a stored TAG value "a, b" holds two tags
    ("   ", [], []),  # only blanks: nothing to match
    ("ÉCOLE|x", ["p"], ["p"]),  # non-ASCII and |
    ("@_kind\\_of:{x}", ["p"], ["p"]),  # a field of the schema, escaped
]


def record_of(position: int) -> str:
    return f"p-{position:02d}"


def _engine(url: str, namespace: str, mode: str) -> tuple[SearchEngine, SearchOptions]:
    conn = hotmesh_nb.connect(url)
    engine = SearchEngine(conn.client, Keys(namespace, "shop", DEFAULT_PARTITIONS), mode=mode)  # type: ignore[arg-type]
    options = SearchOptions("things", prefix=["v-", "p-"], schema=SCHEMA)

    async def load() -> None:
        await engine.create_index(options)
        for record, fields in VICTIMS.items():
            await engine.write(record, fields)
        for position, (payload, _, _) in enumerate(PAYLOADS):
            fields = {"status": payload, "note": payload, "amount": 1000 + position}
            await engine.write(record_of(position), fields)
        deadline = asyncio.get_running_loop().time() + 10
        while (await engine.search("things", "*", limit=0)).count < len(PAYLOADS) + 2:
            assert asyncio.get_running_loop().time() < deadline, "records never indexed"
            await asyncio.sleep(0.02)  # the native index updates asynchronously

    get_runtime().run(load())
    return engine, options


def _rows(engine: SearchEngine, options: SearchOptions, clauses: list[dict[str, Any]]) -> list[str]:
    query = clauses_to_query(clauses, options)
    result = get_runtime().run(engine.search("things", query, limit=1000))
    return sorted(rid for rid, _ in result.records)


def _check(url: str, namespace: str, mode: str) -> None:
    engine, options = _engine(url, namespace, mode)
    for position, (payload, tag_rows, text_rows) in enumerate(PAYLOADS):
        own = record_of(position)
        for kind, expected in (("status", tag_rows), ("note", text_rows)):
            want = sorted(own if r == "p" else r for r in expected)
            clause = [{"field": kind, "is": "=", "value": payload}]
            assert _rows(engine, options, clause) == want, (mode, kind, payload)
        # Joined to a clause that selects nothing else, the value still cannot widen it.
        clauses = [
            {"field": "amount", "is": "=", "value": 1000 + position},
            {"field": "status", "is": "=", "value": payload},
        ]
        assert _rows(engine, options, clauses) == ([own] if tag_rows else []), (mode, payload)
        # A NUMERIC value is a number or a clear error, before any index is asked.
        with pytest.raises(QueryError, match="'amount' is NUMERIC: its value must be a number"):
            clauses_to_query([{"field": "amount", "is": ">=", "value": payload}], options)
    # Numbers given as numbers or numeric strings, in every comparison.
    amount = [{"field": "amount", "is": "=", "value": " 20 "}]
    assert _rows(engine, options, amount) == ["v-2"]
    assert _rows(engine, options, [{"field": "amount", "is": "<", "value": 1e1}]) == ["v-1"]
    between = [{"field": "amount", "is": "[]", "value": (-math.inf, Decimal("15"))}]
    assert _rows(engine, options, between) == ["v-1"]
    for bad in (math.nan, True, None, "1e999", "0x10", [1], "nan", 1j, 10**400, "5 OR 1"):
        with pytest.raises(QueryError, match="must be a number"):
            clauses_to_query([{"field": "amount", "is": "=", "value": bad}], options)
    # Field names: only the schema's, however they are spelt.
    for field in ("status} | @_amount:[0 +inf] @x:{", "_amount:[0 +inf] @status", "nope"):
        with pytest.raises(QueryError, match="is not searchable in index 'things'"):
            clauses_to_query([{"field": field, "is": "=", "value": "open"}], options)
    assert _rows(engine, options, [{"field": "kind_of", "is": "=", "value": "x"}]) == ["v-1"]
    for field in ("kind.of", "a b", "x}|@y:{z", ""):
        with pytest.raises(ValueError, match="must be letters, digits and '_' only"):
            SearchOptions("things", schema={field: "TAG"})
    with pytest.raises(ValueError, match="must be letters, digits and '_' only"):
        SearchOptions("things", schema={"ok": {"type": "TAG", "field_name": "_a:b"}})


def test_payloads_match_only_themselves_on_the_fallback_index(
    redis_url: str, namespace: str
) -> None:
    _check(redis_url, namespace, "fallback")


@pytest.mark.search
@needs_module
def test_payloads_match_only_themselves_on_the_native_index(
    search_url: str, namespace: str
) -> None:
    _check(search_url, namespace, "native")


@pytest.mark.search
@needs_module
def test_native_index_names_carry_the_app_prefix(search_url: str, namespace: str) -> None:
    engine, _ = _engine(search_url, namespace, "native")
    names = get_runtime().run(engine.client.execute_command("FT._LIST"))
    assert f"{{{namespace}:shop}}:ft:things" in names
    assert get_runtime().run(engine.list_indexes()) == ["things"]
    # So the key pattern of a namespace covers its indexes, and no other namespace's.
    other, _ = _engine(search_url, f"{namespace}b", "native")
    user = f"{namespace}-user"
    admin = engine.client
    run = get_runtime().run
    run(admin.execute_command("ACL", "SETUSER", user, "on", ">pw", f"~{{{namespace}:*", "+@all"))
    try:
        path = search_url.removeprefix("unix://")
        limited = aioredis.Redis(
            unix_socket_path=path, username=user, password="pw", decode_responses=True
        )
        mine = SearchEngine(limited, Keys(namespace, "shop", DEFAULT_PARTITIONS), mode="native")
        assert run(mine.search("things", "@_status:{open}")).count == 1
        theirs = SearchEngine(
            limited, Keys(f"{namespace}b", "shop", DEFAULT_PARTITIONS), mode="native"
        )
        with pytest.raises(redis_errors.NoPermissionError):
            run(theirs.search("things", "*"))
        assert run(other.search("things", "@_status:{open}")).count == 1  # still there
        run(limited.aclose())
    finally:
        run(admin.execute_command("ACL", "DELUSER", user))
