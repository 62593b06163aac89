"""Delivery guarantees with real processes: SIGKILL, redelivery, reclaim, dead letters."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis
from redis import exceptions as redis_errors
from waiting import check_deadline, wait_until

import hotmesh_nb

pytestmark = pytest.mark.slow

KILL_APP = """
app:
  id: kill
  version: '1'
  graphs:
    - subscribes: kill.go
      activities:
        t1:
          type: trigger
        w1:
          type: worker
          topic: kill.work
          input: { maps: { n: '{t1.output.data.n}' } }
          job: { maps: { doubled: '{$self.output.data.doubled}' } }
        after:
          type: hook
          job: { maps: { after: true } }
      transitions:
        t1:
          - to: w1
        w1:
          - to: after
"""

WORKER_MODULE = """
import os, time, redis
MARK = os.environ["KILL_MARK"]

def stuck(msg):
    with open(MARK, "a") as f:
        f.write(msg.metadata["jid"] + "\\n")
    time.sleep(600)

def quick(msg):
    r = redis.Redis.from_url(os.environ["KILL_URL"])
    r.incr("effects:" + msg.metadata["jid"])
    return {"doubled": msg.data["n"] * 2}
"""


def _spawn_worker(
    tmp_path: Path, url: str, namespace: str, fn: str, mark: Path, *extra: str
) -> subprocess.Popen:
    env = dict(
        os.environ,
        PYTHONPATH=str(tmp_path),
        KILL_MARK=str(mark),
        KILL_URL=url,
    )
    return subprocess.Popen(
        [
            sys.executable, "-m", "hotmesh_nb.cli", "worker", "kill",
            "--topic", f"kill.work=killworker:{fn}", "--namespace", namespace,
            "--url", url, "--reclaim-after", "1", *extra,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip


def test_a_worker_killed_mid_job_loses_nothing(mesh, redis_url, namespace, tmp_path) -> None:
    (tmp_path / "killworker.py").write_text(textwrap.dedent(WORKER_MODULE))
    mark = tmp_path / "started.txt"
    hm = mesh("kill", KILL_APP)  # engine only, in this process
    doomed = _spawn_worker(tmp_path, redis_url, namespace, "stuck", mark)
    try:
        assert "serving" in doomed.stdout.readline()
        job_id = hm.pub("kill.go", {"n": 21})
        deadline = time.monotonic() + 30
        while not (mark.exists() and job_id in mark.read_text()):
            check_deadline(deadline, "the worker never picked the job up")
            time.sleep(0.02)
        doomed.send_signal(signal.SIGKILL)
        doomed.wait(10)
    finally:
        if doomed.poll() is None:
            doomed.kill()
            doomed.wait(10)
        doomed.stdout.close()
    rescuer = _spawn_worker(tmp_path, redis_url, namespace, "quick", mark)
    try:
        assert "serving" in rescuer.stdout.readline()
        deadline = time.monotonic() + 30
        while hm.get_status(job_id) != 0:
            check_deadline(deadline, "the job did not finish after the crash")
            time.sleep(0.05)
    finally:
        rescuer.send_signal(signal.SIGINT)
        rescuer.wait(10)
        rescuer.stdout.close()
    assert hm.get_state(job_id)["data"] == {"doubled": 42, "after": True}
    client = redis.Redis.from_url(redis_url)
    assert client.get(f"effects:{job_id}") == b"1"


def test_a_redelivered_response_is_applied_once(mesh, redis_url, namespace) -> None:
    release = threading.Event()

    def work(msg) -> dict:
        release.wait(10)
        return {"doubled": msg.data["n"] * 2}

    hm = mesh("kill", KILL_APP, {"kill.work": work})
    completions: list[dict] = []
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    keys = hm.keys
    pubsub = client.pubsub()
    job_id = hm.pub("kill.go", {"n": 5})
    pubsub.ssubscribe(keys.part_of(job_id).done_channel)  # the job waits for `release`
    assert pubsub.get_message(timeout=10)["type"] == "ssubscribe"
    # Capture the worker's response as it goes to the engine stream, then replay it.
    release.set()
    deadline = time.monotonic() + 10
    while hm.get_status(job_id) != 0:
        check_deadline(deadline)
        time.sleep(0.02)
    state = hm.export(job_id)
    w1 = next(e for e in state["timeline"] if e["activity"] == "w1")
    assert w1["code"] == 200
    guards = [f for f in client.hkeys(keys.job(job_id)) if f.startswith("g:")]
    assert len(guards) == 1
    replay = {
        "k": "response", "j": job_id, "gid": hm.get_state(job_id)["metadata"]["gid"],
        "a": "w1", "d": ",0,0", "v": "1", "g": guards[0][2:], "rg": "HX",
        "status": "success", "code": 200, "data": {"doubled": 999},
    }  # fmt: skip
    client.xadd(keys.engine_stream_of(job_id), {"m": json.dumps(replay)})
    time.sleep(0.3)
    while (message := pubsub.get_message(timeout=0.2)) is not None:
        if message["type"] == "smessage":
            completions.append(json.loads(message["data"]))
    assert [c["m"]["jid"] for c in completions] == [job_id]
    assert hm.get_state(job_id)["data"] == {"doubled": 10, "after": True}
    assert hm.get_status(job_id) == 0


def test_a_poison_message_ends_in_the_dead_letter_stream(
    mesh, redis_url, namespace, tmp_path
) -> None:
    # Every worker that takes this message dies with it: without a cap it would loop forever.
    (tmp_path / "killworker.py").write_text("import os\ndef crash(msg):\n    os._exit(3)\n")
    hm = mesh("kill", KILL_APP)
    job_id = hm.pub("kill.go", {"n": 1})
    mark = tmp_path / "unused.txt"
    deadline = time.monotonic() + 60
    exits = 0
    while not hm.dead_letters():
        check_deadline(deadline, "no dead letter was written")
        proc = _spawn_worker(tmp_path, redis_url, namespace, "crash", mark, "--delivery-cap", "2")
        try:
            while proc.poll() is None and not hm.dead_letters():
                check_deadline(deadline, "the worker neither crashed nor buried")
                time.sleep(0.05)
            exits += proc.poll() is not None
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(10)
            proc.stdout.close()
    letter = hm.dead_letters()[0]
    assert "delivered 2 times" in letter["error"] and letter["message"]["j"] == job_id
    assert exits == 2  # two deliveries crashed their worker; the third buried the message
    # The job is not left hanging: the activity ends with code 999 (and, as in the
    # original, its unconditional transition still runs).
    while hm.get_status(job_id) != 0:
        check_deadline(deadline)
        time.sleep(0.05)
    w1 = next(e for e in hm.export(job_id)["timeline"] if e["activity"] == "w1")
    assert w1["code"] == 999 and w1["status"] == "error"


LOST_APP = """
app:
  id: lost
  version: '1'
  graphs:
    - subscribes: lost.go
      activities:
        t1:
          type: trigger
        w1:
          type: worker
          topic: lost.work
          job: { maps: { done: true } }
      transitions:
        t1:
          - to: w1
