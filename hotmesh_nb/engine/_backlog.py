"""Worker topics that nobody serves: reported, and bounded for new jobs.

A job whose worker topic has no live worker waits; that is by design (a worker
may come later). But a topic nobody will serve grows without end. This watch
looks at the worker streams this process wrote to — only while it writes, so an
idle process sends nothing — and finds those with messages waiting and no live
consumer (one that read within ``LIVE_IDLE_MS``). They are logged once and
listed by :meth:`Backlog.unserved`; past ``EngineConfig.unserved_cap`` waiting
messages, a new ``pub`` that would add to one is refused before anything is
written. Work already queued is never trimmed.
"""

from __future__ import annotations

import asyncio
import logging

import redis.asyncio as aioredis

from ..errors import UnservedTopicError
from ..keys import WORKER_GROUP, Keys
from ..runtime import cancel_and_wait

log = logging.getLogger(__name__)

CHECK_INTERVAL = 2.0
"""Seconds between two looks at the streams written to meanwhile."""

LIVE_IDLE_MS = 15_000
"""A consumer that read within this many milliseconds is alive (workers read every
``block_ms``, 5 s by default, even when idle)."""


class Backlog:
    """The unserved worker topics of one app, as seen from this process."""

    def __init__(self, client: aioredis.Redis, keys: Keys, cap: int) -> None:
        self.client = client
        self.keys = keys
        self.cap = cap
        self._written: set[str] = set()
        self._unserved: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None
        # Every worker stream is the engine stream followed by its (non-empty) topic.
        self._prefix = keys.engine_stream

    def wrote(self, streams: list[str]) -> None:
        """Note the streams a step wrote to (cheap: a set update)."""
        for stream in streams:
            if stream.startswith(self._prefix) and stream != self._prefix:
                self._written.add(stream)
        if self._written and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._watch(), name="backlog")

    async def refuse_if_full(self, streams: list[str]) -> None:
        """Raise :class:`UnservedTopicError` when a new job would add to a full topic.

        The watch's view may be seconds old: a topic it saw full is looked at
        again now, so a worker that just arrived is never refused work.
        """
        if self.cap <= 0:
            return
        full = [s for s in streams if self._unserved.get(s, 0) >= self.cap]
        if not full:
            return
        await self._look(full)
        for stream in full:
            waiting = self._unserved.get(stream, 0)
            if waiting >= self.cap:
                topic = stream[len(self._prefix) :]
                raise UnservedTopicError(
                    f"worker topic '{topic}' of app '{self.keys.app}' has {waiting} messages "
                    "waiting and no live worker; the job was not created. Start a worker "
                    f"for '{topic}' (hotmesh-nb worker {self.keys.app} --topic {topic}=...), "
                    "or raise EngineConfig.unserved_cap"
                )

    def unserved(self) -> dict[str, int]:
        """Worker topics with messages waiting and no live worker → messages waiting."""
        return {stream[len(self._prefix) :]: n for stream, n in self._unserved.items()}

    async def _watch(self) -> None:
        # Runs while there is something to watch: streams written to, or unserved ones.
        while self._written or self._unserved:
            await asyncio.sleep(CHECK_INTERVAL)
            streams = sorted(self._written | set(self._unserved))
            self._written.clear()
            try:
                await self._look(streams)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.debug("checking worker streams failed: %s", exc)

    async def _look(self, streams: list[str]) -> None:
        pipe = self.client.pipeline(transaction=False)
        for stream in streams:
            pipe.xlen(stream)
            pipe.xinfo_consumers(stream, WORKER_GROUP)
        replies = await pipe.execute(raise_on_error=False)
        for n, stream in enumerate(streams):
            length, consumers = replies[2 * n], replies[2 * n + 1]
            alive = isinstance(consumers, list) and any(
                int(c.get("idle", LIVE_IDLE_MS)) < LIVE_IDLE_MS for c in consumers
            )
            topic = stream[len(self._prefix) :]
            if isinstance(length, int) and length > 0 and not alive:
                if stream not in self._unserved:
                    log.warning(
                        "%d message(s) wait on worker topic '%s' of app '%s' and no live "
                        "worker reads it",
                        length,
                        topic,
                        self.keys.app,
                    )
                self._unserved[stream] = length
            elif self._unserved.pop(stream, None) is not None:
                log.warning("worker topic '%s' of app '%s' is served again", topic, self.keys.app)

    async def stop(self) -> None:
        """Stop watching."""
        await cancel_and_wait(self._task)
