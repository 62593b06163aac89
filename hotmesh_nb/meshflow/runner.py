"""Run one replay of a workflow function on a private event loop.

Each runtime callback thread keeps its own event loop for workflow code: the
function cannot stall the mesh's loop, and the loop's task factory gives every
task a deterministic call numbering (:mod:`.context`). A run ends when the
function returns or raises, or when it is *quiescent* with unrecorded durable
calls: every part of it waits on a result that does not exist yet. Those calls
(all of them: ``asyncio.gather`` of any size) are then dispatched together.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import CallbackExit
from ..runtime import on_close
from .context import Run, enter, task_factory
from .errors import Suspended

_local = threading.local()
_loops: set[asyncio.AbstractEventLoop] = set()
_loops_lock = threading.Lock()

SETTLE_SPINS = 4
"""Loop turns without a new unrecorded call after which a run counts as quiescent."""


@dataclass
class Outcome:
    """How a run ended: ``returned`` (value), ``suspended`` (run.items), ``raised`` (error)."""

    kind: str
    value: Any = None
    error: BaseException | None = None


def _loop() -> asyncio.AbstractEventLoop:
    loop = getattr(_local, "loop", None)
    if loop is None or loop.is_closed():
        loop = asyncio.new_event_loop()
        loop.set_task_factory(task_factory)
        _local.loop = loop
        with _loops_lock:
            _loops.add(loop)
    return loop


async def _close_loops() -> None:
    # At shutdown the callback threads are idle: their workflow loops can be closed.
    with _loops_lock:
        loops = list(_loops)
        _loops.clear()
    for loop in loops:
        if not loop.is_running():
            loop.close()


on_close(_close_loops)


def run_sync(fn: Callable[..., Any], args: list[Any], run: Run) -> Outcome:
    """Replay ``fn(*args)`` as ``run`` (blocking; call it from a worker thread)."""
    return _loop().run_until_complete(_drive(fn, args, run))


async def _call(fn: Callable[..., Any], args: list[Any]) -> Any:
    try:
        result = fn(*args)
        if inspect.isawaitable(result):
            result = await result
    except (Exception, asyncio.CancelledError, Suspended):
        raise
    except BaseException as exc:
        # sys.exit() in workflow code would escape run_until_complete and stop the
        # thread's loop: the workflow fails instead (its error names what was raised).
        raise CallbackExit(exc) from None
    return result


async def _drive(fn: Callable[..., Any], args: list[Any], run: Run) -> Outcome:
    loop = asyncio.get_running_loop()
    run.blocker = loop.create_future()
    task = asyncio.Task(_call(fn, args), loop=loop, context=enter(run))
    spins = 0
    while not task.done():
        if (run.items or run.fatal) and run.io == 0:
            seen = len(run.items)
            for _ in range(SETTLE_SPINS):
                await asyncio.sleep(0)
            if task.done():
                break
            if len(run.items) == seen and run.io == 0:
                break
            continue
        spins += 1
        if spins < 50:
            await asyncio.sleep(0)
        else:
            # Waiting on Redis I/O (search, side effects) or on something that is not a
            # durable call: stop spinning.
            await asyncio.wait({task}, timeout=0.001)
    if not task.done():
        run.blocker.set_exception(Suspended())
        for _ in range(100):
            if task.done():
                break
            await asyncio.sleep(0)
        if not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    if run.blocker.done() and not run.blocker.cancelled():
        run.blocker.exception()  # retrieved: no "never retrieved" warning
    else:
        run.blocker.cancel()
    error = task.exception() if not task.cancelled() else None  # always retrieved
    if run.fatal is not None:
        return Outcome("raised", error=run.fatal)
    if run.items:
        # Whatever the function did after a call was left unanswered (even if it
        # swallowed the suspension and returned), this run is suspended.
        return Outcome("suspended")
    if task.cancelled():
        return Outcome("raised", error=asyncio.CancelledError("the workflow was cancelled"))
    if error is not None:
        return Outcome("raised", error=error)
    return Outcome("returned", value=task.result())
