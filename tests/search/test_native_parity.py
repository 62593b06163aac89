"""The same queries give the same answers on the native index (FT.*) and the fallback.

Runs when the ``[search]`` extra is installed: an embedded server with the search
module starts in its own data folder for this module.
"""

from __future__ import annotations

import asyncio

import pytest
from search_helpers import needs_module
from test_fallback_search import RECORDS

import hotmesh_nb
from hotmesh_nb.keys import Keys
from hotmesh_nb.runtime import get_runtime
from hotmesh_nb.search import SearchEngine, SearchOptions

pytestmark = [pytest.mark.search, needs_module]

SCHEMA = {
    "status": {"type": "TAG"},
    "amount": {"type": "NUMERIC", "sortable": True},
    "note": {"type": "TEXT", "nostem": True},
}

QUERIES = [
    "*",
    "@_status:{open}",
    "@_status:{OPEN|shipped}",
    "@_status:{refunded}",
    "@_amount:[10 99]",
    "@_amount:[(10 +inf]",
    "@_amount:[-inf (10]",
    "@_note:blue",
    '@_note:"blue lamp"',
    '@_note:"kitchen chair"',
    "@_note:(red sofa)",
    "kitchen",
    "@_status:{open} @_amount:[50 +inf]",
    "-@_status:{open}",
    "@_note:the",
]


def _answers(url: str, namespace: str, mode: str) -> dict[str, list[str]]:
    conn = hotmesh_nb.connect(url)
    engine = SearchEngine(conn.client, Keys(f"{namespace}{mode}", "shop"), mode=mode)  # type: ignore[arg-type]

    async def go() -> dict[str, list[str]]:
        await engine.create_index(SearchOptions("orders", prefix=["order-"], schema=SCHEMA))
        for record, fields in RECORDS.items():
            await engine.write(record, fields)
        await asyncio.sleep(0.1)  # the native index updates asynchronously on some servers
        out = {}
        for query in QUERIES:
            result = await engine.search("orders", query, limit=100)
            out[query] = sorted(rid for rid, _ in result.records)
        sorted_page = await engine.search(
            "orders", "@_amount:[-inf +inf]", sort_by="amount", ascending=False, limit=2
        )
        out["sorted"] = [rid for rid, _ in sorted_page.records]
        out["count"] = [str(sorted_page.count)]
        return out

    return get_runtime().run(go())


def test_native_and_fallback_agree(search_url: str, namespace: str) -> None:
    native = _answers(search_url, namespace, "native")
    fallback = _answers(search_url, namespace, "fallback")
    assert native == fallback
    assert native["@_status:{open}"] == ["order-1", "order-3"]
    assert native["sorted"] == ["order-2", "order-3"] and native["count"] == ["4"]


def test_an_index_on_a_prefix_only_touches_that_prefix(search_url: str, namespace: str) -> None:
    assert _answers(search_url, namespace, "native")["*"] == [
        "order-1",
        "order-2",
        "order-3",
        "order-4",
    ]
