"""Local dispatch (engine/_local.py): work for a worker of the same process skips the stream.

The step writes the message as a lease and hands it to the worker; the answer's step
removes the lease. Whatever cannot be taken now (no free slot, a throttle, the
setting off) goes through the stream. A lease whose process died falls due and is
moved onto the stream, where another worker does it: nothing lost, nothing doubled.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from waiting import wait_until

import hotmesh_nb
from hotmesh_nb import HotMesh
from hotmesh_nb.keys import DEFAULT_PARTITIONS, Keys

HERE = Path(__file__).parent
ROOT = HERE.parent.parent


KEYS_OF = "local"


def _keys(namespace: str) -> Keys:
    return Keys(namespace, KEYS_OF, DEFAULT_PARTITIONS)


def _streamed(admin: redis.Redis, hm: HotMesh | Keys, topic: str) -> int:
    keys = hm if isinstance(hm, Keys) else hm.keys
    return sum(admin.xlen(s) for s in keys.worker_streams(topic))


def _leased(admin: redis.Redis, hm: HotMesh | Keys, topic: str) -> int:
    keys = hm if isinstance(hm, Keys) else hm.keys
    return sum(admin.zcard(s) for s in keys.work_lease_sets(topic))


def _calls(admin: redis.Redis, command: str) -> int:
    stats = admin.info("commandstats").get(f"cmdstat_{command}")
    return int(stats["calls"]) if stats else 0


@pytest.fixture
def admin(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture(autouse=True)
def _role_importable() -> Iterator[None]:
    sys.path.insert(0, str(HERE))
    yield
    sys.path.remove(str(HERE))


@pytest.fixture
def serve(redis_url: str, namespace: str) -> Iterator[Callable[..., HotMesh]]:
    def start(callback: Any, **config: Any) -> HotMesh:
        import local_role

        return local_role.serve(redis_url, namespace, callback, **config)

    yield start
    hotmesh_nb.shutdown()


def test_work_for_a_worker_of_this_process_goes_to_it_without_the_stream(
    serve, admin: redis.Redis
) -> None:
    hm = serve(lambda m: {"doubled": m.data["n"] * 2})
    hm.pubsub("local.go", {"n": 0}, timeout=10)  # warm: the scripts are loaded
    before = {c: _calls(admin, c) for c in ("zadd", "zrem", "xadd", "xack")}
    results = [hm.pubsub("local.go", {"n": n}, timeout=10) for n in range(20)]
    assert [r["doubled"] for r in results] == [n * 2 for n in range(20)]
    after = {c: _calls(admin, c) - before[c] for c in before}
    # One lease written and removed per job, inside the two steps; no stream message.
    assert after == {"zadd": 20, "zrem": 20, "xadd": 0, "xack": 0}
    assert _streamed(admin, hm, "local.work") == 0
    assert _leased(admin, hm, "local.work") == 0


def test_with_local_dispatch_off_work_goes_through_the_stream(serve, admin: redis.Redis) -> None:
    hm = serve(lambda m: {"doubled": m.data["n"] * 2}, local_dispatch=False)
    for n in range(5):
        assert hm.pubsub("local.go", {"n": n}, timeout=10)["doubled"] == n * 2
    assert _streamed(admin, hm, "local.work") == 5


def test_work_beyond_the_free_slots_waits_on_the_stream(serve, admin: redis.Redis) -> None:
    release = threading.Event()
    began: list[int] = []

    async def gated(message: Any) -> dict[str, Any]:
        began.append(message.data["n"])
        while not release.is_set():
            await asyncio.sleep(0.01)
        return {"doubled": message.data["n"] * 2}

    hm = serve(gated, concurrency=1)
    ids = [hm.pub("local.go", {"n": n}) for n in range(3)]
    wait_until(lambda: began == [0], timeout=10)
    # The first took the only slot; the others were queued on the stream for any worker.
    assert _leased(admin, hm, "local.work") == 1
    assert _streamed(admin, hm, "local.work") == 2
    # The streams view counts the work in hand as pending, beside the stream's own.
    row = hm.streams().set_index("stream").loc["local.work"]
    delivered = sum(
        admin.xpending(s, "WORKER")["pending"] for s in hm.keys.worker_streams("local.work")
    )
    assert (row["pending"], row["depth"]) == (1 + delivered, 2)
    release.set()
    wait_until(lambda: all(hm.get_status(i) == 0 for i in ids), timeout=10)
    assert sorted(began) == [0, 1, 2]
    assert [hm.get_state(i)["data"]["doubled"] for i in ids] == [0, 2, 4]
    assert _leased(admin, hm, "local.work") == 0


def test_a_throttled_topic_gets_its_work_through_the_stream(serve, admin: redis.Redis) -> None:
    hm = serve(lambda m: {"doubled": m.data["n"] * 2})
    hm.throttle(100, topic="local.work")
    wait_until(lambda: hm.workers[0].throttles.delay("local.work", "") > 0, timeout=10)
    job_id = hm.pub("local.go", {"n": 4})
    wait_until(lambda: hm.get_status(job_id) == 0, timeout=10)
    assert _streamed(admin, hm, "local.work") == 1


def test_a_retry_of_local_work_is_queued_and_the_lease_removed(serve, admin: redis.Redis) -> None:
    tries: list[int] = []

    def flaky(message: Any) -> Any:
        tries.append(message.metadata["try"] or 0)
        if len(tries) == 1:
            return hotmesh_nb.Response({"message": "again"}, code=503)
        return {"doubled": message.data["n"] * 2}

    import local_role

    hm = serve(flaky)
    # The role's app again, its worker with a retry policy for code 503.
    retrying = local_role.APP.replace("version: '1'", "version: '2'").replace(
        "topic: local.work\n", "topic: local.work\n          retry: { '503': [2] }\n"
    )
    assert "retry:" in retrying
    hm.deploy(retrying)
    hm.activate("2")
    assert hm.pubsub("local.go", {"n": 3}, timeout=10)["doubled"] == 6
    assert len(tries) == 2
    assert _leased(admin, hm, "local.work") == 0


def test_a_stopping_worker_hands_its_local_work_back_at_once(
    serve, redis_url: str, namespace: str, admin: redis.Redis
) -> None:
    hung = threading.Event()

    async def hang(message: Any) -> dict[str, Any]:
        hung.set()
        await asyncio.sleep(600)
        return {}

    first = serve(hang)
    # A worker of the topic elsewhere, which reclaims only after 60 s of silence.
    taker = subprocess.Popen(
        [sys.executable, "-c", TAKER, redis_url, namespace],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)])},
        text=True,
    )
    try:
        assert taker.stdout is not None and taker.stdout.readline().strip() == "ready"
        job_id = first.pub("local.go", {"n": 5})
        wait_until(hung.is_set, timeout=10)
        assert _leased(admin, first, "local.work") == 1
        # The callback does not finish within the stop's grace: the lease is handed
        # back, and the other worker takes it at once.
        first.stop()
        wait_until(lambda: first.get_status(job_id) == 0, timeout=30)
        assert first.get_state(job_id)["data"]["doubled"] == 10
    finally:
        taker.kill()
        taker.wait(10)
        if taker.stdout is not None:
            taker.stdout.close()


TAKER = """
import sys, threading
import local_role
local_role.serve(sys.argv[1], sys.argv[2], lambda m: {"doubled": m.data["n"] * 2})
print("ready", flush=True)
threading.Event().wait()
"""


def test_the_leases_of_a_killed_process_are_done_elsewhere_once(
    redis_url: str, namespace: str, admin: redis.Redis
) -> None:
    import local_role

    jobs = 12
    doomed = subprocess.Popen(
        [sys.executable, str(HERE / "local_role.py"), redis_url, namespace, str(jobs)],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)])},
        text=True,
    )
    try:
        assert doomed.stdout is not None and doomed.stdout.readline().strip() == "ready"
        wait_until(lambda: admin.scard(f"{namespace}:entered") == jobs, timeout=30)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(10)
    finally:
        if doomed.poll() is None:
            doomed.kill()
            doomed.wait(10)
        if doomed.stdout is not None:
            doomed.stdout.close()
    ids = sorted(admin.smembers(f"{namespace}:entered"))

    def once(message: Any) -> dict[str, Any]:
        admin.incr(f"{namespace}:effect:{message.metadata['jid']}")
        return {"doubled": message.data["n"] * 2}

    # All of it was in hand, as leases: nothing was on the stream.
    assert _leased(admin, _keys(namespace), "local.work") == jobs
    assert _streamed(admin, _keys(namespace), "local.work") == 0
    try:
        hm = local_role.serve(redis_url, namespace, once, reclaim_after=1.0)
        wait_until(lambda: all(hm.get_status(i) == 0 for i in ids), timeout=60)
        assert [admin.get(f"{namespace}:effect:{i}") for i in ids] == ["1"] * jobs
        assert _leased(admin, hm, "local.work") == 0
        # Moved onto the stream by the reclaim, then done from there.
        assert _streamed(admin, hm, "local.work") == jobs
    finally:
        hotmesh_nb.shutdown()
