"""What an activity knows about its own run: heartbeats, timeouts and its info.

Inside an activity, :func:`heartbeat` says "still working" (as Temporal's
``activity.heartbeat``). Liveness of the *process* needs no heartbeat: while an
activity runs, its worker keeps the lease on the message, so only a dead or
stuck process loses it. Heartbeats are for the activity itself: with
``heartbeat_timeout`` set on :func:`~.workflow.proxy_activities`, an attempt that
stops heartbeating for longer fails with :class:`ActivityTimeoutError` and is
retried by the proxy's policy; ``start_to_close_timeout`` bounds each attempt.

A timed-out ``async def`` activity is cancelled; a ``def`` activity cannot be
stopped from outside its thread, so its attempt is abandoned (its result is
ignored) while the thread runs to its end.

Heartbeat details live in the worker's memory: :func:`activity_info` shows the
last ones, and an :class:`ActivityTimeoutError` names them. Unlike Temporal they
are not stored in Redis, so a retry starts without them.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..errors import HotMeshError

T = TypeVar("T")


class ActivityTimeoutError(HotMeshError):
    """An activity attempt ran past ``start_to_close_timeout`` or missed its heartbeats.

    Retried like any other error by the proxy's :class:`~hotmesh_nb.RetryPolicy`
    (list ``'ActivityTimeoutError'`` in ``non_retryable_error_types`` to stop that).
    """

    def __init__(self, kind: str, seconds: float, activity: str, details: Any = None) -> None:
        self.kind = kind
        self.seconds = seconds
        self.details = details
        what = (
            "ran longer than start_to_close_timeout"
            if kind == "start_to_close"
            else ("sent no heartbeat within heartbeat_timeout")
        )
        last = "" if details is None else f"; last heartbeat details: {details!r}"
        super().__init__(f"activity '{activity}' {what} ({seconds:g} s){last}")


@dataclass
class ActivityInfo:
    """The running activity attempt, as :func:`activity_info` reports it."""

    activity: str
    """The activity function's name."""
    workflow_id: str
    """The workflow that called it."""
    attempt: int
    """This attempt's number (1 = first)."""
    start_to_close_timeout: float | None = None
    """Seconds one attempt may take (None: unbounded)."""
    heartbeat_timeout: float | None = None
    """Longest silence between two heartbeats (None: heartbeats not required)."""
    heartbeat_details: Any = None
    """The details of the last :func:`heartbeat` of this attempt."""
    started: float = field(default_factory=time.monotonic, repr=False)
    last_beat: float = field(default_factory=time.monotonic, repr=False)


_current: contextvars.ContextVar[ActivityInfo | None] = contextvars.ContextVar(
    "hotmesh_activity", default=None
)


def heartbeat(details: Any = None) -> None:
    """Report progress from inside an activity (any thread or task it runs on)."""
    info = _current.get()
    if info is None:
        raise HotMeshError("heartbeat() was called outside a MeshFlow activity")
    info.last_beat = time.monotonic()
    if details is not None:
        info.heartbeat_details = details


def activity_info() -> ActivityInfo:
    """The running activity's :class:`ActivityInfo`."""
    info = _current.get()
    if info is None:
        raise HotMeshError("activity_info() was called outside a MeshFlow activity")
    return info


async def supervise(info: ActivityInfo, attempt: Awaitable[T]) -> T:
    """Await one attempt under its timeouts (the caller sets the context first)."""
    task = asyncio.ensure_future(attempt)
    limits = info.start_to_close_timeout, info.heartbeat_timeout
    if limits == (None, None):
        return await task
    while True:
        deadlines = []
        if info.start_to_close_timeout is not None:
            deadlines.append(info.started + info.start_to_close_timeout)
        if info.heartbeat_timeout is not None:
            deadlines.append(info.last_beat + info.heartbeat_timeout)
        done, _ = await asyncio.wait({task}, timeout=max(min(deadlines) - time.monotonic(), 0))
        if done:
            return task.result()
        now = time.monotonic()
        if info.start_to_close_timeout is not None and now >= deadlines[0]:
            kind, seconds = "start_to_close", info.start_to_close_timeout
        elif info.heartbeat_timeout is not None and now >= info.last_beat + info.heartbeat_timeout:
            kind, seconds = "heartbeat", info.heartbeat_timeout
        else:
            continue
        task.cancel()
        task.add_done_callback(_retrieve)
        raise ActivityTimeoutError(kind, seconds, info.activity, info.heartbeat_details)


def _retrieve(task: asyncio.Future[Any]) -> None:
    # An abandoned attempt's late error must not be reported as "never retrieved".
    if not task.cancelled():
        task.exception()
