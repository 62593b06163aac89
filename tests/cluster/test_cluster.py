"""Everything of hotmesh_nb on a real Redis Cluster (3 primaries, 1 replica each).

Today's key layout puts every key of one app under one hash tag (``{ns:app}``), so one
app lives in one slot; several apps spread over the primaries. Everything runs through
the public API against the session's cluster (see ``conftest.py``).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import redis
from cluster_helpers import run_demos
from redis.asyncio.cluster import RedisCluster
from redis.crc import key_slot
from waiting import wait_until

import hotmesh_nb
from hotmesh_nb import (
    EngineConfig,
    HotMesh,
    JobNotFoundError,
    MeshCall,
    MeshData,
    MeshFlow,
    SearchOptions,
    Worker,
)
from hotmesh_nb.connection import check_same_slot
from hotmesh_nb.keys import Keys
from hotmesh_nb.meshflow import workflow
from hotmesh_nb.runtime import get_runtime

CONFIG = EngineConfig(block_ms=500)

AWAIT_APP = """
app:
  id: parent
  version: '1'
  graphs:
    - subscribes: parent.go
      activities:
        t1:
          type: trigger
        w1:
          type: worker
          topic: parent.work
          input: { maps: { n: '{t1.output.data.n}' } }
          job: { maps: { doubled: '{$self.output.data.n}' } }
        a1:
          type: await
          topic: child.go
          input: { maps: { n: '{w1.output.data.n}' } }
          job: { maps: { child_sum: '{$self.output.data.sum}' } }
      transitions:
        t1:
          - to: w1
        w1:
          - to: a1
    - subscribes: child.go
      activities:
        c1:
          type: trigger
        add:
          type: worker
          topic: child.add
          input: { maps: { n: '{c1.output.data.n}' } }
          job: { maps: { sum: '{$self.output.data.sum}' } }
      transitions:
        c1:
          - to: add
"""

WAITER_APP = """
app:
  id: waiter
  version: '1'
  graphs:
    - subscribes: waiter.go
      activities:
        t1:
          type: trigger
          stats:
            id: '{$self.input.data.id}'
            key: waiters
            measures:
              - measure: index
                target: '{t1.output.data.group}'
        prep:
          type: worker
          topic: waiter.prep
          input: { maps: { id: '{t1.output.data.id}' } }
        wait:
          type: hook
          job:
            maps:
              answer: '{$self.hook.data.answer}'
      transitions:
        t1:
          - to: prep
        prep:
          - to: wait
      hooks:
        waiter.signal:
          - to: wait
            conditions:
              match:
                - expected: '{t1.output.data.id}'
                  actual: '{$self.hook.data.id}'
"""

HELLO_APP = """
app:
  id: {app}
  version: '1'
  graphs:
    - subscribes: {app}.go
      activities:
        t1:
          type: trigger
        w1:
          type: worker
          topic: {app}.work
          input: {{ maps: {{ n: '{{t1.output.data.n}}' }} }}
          job: {{ maps: {{ out: '{{$self.output.data.out}}' }} }}
      transitions:
        t1:
          - to: w1
"""


def mesh(url: str, namespace: str, app: str, yaml: str | None, workers: dict[str, Any]) -> HotMesh:
    """A deployed and activated HotMesh of ``app`` on the cluster."""
    hm = HotMesh.init(
        app,
        connection=url,
        namespace=namespace,
        workers=[Worker(topic, fn) for topic, fn in workers.items()],
        config=CONFIG,
    )
    if yaml is not None:
        hm.deploy(yaml)
        hm.activate("1")
    return hm


def node_of(hm: HotMesh) -> str:
    """``host:port`` of the primary that owns the app's slot."""
    client = hm.connection.client
    assert isinstance(client, RedisCluster)
    return client.get_node_from_key(hm.keys.prefix).name


# -- the connection ------------------------------------------------------------------------


def test_a_cluster_url_gives_a_cluster_aware_connection(redis_url: str, namespace: str) -> None:
    conn = hotmesh_nb.connect(redis_url)
    assert conn.cluster is True
    assert isinstance(conn.client, RedisCluster)
    assert len(conn.client.get_primaries()) == 3  # type: ignore[attr-defined]
    # The blocking reader's socket outlasts its read, as on one node.
    reader = conn.reader(20_000)
    assert isinstance(reader, RedisCluster)
    assert reader.get_connection_kwargs()["socket_timeout"] > 20


