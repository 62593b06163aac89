"""A primary SIGKILLed in the middle of work: its replica takes over and nothing is lost.

Issue 14's failover check: 1,000 hello jobs and 100 MeshFlow workflows (two activities
each) are under way when the primary holding the app's own keys (and the MeshFlow
app's) is SIGKILLed. With ``replicas_to_wait=1`` every flush of step writes waits until
the replica has it, so the promoted replica holds every finished step. Every job and
workflow completes — their callers wait from the start, so the completions of the
killed node's partitions reach them over shard channels that moved to the promoted
replica — and each worker effect (logged by the callbacks themselves, in a
local counter, so that the count cannot be lost with the killed node) happens exactly
once: a redelivered message may re-run a step's bookkeeping, never a worker's call.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from cluster_helpers import cluster_home
from redis.crc import key_slot
from waiting import wait_until

from hotmesh_nb import (
    ConnectError,
    DuplicateJobError,
    EngineConfig,
    HotMesh,
    MeshFlow,
    Worker,
    WorkerMessage,
    server,
)
from hotmesh_nb.keys import Keys
from hotmesh_nb.meshflow import workflow

JOBS = 1000
FLOWS = 100

DURABLE = EngineConfig(block_ms=500, replicas_to_wait=1, replica_wait_ms=500)

APP = """
app:
  id: {app}
  version: '1'
  graphs:
    - subscribes: {app}.go
      activities:
        t1:
          type: trigger
          stats:
            id: '{{$self.input.data.id}}'
        w1:
          type: worker
          topic: {app}.work
          input: {{ maps: {{ n: '{{t1.output.data.n}}' }} }}
          job: {{ maps: {{ out: '{{$self.output.data.out}}' }} }}
      transitions:
        t1:
          - to: w1
"""

effects: Counter[Any] = Counter()
lock = threading.Lock()


def record(effect: Any) -> None:
    with lock:
        effects[effect] += 1


def square(n: int, flow: str) -> int:
    record(("activity", flow, n))
    return n * n


acts = workflow.proxy_activities(activities=[square])


async def two_squares(flow: str) -> int:
    first = await acts.square(2, flow)
    second = await acts.square(3, flow)
    return first + second


def same_primary_app(namespace: str) -> str:
    """An app id whose slot sits in the same third of the slot space as MeshFlow's app."""
    wanted = key_slot(Keys(namespace, "meshflow").prefix.encode()) * 3 // 16384
    n = 0
    while key_slot(Keys(namespace, f"fo{n}").prefix.encode()) * 3 // 16384 != wanted:
        n += 1
    return f"fo{n}"


