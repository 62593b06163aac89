"""Notebook and CLI readers over an app of four partitions: one view, merged.

The streams, job hashes and dead letters are written by hand under the names of
``Keys(ns, app, 4)`` (what a partitioned app's steps write), on the real server.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis

import hotmesh_nb
from hotmesh_nb import HotMesh
from hotmesh_nb._codec import dumps
from hotmesh_nb._ids import iso_compact
from hotmesh_nb.engine import _dead_letters as dead_letters
from hotmesh_nb.engine import _state as st
from hotmesh_nb.keys import ENGINE_GROUP, WORKER_GROUP, Keys
from hotmesh_nb.notebook import _monitor as monitor
from hotmesh_nb.notebook import _notebook_api as api
from hotmesh_nb.notebook import _probe as probe
from hotmesh_nb.notebook._cards import mesh_card
from hotmesh_nb.runtime import get_runtime

APP = "parted"
JOB_IDS = [f"job-{n}" for n in range(8)]


def run(coro: Any) -> Any:
    return get_runtime().run(coro)


@pytest.fixture
def admin(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def keys(namespace: str) -> Keys:
    return Keys(namespace, APP, 4)


@pytest.fixture
def hm(redis_url: str, namespace: str, keys: Keys) -> Iterator[HotMesh]:
    """A HotMesh of the four-partition app (a client: it runs no engine)."""
    client = HotMesh.init(APP, connection=redis_url, namespace=namespace, engine=False)
    # Until HotMesh.init reads the app's partitions from its record, the readers are
    # shown the four-partition layout through a HotMesh made with those names.
    yield HotMesh(client.connection, keys, client.config, client.engine, [])
    hotmesh_nb.shutdown()


def write_streams(admin: redis.Redis, keys: Keys) -> None:
    """Engine streams in every partition, ``work.do`` in partitions 0, 1 and 3.

    Worker ``w1`` reads partitions 0 and 1, ``w2`` partition 3: two consumers.
    """
    parts = keys.parts
    for part in parts:
        admin.xgroup_create(part.engine_stream, ENGINE_GROUP, id="0", mkstream=True)
    admin.xadd(parts[0].engine_stream, {"m": "{}"})
    admin.xadd(parts[2].engine_stream, {"m": "{}"})
    for index, entries in ((0, 3), (1, 2), (3, 1)):
        stream = parts[index].worker_stream("work.do")
        admin.xgroup_create(stream, WORKER_GROUP, id="0", mkstream=True)
        for _ in range(entries):
            admin.xadd(stream, {"m": "{}"})
    admin.xreadgroup(
        WORKER_GROUP,
        "w1",
        {parts[0].worker_stream("work.do"): ">", parts[1].worker_stream("work.do"): ">"},
        count=1,
    )
    admin.xreadgroup(WORKER_GROUP, "w2", {parts[3].worker_stream("work.do"): ">"}, count=1)
    # Neighbours that are not the app's partitions: its own tag, and another app.
    admin.xadd(f"{keys.prefix}:x:stray", {"m": "{}"})
    admin.xadd(Keys(keys.namespace, f"{APP}-2", 4).part(1).worker_stream("work.do"), {"m": "1"})


def write_jobs(admin: redis.Redis, keys: Keys) -> None:
    for n, job_id in enumerate(JOB_IDS):
        meta = {"jid": job_id, "tpc": f"{APP}.go", "vrs": "1", "jc": iso_compact()}
        status = 0 if n % 2 else 1
        admin.hset(keys.job(job_id), mapping={st.STATUS: status, st.META: dumps(meta)})
    admin.hset(f"{keys.prefix}:j:not-a-partition", mapping={st.STATUS: 1, st.META: "{}"})


def write_letters(admin: redis.Redis, keys: Keys) -> None:
    """Four letters; partitions 1 and 2 hold letters with the same entry id."""
    for index, entry_id in ((2, "5-0"), (0, "3-0"), (1, "5-0"), (3, "7-0")):
        part = keys.part(index)
        fields = {
            "stream": part.worker_stream("work.do"),
            "id": "9-1",
            "error": f"poison {index}",
            "m": dumps({"j": f"job-of-{index}"}),
        }
        admin.xadd(part.dead_letters, fields, id=entry_id)


def test_the_jobs_are_spread_over_the_partitions(keys: Keys) -> None:
    assert len({keys.part_of(job_id).index for job_id in JOB_IDS}) == 4


def test_streams_are_one_row_per_topic_summed_over_partitions(
    admin: redis.Redis, keys: Keys, hm: HotMesh
) -> None:
    write_streams(admin, keys)
    records = run(probe.read_streams(hm.connection.client, keys))
    assert [(r.stream, r.role) for r in records] == [("engine", "engine"), ("work.do", "worker")]
    engine, work = records
    assert engine.keys == tuple(p.engine_stream for p in keys.parts)
    assert (engine.depth, engine.lag, engine.pending, engine.consumers) == (2, 2, 0, 0)
    assert work.keys == tuple(keys.part(i).worker_stream("work.do") for i in (0, 1, 3))
    assert work.key == work.keys[0]
    assert (work.depth, work.pending, work.lag, work.added) == (6, 3, 3, 6)
    assert (work.consumers, work.live) == (2, 2)  # w1 reads two partitions: counted once
    frame = run(api.streams(hm))
    assert list(frame["stream"]) == ["engine", "work.do"]
    assert list(frame["depth"]) == [2, 6] and list(frame["consumers"]) == [0, 2]


def test_one_scan_finds_what_a_scan_per_partition_finds(
    admin: redis.Redis, keys: Keys, hm: HotMesh
) -> None:
    write_streams(admin, keys)
    write_jobs(admin, keys)
    client = hm.connection.client
    for kind, rtype in (("x", "stream"), ("j", "hash")):
        per_partition = sorted(
            name
            for match in keys.match_kind(kind)
            for name in run(probe.scan(client, match, rtype))
        )
        assert run(probe.scan_kind(client, keys, kind, rtype)) == per_partition
        assert len(probe.patterns(keys, kind)) == 1
    assert len(per_partition) == len(JOB_IDS)
    # One partition: exactly its own pattern, as before partitions.
    assert probe.patterns(Keys(keys.namespace, APP, 1), "j") == Keys(
        keys.namespace, APP, 1
    ).match_kind("j")


def test_jobs_of_every_partition_are_listed(admin: redis.Redis, keys: Keys, hm: HotMesh) -> None:
    write_jobs(admin, keys)
    frame = run(api.jobs(hm))
    assert sorted(frame["id"]) == JOB_IDS
    assert sorted(frame["status"]) == ["done"] * 4 + ["running"] * 4
    assert "<td style='text-align:left;padding:1px 12px 1px 0'>8</td>" in mesh_card(hm)


def test_dead_letters_of_every_partition_merge_newest_first(
    admin: redis.Redis, keys: Keys, hm: HotMesh
) -> None:
    write_letters(admin, keys)
    client = hm.connection.client
    letters = run(dead_letters.read(client, keys, 10))
    assert [x["id"] for x in letters] == ["3:7-0", "1:5-0", "2:5-0", "0:3-0"]
    assert [x["partition"] for x in letters] == [3, 1, 2, 0]
    assert letters[0]["error"] == "poison 3" and letters[0]["message"] == {"j": "job-of-3"}
    assert letters[0]["stream"] == keys.part(3).worker_stream("work.do")
    assert letters[0]["message_id"] == "9-1"
    assert [x["id"] for x in run(dead_letters.read(client, keys, 2))] == ["3:7-0", "1:5-0"]

    # Replay one letter: back to its own partition's stream; its twin id elsewhere stays.
    assert run(dead_letters.replay(client, keys, ["2:5-0"])) == 1
    assert admin.xlen(keys.part(2).worker_stream("work.do")) == 1
    assert admin.xlen(keys.part(2).dead_letters) == 0
    assert admin.xlen(keys.part(1).dead_letters) == 1
    # A bare entry id is looked for in every partition.
    assert run(dead_letters.purge(client, keys, ["5-0"])) == 1
    assert [x["id"] for x in run(dead_letters.read(client, keys, 10))] == ["3:7-0", "0:3-0"]
    assert run(dead_letters.purge(client, keys, [])) == 0
    assert run(dead_letters.purge(client, keys)) == 2
    assert run(dead_letters.read(client, keys, 10)) == []
    with pytest.raises(ValueError, match="names no partition"):
        dead_letters.where(keys, ["9:1-0"])


def test_replaying_every_letter_sends_each_to_its_partition(
    admin: redis.Redis, keys: Keys, hm: HotMesh
) -> None:
    write_letters(admin, keys)
    assert run(dead_letters.replay(hm.connection.client, keys)) == 4
    assert [admin.xlen(p.worker_stream("work.do")) for p in keys.parts] == [1, 1, 1, 1]
    assert [admin.xlen(p.dead_letters) for p in keys.parts] == [0, 0, 0, 0]


def test_the_dashboard_sums_partitions_and_lists_every_dead_letter(
    admin: redis.Redis, keys: Keys, hm: HotMesh
) -> None:
    write_streams(admin, keys)
    write_jobs(admin, keys)
    write_letters(admin, keys)
    board = monitor.Dashboard([hm])
    run(board.refresh())
    assert board.counts["running"] == 4 and board.counts["done"] == 4
    assert board.streams.value.count("work.do") == 1  # one row for the topic
    assert "</span></span> 6</td>" in board.streams.value  # its depth over the partitions
    assert ">2/2</td>" in board.streams.value  # live/consumers, each worker once
    assert "4 dead letter(s)" in board.banners.value
    assert "poison 3" in board.errors.value and "poison 0" in board.errors.value
    assert keys.part(3).prefix not in board.errors.value  # streams named by topic


def test_the_apps_of_a_namespace_are_their_records_only(
    admin: redis.Redis, keys: Keys, hm: HotMesh, redis_url: str
) -> None:
    hm.deploy(
        f"app:\n  id: {APP}\n  version: '1'\n  graphs:\n    - subscribes: {APP}.go\n"
        "      activities:\n        t1: {type: trigger}\n"
    )
    # A job hash whose id ends in '}:app' matches the records' SCAN pattern too.
    admin.hset(keys.part(2).job("evil}:app"), mapping={"id": "evil", st.STATUS: 1})
    apps = run(api.server_apps(redis_url, keys.namespace))
    assert [(a.app, a.versions, a.topics) for a in apps] == [(APP, ("1",), (f"{APP}.go",))]
