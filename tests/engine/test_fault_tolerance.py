"""A mesh survives what a production team meets first: a server that forgets its
scripts, slow callbacks, callbacks that try to exit, and quiet streams."""

from __future__ import annotations

import asyncio
import logging
import sys
import threading
import time

import pytest
import redis
from waiting import check_deadline

import hotmesh_nb
from hotmesh_nb import (
    EngineConfig,
    HotMesh,
    JobError,
    MeshCall,
    MeshCallError,
    ServerFullError,
    Worker,
)
from hotmesh_nb.connection import COMMAND_TIMEOUT, connect, read_timeout

APP = """
app:
  id: sturdy
  version: '1'
  graphs:
    - subscribes: sturdy.go
      activities:
        t1:
          type: trigger
        w:
          type: worker
          topic: sturdy.work
          input: { maps: { n: '{t1.output.data.n}' } }
          job: { maps: { n: '{$self.output.data.n}' } }
      transitions:
        t1:
          - to: w
"""


class Custom(BaseException):
    """A BaseException of the user's own."""


def _exit() -> None:
    sys.exit(3)


def _interrupt() -> None:
    raise KeyboardInterrupt("stop it")


def _custom() -> None:
    raise Custom("my own")


RAISERS = {"SystemExit": _exit, "KeyboardInterrupt": _interrupt, "Custom": _custom}


def _callback(kind: str, raiser):
    if kind == "def":

        def work(msg):
            if msg.data["n"] < 0:
                raiser()
            return {"n": msg.data["n"]}

        return work

    async def awork(msg):
        await asyncio.sleep(0)
        if msg.data["n"] < 0:
            raiser()
        return {"n": msg.data["n"]}

    return awork


@pytest.mark.parametrize("kind", ["def", "async def"])
@pytest.mark.parametrize("name", sorted(RAISERS))
def test_a_callback_that_exits_fails_its_job_and_the_mesh_goes_on(
    mesh, kind: str, name: str
) -> None:
    hm = mesh("sturdy", APP, {"sturdy.work": _callback(kind, RAISERS[name])})
    with pytest.raises(JobError) as caught:
        hm.pubsub("sturdy.go", {"n": -1}, timeout=10)
    assert caught.value.code == 500
    assert name in str(caught.value)
    # The same process keeps serving: its loop and its worker survived.
    assert hm.pubsub("sturdy.go", {"n": 7}, timeout=10) == {"n": 7}


@pytest.mark.parametrize("kind", ["def", "async def"])
def test_a_meshcall_function_that_exits_raises_at_the_caller(redis_url, namespace, kind) -> None:
    def leave(code):
        sys.exit(code)

    async def leave_async(code):
        await asyncio.sleep(0)
        sys.exit(code)

    fn = leave if kind == "def" else leave_async
    MeshCall.connect("sturdy.leave", fn, connection=redis_url, namespace=namespace)
    with pytest.raises(MeshCallError) as caught:
        MeshCall.exec("sturdy.leave", [4], connection=redis_url, namespace=namespace, timeout=10)
    assert "SystemExit" in str(caught.value)
    assert caught.value.error_type == "SystemExit"
    MeshCall.connect("sturdy.echo", lambda x: x, connection=redis_url, namespace=namespace)
    assert MeshCall.exec("sturdy.echo", [5], connection=redis_url, namespace=namespace) == 5


def test_a_callback_slower_than_reclaim_after_runs_once(mesh) -> None:
    calls: list[int] = []

    async def slow(msg):
        calls.append(msg.data["n"])
        await asyncio.sleep(1.5)  # three times reclaim_after
        return {"n": msg.data["n"]}

    hm = mesh("sturdy", APP, {"sturdy.work": slow}, reclaim_after=0.5, delivery_cap=1)
    assert hm.pubsub("sturdy.go", {"n": 1}, timeout=20) == {"n": 1}
    assert calls == [1]
    assert hm.dead_letters() == []


def test_scripts_flushed_on_the_server_are_reloaded_by_running_processes(mesh, redis_url) -> None:
    hm = mesh("sturdy", APP, {"sturdy.work": _callback("def", _exit)})
    assert hm.pubsub("sturdy.go", {"n": 1}, timeout=10) == {"n": 1}
    redis.Redis.from_url(redis_url).script_flush()
    assert hm.pubsub("sturdy.go", {"n": 2}, timeout=10) == {"n": 2}
    redis.Redis.from_url(redis_url).script_flush()
    ids = [hm.pub("sturdy.go", {"n": n}) for n in range(20)]
    for n, job_id in enumerate(ids):
        hm_state = _wait_done(hm, job_id)
        assert hm_state["data"] == {"n": n}


def _wait_done(hm: HotMesh, job_id: str) -> dict:
    deadline = time.monotonic() + 20
    while hm.get_status(job_id) != 0:
        check_deadline(deadline, f"job {job_id} did not finish")
        time.sleep(0.02)
    return hm.get_state(job_id)