def test_a_primary_killed_mid_run_loses_and_doubles_nothing(
    redis_url: str, namespace: str, cluster_home_dir: Path
) -> None:
    effects.clear()
    app = same_primary_app(namespace)

    def work(msg: WorkerMessage) -> dict:
        record(("job", msg.data["n"]))
        return {"out": msg.data["n"] + 1}

    hm = HotMesh.init(
        app,
        connection=redis_url,
        namespace=namespace,
        workers=[Worker(f"{app}.work", work)],
        config=DURABLE,
    )
    hm.deploy(APP.format(app=app))
    hm.activate("1")
    MeshFlow.Worker.create(
        connection=redis_url,
        namespace=namespace,
        task_queue="default",
        workflow=two_squares,
        config=DURABLE,
    )
    client = MeshFlow.Client(connection=redis_url, namespace=namespace, config=DURABLE)
    cluster = hm.connection.client
    victim = cluster.get_node_from_key(hm.keys.prefix)  # type: ignore[attr-defined]
    assert victim == cluster.get_node_from_key(Keys(namespace, "meshflow").prefix)  # type: ignore[attr-defined]

    # Callers resubmit what an outage refused, by the same id: never doubled.
    def submit_jobs() -> None:
        for n in range(JOBS):
            while True:
                try:
                    hm.pub(f"{app}.go", {"id": f"job-{n}", "n": n})
                    break
                except DuplicateJobError:
                    break  # it was created before the reply was lost
                except ConnectError:
                    continue

    handles: dict[str, Any] = {}
    results: dict[str, Any] = {}
    waiting: list[threading.Thread] = []

    def await_flow(flow: str) -> None:
        # Waiting from the start: its completion reaches it over its partition's shard
        # channel, whose subscription must outlive the failover.
        results[flow] = handles[flow].result(timeout=120)

    def submit_flows() -> None:
        for n in range(FLOWS):
            flow = f"flow-{n}"
            while True:
                try:
                    handles[flow] = client.workflow.start(
                        args=[flow], task_queue="default", workflow_name="two_squares",
                        workflow_id=flow,
                    )  # fmt: skip
                    break
                except DuplicateJobError:
                    handles[flow] = client.workflow.get_handle(flow)
                    break
                except ConnectError:
                    continue
            waiter = threading.Thread(target=await_flow, args=(flow,))
            waiter.start()
            waiting.append(waiter)

    senders = [threading.Thread(target=submit_jobs), threading.Thread(target=submit_flows)]
    for sender in senders:
        sender.start()
    expected = {("job", n) for n in range(JOBS)} | {
        ("activity", f"flow-{n}", k) for n in range(FLOWS) for k in (2, 3)
    }
    wait_until(lambda: len(effects) >= 200)  # well under way
    with cluster_home(cluster_home_dir):
        node = next(n for n in server.cluster_status().nodes if n.port == victim.port)
        assert node.pid is not None and node.actual_role == "master"
        os.kill(node.pid, signal.SIGKILL)
        at_kill = len(effects)
        try:
            # Its replica is promoted (cluster-node-timeout 5 s, then an election).
            wait_until(lambda: _promoted(victim.port), timeout=30)
        finally:
            # The killed node comes back as a replica of the promoted one.
            server.cluster_start(primaries=3, replicas=1)
    assert at_kill < len(expected)  # the kill fell in the middle of the run
    for sender in senders:
        sender.join(timeout=60)
    wait_until(lambda: all(_status(hm, f"job-{n}") == 0 for n in range(JOBS)), timeout=120)
    assert [hm.get_state(f"job-{n}")["data"]["out"] for n in range(JOBS)] == [
        n + 1 for n in range(JOBS)
    ]
    for waiter in waiting:
        waiter.join(timeout=120)
    assert results == {f"flow-{n}": 13 for n in range(FLOWS)}
    assert set(effects) == expected
    doubled = {effect: count for effect, count in effects.items() if count != 1}
    assert doubled == {}


def _status(hm: HotMesh, job_id: str) -> int | None:
    try:
        return hm.get_status(job_id)
    except Exception:
        return None


def _promoted(dead_port: int) -> bool:
    status = server.cluster_status()
    masters = [n for n in status.nodes if n.actual_role == "master" and n.port != dead_port]
    return len(masters) == 3 and status.state == "ok"


@pytest.mark.parametrize(
    ("field", "value"),
    [("replicas_to_wait", -1), ("replicas_to_wait", 1.5), ("replica_wait_ms", 0)],
)
def test_durability_settings_are_checked(field: str, value: Any) -> None:
    with pytest.raises(ValueError, match=f"EngineConfig.{field}"):
        EngineConfig(**{field: value})


def test_too_few_replicas_warn_but_never_stop_the_mesh(
    redis_url: str, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Two replicas asked, one per primary here: each WAIT times out, steps go on."""
    app = "fewreplicas"
    hm = HotMesh.init(
        app,
        connection=redis_url,
        namespace=namespace,
        workers=[Worker(f"{app}.work", lambda m: {"out": m.data["n"] * 2})],
        config=EngineConfig(block_ms=500, replicas_to_wait=2, replica_wait_ms=20),
    )
    hm.deploy(APP.format(app=app))
    hm.activate("1")
    with caplog.at_level(logging.WARNING, logger="hotmesh_nb.engine._batcher"):
        assert hm.pubsub(f"{app}.go", {"id": "one", "n": 21}, timeout=30) == {"out": 42}
    assert any("1 of 2 replica(s) confirmed" in r.getMessage() for r in caplog.records)
