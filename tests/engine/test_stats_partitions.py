"""A trigger's stats spread over partitions read back as one partition would give them.

Jobs' stats writes (the ``(kind, key, a, b, ttl)`` ops the creating step runs in the
job's partition, from :func:`stat_ops`) are applied by hand to the real server, once
under five partitions and once under one; the readers must give the same reports.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import redis.asyncio as aioredis

import hotmesh_nb
from hotmesh_nb.engine import _trigger_stats as stats
from hotmesh_nb.keys import Keys
from hotmesh_nb.runtime import get_runtime

KEY = "p1"
NOW = dt.datetime.now(dt.timezone.utc)
EARLIER = NOW - dt.timedelta(minutes=20)

# (job id, when, color, amount): enough jobs that every one of five partitions gets some.
JOBS = [
    (f"job-{n}", EARLIER if n % 3 == 0 else NOW, ("red", "blue")[n % 2], n * 7 % 23)
    for n in range(30)
]


def ops_of(keys: Keys, job_id: str, when: dt.datetime, color: str, amount: int) -> list:
    values = [
        ("count", "color", color),
        ("sum", "amount", amount),
        ("avg", "amount", amount),
        ("index", "color", color),
        ("mdn", "amount", amount),
    ]
    bucket = stats.bucket_of(when, "5m")
    return stats.stat_ops(keys.part_of(job_id), KEY, bucket, job_id, values, 600)


async def apply(client: aioredis.Redis, ops: list) -> None:
    """What ``stat`` in ``lua/step.lua`` does with each op."""
    pipe = client.pipeline(transaction=False)
    for kind, key, a, b, ttl in ops:
        if kind == "hincr":
            pipe.hincrbyfloat(key, a, b)
        elif kind == "rpush":
            pipe.rpush(key, a)
        else:
            pipe.zadd(key, {b: a})
        if ttl != "":
            pipe.expire(key, ttl)
    await pipe.execute()


@pytest.fixture
def layouts(redis_url: str, namespace: str) -> tuple[aioredis.Redis, Keys, Keys]:
    """The same jobs' stats written under five partitions and under one."""
    conn = hotmesh_nb.connect(redis_url)
    five, one = Keys(namespace, "tally", 5), Keys(f"{namespace}-one", "tally", 1)
    for keys in (five, one):
        ops = [op for job in JOBS for op in ops_of(keys, *job)]
        get_runtime().run(apply(conn.client, ops))
    return conn.client, five, one


def run(coro: Any) -> Any:
    return get_runtime().run(coro)


def test_the_jobs_stats_land_in_their_own_partitions(layouts) -> None:
    client, five, _ = layouts
    for job_id, when, color, amount in JOBS:
        prefix = five.part_of(job_id).prefix
        assert all(
            op[1].startswith(prefix + ":") for op in ops_of(five, job_id, when, color, amount)
        )
    used = {five.part_of(job_id).index for job_id, *_ in JOBS}
    assert used == {0, 1, 2, 3, 4}
    found = run(client.keys(f"{{{five.namespace}:tally:*"))
    assert {five.partition_of_key(k).index for k in found} == used


def _by_target(report: dict) -> dict:
    """``report`` with its measures in target order: across partitions, the order in
    which values were first seen is each partition's, not one order of creation."""

    def ordered(measures: list) -> list:
        return sorted(measures, key=lambda m: m["target"])

    out = {**report, "measures": ordered(report["measures"])}
    if "segments" in report:
        out["segments"] = [{**s, "measures": ordered(s["measures"])} for s in report["segments"]]
    return out


def test_get_stats_sums_every_partition_like_one(layouts) -> None:
    client, five, one = layouts
    query = {"data": {}, "range": "1h", "end": "NOW"}
    merged = run(stats.get_stats(client, five, KEY, "5m", query))
    single = run(stats.get_stats(client, one, KEY, "5m", query))
    assert _by_target(merged) == _by_target(single)
    assert merged["count"] == len(JOBS)
    measures = {(m["type"], m["target"]): m["value"] for m in merged["measures"]}
    assert measures == {("count", "color:red"): 15, ("count", "color:blue"): 15}
    # Two buckets hold jobs: each counts its own, from every partition.
    counts = [s["count"] for s in merged["segments"] if "count" in s]
    assert counts == [10, 20]
    sparse = run(stats.get_stats(client, five, KEY, "5m", {**query, "sparse": True}))
    assert "segments" not in sparse
    assert _by_target(sparse) == _by_target(
        run(stats.get_stats(client, one, KEY, "5m", {**query, "sparse": True}))
    )


