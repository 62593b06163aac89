"""The fallback index of an app with many partitions answers as with one.

The same records are written to an app of one partition and to an app of seven (ids
chosen to land in every partition), and every kind of query — filters, negations,
phrases, counts, sorting both ways, pages across partition borders, a rebuild of an
index defined after its records — gives the same rows. Each record's index entries
live in its own partition, so one script still writes a record and its entries.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from waiting import wait_until

import hotmesh_nb
from hotmesh_nb._codec import dumps
from hotmesh_nb.connection import scan_page
from hotmesh_nb.keys import Keys, glob_escape
from hotmesh_nb.runtime import get_runtime
from hotmesh_nb.search import SearchEngine, SearchOptions, clauses_to_query
from hotmesh_nb.search._search_jobs import glob_regex, id_matcher, records

SCHEMA = {
    "status": {"type": "TAG"},
    "amount": {"type": "NUMERIC", "sortable": True},
    "note": {"type": "TEXT"},
    "city": {"type": "TAG", "sortable": True},
}
INDEX = SearchOptions("orders", prefix=["order-"], schema=SCHEMA)

STATUSES = ["open", "shipped", "cancelled,refunded", "open,urgent"]
NOTES = [
    "Blue chair for the kitchen",
    "red sofa",
    "blue lamp",
    "Kitchen table",
    "chairs and a blue table",
    "the kitchen chair is blue",
]
CITIES = ["Oslo", "bergen", "Tromsø", "alta"]


def _records() -> dict[str, dict[str, Any]]:
    """40 orders, a few without an amount or a city, a few with equal amounts, and
    records the index does not cover (another prefix)."""
    found: dict[str, dict[str, Any]] = {}
    for n in range(40):
        fields: dict[str, Any] = {
            "status": STATUSES[n % 4],
            "note": NOTES[n % 6],
        }
        if n % 7:
            fields["amount"] = (n * 37) % 50 - 10  # repeats: ties are ordered by id
        if n % 5:
            fields["city"] = CITIES[n % 4]
        found[f"order-{n}"] = fields
    found["order-nan"] = {"status": "open", "amount": "not a number", "note": "blue"}
    found["other-1"] = {"status": "open", "amount": 1, "note": "blue"}
    found["other-2"] = {"status": "shipped", "note": "kitchen"}
    return found


RECORDS = _records()


def run(coro: Any) -> Any:
    return get_runtime().run(coro)


@pytest.fixture
def engines(redis_url: str, namespace: str) -> Iterator[dict[int, SearchEngine]]:
    """A fallback search engine for an app of 1 partition and one of 7 (own namespaces)."""
    conn = hotmesh_nb.connect(redis_url)
    yield {
        p: SearchEngine(conn.client, Keys(f"{namespace}p{p}", "shop", p), mode="fallback")
        for p in (1, 7)
    }
    hotmesh_nb.shutdown()


def _load(engine: SearchEngine, index_first: bool) -> None:
    async def go() -> None:
        if index_first:
            assert await engine.create_index(INDEX) is True
        for record, fields in RECORDS.items():
            await engine.write(record, fields)
        if not index_first:  # a rebuild: the records of every partition are found
            assert await engine.create_index(INDEX) is True

    run(go())


def rows(engine: SearchEngine, query: str, **options: Any) -> tuple[int, list[Any]]:
    result = run(engine.search("orders", query, **options))
    return result.count, result.records


def test_the_records_spread_over_every_partition(engines: dict[int, SearchEngine]) -> None:
    keys = engines[7].keys
    assert {keys.part_of(r).index for r in RECORDS} == set(range(7))


QUERIES = [
    "*",
    "@_status:{open}",
    "@_status:{OPEN|shipped}",
    "@_status:{refunded}",
    "@_city:{oslo|alta}",
    "@_amount:[10 30]",
    "@_amount:[(10 +inf]",
    "@_amount:[-inf 0]",
    "@_note:blue",
    "@_note:chairs",
    '@_note:"kitchen chair"',
    '@_note:"chair kitchen"',
    '-@_note:"chair kitchen"',
    "@_note:(blue table)",
    "kitchen",
    "@_status:{open} @_amount:[10 +inf]",
    "-@_status:{open}",
    "-@_status:{open} -blue",
    "@_status:{nothing}",
    "@_nofield:{open}",
]


@pytest.mark.parametrize("index_first", [True, False])
def test_queries_counts_and_sorting_agree(
    engines: dict[int, SearchEngine], index_first: bool
) -> None:
    for engine in engines.values():
        _load(engine, index_first)
    one, seven = engines[1], engines[7]
    for query in QUERIES:
        assert rows(seven, query, limit=100) == rows(one, query, limit=100), query
        assert rows(seven, query, limit=0)[0] == rows(one, query, limit=0)[0], query
    # Not merely alike: right. Records without an amount, and the one whose amount is
    # not a number, are left out of numeric ranges; other prefixes are not covered.
    expected = sorted(
        r
        for r, f in RECORDS.items()
        if r.startswith("order-") and isinstance(f.get("amount"), int) and f["amount"] > 10
    )
    count, found = rows(seven, "@_amount:[(10 +inf]", limit=100)
    assert count == len(expected) > 10 and [r for r, _ in found] == expected
    assert rows(seven, "*", limit=0)[0] == 40  # order-nan is out, as in the native index
    assert [r for r, _ in rows(seven, '@_note:"kitchen chair"', limit=100)[1]] == [
        f"order-{n}" for n in sorted(range(5, 40, 6), key=str)
    ]


@pytest.mark.parametrize("field", ["amount", "city", "note"])
@pytest.mark.parametrize("ascending", [True, False])
def test_sorted_pages_cross_partition_borders_alike(
    engines: dict[int, SearchEngine], field: str, ascending: bool
) -> None:
    for engine in engines.values():
        _load(engine, True)
    one, seven = engines[1], engines[7]
    options = {"sort_by": field, "ascending": ascending}
    whole = rows(one, "*", limit=100, **options)
    assert rows(seven, "*", limit=100, **options) == whole
    pages: list[Any] = []
    for offset in range(0, 45, 4):  # pages of 4, the last ones short and then empty
        page = rows(seven, "*", offset=offset, limit=4, **options)
        assert page == rows(one, "*", offset=offset, limit=4, **options), offset
        assert page[0] == 40
        pages += page[1]
    assert pages == whole[1]
    ids = [r for r, _ in whole[1]]
    parts = [seven.keys.part_of(r).index for r in ids[:8]]
    assert len(set(parts)) > 1  # a page mixes partitions
    filtered = {"sort_by": field, "ascending": ascending, "offset": 3, "limit": 5}
    assert rows(seven, "@_status:{open}", **filtered) == rows(one, "@_status:{open}", **filtered)


def test_sorting_by_amount_puts_records_without_one_last(engines: dict[int, SearchEngine]) -> None:
    seven = engines[7]
    _load(seven, True)
    _, found = rows(seven, "@_status:{shipped}", limit=100, sort_by="amount")
    amounts = [f.get("amount") for _, f in found]
    numbers = [float(a) for a in amounts if a is not None]
    assert numbers == sorted(numbers) and amounts[len(numbers) :] == [None] * (
        len(amounts) - len(numbers)
    )
    _, down = rows(seven, "@_status:{shipped}", limit=100, sort_by="amount", ascending=False)
    assert down == found[::-1]


def test_find_where_queries_agree(engines: dict[int, SearchEngine]) -> None:
    for engine in engines.values():
        _load(engine, True)
    clauses = [
        [{"field": "amount", "is": ">=", "value": 5}],
        [{"field": "status", "is": "=", "value": "open"}, {"field": "note", "value": "blue"}],
        [{"field": "amount", "is": "[]", "value": (0, 20)}, {"field": "city", "value": "Oslo"}],
    ]
    for clause in clauses:
        query = clauses_to_query(clause, INDEX)
        for options in ({"limit": 100}, {"offset": 2, "limit": 3, "sort_by": "amount"}):
            assert rows(engines[7], query, **options) == rows(engines[1], query, **options)


def test_each_record_is_indexed_in_its_own_partition(engines: dict[int, SearchEngine]) -> None:
    seven = engines[7]
    _load(seven, True)
    keys, client = seven.keys, seven.client

    async def structures() -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for part in keys.parts:
            pattern = f"{glob_escape(part.prefix)}:ix:*"
            async for key in client.scan_iter(match=pattern, count=1000):
                kind = await client.type(key)
                if kind == "zset":
                    found[key] = set(await client.zrange(key, 0, -1))
                elif ":ix:orders:r:" not in key:
                    found[key] = set(await client.smembers(key))
        return found

    found = run(structures())
    holding = {p.index: 0 for p in keys.parts}
    for key, members in found.items():
        part = keys.partition_of_key(key)
        assert part is not None, key
        for record in members:
            assert keys.part_of(record) is part, (key, record)
            holding[part.index] += 1
    assert all(holding.values()), holding  # every partition holds some
    # The app's own prefix holds the definitions and nothing of the index itself.
    assert run(client.exists(keys.search_indexes))
    assert not any(k.startswith(keys.prefix) for k in found)


def test_writes_increments_and_deletes_agree(engines: dict[int, SearchEngine]) -> None:
    for engine in engines.values():
        _load(engine, True)

    async def change(engine: SearchEngine) -> None:
        for n in range(0, 40, 3):
            await engine.incr(f"order-{n}", "amount", 100)
        for n in range(1, 40, 4):
            await engine.write(f"order-{n}", {"status": "shipped"}, ["note"])
        await engine.apply("order-2", "set", ["_city", "Oslo", "_note", "green kitchen"])
        await engine.apply("order-3", "del", ["_amount", "_status"])

    for engine in engines.values():
        run(change(engine))
    for query in QUERIES:
        for options in ({"limit": 100}, {"sort_by": "amount", "offset": 5, "limit": 7}):
            assert rows(engines[7], query, **options) == rows(engines[1], query, **options)
    assert rows(engines[7], "@_amount:[100 +inf]", limit=0)[0] == 12


def test_expired_records_are_forgotten_in_their_partitions(
    engines: dict[int, SearchEngine],
) -> None:
    seven = engines[7]
    _load(seven, True)
    keys, client = seven.keys, seven.client
    short = [f"order-{n}" for n in range(0, 40, 5)]
    assert len({keys.part_of(r).index for r in short}) > 2

    async def expire() -> None:
        for record in short:
            await client.pexpire(keys.job(record), 20)

    run(expire())
    wait_until(lambda: not any(run(client.exists(keys.job(r))) for r in short))
    count, found = rows(seven, "*", limit=100, sort_by="amount")
    assert count == 40 - len(short) and not {r for r, _ in found} & set(short)

    async def leftovers() -> list[str]:
        left = []
        for record in short:
            part = keys.part_of(record)
            if await client.exists(part.search_key("orders", "r", record)):
                left.append(record)
            if await client.sismember(part.search_key("orders", "all"), record):
                left.append(record)
        return left

    assert run(leftovers()) == []


def test_the_sweep_walks_every_partition(engines: dict[int, SearchEngine]) -> None:
    seven = engines[7]
    _load(seven, True)
    keys, client = seven.keys, seven.client
    short = [f"order-{n}" for n in range(1, 40, 3)]

    async def expire() -> None:
        for record in short:
            await client.pexpire(keys.job(record), 20)

    run(expire())
    wait_until(lambda: not any(run(client.exists(keys.job(r))) for r in short))
    # Queries that match none of them still forget them: each query sweeps a partition,
    # in turn, so that the work per query does not grow with the partitions.
    for _ in keys.parts:
        assert rows(seven, "@_status:{nothing}", limit=10)[0] == 0
    left = [
        r for r in short if run(client.sismember(keys.part_of(r).search_key("orders", "all"), r))
    ]
    assert left == []


def test_an_old_layout_is_reindexed_in_every_partition(engines: dict[int, SearchEngine]) -> None:
    seven = engines[7]
    _load(seven, True)
    client, keys = seven.client, seven.keys

    async def make_it_old() -> None:
        await client.hset(keys.search_indexes, "orders", dumps(INDEX.to_dict()))
        for part in keys.parts:
            pattern = f"{glob_escape(part.search_key('orders', ''))}*"
            async for key in client.scan_iter(match=pattern):
                await client.delete(key)

    run(make_it_old())
    assert run(client.scard(keys.part_of("order-1").search_key("orders", "all"))) == 0
    later = SearchEngine(client, keys, mode="fallback")  # another process, later
    assert rows(later, "*", limit=0)[0] == 40
    _load(engines[1], True)
    for query in QUERIES:
        assert rows(later, query, limit=100) == rows(engines[1], query, limit=100), query


# -- finding job keys in every partition -------------------------------------------------------

ODD_IDS = [
    "user-1",
    "user-22",
    "user-x}:j:user-9",
    "admin}:j:user-5",  # matches 'user-*' through a covering pattern's '*' alone
    "user-*",
    "user-[a]",
    "usEr-3",
    "a:b",
    "",
]


def _jobs(redis_url: str, namespace: str, partitions: int) -> tuple[Any, Keys]:
    conn = hotmesh_nb.connect(redis_url)
    keys = Keys(namespace, "shop", partitions)

    async def write() -> None:
        for record in ODD_IDS:
            await conn.client.hset(keys.job(record), "_x", "1")
        await conn.client.hset(f"{keys.part(0).prefix}:x:topic}}:j:user-7", "a", "1")

    run(write())
    return conn.client, keys


@pytest.mark.parametrize(
    "glob", ["*", "user-*", "user-?", "user-[0-9]*", "user-\\*", "u[^a-z]*", "[", "*j*", "a:*"]
)
def test_records_of_every_partition_match_globs_as_redis_does(
    redis_url: str, namespace: str, glob: str
) -> None:
    client, one = _jobs(redis_url, f"{namespace}a", 1)
    _, seven = _jobs(redis_url, f"{namespace}b", 7)

    async def exact(keys: Keys) -> set[str]:
        found = set()
        for part in keys.parts:  # one exact pattern per partition: the reference
            head = part.job("")
            pattern = f"{glob_escape(head)}{glob}"
            found |= {k[len(head) :] async for k in client.scan_iter(match=pattern)}
        return found

    async def collect(keys: Keys) -> set[str]:
        return {r async for r in records(client, keys, glob, count=3)}

    async def paged(keys: Keys) -> list[str]:
        cursor, found = 0, []
        while True:
            # As MeshData.find_jobs pages: the covering pattern, each id read back and checked.
            cursor, page = await scan_page(
                client, cursor=cursor, match=keys.jobs_pattern(glob), count=2
            )
            ids = (keys.job_id_of(k) for k in page)
            found += [i for i in ids if i is not None and id_matcher(glob)(i)]
            if cursor == 0:
                return found

    reference = run(exact(one))
    assert run(exact(seven)) == reference
    assert run(collect(one)) == run(collect(seven)) == reference
    assert set(run(paged(seven))) == set(run(paged(one))) == reference
    hotmesh_nb.shutdown()


@pytest.mark.parametrize(
    "glob",
    ["a*", "*b", "a?c", "[abc]x", "[^a]*", "[a-c]*", "[c-a]*", "\\*", "a\\?", "[]", "[^]", "[\\]]"],
)
def test_glob_regex_reads_globs_as_redis(redis_url: str, namespace: str, glob: str) -> None:
    conn = hotmesh_nb.connect(redis_url)
    candidates = ["a", "ab", "abc", "axc", "bx", "cx", "b", "*", "a?", "ax", "]", "", "^", "-"]
    prefix = f"{{{namespace}}}:g:"

    async def by_redis() -> set[str]:
        for text in candidates:
            await conn.client.set(prefix + text, "1")
        pattern = glob_escape(prefix) + glob
        return {k[len(prefix) :] async for k in conn.client.scan_iter(match=pattern)}

    expected = run(by_redis())
    assert {c for c in candidates if glob_regex(glob).fullmatch(c)} == expected
    hotmesh_nb.shutdown()


def test_many_partitions_cost_one_round_trip_per_stage(engines: dict[int, SearchEngine]) -> None:
    """The partitions' commands travel together: the number of pipelines a search sends
    does not grow with the partitions."""
    sent: dict[int, int] = {}
    for partitions, engine in engines.items():
        _load(engine, True)
        counted = {"pipelines": 0}
        original = engine.client.pipeline

        def counting(
            *args: Any, _original: Any = original, _counted: Any = counted, **kwargs: Any
        ) -> Any:
            _counted["pipelines"] += 1
            return _original(*args, **kwargs)

        engine.client.pipeline = counting  # type: ignore[method-assign]
        try:
            rows(engine, '@_note:"kitchen chair" -@_status:{open}', sort_by="amount", limit=5)
        finally:
            del engine.client.pipeline
        sent[partitions] = counted["pipelines"]
    assert sent[7] == sent[1] <= 4


def test_expired_records_are_forgotten_after_the_server_forgot_its_scripts(
    engines: dict[int, SearchEngine],
) -> None:
    seven = engines[7]
    _load(seven, True)
    keys, client = seven.keys, seven.client
    short = [f"order-{n}" for n in range(2, 40, 4)]

    async def expire() -> None:
        for record in short:
            await client.pexpire(keys.job(record), 20)

    run(expire())
    wait_until(lambda: not any(run(client.exists(keys.job(r))) for r in short))
    run(client.script_flush())  # as after a restart without persistence, or a failover
    assert run(seven.fallback.prune(INDEX, [*short, "order-1"])) == len(short)
    left = [r for r in short if run(client.exists(keys.part_of(r).search_key("orders", "r", r)))]
    assert left == [] and rows(seven, "*", limit=0)[0] == 40 - len(short)


def test_without_a_sort_field_records_come_by_id_whatever_the_direction(
    engines: dict[int, SearchEngine],
) -> None:
    seven = engines[7]
    _load(seven, True)
    ids = [r for r, _ in rows(seven, "@_status:{open}", limit=100)[1]]
    assert ids == sorted(ids) and len(ids) > 10
    assert [r for r, _ in rows(seven, "@_status:{open}", limit=100, ascending=False)[1]] == ids
