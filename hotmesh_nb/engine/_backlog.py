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
        """Worker topics written to since the last look."""
        self._unserved: dict[str, int] = {}
        """Topic → messages waiting over all partitions, for topics nobody serves."""
        self._task: asyncio.Task[None] | None = None

    def _topic(self, stream: str) -> str | None:
        # Every worker stream is its partition's engine stream followed by the topic.
        part = self.keys.partition_of_key(stream)
        if part is None or not stream.startswith(part.engine_stream):
            return None
        return stream[len(part.engine_stream) :] or None

    def wrote(self, streams: list[str]) -> None:
        """Note the streams a step wrote to (cheap: a set update)."""
        for stream in streams:
            topic = self._topic(stream)
            if topic is not None:
                self._written.add(topic)
        if self._written and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._watch(), name="backlog")

    @property
    def may_refuse(self) -> bool:
        """Whether :meth:`refuse_if_full` could refuse anything (a cap, and a topic the watch
        saw waiting): asked before each new job, so that most cost nothing."""
        return self.cap > 0 and bool(self._unserved)

    async def refuse_if_full(self, streams: list[str]) -> None:
        """Raise :class:`UnservedTopicError` when a new job would add to a full topic.

        The watch's view may be seconds old: a topic it saw full is looked at
        again now, so a worker that just arrived is never refused work.
        """
        if not self.may_refuse:
            return
        topics = {t for t in map(self._topic, streams) if t is not None}
        full = sorted(t for t in topics if self._unserved.get(t, 0) >= self.cap)
        if not full:
            return
        await self._look(full)
        for topic in full:
            waiting = self._unserved.get(topic, 0)
            if waiting >= self.cap:
                raise UnservedTopicError(
                    f"worker topic '{topic}' of app '{self.keys.app}' has {waiting} messages "
                    "waiting and no live worker; the job was not created. Start a worker "
                    f"for '{topic}' (hotmesh-nb worker {self.keys.app} --topic {topic}=...), "
                    "or raise EngineConfig.unserved_cap"
                )

    def unserved(self) -> dict[str, int]:
        """Worker topics with messages waiting and no live worker → messages waiting."""
        return dict(self._unserved)

    async def _watch(self) -> None:
        # Runs while there is something to watch: streams written to, or unserved ones.
        while self._written or self._unserved:
            await asyncio.sleep(CHECK_INTERVAL)
            topics = sorted(self._written | set(self._unserved))
            self._written.clear()
            try:
                await self._look(topics)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.debug("checking worker streams failed: %s", exc)

    async def _look(self, topics: list[str]) -> None:
        # Every consumer of a topic reads all its partitions, so partition 0's consumers
        # say whether anyone serves it; the messages waiting are summed over partitions.
        pipe = self.client.pipeline(transaction=False)
        for topic in topics:
            for stream in self.keys.worker_streams(topic):
                pipe.xlen(stream)
            pipe.xinfo_consumers(self.keys.part(0).worker_stream(topic), WORKER_GROUP)
        replies = await pipe.execute(raise_on_error=False)
        width = self.keys.count + 1
        for n, topic in enumerate(topics):
            row = replies[n * width : (n + 1) * width]
            length = sum(r for r in row[:-1] if isinstance(r, int))
            consumers = row[-1]
            alive = isinstance(consumers, list) and any(
                int(c.get("idle", LIVE_IDLE_MS)) < LIVE_IDLE_MS for c in consumers
            )
            if length > 0 and not alive:
                if topic not in self._unserved:
                    log.warning(
                        "%d message(s) wait on worker topic '%s' of app '%s' and no live "
                        "worker reads it",
                        length,
                        topic,
                        self.keys.app,
                    )
                self._unserved[topic] = length
            elif self._unserved.pop(topic, None) is not None:
                log.warning("worker topic '%s' of app '%s' is served again", topic, self.keys.app)

    async def stop(self) -> None:
        """Stop watching."""
        await cancel_and_wait(self._task)
