"""Awaiting the runtime from the caller's own loops: results, errors and cancellation."""

from __future__ import annotations

import asyncio
import threading

import pytest

from hotmesh_nb.runtime import get_runtime
from tests.waiting import wait_until


async def _on_runtime(value: int) -> tuple[int, bool]:
    await asyncio.sleep(0)
    return value, get_runtime().on_runtime_thread


def test_many_calls_in_flight_come_back_each_with_its_own_result() -> None:
    async def main() -> list[tuple[int, bool]]:
        runtime = get_runtime()
        return await asyncio.gather(*(runtime.run_async(_on_runtime(i)) for i in range(500)))

    assert asyncio.run(main()) == [(i, True) for i in range(500)]


def test_an_exception_on_the_runtime_reaches_the_caller_unchanged() -> None:
    class Boom(Exception):
        pass

    async def fails() -> None:
        raise Boom("on the runtime")

    async def main() -> None:
        await get_runtime().run_async(fails())

    with pytest.raises(Boom, match="on the runtime"):
        asyncio.run(main())


def test_a_caller_that_gives_up_stops_the_work_on_the_runtime() -> None:
    started, stopped = threading.Event(), threading.Event()

    async def forever() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        finally:
            stopped.set()

    async def main() -> None:
        call = asyncio.ensure_future(get_runtime().run_async(forever()))
        await asyncio.get_running_loop().run_in_executor(None, started.wait, 10)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call

    asyncio.run(main())
    wait_until(stopped.is_set, 10)  # the runtime task was cancelled


def test_work_cancelled_on_the_runtime_cancels_the_caller() -> None:
    async def cancelled_there() -> None:
        asyncio.current_task().cancel()  # type: ignore[union-attr]
        await asyncio.sleep(1)

    async def main() -> None:
        await get_runtime().run_async(cancelled_there())

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(main())


def test_loops_in_several_threads_share_the_runtime() -> None:
    results: dict[int, list[tuple[int, bool]]] = {}

    def caller(n: int) -> None:
        async def main() -> list[tuple[int, bool]]:
            runtime = get_runtime()
            return await asyncio.gather(
                *(runtime.run_async(_on_runtime(n * 1000 + i)) for i in range(100))
            )

        results[n] = asyncio.run(main())

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert results == {n: [(n * 1000 + i, True) for i in range(100)] for n in range(4)}