"""


def test_a_read_whose_reply_was_lost_is_taken_back_at_once(mesh, redis_url) -> None:
    """A failover or a dropped socket can lose a read's reply after the server delivered
    it: the messages sit pending under this consumer's name. After the next failed read
    the consumer reads its own history and handles them, long before ``reclaim_after``."""
    import socket

    hm = mesh("lost", LOST_APP, {}, reclaim_after=600)
    worker = hotmesh_nb.HotMesh.init(
        "lost",
        connection=redis_url,
        namespace=hm.namespace,
        workers=[hotmesh_nb.Worker("lost.work", lambda m: {}, "w-lost")],
        config=hotmesh_nb.EngineConfig(block_ms=1000, reclaim_after=600),
    )
    wait_until(lambda: worker.workers[0].consumer is not None)
    hm.throttle(-1, topic="lost.work")  # the worker stops reading...
    time.sleep(1.5)  # ... once its blocked read (block_ms 1 s) has returned
    job_id = hm.pub("lost.go", {})
    admin = redis.Redis.from_url(redis_url, decode_responses=True)
    # The lost reply: the server delivers the message to the worker's consumer name.
    name = f"{socket.gethostname()}:{os.getpid()}:w-lost"
    streams = dict.fromkeys(hm.keys.worker_streams("lost.work"), ">")
    taken = admin.xreadgroup("WORKER", name, streams, count=10)
    assert sum(len(entries) for _, entries in taken) == 1
    hm.throttle(0, topic="lost.work")
    # Its reads fail once (every connection but ours is dropped), as in a failover.
    me = admin.client_id()
    for client in admin.client_list():
        if int(client["id"]) != me:
            admin.client_kill_filter(_id=int(client["id"]))
    wait_until(lambda: hm.get_status(job_id) == 0, timeout=20)
    assert hm.get_state(job_id)["data"] == {"done": True}
    admin.close()


LEASED_APP = """
app:
  id: leased
  version: '1'
  graphs:
    - subscribes: leased.go
      activities:
        t1:
          type: trigger
          stats: { id: '{$self.input.data.id}' }
        w1:
          type: worker
          topic: leased.work
          job: { maps: { done: true } }
      transitions:
        t1:
          - to: w1
