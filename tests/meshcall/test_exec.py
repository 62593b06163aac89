"""MeshCall.exec end to end: answers, the cache (hits, flush, ttl), errors, other processes."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import redis
from waiting import wait_until

import hotmesh_nb
from hotmesh_nb import DuplicateJobError, HotMeshError, JobNotFoundError, MeshCall, WorkflowError
from hotmesh_nb import TimeoutError as HotMeshTimeout
from hotmesh_nb.meshcall import MeshCallError

SERVE = Path(__file__).with_name("serve_topic.py")


class Counter:
    """A callback that counts its runs and echoes its arguments."""

    def __init__(self, tag: str = "v1") -> None:
        self.tag = tag
        self.calls: list[tuple] = []

    def __call__(self, *args: object) -> dict:
        self.calls.append(args)
        return {"tag": self.tag, "args": list(args)}


def test_exec_returns_the_callbacks_value(ns: str) -> None:
    MeshCall.connect("greet", lambda name, punct="!": f"Hello, {name}{punct}", namespace=ns)
    assert MeshCall.exec("greet", ["Ada"], namespace=ns) == "Hello, Ada!"
    assert MeshCall.exec("greet", ["Bob", "?"], namespace=ns) == "Hello, Bob?"


def test_values_round_trip_exactly(ns: str) -> None:
    value = {"name": "", "ratio": 2.0, "big": 2**60, "nested": [{"empty": ""}, None, True]}
    MeshCall.connect("echo", lambda v: v, namespace=ns)
    assert MeshCall.exec("echo", [value], namespace=ns) == value
    for plain in ("", 0, None, [], {}, "text", 1.5):
        assert MeshCall.exec("echo", [plain], namespace=ns) == plain


def test_async_callbacks_and_the_async_twin(ns: str) -> None:
    async def double(n: int) -> int:
        await asyncio.sleep(0)
        return n * 2

    MeshCall.connect("double", double, namespace=ns)

    async def main() -> list[int]:
        # Awaited from a loop of the caller's own (as in a notebook or FastAPI).
        return list(
            await asyncio.gather(
                *(MeshCall.exec_async("double", [n], namespace=ns) for n in range(5))
            )
        )

    assert asyncio.run(main()) == [0, 2, 4, 6, 8]


def test_a_cache_hit_does_not_run_the_callback(ns: str) -> None:
    fn = Counter()
    MeshCall.connect("user", fn, namespace=ns)
    first = MeshCall.exec("user", [1], id="u1", ttl="15 minutes", namespace=ns)
    again = MeshCall.exec("user", [2], id="u1", ttl="15 minutes", namespace=ns)
    assert first == again == {"tag": "v1", "args": [1]}
    assert fn.calls == [(1,)]
    # Ids are scoped by topic: another function's call with the same id runs.
    MeshCall.connect("order", Counter("order"), namespace=ns)
    assert MeshCall.exec("order", [3], id="u1", ttl=60, namespace=ns)["tag"] == "order"


def test_cached_calls_are_jobs_that_expire_after_ttl(ns: str, redis_url: str) -> None:
    fn = Counter()
    MeshCall.connect("user", fn, namespace=ns)
    MeshCall.exec("user", [1], id="short", ttl=1, namespace=ns)
    hm = MeshCall.hotmesh(namespace=ns)
    job_id = "call:user:short"
    assert hm.get_state(job_id)["data"]["response"]  # the cache entry is the job
    wait_until(lambda: _gone(hm, job_id))
    assert MeshCall.exec("user", [2], id="short", ttl=1, namespace=ns)["args"] == [2]
    assert fn.calls == [(1,), (2,)]


def _gone(hm: hotmesh_nb.HotMesh, job_id: str) -> bool:
    try:
        hm.get_state(job_id)
    except JobNotFoundError:
        return True
    return False


def test_infinity_keeps_the_answer_until_flushed(ns: str, redis_url: str) -> None:
    fn = Counter()
    MeshCall.connect("user", fn, namespace=ns)
    MeshCall.exec("user", [1], id="forever", ttl="infinity", namespace=ns)
    hm = MeshCall.hotmesh(namespace=ns)
    with redis.Redis.from_url(redis_url) as client:
        assert client.ttl(hm.keys.job("call:user:forever")) == -1  # no expiry at all
    assert MeshCall.exec("user", [2], id="forever", ttl="infinity", namespace=ns)["args"] == [1]


def test_flush_drops_the_cached_answer(ns: str) -> None:
    fn = Counter()
    MeshCall.connect("user", fn, namespace=ns)
    MeshCall.exec("user", [1], id="f", ttl="1 hour", namespace=ns)
    assert MeshCall.flush("user", "f", namespace=ns) is True
    assert MeshCall.flush("user", "f", namespace=ns) is False
    assert MeshCall.exec("user", [2], id="f", ttl="1 hour", namespace=ns)["args"] == [2]
    # flush=True drops the answer and runs the function again in one call.
    assert MeshCall.exec("user", [3], id="f", ttl="1 hour", flush=True, namespace=ns)["args"] == [3]
    assert MeshCall.exec("user", [4], id="f", ttl="1 hour", namespace=ns)["args"] == [3]
    assert fn.calls == [(1,), (2,), (3,)]


def test_a_second_caller_joins_a_running_call(ns: str) -> None:
    entered, release = threading.Event(), threading.Event()
    runs: list[int] = []

    def slow(n: int) -> int:
        runs.append(n)
        entered.set()
        release.wait(10)
        return n * 10

    MeshCall.connect("slow", slow, namespace=ns)
    results: dict[str, int] = {}
    first = threading.Thread(
        target=lambda: results.update(a=MeshCall.exec("slow", [1], id="j", ttl=60, namespace=ns))
    )
    first.start()
    assert entered.wait(10)
    second = threading.Thread(
        target=lambda: results.update(b=MeshCall.exec("slow", [2], id="j", ttl=60, namespace=ns))
    )
    second.start()
    waiters = MeshCall.hotmesh(namespace=ns).engine.subscriptions._waiters
    wait_until(lambda: len(waiters.get("call:slow:j", ())) == 2)  # both wait for the one job
    release.set()
    first.join(10)
    second.join(10)
    assert results == {"a": 10, "b": 10}
    assert runs == [1]


def test_errors_reach_the_caller_with_type_message_and_traceback(ns: str) -> None:
    def lookup(user_id: int) -> dict:
        raise KeyError(f"no user {user_id}")

    MeshCall.connect("lookup", lookup, namespace=ns)
    with pytest.raises(MeshCallError) as caught:
        MeshCall.exec("lookup", [7], namespace=ns)
    error = caught.value
    assert isinstance(error, WorkflowError) and isinstance(error, HotMeshError)
    assert error.error_type == "KeyError"
    assert error.message == "'no user 7'"
    assert error.topic == "lookup"
    assert error.code == 500
    assert 'raise KeyError(f"no user {user_id}")' in error.remote_traceback
    assert "in lookup" in error.remote_traceback
    assert "meshcall/adapter.py" not in error.remote_traceback  # only the user's frames
    assert "KeyError: 'no user 7'" in str(error) and "Remote traceback" in str(error)


class Refused(Exception):
    pass


def test_custom_errors_and_failed_calls_are_not_cached(ns: str) -> None:
    attempts: list[int] = []

    def flaky(n: int) -> int:
        attempts.append(n)
        if len(attempts) == 1:
            raise Refused("try again")
        return n

    MeshCall.connect("flaky", flaky, namespace=ns)
    with pytest.raises(MeshCallError) as caught:
        MeshCall.exec("flaky", [1], id="x", ttl=60, namespace=ns)
    assert caught.value.error_type == f"{__name__}.Refused"
    assert MeshCall.exec("flaky", [2], id="x", ttl=60, namespace=ns) == 2
    assert MeshCall.exec("flaky", [3], id="x", ttl=60, namespace=ns) == 2


def test_a_value_that_is_not_json_is_the_callers_error(ns: str) -> None:
    MeshCall.connect("bad", lambda: {1, 2}, namespace=ns)
    with pytest.raises(MeshCallError, match="must be JSON values") as caught:
        MeshCall.exec("bad", [], namespace=ns)
    assert caught.value.error_type == "TypeError"
    with pytest.raises(TypeError, match="must be JSON values"):
        MeshCall.exec("bad", [object()], namespace=ns)
    with pytest.raises(TypeError, match="list of arguments"):
        MeshCall.exec("bad", "abc", namespace=ns)


def test_a_topic_nobody_serves_times_out_naming_it(ns: str) -> None:
    with pytest.raises(HotMeshTimeout, match=r"'nobody\.home'.*no worker serves it"):
        MeshCall.exec("nobody.home", [1], namespace=ns, timeout=0.5)


def test_a_plain_call_that_times_out_ends_its_job_which_then_expires(
    ns: str, redis_url: str
) -> None:
    # Nobody waits for the answer any more: left running, the job would never expire.
    with pytest.raises(HotMeshTimeout, match="no worker serves it"):
        MeshCall.exec("nobody.here", [1], namespace=ns, timeout=0.3)
    admin = redis.Redis.from_url(redis_url, decode_responses=True)
    try:
        jobs = list(admin.scan_iter(f"{{{ns}:meshcall:*}}:j:*"))
        assert len(jobs) == 1
        assert int(float(admin.hget(jobs[0], ":") or 0)) < 0  # interrupted
        assert 0 < admin.ttl(jobs[0]) <= 1
        wait_until(lambda: not admin.exists(jobs[0]), timeout=5)
    finally:
        admin.close()


def test_a_blocking_call_inside_an_async_callback_names_the_twin(ns: str) -> None:
    async def outer() -> str:
        try:
            MeshCall.exec("inner", [], namespace=ns)
        except HotMeshError as exc:
            return str(exc)
        return "no error"

    MeshCall.connect("outer", outer, namespace=ns)
    assert "exec_async" in MeshCall.exec("outer", [], namespace=ns)


def test_plain_callbacks_may_call_other_functions(ns: str) -> None:
    MeshCall.connect("inner", lambda n: n + 1, namespace=ns)
    MeshCall.connect("outer", lambda n: MeshCall.exec("inner", [n], namespace=ns) * 2, namespace=ns)
    assert MeshCall.exec("outer", [1], namespace=ns) == 4


def test_cached_answers_survive_a_restart_of_every_process_object(ns: str) -> None:
    MeshCall.connect("user", Counter("before"), namespace=ns)
    MeshCall.exec("user", [1], id="keep", ttl="1 day", namespace=ns)
    hotmesh_nb.shutdown()  # engines, workers and clients of this process are gone
    after = Counter("after")
    MeshCall.connect("user", after, namespace=ns)
    assert MeshCall.exec("user", [2], id="keep", ttl="1 day", namespace=ns)["tag"] == "before"
    assert after.calls == []


def test_a_callback_served_by_another_process(ns: str, redis_url: str) -> None:
    env = {**os.environ, "HOTMESH_REDIS_URL": redis_url}
    proc = subprocess.Popen(
        [sys.executable, str(SERVE), ns, "remote.describe"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        # No need to wait for "ready": the call queues until the worker reads it.
        out = MeshCall.exec("remote.describe", ["a", 1], namespace=ns, timeout=60)
        assert out["args"] == ["a", 1]
        assert out["pid"] == proc.pid != os.getpid()
        cached = MeshCall.exec("remote.describe", ["b"], id="r", ttl=60, namespace=ns, timeout=60)
        assert cached["pid"] == proc.pid
    finally:
        proc.terminate()
        proc.wait(10)
        proc.stdout.close()
    # The worker process is gone; its cached answer is still served.
    assert MeshCall.exec("remote.describe", ["c"], id="r", ttl=60, namespace=ns)["args"] == ["b"]


def test_an_id_without_ttl_is_kept_one_second(ns: str) -> None:
    fn = Counter()
    MeshCall.connect("user", fn, namespace=ns)
    MeshCall.exec("user", [1], id="brief", namespace=ns)
    hm = MeshCall.hotmesh(namespace=ns)
    wait_until(lambda: _gone(hm, "call:user:brief"))
    assert MeshCall.exec("user", [2], id="brief", namespace=ns)["args"] == [2]


def test_duplicate_job_error_is_not_raised_for_repeated_ids(ns: str) -> None:
    MeshCall.connect("user", Counter(), namespace=ns)
    for _ in range(3):
        try:
            MeshCall.exec("user", [1], id="same", namespace=ns)
        except DuplicateJobError:  # pragma: no cover - the failure this test guards against
            pytest.fail("a repeated id must join or reuse the call, not fail")


def _start_private_server(folder: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            str(hotmesh_nb.server.find_binary()), "--port", str(port), "--bind", "127.0.0.1",
            "--dir", str(folder), "--appendonly", "yes", "--appendfsync", "always", "--save", "",
        ],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    with redis.Redis(port=port) as client:
        wait_until(lambda: _answers(client))
    return proc


def _answers(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


def test_cached_answers_survive_a_server_restart(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"redis://127.0.0.1:{port}"
    proc = _start_private_server(tmp_path, port)
    try:
        MeshCall.connect("user", Counter("before"), connection=url)
        MeshCall.exec("user", [1], id="durable", ttl="1 day", connection=url)
        hotmesh_nb.shutdown()
        proc.terminate()  # the server stops; its append-only file stays
        proc.wait(10)
        proc = _start_private_server(tmp_path, port)
        after = Counter("after")
        MeshCall.connect("user", after, connection=url)
        assert MeshCall.exec("user", [2], id="durable", ttl="1 day", connection=url)["tag"] == (
            "before"
        )
        assert after.calls == []
    finally:
        hotmesh_nb.shutdown()
        proc.terminate()
        proc.wait(10)
