"""The scout: one engine at a time moves due timers (sleeps) onto the engine stream.

Every engine runs a scout; the one holding the app's scout lock (a key with a
few seconds' lease, renewed while it lives) fires timers, the others stand by
and take over when the lease lapses. Timers live in a sorted set, so a job
that sleeps survives the restart of every process. The scout wakes at the
next due time, at the latest once a second (the resolution of timers set by
other processes), and at once for timers set in this process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import redis.asyncio as aioredis

from ..keys import Keys
from ..runtime import cancel_and_wait
from ._ids import now_ms
from ._scripts import FIRE

log = logging.getLogger(__name__)

LEASE_MS = 3000
"""How long the scout lock lasts without renewal (a dead scout is replaced after this)."""

TICK = 1.0
"""Longest wait between two looks at the timers (seconds)."""

BATCH = 200
"""Most timers moved in one script call."""


class Scout:
    """The timer-firing role of one engine."""

    def __init__(self, client: aioredis.Redis, keys: Keys, owner: str) -> None:
        self.client = client
        self.keys = keys
        self.owner = owner
        self._wake = asyncio.Event()
        self._next_due: int | None = None
        self._task: asyncio.Task[None] | None = None
        self.leader = False
        self.fired = 0
        self._stopping = False

    def start(self) -> None:
        """Start the loop on the running event loop."""
        self._task = asyncio.get_running_loop().create_task(self._run(), name="scout")

    def timer_added(self, due_ms: int) -> None:
        """A timer was scheduled in this process: wake up earlier if it is due sooner."""
        if self._next_due is None or due_ms < self._next_due:
            self._wake.set()

    async def _lead(self) -> bool:
        key = self.keys.scout
        if await self.client.set(key, self.owner, nx=True, px=LEASE_MS):
            return True
        holder = await self.client.get(key)
        if holder == self.owner:
            await self.client.pexpire(key, LEASE_MS)
            return True
        return False

    async def _run(self) -> None:
        while not self._stopping:
            wait = TICK
            try:
                self.leader = await self._lead()
                if self.leader:
                    now = now_ms()
                    moved, next_due = await FIRE.call(
                        self.client, [self.keys.timers, self.keys.engine_stream], [now, BATCH]
                    )
                    self.fired += int(moved)
                    if int(moved) >= BATCH:
                        continue
                    self._next_due = int(next_due) if int(next_due) >= 0 else None
                    if self._next_due is not None:
                        wait = min(TICK, max(0.0, (self._next_due - now_ms()) / 1000))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("scout of %s failed: %s", self.keys.app, exc)
            self._wake.clear()
            # A timer handle instead of wait_for: cancelling stays immediate.
            alarm = asyncio.get_running_loop().call_later(wait, self._wake.set)
            try:
                await self._wake.wait()
            finally:
                alarm.cancel()

    async def stop(self) -> None:
        """Stop the loop and hand the lock over at once."""
        self._stopping = True
        self._wake.set()
        await cancel_and_wait(self._task)
        if self.leader:
            with contextlib.suppress(Exception):
                if await self.client.get(self.keys.scout) == self.owner:
                    await self.client.delete(self.keys.scout)
