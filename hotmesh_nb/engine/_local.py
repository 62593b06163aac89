"""Local dispatch: work handed straight to a worker of its topic in the same process.

A step that queues work for a topic read by a worker living in the same process,
with a free slot, does not add the message to the topic's stream. The step script
writes it as a **lease** instead: a member of the partition's lease set for the
topic (``Partition.work_leases``), scored with the time it was taken. Once the
step is in, the message goes to that worker at once, and the worker's answer
removes the lease in its own step, where a stream message would be acknowledged.
The worker renews its leases (the score becomes the renewal's time) as it renews
its stream claims, so a lease stays unrenewed for ``reclaim_after`` only when its
process died or hung; then any worker of the topic moves it onto the stream
(``StreamConsumer.reclaim``, judged by the reclaimer's own ``reclaim_after``, as a
stream message's idle time is), where it is handled as any other message.

The guarantees are the stream's: at-least-once delivery, one applied answer (the
step's guard), the same retries, leases and delivery cap. What changes is cost: a
stream message's ``XADD``, ``XREADGROUP`` and ``XACK`` become a ``ZADD`` and a
``ZREM`` in scripts the job runs anyway, and the hop through the blocking read
goes. Temporal's eager activity dispatch is the same idea: work a worker can take
now is not queued for it. ``EngineConfig.local_dispatch`` turns it off.

Messages for the engine stream never take this path: their stream order is part of
the engine's contract (timers and queued children commit in stream order).
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._consumer import StreamConsumer

_readers: dict[tuple[str, str], list[StreamConsumer]] = {}
"""(server URL, stream) → the consumers of this process reading it that take local work.
The URL is part of the name: two servers may hold streams of the same name (one
namespace on two servers), and work goes only to a consumer of the server that holds
its lease. Two URLs of one server only miss a chance to dispatch locally."""


_taken: dict[tuple[str, str], int] = {}
"""(server URL, stream) → messages of it handed to a worker of this process directly
(views count them with the stream's own entries: see ``notebook/_probe.py``)."""


def note_taken(server: str, stream: str) -> None:
    """Count a message of ``stream`` handed over as local work."""
    _taken[server, stream] = _taken.get((server, stream), 0) + 1


def taken(server: str, stream: str) -> int:
    """Messages of ``stream`` this process handed to its own workers so far."""
    return _taken.get((server, stream), 0)


def register(consumer: StreamConsumer) -> None:
    """Let ``consumer`` take local work for each of its streams."""
    for stream in consumer.streams:
        _readers.setdefault((consumer.server, stream), []).append(consumer)


def unregister(consumer: StreamConsumer) -> None:
    """Stop offering ``consumer`` local work (it is stopping)."""
    for stream in consumer.streams:
        readers = _readers.get((consumer.server, stream))
        if readers and consumer in readers:
            readers.remove(consumer)
            if not readers:
                del _readers[(consumer.server, stream)]


def reserve(server: str, stream: str) -> StreamConsumer | None:
    """A consumer in this process of ``stream`` on the server at ``server`` that has just
    reserved a slot for a message of it, or None (nobody reads it here, or every reader
    is full, throttled, stopping or on another loop). Never waits. The caller hands the
    message over with ``consumer.take_local`` or gives the slot back with
    ``consumer.release_local``."""
    readers = _readers.get((server, stream))
    if not readers:
        return None
    loop = asyncio.get_running_loop()
    for consumer in readers:
        if consumer.loop is loop and consumer.try_reserve():
            return consumer
    return None