def test_socket_timeouts_outlast_blocking_reads(redis_url) -> None:
    conn = connect(redis_url)
    for block_ms in (1000, 5000, 25000, 60000):
        client = conn.reader(block_ms)
        kwargs = client.connection_pool.connection_kwargs
        assert kwargs["socket_timeout"] > block_ms / 1000
        margin = read_timeout(block_ms) - block_ms / 1000
        assert margin > 0
    assert conn.client.connection_pool.connection_kwargs["socket_timeout"] == COMMAND_TIMEOUT


def test_a_quiet_stream_read_longer_than_five_seconds_is_not_cut_off(
    redis_url, namespace, caplog
) -> None:
    # redis-py's default socket timeout (5 s) used to equal the 5 s read: the read failed
    # with "Timeout reading" and reconnected. A 6 s read must now simply end empty.
    hm = HotMesh.init(
        "sturdy",
        connection=redis_url,
        namespace=namespace,
        workers=[Worker("sturdy.work", _callback("def", _exit))],
        config=EngineConfig(block_ms=6000),
    )
    hm.deploy(APP)
    hm.activate("1")
    with caplog.at_level(logging.WARNING, logger="hotmesh_nb"):
        time.sleep(6.5)
        assert hm.pubsub("sturdy.go", {"n": 9}, timeout=10) == {"n": 9}
    assert not [r for r in caplog.records if "unavailable" in r.getMessage()]


def test_keyboard_interrupt_in_a_blocking_wait_leaves_the_mesh_running(mesh) -> None:
    release = threading.Event()

    def hold(msg):
        release.wait(10)
        return {"n": msg.data["n"]}

    hm = mesh("sturdy", APP, {"sturdy.work": hold})
    main = threading.main_thread()
    assert threading.current_thread() is main

    def interrupt_soon() -> None:
        time.sleep(0.3)
        import _thread

        _thread.interrupt_main()

    threading.Thread(target=interrupt_soon).start()
    with pytest.raises(KeyboardInterrupt):
        hm.pubsub("sturdy.go", {"n": 1}, timeout=10)
    release.set()
    assert hm.pubsub("sturdy.go", {"n": 2}, timeout=10) == {"n": 2}


WAIT_APP = APP.replace("sturdy.work", "sturdy.nobody")


def _poison(hm: HotMesh, redis_url: str, job_id: str) -> None:
    """An engine message no engine can apply: it names a version that was never deployed."""
    import json

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    gid = hm.get_state(job_id)["metadata"]["gid"]
    message = {
        "k": "response", "j": job_id, "gid": gid, "a": "w", "d": ",0", "v": "404",
        "g": "poison", "rg": "poison", "status": "success", "code": 200, "data": {},
    }  # fmt: skip
    client.xadd(hm.keys.engine_stream_of(job_id), {"m": json.dumps(message)})


def test_an_engine_dead_letter_ends_its_job_with_a_visible_error(mesh, redis_url) -> None:
    hm = mesh("sturdy", WAIT_APP, reclaim_after=0.2, delivery_cap=1)
    job_id = hm.pub("sturdy.go", {"n": 1})
    _poison(hm, redis_url, job_id)
    deadline = time.monotonic() + 20
    while hm.get_status(job_id) > 0:
        check_deadline(deadline, "the job stayed open")
        time.sleep(0.05)
    letters = hm.dead_letters()
    assert len(letters) == 1 and letters[0]["message"]["j"] == job_id
    assert letters[0]["stream"] == hm.keys.engine_stream_of(job_id)
    error = hm.get_state(job_id)["metadata"].get("err") or hm.export(job_id).get("error")
    assert error is not None and "999" in str(error)


def test_dead_letters_are_capped_replayed_and_purged(mesh, redis_url) -> None:
    # One partition: the cap holds per partition's dead-letter stream.
    hm = mesh(
        "sturdy", WAIT_APP, partitions=1, reclaim_after=0.2, delivery_cap=1, dead_letter_cap=3
    )
    ids = [hm.pub("sturdy.go", {"n": n}) for n in range(5)]
    for job_id in ids:
        _poison(hm, redis_url, job_id)
    deadline = time.monotonic() + 30
    while any(hm.get_status(i) > 0 for i in ids):
        check_deadline(deadline, "jobs stayed open")
        time.sleep(0.05)
    letters = hm.dead_letters()
    assert [x["message"]["j"] for x in letters] == ids[:1:-1]  # the newest 3, newest first
    # A replayed letter runs again; still poison, it comes back as a new letter.
    assert hm.replay_dead_letters([letters[0]["id"]]) == 1
    assert letters[0]["id"] not in [x["id"] for x in hm.dead_letters()]
    while len(hm.dead_letters()) < 3:
        check_deadline(deadline, "the replayed message did not come back")
        time.sleep(0.05)
    assert hm.purge_dead_letters([hm.dead_letters()[-1]["id"]]) == 1
    assert len(hm.dead_letters()) == 2
    assert hm.purge_dead_letters() == 2
    assert hm.dead_letters() == []