def test_several_apps_live_in_slots_of_different_primaries(redis_url: str) -> None:
    # Apps whose tags hash to the slot ranges of the three primaries (0-5460, 5461-10921,
    # 10922-16383): found by name, so the test does not rely on CRC16 luck.
    chosen: dict[int, str] = {}
    n = 0
    while len(chosen) < 3:
        app = f"spread{n}"
        chosen.setdefault(key_slot(Keys("spread", app).prefix.encode()) * 3 // 16384, app)
        n += 1
    meshes = []
    for app in chosen.values():
        meshes.append(
            mesh(
                redis_url,
                "spread",
                app,
                HELLO_APP.format(app=app),
                {f"{app}.work": lambda m, app=app: {"out": f"{app}:{m.data['n']}"}},
            )
        )
    assert len({node_of(hm) for hm in meshes}) == 3

    async def run_all() -> list[Any]:
        return await asyncio.gather(
            *(hm.pubsub_async(f"{hm.keys.app}.go", {"n": i}) for hm in meshes for i in range(20))
        )

    results = get_runtime().run(run_all())
    assert results == [{"out": f"{hm.keys.app}:{i}"} for hm in meshes for i in range(20)]


def test_every_script_touches_one_slot(redis_url: str, namespace: str) -> None:
    keys = Keys(namespace, "app", 16)
    part = keys.part_of("x")
    check_same_slot([keys.job("x"), part.engine_stream, part.timers, part.worker_stream("t")])
    other = Keys(namespace, "other", 16)
    with pytest.raises(ValueError, match="same hash tag"):
        check_same_slot([keys.job("x"), other.job("x")], "a step")
    # The cluster refuses a script over two apps' slots before it runs.
    conn = hotmesh_nb.connect(redis_url)
    script = "return redis.call('GET', KEYS[1])"
    pair = [keys.job("a"), other.job("a")]
    if key_slot(pair[0].encode()) == key_slot(pair[1].encode()):
        pair[1] = Keys(namespace, "third", 16).job("a")
    with pytest.raises(Exception, match=r"same key slot|CROSSSLOT"):
        get_runtime().run(conn.client.eval(script, 2, *pair))


# -- HotMesh: YAML apps ----------------------------------------------------------------------


def test_the_four_seed_demos_and_the_cli(redis_url: str) -> None:
    out = run_demos(redis_url, timeout=120)
    text = out.stdout
    assert "fallback index" in text  # no FT.* on a cluster
    assert redis_url.split("@")[0].split(":")[-1] not in text + out.stderr  # password masked


def test_a_job_with_a_worker_and_an_awaited_child(redis_url: str, namespace: str) -> None:
    hm = mesh(
        redis_url,
        namespace,
        "parent",
        AWAIT_APP,
        {
            "parent.work": lambda m: {"n": m.data["n"] * 2},
            "child.add": lambda m: {"sum": m.data["n"] + 100},
        },
    )
    assert hm.pubsub("parent.go", {"n": 5}, timeout=30) == {"doubled": 10, "child_sum": 110}
    job_id = hm.pub("parent.go", {"n": 1})
    wait_until(lambda: hm.get_status(job_id) == 0)
    exported = hm.export(job_id)
    assert exported["data"] == {"doubled": 2, "child_sum": 102}
    assert [row["activity"] for row in exported["timeline"]] == ["t1", "w1", "a1"]
    hm.scrub(job_id)
    with pytest.raises(JobNotFoundError):
        hm.get_status(job_id)


def test_hook_signal_and_hook_all(redis_url: str, namespace: str) -> None:
    hm = mesh(redis_url, namespace, "waiter", WAITER_APP, {"waiter.prep": lambda m: {}})
    for n in range(6):
        hm.pub("waiter.go", {"id": f"w-{n}", "group": "blue" if n < 4 else "red"})
    wait_until(lambda: all(hm.get_status(f"w-{n}") == 1 for n in range(6)))
    time.sleep(0.2)  # let the hooks register after their worker step
    assert hm.hook("waiter.signal", {"id": "w-0", "answer": "one"}) == "w-0"
    wait_until(lambda: hm.get_status("w-0") == 0)
    assert hm.hook_all("waiter.signal", {"answer": "blue"}, ["group:blue"]) == 3
    wait_until(lambda: all(hm.get_status(f"w-{n}") == 0 for n in range(1, 4)))
    assert hm.hook_all("waiter.signal", {"answer": "rest"}) == 2  # SCAN of every waiter
    wait_until(lambda: all(hm.get_status(f"w-{n}") == 0 for n in range(6)))
    answers = [hm.get_state(f"w-{n}")["data"]["answer"] for n in range(6)]
    assert answers == ["one", "blue", "blue", "blue", "rest", "rest"]


def test_quorum_roll_call_sees_every_member(redis_url: str, namespace: str) -> None:
    hm = mesh(redis_url, namespace, "parent", AWAIT_APP, {"parent.work": lambda m: {}})
    members = hm.roll_call(delay=0.5)
    roles = Counter(member["role"] for member in members)
    assert roles["engine"] >= 1 and roles["worker"] >= 1, members
    assert {m["topic"] for m in members if m["role"] == "worker"} == {"parent.work"}
    assert {(m["namespace"], m["app"]) for m in members} == {(namespace, "parent")}


def test_the_cli_worker_serves_jobs_on_the_cluster(
    redis_url: str, namespace: str, tmp_path: Path
) -> None:
    (tmp_path / "clusterwork.py").write_text(
        textwrap.dedent(
            """
            def triple(msg):
                return {"out": msg.data["n"] * 3}
            """
        )
    )
    app = "cliapp"
    hm = mesh(redis_url, namespace, app, HELLO_APP.format(app=app), {})  # engine only
    ids = [hm.pub(f"{app}.go", {"n": n}) for n in range(10)]
    done = subprocess.run(
        [
            sys.executable, "-m", "hotmesh_nb.cli", "worker", app,
            "--topic", f"{app}.work=clusterwork:triple", "--namespace", namespace,
            "--path", str(tmp_path), "--burst",
        ],
        env=dict(os.environ, HOTMESH_REDIS_URL=redis_url),
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    wait_until(lambda: all(hm.get_status(job_id) == 0 for job_id in ids))
    assert [hm.get_state(job_id)["data"]["out"] for job_id in ids] == [n * 3 for n in range(10)]


# -- MeshCall ----------------------------------------------------------------------------------


def test_meshcall_exec_cache_and_cron(redis_url: str, namespace: str) -> None:
    calls: list[tuple] = []
    lock = threading.Lock()

    def greet(name: str) -> str:
        with lock:
            calls.append((name,))
        return f"Hello, {name}"

    MeshCall.connect("greet", greet, connection=redis_url, namespace=namespace)
    assert MeshCall.exec("greet", ["Ada"], connection=redis_url, namespace=namespace) == (
        "Hello, Ada"
    )
    cached = [
        MeshCall.exec(
            "greet", [who], id="g1", ttl="5 minutes", connection=redis_url, namespace=namespace
        )
        for who in ("Bob", "Eve")
    ]
    assert cached == ["Hello, Bob", "Hello, Bob"] and calls == [("Ada",), ("Bob",)]

    ticks: list[int] = []
    assert MeshCall.cron(
        "tick",
        [7],
        lambda n: ticks.append(n) or len(ticks),
        id="c1",
        interval=1,
        max_cycles=2,
        connection=redis_url,
        namespace=namespace,
    )
    hm = MeshCall.hotmesh(connection=redis_url, namespace=namespace)
    wait_until(lambda: hm.get_status("cron:tick:c1") == 0, timeout=30)
    assert ticks == [7, 7]


def test_meshcall_cached_answers_read_on_the_callers_loop(redis_url: str, namespace: str) -> None:
    calls: list[int] = []
    MeshCall.connect(
        "sq", lambda n: calls.append(n) or n * n, connection=redis_url, namespace=namespace
    )
    ids = range(12)  # jobs of the app's partitions: their keys lie on several nodes

    async def main() -> tuple[list[int], int]:
        first = [
            await MeshCall.exec_async(
                "sq", [n], id=f"s{n}", ttl=60, connection=redis_url, namespace=namespace
            )
            for n in ids
        ]
        # All in one pass of this loop: one pipeline, split by node by the cluster client.
        again = await asyncio.gather(
            *(
                MeshCall.exec_async(
                    "sq", [0], id=f"s{n}", ttl=60, connection=redis_url, namespace=namespace
                )
                for n in ids
            )
        )
        assert first == list(again)
        named = [
            c
            for c in await asyncio.to_thread(_client_list, redis_url)
            if c.get("name") == "hotmesh-nb-caller"
        ]
        return list(again), len(named)

    answers, connections = asyncio.run(main())
    assert answers == [n * n for n in ids] and sorted(calls) == list(ids)
    assert connections >= 1


def _client_list(url: str) -> list[dict]:
    client = redis.RedisCluster.from_url(url, decode_responses=True)
    try:
        return [c for node in client.get_primaries() for c in client.client_list(target_nodes=node)]
    finally:
        client.close()


# -- MeshFlow ----------------------------------------------------------------------------------


def double(n: int) -> int:
    return n * 2


acts = workflow.proxy_activities(activities=[double])


async def fan_out(n: int) -> int:
    return sum(await asyncio.gather(*(acts.double(i) for i in range(n))))


async def sleepy_child(n: int) -> int:
    await workflow.sleep_for(1)
    return await acts.double(n)


async def parent_flow(n: int) -> dict:
    gathered = await workflow.exec_child("fan_out", [n])
    slept = await workflow.exec_child("sleepy_child", [n])
    return {"gathered": gathered, "child": slept}


def test_meshflow_gather_children_and_durable_sleep(redis_url: str, namespace: str) -> None:
    for fn in (fan_out, sleepy_child, parent_flow):
        MeshFlow.Worker.create(
            connection=redis_url,
            namespace=namespace,
            task_queue="default",
            workflow=fn,
            config=CONFIG,
        )
    client = MeshFlow.Client(connection=redis_url, namespace=namespace, config=CONFIG)
    handle = client.workflow.start(args=[40], task_queue="default", workflow_name="fan_out")
    assert handle.result(timeout=60) == sum(i * 2 for i in range(40))
    parent = client.workflow.start(args=[40], task_queue="default", workflow_name="parent_flow")
    assert parent.result(timeout=60) == {"gathered": 1560, "child": 80}
    assert parent.status() == 0


# -- MeshData ----------------------------------------------------------------------------------

SCHEMA = {"name": {"type": "TAG"}, "legs": {"type": "NUMERIC", "sortable": True}}
HERD = {"cat": 4, "dog": 4, "bird": 2, "snake": 0, "spider": 8, "ant": 6}


def describe(name: str) -> dict[str, str]:
    return {"animal": name}


def test_meshdata_search_with_sort_and_paging(redis_url: str, namespace: str) -> None:
    md = MeshData(
        redis_url,
        search=SearchOptions("animals", prefix=["animal-"], schema=SCHEMA),
        namespace=namespace,
        config=CONFIG,
    )
    md.connect("animal", describe)
    for name, legs in HERD.items():
        md.exec("animal", [name], id=name, ttl="infinity", search={"name": name, "legs": legs})
    found = md.find_where("animal", [{"field": "legs", "is": ">=", "value": 4}], limit=100)
    assert found.count == 4
    assert sorted(r for r, _ in found.records) == [
        "animal-ant",
        "animal-cat",
        "animal-dog",
        "animal-spider",
    ]
    page = md.find_where("animal", "*", sort_by="legs", ascending=False, offset=1, limit=2)
    assert page.count == 6
    assert [r for r, _ in page.records] == ["animal-ant", "animal-cat"] or [
        r for r, _ in page.records
    ] == ["animal-ant", "animal-dog"]
    frame = md.find_where("animal", "@_name:{bird}").to_frame()
    assert list(frame.index) == ["animal-bird"] and frame["legs"].tolist() == [2]


async def _tag_record(label: str) -> dict[str, str]:
    """A hook function: writes a searchable field of the record it joins."""
    await MeshData.workflow.search().set({"hooked": label})
    return {"hooked": label}


def test_meshdata_hook_functions_write_records_in_other_partitions(
    redis_url: str, namespace: str
) -> None:
    # A hook thread is a job of its own; its record usually lives in another partition,
    # so on a cluster its once-only writes keep their ledger beside the record.
    schema = {**SCHEMA, "hooked": {"type": "TAG"}}
    md = MeshData(
        redis_url,
        search=SearchOptions("tagged", prefix=["animal-"], schema=schema),
        namespace=namespace,
        config=CONFIG,
    )
    md.connect("animal", describe)
    md.connect("tag", _tag_record)
    for name, legs in HERD.items():
        md.exec("animal", [name], id=name, ttl="infinity", search={"name": name, "legs": legs})
    for name in HERD:
        md.hook("animal", name, "tag", [f"t-{name}"])
    for name in HERD:
        wait_until(lambda name=name: md.get("animal", name, ["hooked"]) == {"hooked": f"t-{name}"})
    found = md.find_where("animal", "@_hooked:{t-cat}")
    assert [r for r, _ in found.records] == ["animal-cat"]
    # Some hook threads did write across partitions: their ledgers sit by the records.
    admin = redis.RedisCluster.from_url(redis_url, decode_responses=True)
    assert any(True for _ in admin.scan_iter(match=f"{{{namespace}:meshflow:*:l:*"))
    admin.close()