"""


def test_local_work_whose_step_reply_was_lost_runs_at_once(mesh) -> None:
    """A job created with its worker in the same process writes the work as a lease. When
    the reply of that step is lost (a failover, a dropped socket), ``pub`` fails and the
    caller retries to find the job exists; the lease is nobody's. It goes onto the
    topic's stream at once and runs once, long before ``reclaim_after``."""
    calls: list[str] = []
    hm = mesh(
        "leased", LEASED_APP, {"leased.work": lambda m: calls.append(m.metadata["jid"]) or {}},
        reclaim_after=600,
    )  # fmt: skip
    _lose_a_reply(hm.engine.batcher, [])
    with pytest.raises(hotmesh_nb.ConnectError):
        hm.pub("leased.go", {"id": "lost-reply"})
    with pytest.raises(hotmesh_nb.DuplicateJobError):
        hm.pub("leased.go", {"id": "lost-reply"})
    wait_until(lambda: hm.get_status("lost-reply") == 0, timeout=20)
    assert hm.get_state("lost-reply")["data"] == {"done": True}
    assert calls == ["lost-reply"]


CHAINED_APP = """
app:
  id: chained
  version: '1'
  graphs:
    - subscribes: chained.go
      activities:
        t1:
          type: trigger
        w1:
          type: worker
          topic: chained.first
        w2:
          type: worker
          topic: chained.second
          job: { maps: { done: true } }
      transitions:
        t1:
          - to: w1
        w1:
          - to: w2
"""


def test_local_work_of_a_step_sent_again_after_a_lost_reply_runs_once(mesh) -> None:
    """A worker's answer is a patient step: when its reply is lost, the pipeline sends it
    again and hears "already applied". The next worker's lease that the first sending
    wrote is nobody's: it goes onto the stream at once and runs once."""
    calls: list[str] = []
    hm: hotmesh_nb.HotMesh

    async def first(message: hotmesh_nb.WorkerMessage) -> dict:
        calls.append("first")
        # The flush of this answer's step (the app's definition was read before).
        _lose_a_reply(batcher, lost, of=_has_a_script)
        return {}

    async def second(message: hotmesh_nb.WorkerMessage) -> dict:
        calls.append("second")
        return {}

    hm = mesh(
        "chained", CHAINED_APP, {"chained.first": first, "chained.second": second},
        reclaim_after=600,
    )  # fmt: skip
    (service,) = [w for w in hm.workers if w.topic == "chained.first"]
    batcher = service.batcher  # the one that sends the worker's answers
    lost: list[int] = []

    job_id = hm.pub("chained.go", {})
    wait_until(lambda: hm.get_status(job_id) == 0, timeout=20)
    assert hm.get_state(job_id)["data"] == {"done": True}
    assert calls == ["first", "second"]
    assert lost == [1]  # the answer's step was sent twice, and ran once


def _has_a_script(commands: list[Any]) -> bool:
    return any(args[0] == "EVALSHA" for args, _ in commands)


def _lose_a_reply(
    batcher: Any, lost: list[int], *, of: Callable[[list[Any]], bool] = lambda commands: True
) -> None:
    """The next flush of ``batcher`` that ``of`` picks runs on the server and loses its
    reply, as a dropped socket would (``lost`` gets its length), whether the flush is
    written at once or from a task; the flushes after it go through."""
    lane = batcher._lane
    start, send = lane.start, lane.send

    def restore() -> None:
        del lane.start, lane.send

    def lossy_start(commands: list[Any]) -> asyncio.Future[list[Any]] | None:
        written = start(commands)
        if written is None or not of(commands):
            return written
        restore()
        lost.append(len(commands))
        reply: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        written.add_done_callback(
            lambda _: reply.set_exception(redis_errors.ConnectionError("the reply was lost"))
        )
        return reply

    async def lossy_send(commands: list[Any]) -> list[Any]:
        replies = await send(commands)  # the server runs the step...
        if not of(commands):
            return replies
        restore()
        lost.append(len(commands))
        raise redis_errors.ConnectionError("the reply was lost")  # ... its reply never comes

    lane.start, lane.send = lossy_start, lossy_send