def test_a_full_server_refuses_new_jobs_clearly_and_loses_nothing(mesh, redis_url) -> None:
    release = threading.Event()

    def hold(msg):
        release.wait(10)
        return {"n": msg.data["n"]}

    hm = mesh("sturdy", APP, {"sturdy.work": hold})
    running = hm.pub("sturdy.go", {"n": 1})
    admin = redis.Redis.from_url(redis_url)
    admin.config_set("maxmemory", 1)
    try:
        with pytest.raises(ServerFullError, match="maxmemory"):
            hm.pub("sturdy.go", {"n": 2})
        release.set()  # the running job's answer meets the full server: it waits, not fails
        time.sleep(0.3)
        assert hm.get_status(running) > 0
    finally:
        admin.config_set("maxmemory", 0)
    assert _wait_done(hm, running)["data"] == {"n": 1}
    assert hm.dead_letters() == []


def test_a_pubsub_timeout_names_the_job_it_leaves_running(mesh) -> None:
    release = threading.Event()

    def hold(msg):
        release.wait(10)
        return {"n": msg.data["n"]}

    hm = mesh("sturdy", APP, {"sturdy.work": hold})
    with pytest.raises(hotmesh_nb.TimeoutError) as caught:
        hm.pubsub("sturdy.go", {"n": 3}, timeout=0)  # returns at once
    job_id = caught.value.job_id
    assert caught.value.code == 504 and job_id in str(caught.value)
    assert hm.get_status(job_id) > 0
    release.set()
    assert _wait_done(hm, job_id)["data"] == {"n": 3}


def test_a_pending_answer_is_completed_later_with_add(mesh) -> None:
    from hotmesh_nb import Response

    held: list = []

    def review(msg):
        held.append(msg)
        return Response({"n": msg.data["n"], "state": "queued"}, code=202)

    hm = mesh("sturdy", APP, {"sturdy.work": review})
    job_id = hm.pub("sturdy.go", {"n": 4})
    deadline = time.monotonic() + 10
    while not held:
        check_deadline(deadline, "the worker was not called")
        time.sleep(0.02)
    assert hm.get_status(job_id) > 0  # 202 keeps the activity open
    hm.add(held[0], {"n": 40}, code=202)  # one more partial answer
    time.sleep(0.2)
    assert hm.get_status(job_id) > 0
    hm.add(held[0], {"n": 41})  # the final answer
    assert _wait_done(hm, job_id)["data"] == {"n": 41}
    hm.add(held[0], {"n": 99})  # answering again changes nothing
    time.sleep(0.2)
    assert hm.get_state(job_id)["data"] == {"n": 41}


def test_the_stored_error_is_the_originals_json(mesh) -> None:
    import json

    def boom(msg):
        raise RuntimeError("boom")

    hm = mesh("sturdy", APP, {"sturdy.work": boom})
    with pytest.raises(JobError) as caught:
        hm.pubsub("sturdy.go", {"n": 1}, timeout=10)
    assert caught.value.error_type == "RuntimeError"  # kept in a field of our own
    raw = hm.get_state(caught.value.job_id)["metadata"]["err"]
    err = json.loads(raw)
    # Key for key and in order, as the original stores metadata.err for a worker error.
    assert list(err) == ["message", "code", "stack", "is_stream_error"]
    assert err["message"] == "boom" and err["code"] == 500 and err["is_stream_error"] is True
    assert raw == json.dumps(err, separators=(",", ":"), ensure_ascii=False)


def test_tracebacks_can_stay_in_the_workers_log(mesh, caplog) -> None:
    def secret(msg):
        raise ValueError("no entry")

    hm = mesh("sturdy", APP, {"sturdy.work": secret}, share_tracebacks=False)
    with caplog.at_level(logging.WARNING, logger="hotmesh_nb"), pytest.raises(JobError) as caught:
        hm.pubsub("sturdy.go", {"n": 1}, timeout=10)
    assert caught.value.error_type == "ValueError" and caught.value.message == "no entry"
    assert not caught.value.stack  # nothing of the code reaches the caller or the job
    assert "secret" not in hm.get_state(caught.value.job_id)["metadata"]["err"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "in secret" in logged and "no entry" in logged  # the worker's own log has it


def test_a_topic_nobody_serves_is_reported_and_refuses_new_jobs_past_its_cap(
    mesh, redis_url, namespace
) -> None:
    from waiting import wait_until

    from hotmesh_nb import UnservedTopicError

    hm = mesh("sturdy", APP, unserved_cap=5)
    ids = [hm.pub("sturdy.go", {"n": n}) for n in range(5)]
    wait_until(lambda: hm.unserved_topics() == {"sturdy.work": 5}, timeout=15)
    with pytest.raises(UnservedTopicError, match=r"sturdy\.work"):
        hm.pub("sturdy.go", {"n": 99})
    # A worker arrives: the queued work (never trimmed) completes and the topic is served.
    server = HotMesh.init(
        "sturdy",
        connection=redis_url,
        namespace=namespace,
        engine=False,
        workers=[Worker("sturdy.work", _callback("def", _exit))],
        config=EngineConfig(block_ms=1000),
    )
    assert server is not None
    for n, job_id in enumerate(ids):
        assert _wait_done(hm, job_id)["data"] == {"n": n}
    hm.pub("sturdy.go", {"n": 6})
    wait_until(lambda: hm.unserved_topics() == {}, timeout=15)
