"""A worker's read loop: what it sends before its next blocking read, and that it keeps reading.

Work taken from a stream runs up to its first wait before the next ``XREADGROUP`` is
sent, and the step it queued goes out first: the server runs the step, not the read,
when it wakes. A read loop that breaks on something unforeseen logs it and reads
again: a worker that looks alive but reads nothing would strand every job.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

import hotmesh_nb
from hotmesh_nb import HotMesh
from hotmesh_nb.engine import _consumer

HERE = Path(__file__).parent


@pytest.fixture
def serve(redis_url: str, namespace: str) -> Iterator[Callable[..., HotMesh]]:
    """The ``local`` app of ``local_role``, its work read from the stream (no local dispatch)."""
    sys.path.insert(0, str(HERE))

    def start(callback: Any) -> HotMesh:
        import local_role

        # Reads block long enough that none times out and is sent again within a job.
        return local_role.serve(
            redis_url, namespace, callback, local_dispatch=False, block_ms=20_000
        )

    yield start
    hotmesh_nb.shutdown()
    sys.path.remove(str(HERE))


async def double(message: Any) -> dict[str, Any]:
    return {"doubled": message.data["n"] * 2}


def _monitor(redis_url: str, seen: list[list[str]], ready: threading.Event) -> None:
    """Record every command the server runs (``MONITOR``) until ``QUIT`` is seen."""
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    with client.monitor() as monitor:
        ready.set()
        for event in monitor.listen():
            words = event["command"].split()
            seen.append(words)
            if words and words[0] == "QUIT":
                return


def test_a_step_goes_to_the_server_before_the_next_blocking_read(
    serve, redis_url: str, namespace: str
) -> None:
    hm = serve(double)
    hm.pubsub("local.go", {"n": 0}, timeout=10)  # warm: scripts loaded, reads waiting
    seen: list[list[str]] = []
    ready = threading.Event()
    watcher = threading.Thread(target=_monitor, args=(redis_url, seen, ready), daemon=True)
    watcher.start()
    assert ready.wait(10)
    for n in range(1, 6):
        assert hm.pubsub("local.go", {"n": n}, timeout=10)["doubled"] == n * 2
    redis.Redis.from_url(redis_url).execute_command("QUIT")
    watcher.join(10)

    streams = set(hm.keys.worker_streams("local.work"))

    def on_stream(words: list[str], command: str) -> bool:
        return words[0] == command and not streams.isdisjoint(words)

    # The step answering a job's work acknowledges its stream message inside the script
    # (the stream's key is among its arguments); the job's first step added the message.
    steps = [i for i, words in enumerate(seen) if on_stream(words, "EVALSHA") and "step" in words]
    assert len(steps) == 5, [w[:2] for w in seen]
    for i in steps:
        added = max(j for j in range(i) if on_stream(seen[j], "XADD"))
        reads = [w for w in seen[added:i] if on_stream(w, "XREADGROUP") and "BLOCK" in w]
        assert reads == [], [w[:2] for w in seen[added : i + 1]]


def test_an_entry_with_a_malformed_delivery_count_does_not_stop_the_worker(
    serve, redis_url: str
) -> None:
    hm = serve(double)
    assert hm.pubsub("local.go", {"n": 1}, timeout=10)["doubled"] == 2
    admin = redis.Redis.from_url(redis_url, decode_responses=True)
    for stream in hm.keys.worker_streams("local.work"):
        admin.xadd(stream, {"m": "not a message", "p": "twice"})
    # Later work is read and done all the same.
    for n in range(2, 6):
        assert hm.pubsub("local.go", {"n": n}, timeout=10)["doubled"] == n * 2


def test_a_read_loop_that_breaks_logs_it_and_reads_again(
    serve, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    hm = serve(double)
    assert hm.pubsub("local.go", {"n": 1}, timeout=10)["doubled"] == 2
    parse = _consumer._entries
    broken: list[int] = []

    def breaks_once(reply: Any) -> Any:
        if reply and not broken:
            broken.append(1)
            raise RuntimeError("an entry nobody foresaw")
        return parse(reply)

    monkeypatch.setattr(_consumer, "_entries", breaks_once)
    with caplog.at_level(logging.ERROR, logger="hotmesh_nb.engine._consumer"):
        # The message whose read broke the loop is taken back and done, once.
        assert hm.pubsub("local.go", {"n": 2}, timeout=10)["doubled"] == 4
        assert hm.pubsub("local.go", {"n": 3}, timeout=10)["doubled"] == 6
    assert broken == [1]
    assert any("broke; reading again" in r.getMessage() for r in caplog.records)
