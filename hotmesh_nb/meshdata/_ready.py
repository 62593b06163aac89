"""Waiting for held records: one pattern subscription per engine, futures per record."""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from ..hotmesh import HotMesh
from ._entity import READY_TOPIC


class ReadyWaiters:
    """Futures resolved when a record announces its result (see :mod:`.entity`)."""

    def __init__(self, hm: HotMesh) -> None:
        self.hm = hm
        self._futures: dict[str, list[asyncio.Future[None]]] = {}
        self._subscribed: asyncio.Lock | None = None
        self._ready = False

    async def _subscribe(self) -> None:
        if self._ready:
            return
        if self._subscribed is None:
            self._subscribed = asyncio.Lock()
        async with self._subscribed:
            if not self._ready:
                pattern = self.hm.keys.topic_channel(f"{READY_TOPIC}.*")
                await self.hm.engine.subscriptions.psubscribe(pattern, self._on_ready)
                self._ready = True

    async def _on_ready(self, channel: str, payload: dict[str, Any]) -> None:
        record = (payload.get("d") or {}).get("id")
        for future in self._futures.pop(str(record), ()):
            if not future.done():
                future.set_result(None)

    async def future(self, record: str) -> asyncio.Future[None]:
        """A future resolved by the record's next announcement (subscribe before checking)."""
        await self._subscribe()
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._futures.setdefault(record, []).append(future)
        return future

    def forget(self, record: str, future: asyncio.Future[None]) -> None:
        """Drop a future that is no longer awaited."""
        futures = self._futures.get(record)
        if futures and future in futures:
            futures.remove(future)
            if not futures:
                del self._futures[record]


_WAITERS: weakref.WeakKeyDictionary[Any, ReadyWaiters] = weakref.WeakKeyDictionary()


def ready_waiters(hm: HotMesh) -> ReadyWaiters:
    """The waiters of ``hm``'s engine (one subscription per engine)."""
    waiters = _WAITERS.get(hm.engine)
    if waiters is None:
        waiters = _WAITERS[hm.engine] = ReadyWaiters(hm)
    return waiters
