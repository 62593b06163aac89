"""The fallback search index (no FT.*): TAG, NUMERIC ranges, TEXT, AND, prefixes, frames."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest

import hotmesh_nb
from hotmesh_nb.keys import DEFAULT_PARTITIONS, Keys
from hotmesh_nb.runtime import get_runtime
from hotmesh_nb.search import SearchEngine, SearchOptions, clauses_to_query, parse_query
from hotmesh_nb.search._search_query import QueryError

SCHEMA = {
    "status": {"type": "TAG"},
    "amount": {"type": "NUMERIC", "sortable": True},
    "note": {"type": "TEXT"},
}

RECORDS = {
    "order-1": {"status": "open", "amount": 10, "note": "Blue chair for the kitchen"},
    "order-2": {"status": "shipped", "amount": 250.5, "note": "red sofa"},
    "order-3": {"status": "open", "amount": 99, "note": "blue lamp"},
    "order-4": {"status": "cancelled,refunded", "amount": -5, "note": "Kitchen table"},
    "other-1": {"status": "open", "amount": 1, "note": "blue"},
}


@pytest.fixture
def search(redis_url: str, namespace: str) -> Iterator[SearchEngine]:
    conn = hotmesh_nb.connect(redis_url)
    engine = SearchEngine(conn.client, Keys(namespace, "shop", DEFAULT_PARTITIONS), mode="fallback")
    yield engine
    hotmesh_nb.shutdown()


def run(coro: Any) -> Any:
    return get_runtime().run(coro)


def _load(search: SearchEngine, index_first: bool) -> None:
    options = SearchOptions("orders", prefix=["order-"], schema=SCHEMA)

    async def go() -> None:
        if index_first:
            assert await search.create_index(options) is True
        for record, fields in RECORDS.items():
            await search.write(record, fields)
        if not index_first:
            assert await search.create_index(options) is True
        assert await search.create_index(options) is False

    run(go())


def ids(search: SearchEngine, query: str, **options: Any) -> list[str]:
    result = run(search.search("orders", query, limit=100, **options))
    return [rid for rid, _ in result.records]


@pytest.mark.parametrize("index_first", [True, False])
def test_tag_numeric_text_and_and(search: SearchEngine, index_first: bool) -> None:
    _load(search, index_first)
    assert ids(search, "*") == ["order-1", "order-2", "order-3", "order-4"]  # prefix only
    assert ids(search, "@_status:{open}") == ["order-1", "order-3"]
    assert ids(search, "@_status:{OPEN|shipped}") == ["order-1", "order-2", "order-3"]
    assert ids(search, "@_status:{refunded}") == ["order-4"]
    assert ids(search, "@_amount:[10 99]") == ["order-1", "order-3"]
    assert ids(search, "@_amount:[(10 +inf]") == ["order-2", "order-3"]
    assert ids(search, "@_amount:[-inf 0]") == ["order-4"]
    assert ids(search, "@_note:blue") == ["order-1", "order-3"]
    assert ids(search, '@_note:"kitchen chair"') == []  # a phrase keeps its order
    assert ids(search, '@_note:"chair kitchen"') == ["order-1"]  # stop words take no place
    assert ids(search, "kitchen") == ["order-1", "order-4"]
    assert ids(search, "@_status:{open} @_amount:[50 +inf]") == ["order-3"]
    assert ids(search, "-@_status:{open}") == ["order-2", "order-4"]
    assert ids(search, "@_amount:[0 +inf]", sort_by="amount", ascending=False) == [
        "order-2",
        "order-3",
        "order-1",
    ]


def test_updates_move_records_between_index_entries(search: SearchEngine) -> None:
    _load(search, True)
    run(search.write("order-1", {"status": "shipped", "amount": 1000}))
    assert ids(search, "@_status:{open}") == ["order-3"]
    assert ids(search, "@_status:{shipped}") == ["order-1", "order-2"]
    assert ids(search, "@_amount:[500 +inf]") == ["order-1"]
    run(search.write("order-3", {}, ["note"]))
    assert ids(search, "@_note:blue") == ["order-1"]


def test_concurrent_increments_are_never_lost(search: SearchEngine) -> None:
    _load(search, True)

    async def bump() -> list[float]:
        return await asyncio.gather(*(search.incr("order-1", "amount", 1) for _ in range(40)))

    values = run(bump())
    assert max(values) == 50 and sorted(values) == [float(v) for v in range(11, 51)]
    assert ids(search, "@_amount:[50 50]") == ["order-1"]


def test_results_become_a_typed_frame(search: SearchEngine) -> None:
    _load(search, True)
    result = run(search.search("orders", "@_status:{open|shipped}", limit=2))
    assert result.count == 3 and len(result.records) == 2
    frame = run(search.search("orders", "*", limit=10)).to_frame()
    assert list(frame.columns) == ["status", "amount", "note"]
    assert frame.index.name == "id" and list(frame.index) == sorted(frame.index)
    assert frame["amount"].dtype.kind == "f"
    assert isinstance(frame["status"].dtype, pd.CategoricalDtype)
    assert frame.loc["order-2", "amount"] == 250.5


def test_find_where_clauses_build_the_originals_queries() -> None:
    options = SearchOptions("x", schema=SCHEMA)
    clauses = [
        {"field": "status", "is": "=", "value": "open"},
        {"field": "amount", "is": ">=", "value": 5},
        {"field": "amount", "is": "[]", "value": [1, 9]},
        {"field": "note", "is": "=", "value": "blue"},
    ]
    assert clauses_to_query(clauses, options) == (
        '@_status:{open} @_amount:[5 +inf] @_amount:[1 9] @_note:"blue"'
    )
    assert clauses_to_query([], options) == "*"
    with pytest.raises(QueryError, match=r"'free' is not searchable in index 'x'.*status"):
        clauses_to_query([{"field": "free", "is": "=", "value": "x"}], options)
    with pytest.raises(QueryError, match=r"'amount' is NUMERIC.*'5 OR 1'"):
        clauses_to_query([{"field": "amount", "is": "=", "value": "5 OR 1"}], options)


@pytest.mark.parametrize(
    "bad",
    [
        "@_status:{open",
        "a | b",
        "blu*",
        "@_amount:[1]",
        "@x:[a b]",
        "@_status:{}",
        '@_note:"chair for the kitchen"',  # RediSearch refuses stop words in quotes
        "@_amount:[1e+5 +inf]",  # and a + in an exponent
    ],
)
def test_unsupported_queries_say_why(bad: str) -> None:
    with pytest.raises(QueryError):
        parse_query(bad)


def test_an_index_written_by_an_older_version_is_reindexed(
    search: SearchEngine, caplog: pytest.LogCaptureFixture
) -> None:
    from hotmesh_nb._codec import dumps

    _load(search, True)
    client, keys = search.client, search.keys

    async def make_it_old() -> None:
        # As an older version left it: no layout mark, no stems, no member lists.
        options = SearchOptions("orders", prefix=["order-"], schema=SCHEMA)
        await client.hset(keys.search_indexes, "orders", dumps(options.to_dict()))
        for part in keys.parts:
            pattern = part.search_key("orders", "*").replace("{", "\\{").replace("}", "\\}")
            async for key in client.scan_iter(match=pattern):
                if ":w:note:+" in key or ":r:" in key:
                    await client.delete(key)

    run(make_it_old())
    later = SearchEngine(client, keys, mode="fallback")  # another process, later
    with caplog.at_level("WARNING", logger="hotmesh_nb.search._fallback"):
        found = [rid for rid, _ in run(later.search("orders", "kitchens", limit=10)).records]
    assert found == ["order-1", "order-4"]  # kitchens → kitchen: the stems are back
    assert "written by an older version" in caplog.text
    assert run(client.exists(keys.part_of("order-1").search_key("orders", "r", "order-1")))
    caplog.clear()
    assert ids(search, "@_note:lamps") == ["order-3"]
    assert "older version" not in caplog.text  # once
