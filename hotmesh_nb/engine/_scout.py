"""The scout: every engine moves due timers (sleeps) onto the engine stream.

Timers live in a sorted set, so a job that sleeps survives the restart of every
process. Firing is one script (``lua/fire.lua``: due timers leave the set and
enter the engine stream atomically), so any number of engines may fire at once
and each timer still fires exactly once: there is no leader to elect.

An idle scout sends nothing but one blocking read. It sleeps on a local timer
until the earliest due timer it knew of when it last looked, and it watches the
timer-wake stream of each partition with a blocking ``XREAD``: the step script adds
an entry there whenever a timer becomes its partition's earliest, so a sooner timer set by any
process wakes every scout at once. A timer set in this process wakes its scout
without the round trip (:meth:`Scout.timer_added`). No timer fires before it is
due; timers due within ``TOGETHER_MS`` of a firing fire with it, in due order.

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

LOOKS_AT_ONCE = 2
"""Most fire-script calls one scout has in flight: at start every partition looks once,
and P calls at once would open P connections to do it."""

TOGETHER_MS = 100
"""Timers due within this many ms of a firing fire with it, in due order.

A firing happens only once the earliest timer is due (never before: a local alarm
that rings a little early, as the loop's timers may, looks and waits the rest).

Timers that fall due together thus reach the engine stream together and wake
their activities in the order they were set (as the original's time slots do),
so that, for example, an interrupt that one wake-up leads to deterministically
lands before the next activities of a job whose timer fell due at the same moment.
"""


class Scout:
    """The timer-firing role of one engine: a firing loop per partition, and watchers of
    the partitions' wake streams (one blocking read for all of them on one server, one
    per partition on a cluster, where a command reads one slot)."""

    def __init__(self, connection: Connection, keys: Keys) -> None:
        self.client: aioredis.Redis = connection.client
        self.reader: aioredis.Redis = connection.reader(WATCH_MS)
        self.keys = keys
        self.split = connection.cluster
        self._wake = [asyncio.Event() for _ in keys.parts]
        self._next_due: list[int | None] = [None] * keys.count
        self._by_wake_stream = {part.timer_wake: part.index for part in keys.parts}
        self._tasks: list[asyncio.Task[None]] = []
        self._looking = asyncio.Semaphore(LOOKS_AT_ONCE)
        self.fired = 0
        """Timers this scout moved to the engine streams (others may have fired the rest)."""
        self.looks = 0
        """Fire-script calls so far (a measure of how often the scout wakes)."""
        self.watching = 0
        """Watchers that know where their wake streams stand (each then misses nothing)."""

    async def start(self) -> None:
        """Start the firing loops and the watchers on the running event loop."""
        if self.split:
            # A cluster client learns the topology on its first command; P watchers that
            # all start at once would race that first look, and lose connections to it.
            await self.reader.initialize()
        loop = asyncio.get_running_loop()
        parts = self.keys.parts
        watched = [[p.index] for p in parts] if self.split else [[p.index for p in parts]]
        self._tasks = [
            *(loop.create_task(self._fire_loop(p.index), name="scout") for p in parts),
            *(loop.create_task(self._watch(group), name="scout-watch") for group in watched),
        ]

    def timer_added(self, due_ms: int, partition: int = 0) -> None:
        """A timer was scheduled in this process: wake up earlier if it is due sooner."""
        next_due = self._next_due[partition]
        if next_due is None or due_ms < next_due:
            self._wake[partition].set()

    async def _fire(self, partition: int) -> int | None:
        """Fire every due timer of a partition; returns its next due time (ms) or None."""
        part = self.keys.part(partition)
        while True:
            async with self._looking:
                moved, next_due = await FIRE.call(
                    self.client,
                    [part.timers, part.engine_stream],
                    [now_ms(), BATCH, TOGETHER_MS],
                )
            self.looks += 1
            self.fired += int(moved)
            if int(moved) < BATCH:
                return int(next_due) if int(next_due) >= 0 else None

    async def _fire_loop(self, partition: int) -> None:
        # The first look waits for the watcher's first wake-up: it comes once the watcher
        # knows where the wake stream stands, so no timer set in between goes unseen.
        outage = Outage(f"timer scout of {self.keys.app}")
        wake = self._wake[partition]
        wait: float | None = None
        while True:
            loop = asyncio.get_running_loop()
            # A timer handle instead of wait_for: cancelling stays immediate.
            alarm = None if wait is None else loop.call_later(wait, wake.set)
            try:
                await wake.wait()
            finally:
                if alarm is not None:
                    alarm.cancel()
            wake.clear()
            try:
                next_due = self._next_due[partition] = await self._fire(partition)
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
            wait = None if next_due is None else max(0.0, (next_due - now_ms()) / 1000)

    async def _start_ids(self, streams: list[str]) -> dict[Any, Any]:
        """The id of each wake stream's newest entry ('0-0' when it has none)."""
        pipe = self.client.pipeline(transaction=False)
        for stream in streams:
            pipe.xrevrange(stream, count=1)
        newest: list[Any] = await pipe.execute()
        return {s: (n[0][0] if n else "0-0") for s, n in zip(streams, newest)}

    async def _holding_timers(self, partitions: list[int]) -> list[int]:
        """The partitions whose timer set is not empty (one round trip): only they need a
        first look; an empty one waits for its first wake entry."""
        pipe = self.client.pipeline(transaction=False)
        for partition in partitions:
            pipe.zcard(self.keys.part(partition).timers)
        counts: list[Any] = await pipe.execute()
        return [p for p, count in zip(partitions, counts) if int(count)]

    def _wake_all(self, partitions: list[int]) -> None:
        for partition in partitions:
            self._wake[partition].set()

    async def _watch(self, partitions: list[int]) -> None:
        """Wake a partition's firing loop whenever a timer becomes its earliest."""
        outage = Outage(f"timer scout of {self.keys.app} (wake stream)")
        streams = [self.keys.part(p).timer_wake for p in partitions]
        last: dict[Any, Any] | None = None
        refused = False
        started = False
        while True:
            try:
                if last is None:
                    # Every timer set before these ids is in the sets when the looks we ask
                    # for run; every one set after them comes with a wake entry we will read.
                    last = await self._start_ids(streams)
                    self._wake_all(await self._holding_timers(partitions))
                    if not started:
                        started = True
                        self.watching += 1
                reply: Any = await self.reader.xread(last, count=WATCH_COUNT, block=WATCH_MS)
                outage.ok()
                refused = False
                for stream, entries in _stream_entries(reply):
                    if entries:
                        last[stream] = entries[-1][0]
                        self._wake[self._by_wake_stream[stream]].set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Start again from the streams as they are now (after a restart they may
                # hold less than we read) and look at the timers once more: nothing is missed.
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
                    self._wake_all(partitions)
                    await asyncio.sleep(RETRY)

    async def stop(self) -> None:
        """Stop every loop (timers stay in the server for the other engines)."""
        await cancel_and_wait(*self._tasks)


def _stream_entries(reply: Any) -> list[tuple[str, list[Any]]]:
    """(stream, entries) of an XREAD reply, in RESP2 (list) or RESP3 (dict) shape."""
    if not reply:
        return []
    if isinstance(reply, dict):
        return [(s, v[0] if v and isinstance(v[0], list) else v) for s, v in reply.items()]
    return [(stream, entries) for stream, entries in reply]
