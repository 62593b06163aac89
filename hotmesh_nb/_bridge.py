"""Awaiting work on the runtime loop from another event loop, cheaply.

``asyncio.run_coroutine_threadsafe`` plus ``asyncio.wrap_future`` wakes the
runtime loop once per call and the caller's loop once per answer (a write to
each loop's self-pipe, a selector wake-up, two futures chained across threads).
With many calls in flight that is most of a call's cost. A :class:`Bridge`
carries calls in batches: every call queued before the runtime loop wakes starts
in the same turn, and every answer ready before the caller's loop wakes is
delivered in the same turn. Semantics are those of the plain route: the result,
the exception, or a cancellation, in either direction.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class _Call:
    """One coroutine on its way to the runtime loop, and the caller's future for it."""

    __slots__ = ("bridge", "cancelled", "coro", "future", "task")

    def __init__(
        self, bridge: Bridge, coro: Coroutine[Any, Any, Any], future: asyncio.Future[Any]
    ) -> None:
        self.bridge = bridge
        self.coro = coro
        self.future = future
        self.task: asyncio.Task[Any] | None = None
        self.cancelled = False

    def __call__(self, _task: asyncio.Task[Any]) -> None:
        """The task's done callback (the call itself: no partial object per call)."""
        self.bridge.finished(self)


class Bridge:
    """Calls from one caller loop to the runtime loop, batched both ways."""

    def __init__(self, runtime_loop: asyncio.AbstractEventLoop, caller: asyncio.AbstractEventLoop):
        self._runtime = runtime_loop
        self._caller = caller
        self._lock = threading.Lock()
        self._inbox: deque[_Call] = deque()
        self._outbox: deque[_Call] = deque()
        self._starting = False
        self._delivering = False

    async def call(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the runtime loop and await its outcome on the caller's loop."""
        call = _Call(self, coro, self._caller.create_future())
        with self._lock:
            self._inbox.append(call)
            wake, self._starting = not self._starting, True
        if wake:
            try:
                self._runtime.call_soon_threadsafe(self._start_all)
            except RuntimeError:  # the runtime loop closed meanwhile
                with self._lock:
                    self._starting = False
                coro.close()
                raise
        try:
            return await call.future  # type: ignore[no-any-return]
        except asyncio.CancelledError:
            # The caller gave up: the work on the runtime loop stops too (a no-op when
            # it was that work's cancellation that reached the caller).
            call.cancelled = True
            try:
                self._runtime.call_soon_threadsafe(self._cancel, call)
            except RuntimeError:  # the runtime loop closed meanwhile
                pass
            raise

    # -- on the runtime loop ----------------------------------------------------------

    def _start_all(self) -> None:
        with self._lock:
            calls, self._inbox = self._inbox, deque()
            self._starting = False
        for call in calls:
            if call.cancelled:
                call.coro.close()
                continue
            task = self._runtime.create_task(call.coro)
            call.task = task
            task.add_done_callback(call)

    @staticmethod
    def _cancel(call: _Call) -> None:
        if call.task is not None:
            call.task.cancel()

    def finished(self, call: _Call) -> None:
        """Queue a finished call for delivery on the caller's loop (its task's done callback)."""
        with self._lock:
            self._outbox.append(call)
            wake, self._delivering = not self._delivering, True
        if wake:
            try:
                self._caller.call_soon_threadsafe(self._deliver_all)
            except RuntimeError:  # the caller's loop is gone: nobody waits any more
                with self._lock:
                    self._delivering = False
                    self._outbox.clear()

    # -- on the caller's loop -----------------------------------------------------------

    def _deliver_all(self) -> None:
        with self._lock:
            calls, self._outbox = self._outbox, deque()
            self._delivering = False
        for call in calls:
            future, task = call.future, call.task
            if future.done() or task is None:
                continue
            if task.cancelled():
                future.cancel()
            elif (exc := task.exception()) is not None:
                future.set_exception(exc)
            else:
                future.set_result(task.result())
