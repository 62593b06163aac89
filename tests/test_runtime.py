"""The runtime thread: blocking calls, async twins from any loop, registry, shutdown."""

from __future__ import annotations

import asyncio
import threading

import pytest

import hotmesh_nb
from hotmesh_nb import HotMeshError
from hotmesh_nb.runtime import get_runtime


def _runtime_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("hotmesh-")]


def test_blocking_call_inside_a_running_loop_on_the_main_thread(redis_url: str) -> None:
    # A notebook cell runs on the main thread while the kernel's loop is running.
    async def cell() -> bool:
        return hotmesh_nb.connect(redis_url).ping()

    assert asyncio.run(cell()) is True


def test_blocking_call_on_the_runtime_thread_names_the_twin(redis_url: str) -> None:
    conn = hotmesh_nb.connect(redis_url)

    async def callback() -> None:
        conn.ping()

    with pytest.raises(HotMeshError, match=r"ping_async"):
        get_runtime().run(callback())


def test_async_twin_awaited_from_a_foreign_loop(redis_url: str) -> None:
    async def foreign() -> bool:
        conn = await hotmesh_nb.connect_async(redis_url)
        results = await asyncio.gather(*(conn.ping_async() for _ in range(20)))
        return all(results)

    assert asyncio.run(foreign()) is True


def test_plain_callbacks_run_off_the_loop() -> None:
    rt = get_runtime()

    def plain() -> str:
        return threading.current_thread().name

    async def coro() -> str:
        return threading.current_thread().name

    assert rt.run(rt.call_user(plain)).startswith("hotmesh-callback")
    assert rt.run(rt.call_user(coro)) == "hotmesh-runtime"


class _Svc:
    def __init__(self) -> None:
        self.stopped = False

    async def stop(self) -> None:
        self.stopped = True


def test_registry_returns_the_running_service_and_shutdown_stops_it() -> None:
    rt = get_runtime()
    made: list[_Svc] = []

    async def factory() -> _Svc:
        await asyncio.sleep(0.01)
        made.append(_Svc())
        return made[-1]

    async def start_twice() -> list[_Svc]:
        return list(await asyncio.gather(rt.service("k", factory), rt.service("k", factory)))

    a, b = rt.run(start_twice())
    assert a is b and len(made) == 1
    assert rt.run(rt.service("k", factory)) is a

    async def forever() -> None:
        await asyncio.sleep(3600)

    rt.submit(forever())
    hotmesh_nb.shutdown()
    assert a.stopped
    assert _runtime_threads() == []
    # The next call starts a fresh runtime.
    assert get_runtime() is not rt
    hotmesh_nb.shutdown()
    assert _runtime_threads() == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reclaim_after", -1),
        ("delivery_cap", 0),
        ("block_ms", 0),
        ("concurrency", "10"),
        ("default_expire", float("nan")),
        ("share_tracebacks", "no"),
    ],
)
def test_engine_config_refuses_bad_values_naming_the_field(field, value) -> None:
    from hotmesh_nb import EngineConfig

    with pytest.raises(ValueError, match=f"EngineConfig.{field}"):
        EngineConfig(**{field: value})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("backoff_coefficient", 0.5),
        ("maximum_attempts", -1),
        ("initial_interval", -2),
        ("non_retryable_error_types", "ValueError"),
    ],
)
def test_retry_policy_refuses_bad_values_naming_the_field(field, value) -> None:
    from hotmesh_nb import RetryPolicy

    with pytest.raises(ValueError, match=f"RetryPolicy.{field}"):
        RetryPolicy(**{field: value})


_LOOP_PROBE = """
import asyncio, hotmesh_nb
from hotmesh_nb.runtime import get_runtime
loop = get_runtime().loop
policy = type(asyncio.get_event_loop_policy()).__module__
print(type(loop).__module__, policy)
hotmesh_nb.shutdown()
"""


@pytest.mark.parametrize(("setting", "runtime_loop"), [(None, "uvloop"), ("0", "asyncio")])
def test_the_runtime_loop_is_uvloop_when_installed_and_the_users_policy_stays(
    setting: str | None, runtime_loop: str
) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "HOTMESH_UVLOOP"}
    if setting is not None:
        env["HOTMESH_UVLOOP"] = setting
    out = subprocess.run(
        [sys.executable, "-c", _LOOP_PROBE], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[0].split(".")[0] == runtime_loop
    assert out[1].startswith("asyncio")  # the process's own loops are asyncio's, as before
