"""``settled``: a waiter's result within a time limit, as ``asyncio.wait_for`` gives it."""

from __future__ import annotations

import asyncio

import pytest

from hotmesh_nb.engine._waiters import settled


def test_a_settled_waiter_gives_its_result_and_leaves_no_timer() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, int]] = loop.create_future()
        loop.call_later(0.01, future.set_result, {"n": 1})
        assert await settled(future, 5) == {"n": 1}
        assert await settled(future, None) == {"n": 1}  # already done: at once
        # The timer was cancelled: nothing is due on the loop any more.
        assert not [h for h in loop._scheduled if not h.cancelled()]  # type: ignore[attr-defined]

    asyncio.run(main())


def test_a_waiter_that_runs_out_of_time_ends_with_a_timeout() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        started = loop.time()
        with pytest.raises(asyncio.TimeoutError):
            await settled(future, 0.05)
        assert loop.time() - started >= 0.05
        # The waiter itself ends: a completion that comes later finds it done.
        assert future.done() and isinstance(future.exception(), asyncio.TimeoutError)
        late: asyncio.Future[int] = loop.create_future()
        with pytest.raises(asyncio.TimeoutError):
            await settled(late, 0)  # no time at all: at once
        assert late.done()

    asyncio.run(main())


def test_a_cancelled_caller_cancels_its_waiter() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        task = loop.create_task(settled(future, 5))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert future.cancelled()

    asyncio.run(main())