def test_every_measure_of_every_partition_reads_like_one(layouts) -> None:
    client, five, one = layouts
    query = {"data": {}, "range": "1h", "end": "NOW"}
    merged = run(stats.measure_rows(client, five, KEY, "5m", query, medians=["amount"]))
    single = run(stats.measure_rows(client, one, KEY, "5m", query, medians=["amount"]))
    assert sorted(merged) == sorted(single)
    totals: dict = {}
    for _, target, kind, value in merged:
        totals.setdefault((kind, target), []).append(value)
    early = sorted(a for _, when, _, a in JOBS if when is EARLIER)
    late = sorted(a for _, when, _, a in JOBS if when is NOW)
    assert totals[("count", "jobs")] == [10, 20]
    assert totals[("sum", "amount")] == [sum(early), sum(late)]
    assert totals[("avg", "amount")] == [sum(early) / 10, sum(late) / 20]


def test_a_bucket_median_is_over_the_union_of_the_partitions(layouts) -> None:
    client, five, _ = layouts
    query = {"data": {}, "range": "1h", "end": "NOW"}
    rows = run(stats.measure_rows(client, five, KEY, "5m", query, medians=["amount"]))
    early = sorted(a for _, when, _, a in JOBS if when is EARLIER)
    late = sorted(a for _, when, _, a in JOBS if when is NOW)
    mdn = [value for _, _, kind, value in rows if kind == "mdn"]
    assert mdn == [(early[4] + early[5]) / 2, (late[9] + late[10]) / 2]
    assert stats.median([1.0, 2.0, 9.0]) == 2.0 and stats.median([4.0]) == 4.0


def test_get_ids_concatenates_every_partition(layouts) -> None:
    client, five, one = layouts
    query = {"data": {}, "range": "1h", "end": "NOW"}
    merged = run(stats.get_ids(client, five, KEY, "5m", query, ["color:red", "color:blue"]))
    single = run(stats.get_ids(client, one, KEY, "5m", query, ["color:red", "color:blue"]))
    assert (
        merged["counts"]
        == single["counts"]
        == [
            {"facet": "color:red", "count": 15},
            {"facet": "color:blue", "count": 15},
        ]
    )
    red = [j for j, _, color, _ in JOBS if color == "red"]
    only_red = run(stats.get_ids(client, five, KEY, "5m", query, ["color:red"]))
    assert sorted(stats.ids_of(only_red)) == sorted(red)
    assert (
        sorted(stats.ids_of(merged)) == sorted(stats.ids_of(single)) == sorted(j[0] for j in JOBS)
    )
    # Within a bucket: partition by partition, each in creation order (a stable order).
    created = [j[0] for j in JOBS]
    for segment in merged["segments"]:
        for measure in segment["measures"]:
            order = [(five.part_of(j).index, created.index(j)) for j in measure["ids"]]
            assert order == sorted(order) and measure["count"] == len(order)


def test_scrub_deletes_the_lists_of_every_partition(layouts) -> None:
    client, five, _ = layouts
    query = {"data": {}, "range": "1h", "end": "NOW"}
    lists = stats.id_lists(five, KEY, "5m", query, ["color:red"])
    assert sorted(p.index for p in lists) == [0, 1, 2, 3, 4]
    assert all(name.startswith(p.prefix) for p, names in lists.items() for name in names)
    existing = sum(run(client.exists(*names)) for names in lists.values())
    assert existing >= 5  # two buckets, spread over the partitions
    assert run(stats.scrub(client, five, KEY, "5m", query, ["color:red"])) == existing
    after = run(stats.get_ids(client, five, KEY, "5m", query, ["color:red", "color:blue"]))
    assert after["counts"] == [
        {"facet": "color:red", "count": 0},
        {"facet": "color:blue", "count": 15},
    ]
    assert run(stats.scrub(client, five, KEY, "5m", query, ["color:red"])) == 0


def test_median_targets_come_from_the_trigger() -> None:
    trigger_stats = {
        "key": "{$self.input.data.parent}",
        "measures": [
            {"measure": "mdn", "target": "{$self.input.data.amount}"},
            {"measure": "sum", "target": "{$self.input.data.amount}"},
            {"measure": "mdn", "target": "{$self.input.data.size.width}"},
        ],
    }
    assert stats.median_targets(trigger_stats) == ["amount", "size/width"]
