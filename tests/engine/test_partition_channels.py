"""Completions travel on the shard channel of the job's partition.

A job's end is published (``SPUBLISH``) on its partition's done channel, and a
process listens (``SSUBSCRIBE``) only to the partitions of the jobs it waits for,
from before the job can end. These tests run a waiter and the process that ends
the job apart, and read the server's own list of shard channels.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
import redis

import hotmesh_nb
from hotmesh_nb import EngineConfig, HotMesh, JobError, Worker
from hotmesh_nb.keys import Keys, namespace_pattern
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]

APP = """
app:
  id: chan
  version: '1'
  partitions: 4
  graphs:
    - subscribes: chan.go
      activities:
        t1:
          type: trigger
          stats:
            id: '{$self.input.data.id}'
        w1:
          type: worker
          topic: chan.work
          input:
            maps:
              n: '{t1.output.data.n}'
          job:
            maps:
              doubled: '{$self.output.data.doubled}'
      transitions:
        t1:
          - to: w1
    - subscribes: chan.hold
      activities:
        h1:
          type: trigger
          stats:
            id: '{$self.input.data.id}'
        wait:
          type: worker
          topic: chan.slow
          job: { maps: { never: true } }
      transitions:
        h1:
          - to: wait
    - subscribes: chan.stop
      activities:
        s1:
          type: trigger
          stats:
            id: '{$self.input.data.id}'
        kill:
          type: interrupt
          target: '{s1.output.data.target}'
          topic: chan.hold
          job: { maps: { killed: '{s1.output.data.target}' } }
      transitions:
        s1:
          - to: kill
"""

WORKER = """
import sys, threading
import hotmesh_nb
from hotmesh_nb import HotMesh, Worker

hm = HotMesh.init(
    "chan",
    connection=sys.argv[1],
    namespace=sys.argv[2],
    engine=False,
    workers=[Worker("chan.work", lambda msg: {"doubled": msg.data["n"] * 2})],
)
print("ready", flush=True)
sys.stdin.read()  # until the test closes our stdin
hotmesh_nb.shutdown()
"""


def _ids_in(keys: Keys, partition: int, count: int, prefix: str) -> list[str]:
    """``count`` job ids of partition ``partition``."""
    ids = (f"{prefix}-{n}" for n in range(10_000))
    return [i for i in ids if keys.part_of(i).index == partition][:count]


def _shard_channels(admin: redis.Redis, namespace: str) -> set[str]:
    return set(admin.execute_command("PUBSUB", "SHARDCHANNELS", namespace_pattern(namespace)))


@pytest.fixture
def admin(redis_url: str) -> redis.Redis:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


def test_a_waiter_hears_a_job_another_process_ended_on_its_partitions_channel_only(
    redis_url: str, namespace: str, admin: redis.Redis
) -> None:
    # This process starts and waits; the job ends in the worker's process (its step
    # completes the activity there), so only the shard channel can tell us.
    hm = HotMesh.init("chan", connection=redis_url, namespace=namespace)
    worker = None
    try:
        hm.deploy(APP)
        hm.activate("1")
        assert hm.engine.subscriptions.followed == frozenset()
        assert _shard_channels(admin, namespace) == set()
        worker = subprocess.Popen(
            [sys.executable, "-c", WORKER, redis_url, namespace],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
        first, second = _ids_in(hm.keys, 2, 2, "job")
        assert hm.pubsub("chan.go", {"id": first, "n": 4}, timeout=30) == {"doubled": 8}
        channel = hm.keys.part(2).done_channel
        assert hm.engine.subscriptions.followed == {channel}
        # The server agrees: one shard channel of the namespace, that partition's (the
        # worker's process waits for nothing and follows nothing).
        assert _shard_channels(admin, namespace) == {channel}
        # The partition stays followed: another of its jobs needs no new subscription.
        assert hm.pubsub("chan.go", {"id": second, "n": 5}, timeout=30) == {"doubled": 10}
        assert _shard_channels(admin, namespace) == {channel}
        # The ending step ran elsewhere: the completions were published, not returned.
        assert admin.hget(hm.keys.job(first), "w") is not None
    finally:
        if worker is not None:
            assert worker.stdin is not None and worker.stdout is not None
            worker.stdin.close()
            worker.wait(60)
            worker.stdout.close()
        hotmesh_nb.shutdown()


@pytest.mark.parametrize("relay", [False, True], ids=["in the step", "relayed"])
def test_an_interrupt_of_a_job_in_another_partition_reaches_its_waiter(
    redis_url: str, namespace: str, admin: redis.Redis, relay: bool
) -> None:
    # The interrupter's step (or, relayed, the batch applied in the victim's partition)
    # announces the victim's end on the victim's partition channel.
    release = threading.Event()
    hm = HotMesh.init(
        "chan",
        connection=redis_url,
        namespace=namespace,
        workers=[Worker("chan.slow", lambda msg: release.wait(60) and {})],
        config=EngineConfig(block_ms=1000, relay=relay),
    )
    try:
        hm.deploy(APP)
        hm.activate("1")
        [victim] = _ids_in(hm.keys, 1, 1, "victim")
        [stopper] = _ids_in(hm.keys, 3, 1, "stopper")
        outcome: list[BaseException | dict] = []

        def wait_for_victim() -> None:
            try:
                outcome.append(hm.pubsub("chan.hold", {"id": victim}, timeout=60))
            except BaseException as exc:
                outcome.append(exc)

        waiter = threading.Thread(target=wait_for_victim)
        waiter.start()
        wait_until(lambda: admin.exists(hm.keys.job(victim)) == 1)
        assert hm.get_status(victim) > 0
        assert hm.engine.subscriptions.followed == {hm.keys.part(1).done_channel}
        result = hm.pubsub("chan.stop", {"id": stopper, "target": victim}, timeout=30)
        assert result == {"killed": victim}
        waiter.join(60)
        [error] = outcome
        assert isinstance(error, JobError) and error.code == 410
        assert error.job_id == victim
        assert _shard_channels(admin, namespace) == {
            hm.keys.part(1).done_channel,
            hm.keys.part(3).done_channel,
        }
    finally:
        release.set()
        hotmesh_nb.shutdown()
