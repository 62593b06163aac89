"""The scout: every engine moves due timers (sleeps) onto the engine stream.

Timers live in a sorted set, so a job that sleeps survives the restart of every
process. Firing is one script (``lua/fire.lua``: due timers leave the set and
enter the engine stream atomically), so any number of engines may fire at once
and each timer still fires exactly once: there is no leader to elect.

An idle scout sends nothing but one blocking read. It sleeps on a local timer
until the earliest due timer it knew of when it last looked, and it watches the
app's timer-wake stream with a blocking ``XREAD``: the step script adds an entry
there whenever a timer becomes the app's earliest, so a sooner timer set by any
process wakes every scout at once. A timer set in this process wakes its scout
without the round trip (:meth:`Scout.timer_added`). Timers due within
``TOGETHER_MS`` of a firing fire with it, in due order.

The local timer, not the server's blocking timeout, decides when to fire: the
server checks blocking timeouts only ``hz`` times a second (up to 100 ms late).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import redis.asyncio as aioredis

from .._ids import now_ms
from ..connection import Connection
from ..keys import Keys
from ..runtime import cancel_and_wait
from ._outage import Outage, is_transient
from ._scripts import FIRE

log = logging.getLogger(__name__)

WATCH_MS = 60_000
"""How long one blocking read of the timer-wake stream waits (ms): an idle engine's
scout sends one command per this period."""

WATCH_COUNT = 64
"""Most wake entries read at once (any entry is a reason to look; only the last id counts)."""

RETRY = 1.0
"""Seconds between two tries after an error that is not an outage (a script error, a
denied command): the scout then looks at the timers once a second, as a poller would."""

BATCH = 200
"""Most timers moved in one script call."""

TOGETHER_MS = 100
"""Timers due within this many ms of a firing fire with it, in due order.

Timers that fall due together thus reach the engine stream together and wake
their activities in the order they were set (as the original's time slots do),
so that, for example, an interrupt that one wake-up leads to deterministically
lands before the next activities of a job whose timer fell due at the same moment.
"""


class Scout:
    """The timer-firing role of one engine: a firing loop and a watcher of the wake stream."""

    def __init__(self, connection: Connection, keys: Keys) -> None:
        self.client: aioredis.Redis = connection.client
        self.reader: aioredis.Redis = connection.reader(WATCH_MS)
        self.keys = keys
        self._wake = asyncio.Event()
        self._next_due: int | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.fired = 0
        """Timers this scout moved to the engine stream (others may have fired the rest)."""
        self.looks = 0
        """Fire-script calls so far (a measure of how often the scout wakes)."""

    def start(self) -> None:
        """Start the firing loop and the watcher on the running event loop."""
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._fire_loop(), name="scout"),
            loop.create_task(self._watch(), name="scout-watch"),
        ]

    def timer_added(self, due_ms: int) -> None:
        """A timer was scheduled in this process: wake up earlier if it is due sooner."""
        if self._next_due is None or due_ms < self._next_due:
            self._wake.set()

    async def _fire(self) -> int | None:
        """Fire every due timer; returns the next due time (ms) or None when none is left."""
        while True:
            moved, next_due = await FIRE.call(
                self.client,
                [self.keys.timers, self.keys.engine_stream],
                [now_ms() + TOGETHER_MS, BATCH],
            )
            self.looks += 1
            self.fired += int(moved)
            if int(moved) < BATCH:
                return int(next_due) if int(next_due) >= 0 else None

    async def _fire_loop(self) -> None:
        # The first look waits for the watcher's first wake-up: it comes once the watcher
        # knows where the wake stream stands, so no timer set in between goes unseen.
        outage = Outage(f"timer scout of {self.keys.app}")
        wait: float | None = None
        while True:
            loop = asyncio.get_running_loop()
            # A timer handle instead of wait_for: cancelling stays immediate.
            alarm = None if wait is None else loop.call_later(wait, self._wake.set)
            try:
                await self._wake.wait()
            finally:
                if alarm is not None:
                    alarm.cancel()
            self._wake.clear()
            try:
                self._next_due = await self._fire()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Keep the last known due time: a timer set meanwhile still wakes us early.
                if is_transient(exc):
                    wait = outage.failed(exc)
                else:
                    log.warning("timer scout of %s failed: %s", self.keys.app, exc)
                    wait = RETRY
                continue
            outage.ok()
            wait = None if self._next_due is None else max(0.0, (self._next_due - now_ms()) / 1000)

    async def _start_id(self) -> str:
        """The id of the wake stream's newest entry ('0-0' when it has none)."""
        newest: Any = await self.client.xrevrange(self.keys.timer_wake, count=1)
        return newest[0][0] if newest else "0-0"

    async def _watch(self) -> None:
        """Wake the firing loop whenever a timer becomes the app's earliest."""
        outage = Outage(f"timer scout of {self.keys.app} (wake stream)")
        last: str | None = None
        refused = False
        while True:
            try:
                if last is None:
                    # Every timer set before this id is in the set when the look we ask
                    # for runs; every one set after it comes with a wake entry we will read.
                    last = await self._start_id()
                    self._wake.set()
                reply: Any = await self.reader.xread(
                    {self.keys.timer_wake: last}, count=WATCH_COUNT, block=WATCH_MS
                )
                outage.ok()
                refused = False
                if reply:
                    last = reply[0][1][-1][0]
                    self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Start again from the stream as it is now (after a restart it may hold
                # less than we read) and look at the timers once more: nothing is missed.
                last = None
                if is_transient(exc):
                    await asyncio.sleep(outage.failed(exc))
                else:
                    if not refused:
                        log.warning(
                            "timer scout of %s cannot watch the timer-wake stream (%s); it "
                            "looks at the timers every %g s until it can",
                            self.keys.app,
                            exc,
                            RETRY,
                        )
                    refused = True
                    self._wake.set()
                    await asyncio.sleep(RETRY)

    async def stop(self) -> None:
        """Stop both loops (timers stay in the server for the other engines)."""
        await cancel_and_wait(*self._tasks)
