"""On a Redis Cluster, the partitions' indexes live on every primary and a search merges
them: the rows are those of one partition on one server.

A cluster of 3 primaries (the embedded server binary, in a home of this module's own)
holds an app of 7 partitions; the same records in an app of 1 partition on the tests'
single server are the reference. The native module is not used on a cluster.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from search_helpers import home
from test_search_partitions import INDEX, QUERIES, RECORDS

import hotmesh_nb
from hotmesh_nb import server
from hotmesh_nb.connection import is_cluster, scan_page
from hotmesh_nb.keys import Keys
from hotmesh_nb.runtime import get_runtime
from hotmesh_nb.search import SearchEngine
from hotmesh_nb.search._search_jobs import id_matcher, records


@pytest.fixture(scope="module")
def cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    path = tmp_path_factory.mktemp("searchcluster")
    with home(path):
        server.cluster_start(primaries=3, replicas=0)
        url = server.cluster_url()
    yield url
    hotmesh_nb.shutdown()
    with home(path):
        server.cluster_stop(remove=True)


def run(coro: Any) -> Any:
    return get_runtime().run(coro)


def _load(url: str, keys: Keys) -> SearchEngine:
    engine = SearchEngine(hotmesh_nb.connect(url).client, keys)  # auto: native where it may

    async def go() -> None:
        half = len(RECORDS) // 2
        items = list(RECORDS.items())
        for record, fields in items[:half]:
            await engine.write(record, fields)
        assert await engine.create_index(INDEX) is True  # a rebuild over every node
        for record, fields in items[half:]:
            await engine.write(record, fields)

    run(go())
    return engine


def test_a_cluster_of_seven_partitions_answers_as_one_server(
    cluster_url: str, redis_url: str, namespace: str
) -> None:
    seven = _load(cluster_url, Keys(namespace, "shop", 7))
    one = _load(redis_url, Keys(namespace, "shop", 1))
    assert is_cluster(seven.client) and run(seven.native()) is False
    # The partitions (and so the records and their index entries) are on every primary.
    nodes = {seven.client.get_node_from_key(p.prefix).name for p in seven.keys.parts}  # type: ignore[attr-defined]
    assert len(nodes) == 3

    def rows(engine: SearchEngine, query: str, **options: Any) -> tuple[int, list[Any]]:
        result = run(engine.search("orders", query, **options))
        return result.count, result.records

    for query in QUERIES:
        assert rows(seven, query, limit=100) == rows(one, query, limit=100), query
    for field in ("amount", "city"):
        for ascending in (True, False):
            for offset in range(0, 42, 6):
                options = {"sort_by": field, "ascending": ascending, "offset": offset, "limit": 6}
                assert rows(seven, "*", **options) == rows(one, "*", **options)
    assert rows(seven, "-@_status:{open}", limit=0) == rows(one, "-@_status:{open}", limit=0)
    hotmesh_nb.shutdown()


def test_job_records_are_found_on_every_node(cluster_url: str, namespace: str) -> None:
    keys = Keys(namespace, "jobs", 7)
    client = hotmesh_nb.connect(cluster_url).client
    ids = [f"user-{n}" for n in range(30)] + ["admin-1"]

    async def go() -> tuple[set[str], list[str]]:
        for record in ids:
            await client.hset(keys.job(record), "_x", "1")
        every = {r async for r in records(client, keys, "user-*", count=5)}
        cursor, paged = 0, []
        while True:
            cursor, page = await scan_page(
                client, cursor=cursor, match=keys.jobs_pattern("user-*"), count=4
            )
            read = (keys.job_id_of(k) for k in page)
            paged += [i for i in read if i is not None and id_matcher("user-*")(i)]
            if cursor == 0:
                return every, paged

    every, paged = run(go())
    assert every == set(paged) == set(ids[:-1])
    hotmesh_nb.shutdown()
