"""The quorum: what engines and workers of one app tell each other over pub/sub.

Messages on the app's quorum channel:

* ``activate`` — a version became active; every engine switches at once.
* ``ping`` / ``pong`` — a roll call: every process answers with its engine and
  workers (app, topic, pid, host, counters).
* ``throttle`` — pause or slow consumers: all of them, one topic, or one
  member. Throttles for all or for a topic are also stored, so processes
  started later (or restarted) apply them too.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis

from .._codec import dumps
from .._replies import text_map
from ..keys import Keys

PAUSE = -1
"""Throttle value that pauses consumption until the throttle changes."""

ALL = "*"
"""Throttle field meaning every topic (and the engine stream)."""


class Throttles:
    """The throttles in force in this process (milliseconds between reads)."""

    def __init__(self) -> None:
        self.by_topic: dict[str, int] = {}
        self.by_member: dict[str, int] = {}
        self.listeners: list[Callable[[], None]] = []

    def delay(self, topic: str | None, member: str) -> float:
        """Seconds to wait before the next read of ``topic`` (None: the engine stream)."""
        for value in (
            self.by_member.get(member),
            self.by_topic.get(topic or ""),
            self.by_topic.get(ALL),
        ):
            if value is not None:
                return float("inf") if value < 0 else value / 1000
        return 0.0

    def set(self, value: int, topic: str | None = None, member: str | None = None) -> None:
        """Apply a throttle and wake the consumers so it takes effect at once."""
        if member:
            self.by_member[member] = value
        else:
            self.by_topic[topic or ALL] = value
            if not topic:
                # A throttle for all replaces every narrower one, as it does in the store.
                for key in list(self.by_topic):
                    if key != ALL:
                        del self.by_topic[key]
        for listener in list(self.listeners):
            listener()


class Quorum:
    """One process's member of the app's quorum (lives with its engine)."""

    def __init__(
        self,
        client: aioredis.Redis,
        keys: Keys,
        guid: str,
        members: Callable[[], list[dict[str, Any]]],
        on_activate: Callable[[str], None],
        consumers: Callable[[], list[Any]] = list,
    ) -> None:
        self.client = client
        self.keys = keys
        self.guid = guid
        self.members = members
        self.on_activate = on_activate
        self.consumers = consumers
        """This process's stream consumers of the app (engine and workers)."""
        self.throttles = Throttles()
        self._calls: dict[str, list[dict[str, Any]]] = {}

    async def load(self) -> None:
        """Apply the stored throttles (they persist across restarts)."""
        stored = await self.client.hgetall(self.keys.throttles)
        for field, value in text_map(stored).items():
            self.throttles.by_topic[field] = int(value)

    async def _publish(self, message: dict[str, Any]) -> None:
        await self.client.publish(self.keys.quorum_channel, dumps(message))

    def on_message(self, channel: str, payload: dict[str, Any]) -> None:
        """Handle one quorum message."""
        kind = payload.get("type")
        if kind == "activate":
            self.on_activate(str(payload["version"]))
        elif kind == "ping":
            members = self.members()
            reply = {"type": "pong", "originator": payload.get("originator"), "members": members}
            asyncio.get_running_loop().create_task(self._publish(reply))
        elif kind == "pong":
            collected = self._calls.get(payload.get("originator", ""))
            if collected is not None:
                collected.extend(payload.get("members") or [])
        elif kind == "throttle":
            self.throttles.set(int(payload["throttle"]), payload.get("topic"), payload.get("guid"))
        elif kind == "reclaim":
            # A stopping consumer handed messages back: take them now, not at the next pass.
            stream = payload.get("stream")
            for consumer in self.consumers():
                if stream in consumer.streams:
                    consumer.reclaim_soon()

    async def roll_call(self, delay: float = 0.5) -> list[dict[str, Any]]:
        """Every engine and worker of the app, in every process that answers within ``delay``."""
        call = f"{self.guid}:{time.monotonic_ns()}"
        self._calls[call] = []
        try:
            await self.client.publish(
                self.keys.quorum_channel, dumps({"type": "ping", "originator": call})
            )
            await asyncio.sleep(delay)
            members = self._calls[call]
        finally:
            self._calls.pop(call, None)
        depths = {}
        for member in members:
            stream = member.get("stream")
            if stream and stream not in depths:
                depths[stream] = await self.client.xlen(stream)
            member["stream_depth"] = depths.get(stream)
        return sorted(members, key=lambda m: (m.get("role", ""), m.get("topic") or "", m["member"]))

    async def throttle(
        self, milliseconds: int, *, topic: str | None = None, member: str | None = None
    ) -> None:
        """Slow (ms between reads) or pause (-1) consumers; 0 lifts the throttle.

        Without ``topic`` and ``member`` it applies to every engine and worker of
        the app. Throttles for all or for a topic are stored and survive
        restarts; one for a member lasts while that member runs.
        """
        value = PAUSE if milliseconds < 0 else int(milliseconds)
        if member is None:
            if topic is None:
                pipe = self.client.pipeline(transaction=True)
                pipe.delete(self.keys.throttles)
                pipe.hset(self.keys.throttles, ALL, value)
                await pipe.execute()
            else:
                await self.client.hset(self.keys.throttles, topic, value)
        message = {"type": "throttle", "throttle": value, "topic": topic, "guid": member}
        await self.client.publish(self.keys.quorum_channel, dumps(message))


def member_profile(
    role: str,
    member: str,
    keys: Keys,
    stats: Any,
    *,
    topic: str | None = None,
    stream: str | None = None,
    started: float | None = None,
) -> dict[str, Any]:
    """The roll-call entry of one engine or worker."""
    return {
        "member": member,
        "role": role,
        "namespace": keys.namespace,
        "app": keys.app,
        "topic": topic,
        "stream": stream,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "processed": getattr(stats, "processed", 0),
        "failed": getattr(stats, "failed", 0),
        "in_flight": getattr(stats, "in_flight", 0),
        "reclaimed": getattr(stats, "reclaimed", 0),
        "dead_lettered": getattr(stats, "dead_lettered", 0),
        "started": started,
    }
