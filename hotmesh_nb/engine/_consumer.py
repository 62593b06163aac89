"""Reading Redis streams with a consumer group: batches, concurrency, acks, reclaim.

One consumer reads one stream per partition of its app (the engine stream, or a
worker topic's stream, of every partition). On one server a single blocking
``XREADGROUP`` reads all of them; on a cluster, where one command may not span
slots, each stream has its own blocking read. Either way an idle consumer sends
only blocking reads.

Each message is handled by its own task (up to ``concurrency`` at once); a new
batch is read as soon as there is room, so the pipeline stays full. Acks are
batched. Messages left pending by a crashed consumer are reclaimed after
``reclaim_after`` seconds of idleness; one delivered more than
``delivery_cap`` times goes to the dead-letter stream with its error instead
of looping forever.

Leases: while a handler runs, its consumer renews the claim on the message
(every third of ``reclaim_after``), so only a dead or stuck process loses a
message, never a slow callback. A delivery counts when a consumer takes the
message, and renewals do not count: a poison message that kills its process
still ends in a dead letter, while a server outage (which the batcher waits
out, see :mod:`.outage`) costs no attempt at all.

A worker's consumer also takes **local work** (see :mod:`._local`): messages a step
in this process wrote as leases instead of stream entries. They are handled, renewed
and handed back as stream messages are; a lease whose holder died is moved onto the
stream by whichever consumer of the topic reclaims next.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis

from .._replies import entries
from ..errors import HotMeshError
from ..runtime import cancel_and_wait
from . import _local
from ._batcher import Batcher
from ._config import EngineConfig
from ._outage import BACKOFF_CAP, Outage, backoff, is_transient
from ._scripts import RENEW, TRIM, UNLEASE
from ._wire import Lane

TRIM_INTERVAL = 1.0
"""Seconds between removals of acknowledged stream entries (only after acks)."""

log = logging.getLogger(__name__)

_KEPT_ERRORS = 1000
"""Most failure reasons a consumer remembers for the dead letters it may write."""

Handler = Callable[[str, str, dict[str, str], int], Awaitable[bool]]
"""``handler(stream, message_id, fields, delivery_count)``; returns True when it
acknowledged the message itself (in the same round trip as its effect), else the
consumer acks it."""

DeadLetter = Callable[[str, str, dict[str, str], int, str], Awaitable[None]]
"""``dead_letter(stream, message_id, fields, deliveries, reason)``: called for a message
that exceeded the delivery cap (before it is acked)."""

Held = tuple[str, str]
"""(stream, message id): message ids are unique within one stream only."""

Ack = tuple[str, str, str]
"""What acknowledges a message: ``(stream, group, message id)``, or for local work
``(lease set, '', member)`` (see :mod:`._local`)."""


def add_ack(pipe: Any, ack: Ack) -> None:
    """Queue the command that acknowledges ``ack`` on a pipeline."""
    key, group, message_id = ack
    if group:
        pipe.xack(key, group, message_id)
    else:
        pipe.zrem(key, message_id)


def prior_deliveries(fields: dict[str, str]) -> int:
    """Deliveries a message had before it reached its stream (a lease whose holder died).

    A count that is not a number (an entry written by hand) counts as none: the
    message is then handled, and ends in a dead letter if it cannot be.
    """
    try:
        return int(fields.get("p") or 0)
    except ValueError:
        return 0


@dataclass
class ConsumerStats:
    """Counters of one consumer (roll call and dashboards read them)."""

    processed: int = 0
    """Messages handled successfully."""
    failed: int = 0
    """Messages whose handler raised (left pending for a retry)."""
    reclaimed: int = 0
    """Messages taken over from an idle consumer."""
    dead_lettered: int = 0
    """Messages moved to the dead-letter stream."""
    in_flight: int = 0
    """Messages being handled right now."""


class _Slots(asyncio.Semaphore):
    """The consumer's handler slots: a semaphore that can also be taken without waiting."""

    def try_acquire(self) -> bool:
        """Take a slot if one is free and nobody queues for one; never waits.

        Every step that hands work to a local worker asks: a plain method, where
        ``await acquire()`` would make a coroutine. It reads the semaphore's own
        count and queue (``_value``, ``_waiters``, the same since Python 3.8). A
        queued waiter that was cancelled counts as queued: the work then goes
        through the stream, which is always correct.
        """
        if self._value <= 0 or self._waiters:
            return False
        self._value -= 1
        return True


class StreamConsumer:
    """Consume one stream per partition as one member of a consumer group."""

    def __init__(
        self,
        client: aioredis.Redis,
        streams: list[str],
        group: str,
        member: str,
        handler: Handler,
        config: EngineConfig,
        *,
        dead_letter: DeadLetter | None = None,
        throttle: Callable[[], float] | None = None,
        batcher: Batcher | None = None,
        reader: aioredis.Redis | None = None,
        handed_back: Callable[[], Awaitable[Any]] | None = None,
        split: bool = False,
        leases: list[str] | None = None,
        server: str = "",
    ) -> None:
        self.client = client
        self.reader = reader or client
        """Client of the blocking reads (its socket timeout outlasts ``block_ms``)."""
        self.handed_back = handed_back
        """Called after a stop handed messages back (tells the other consumers to take them)."""
        self.streams = list(streams)
        """The streams read (one per partition)."""
        self.stream = streams[0]
        """The first stream (names the consumer in logs)."""
        self.split = split
        """Read each stream with its own blocking read (a cluster: one slot per command)."""
        self.server = server
        """The server's URL (local work comes only from steps sent to the same URL)."""
        self._lease_sets = dict(zip(streams, leases or []))
        """Stream → its partition's lease set (a worker's consumer: it takes local work)."""
        self._leased: dict[str, tuple[str, str]] = {}
        """Local work in hand: its id here → (lease set, member)."""
        self._leases_made = 0
        self.loop: asyncio.AbstractEventLoop | None = None
        """The loop this consumer runs on (local work comes from steps on the same loop)."""
        self.group = group
        # Consumer names say where a pending message sits (host, process, member).
        self.consumer = f"{socket.gethostname()}:{os.getpid()}:{member}"
        self.handler = handler
        self.concurrency = config.concurrency
        self.batch = config.batch
        self.block_ms = config.block_ms
        self.reclaim_after = config.reclaim_after
        self.delivery_cap = config.delivery_cap
        self.local_dispatch = config.local_dispatch
        self.dead_letter = dead_letter
        self._last_errors: dict[Held, str] = {}
        """Message id → why its last handling here failed (named in its dead letter)."""
        self.throttle = throttle or (lambda: 0.0)
        self.batcher = batcher or Batcher(client)
        self.stats = ConsumerStats()
        self._slots = _Slots(self.concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._side: set[asyncio.Task[Any]] = set()
        self._loop_tasks: list[asyncio.Task[None]] = []
        self._reclaim_task: asyncio.Task[None] | None = None
        self._stopping = False
        self._throttle_changed = asyncio.Event()
        self._throttle_expired = False
        self._acks: dict[str, list[str]] = {}
        self._ack_queued = False
        self._acked = 0
        self._acked_on: dict[str, int] = {}
        """Stream → messages acknowledged there (the trim loop trims only those that moved)."""
        self._trim_task: asyncio.Task[None] | None = None
        self._lease_task: asyncio.Task[None] | None = None
        self._held: dict[Held, float] = {}
        """(stream, message id) → when its handler started (monotonic), for lease renewal."""

    def _read_sets(self) -> list[list[str]]:
        return [[stream] for stream in self.streams] if self.split else [self.streams]

    async def ensure_group(self, streams: list[str] | None = None) -> None:
        """Create the streams and group if needed (idempotent; one round trip)."""
        await create_groups(self.client, streams or self.streams, self.group)

    async def start(self) -> None:
        """Create the group and start reading."""
        await self.ensure_group()
        # Reading this new consumer's own (empty) history takes no message; it makes a
        # user whose ACL refuses stream reads fail here, with a clear error, instead of
        # in the background loop.
        for streams in self._read_sets():
            await self.reader.xreadgroup(
                self.group, self.consumer, dict.fromkeys(streams, "0"), count=1
            )
        loop = asyncio.get_running_loop()
        self._loop_tasks = [
            loop.create_task(self._read_loop(streams), name=f"read {streams[0]}")
            for streams in self._read_sets()
        ]
        if self.reclaim_after > 0:
            self._reclaim_task = loop.create_task(self._reclaim_loop(), name="reclaim")
        self._trim_task = loop.create_task(self._trim_loop(), name="trim")
        if self.reclaim_after > 0:
            self._lease_task = loop.create_task(self._lease_loop(), name="leases")
        self.loop = loop
        # Local work needs reclaiming: a lease nobody renews must fall due for someone.
        if self._lease_sets and self.local_dispatch and self.reclaim_after > 0:
            _local.register(self)

    def throttle_changed(self) -> None:
        """Wake a throttled reader so a new throttle takes effect at once."""
        self._throttle_changed.set()

    async def _wait_throttle(self) -> None:
        delay = self.throttle()
        while delay > 0 and not self._stopping:
            self._throttle_changed.clear()
            alarm = asyncio.get_running_loop().call_later(min(delay, 3600), self._expire_throttle)
            try:
                await self._throttle_changed.wait()
            finally:
                alarm.cancel()
            if self._throttle_expired:
                self._throttle_expired = False
                return
            delay = self.throttle()

    def _expire_throttle(self) -> None:
        self._throttle_expired = True
        self._throttle_changed.set()

    async def _read_loop(self, streams: list[str]) -> None:
        # Each read loop blocks on a socket of its own; on one server the reply is parsed
        # as it arrives (see ``_wire``), as the batcher's are.
        lane = Lane.of(self.reader)
        breaks, last_break = 0, 0.0
        try:
            while not self._stopping:
                try:
                    if breaks:
                        await asyncio.sleep(backoff(breaks))
                        await self._recover_own(streams)
                    await self._read_each(streams, lane)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    # A bug of ours, or an entry nobody foresaw: logged, and reading goes
                    # on (a dead loop would leave a worker that looks alive and reads
                    # nothing). What the read took is taken back as after any failure.
                    log.exception("reading %s broke; reading again", streams[0])
                    now = time.monotonic()
                    breaks = 1 if now - last_break > BACKOFF_CAP * 10 else breaks + 1
                    last_break = now
        finally:
            if lane is not None:
                await lane.close()

    async def _read(
        self, wanted: dict[Any, Any], count: int, lane: Lane | None
    ) -> list[Any] | dict[Any, Any] | None:
        """One blocking ``XREADGROUP`` of ``count`` messages at most."""
        if lane is None:
            return await self.reader.xreadgroup(
                self.group, self.consumer, wanted, count=count, block=self.block_ms
            )
        command = ("XREADGROUP", "GROUP", self.group, self.consumer, "COUNT", count)
        command += ("BLOCK", self.block_ms, "STREAMS", *wanted, *wanted.values())
        (reply,) = await lane.send([(command, {})])
        if isinstance(reply, Exception):
            raise reply
        return reply  # type: ignore[no-any-return]

    async def _read_each(self, streams: list[str], lane: Lane | None) -> None:
        outage = Outage(f"reading {streams[0]}")
        wanted: dict[Any, Any] = dict.fromkeys(streams, ">")
        while not self._stopping:
            await self._wait_throttle()
            # Take at least one free slot before reading, so a full consumer stops reading.
            await self._slots.acquire()
            self._slots.release()
            # A throttled consumer reads one message per pause.
            room = 1 if self.throttle() > 0 else max(1, min(self.batch, self._free_slots()))
            try:
                reply = await self._read(wanted, room, lane)
                outage.ok()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if "NOGROUP" in str(exc):  # the server lost the group (restart without data)
                    with contextlib.suppress(Exception):
                        await self.ensure_group(streams)
                    continue
                if not is_transient(exc):
                    log.warning("reading %s failed: %s", streams[0], exc)
                await asyncio.sleep(outage.failed(exc))
                await self._recover_own(streams)
                continue
            for stream, message_id, fields in _entries(reply):
                if fields is None:
                    continue  # deleted while pending
                # A pause set while the read was blocked holds what it returned.
                if self.throttle() == float("inf"):
                    await self._wait_throttle()
                await self._dispatch(stream, message_id, fields, 1 + prior_deliveries(fields))
            # Eager dispatch: the handlers just created run up to their first wait before
            # the next blocking read is sent, so a message's work is never behind it.
            await asyncio.sleep(0)
            # What they queued (a step, an ack) goes out before the read, which the
            # server would otherwise wake up for first.
            if self.batcher.flush_queued():
                await asyncio.sleep(0)

    async def _recover_own(self, streams: list[str]) -> None:
        """After a failed read, take back what the server delivered to us meanwhile.

        A read whose reply was lost with its connection (a failover, a dropped socket)
        left its messages pending under this consumer's name, where no ``>`` read finds
        them again: without this they would wait for ``reclaim_after``. Reading our own
        history (``0``) returns them; those in hand, or handled and waiting for their
        ack to be flushed, are skipped.
        """
        try:
            reply = await self.reader.xreadgroup(
                self.group, self.consumer, dict.fromkeys(streams, "0"), count=self.batch
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            return  # still down: the next failed read tries again
        for stream, message_id, fields in _entries(reply):
            if (stream, message_id) in self._held or message_id in self._acks.get(stream, ()):
                continue  # in hand, or handled with its ack on the way
            if fields is None:
                self.ack(stream, message_id)  # deleted while pending
            else:
                await self._dispatch(stream, message_id, fields, 2 + prior_deliveries(fields))

    def _free_slots(self) -> int:
        return self.concurrency - self.stats.in_flight

    async def _dispatch(
        self, stream: str, message_id: str, fields: dict[str, str], deliveries: int
    ) -> None:
        await self._slots.acquire()
        self._start(stream, message_id, fields, deliveries)

    def _start(self, stream: str, message_id: str, fields: dict[str, str], deliveries: int) -> None:
        """Handle a message in a task of its own (its slot is taken)."""
        self.stats.in_flight += 1
        task = asyncio.get_running_loop().create_task(
            self._handle(stream, message_id, fields, deliveries)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- local work (see _local) ---------------------------------------------------

    def try_reserve(self) -> bool:
        """Take a slot for local work, if one is free now (never waits)."""
        if self._stopping or self.throttle() > 0:
            return False
        return self._slots.try_acquire()

    def release_local(self) -> None:
        """Give back a slot reserved for local work that was not written."""
        self._slots.release()

    def lease_set(self, stream: str) -> str:
        """The lease set of ``stream``'s partition."""
        return self._lease_sets[stream]

    @staticmethod
    def lease_score() -> int:
        """A lease's score: when its holder last renewed it (ms since the epoch). As with a
        stream message's idle time, each reclaimer judges it by its own ``reclaim_after``."""
        return int(time.time() * 1000)

    def take_local(self, stream: str, member: str) -> None:
        """Handle local work a step just wrote as a lease (its slot is reserved)."""
        if self._stopping:
            # Handed back at once: another consumer of the topic takes it at its next reclaim.
            self._slots.release()
            self._side_task(self._hand_back_lease(self.lease_set(stream), member))
            return
        self._leases_made += 1
        _local.note_taken(self.server, stream)
        local_id = f"L{self._leases_made}"
        self._leased[local_id] = (self.lease_set(stream), member)
        self._start(stream, local_id, {"m": member}, 1)

    def recover_lease(self, stream: str, member: str, score: int) -> None:
        """Local work a step may have written although this process did not take it (the
        step's reply was lost): onto the stream at once, where any worker of the topic
        reads it, instead of waiting ``reclaim_after`` for a reclaimer.

        Nobody else holds such a lease (only the writer takes local work), and the move
        is the reclaimers' own: atomic, and only while the lease still has the score it
        was written with. A lease that was never written is left as nothing.
        """
        if not self._stopping:
            self._side_task(self._recover_lease(stream, member, score))

    async def _recover_lease(self, stream: str, member: str, score: int) -> None:
        keys, args = [self.lease_set(stream), stream], [score, member]
        try:
            # The pipeline waits out an outage and sends it again (a patient command).
            moved = await self.batcher.submit(lambda pipe: UNLEASE.add(pipe, keys, args))
        except Exception as exc:
            log.warning("local work of %s left to reclaim: %s", stream, exc)
            return
        self.stats.reclaimed += int(moved)

    async def _hand_back_lease(self, lease_set: str, member: str) -> None:
        await self.client.zadd(lease_set, {member: 0}, xx=True)  # idle since ever

    def ack_of(self, stream: str, message_id: str) -> Ack:
        """What acknowledges the message ``message_id`` of ``stream`` (in a step script)."""
        lease = self._leased.get(message_id)
        if lease is not None:
            return (lease[0], "", lease[1])
        return (stream, self.group, message_id)

    def _side_task(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._side.add(task)
        task.add_done_callback(self._side.discard)

    async def _handle(
        self, stream: str, message_id: str, fields: dict[str, str], deliveries: int
    ) -> None:
        held = (stream, message_id)
        self._held[held] = time.monotonic()
        try:
            acked = await self._handle_patiently(stream, message_id, fields, deliveries)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # Left pending: reclaim retries it, and the delivery cap stops a poison loop.
            self.stats.failed += 1
            if len(self._last_errors) >= _KEPT_ERRORS:  # bounded: drop the oldest
                self._last_errors.pop(next(iter(self._last_errors)))
            self._last_errors[held] = f"{type(exc).__name__}: {exc}"
            if isinstance(exc, HotMeshError):  # a clear message of ours needs no traceback
                log.error("handling %s from %s failed: %s", message_id, stream, exc)
            else:
                log.exception("handling %s from %s failed", message_id, stream)
        else:
            self._last_errors.pop(held, None)
            self.stats.processed += 1
            if not acked:
                self.ack(stream, message_id)
            elif message_id not in self._leased:  # local work leaves nothing to trim
                self._count_acks(stream, 1)
        finally:
            self._held.pop(held, None)
            self._leased.pop(message_id, None)
            self.stats.in_flight -= 1
            self._slots.release()

    async def _handle_patiently(
        self, stream: str, message_id: str, fields: dict[str, str], deliveries: int
    ) -> bool:
        """Run the handler; a server outage is waited out here, not charged as an attempt.

        Handlers are idempotent (guarded steps), so running one again after an
        outage cut it short is safe; the message stays ours meanwhile (leases).
        """
        outage: Outage | None = None  # made at the first failure: most messages see none
        while True:
            try:
                acked = await self.handler(stream, message_id, fields, deliveries)
            except Exception as exc:
                if self._stopping or not is_transient(exc):
                    raise
                outage = outage or Outage(f"handling {stream}")
                await asyncio.sleep(outage.failed(exc))
                continue
            if outage is not None:
                outage.ok()
            return acked

    def ack(self, stream: str, message_id: str) -> None:
        """Acknowledge a message of ``stream``.

        Ids gather until the next pipeline flush, which sends one XACK per stream
        for all of them; the trim loop removes acknowledged entries in bulk.
        """
        lease = self._leased.get(message_id)
        if lease is not None:
            self.batcher.send(lambda pipe: pipe.zrem(*lease))
            return
        self._acks.setdefault(stream, []).append(message_id)
        if not self._ack_queued:
            self._ack_queued = True
            self.batcher.send(self._add_acks)

    def _count_acks(self, stream: str, count: int) -> None:
        self._acked += count
        self._acked_on[stream] = self._acked_on.get(stream, 0) + count

    def _add_acks(self, pipe: Any) -> None:
        acks, self._acks = self._acks, {}
        self._ack_queued = False
        for stream, ids in acks.items():
            pipe.xack(stream, self.group, *ids)
            self._count_acks(stream, len(ids))

    async def _trim_loop(self) -> None:
        # Trimming in bulk replaces an XDEL per message: a few commands a second
        # at most, none while idle, and only on streams that moved.
        trimmed_at: dict[str, int] = {}
        while not self._stopping:
            await asyncio.sleep(TRIM_INTERVAL)
            for stream, acked in list(self._acked_on.items()):
                if trimmed_at.get(stream) == acked:
                    continue
                trimmed_at[stream] = acked
                try:
                    await TRIM.call(self.client, [stream], [])
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    log.warning("trimming %s failed: %s", stream, exc)

    async def _lease_loop(self) -> None:
        # Renewing only messages held a while keeps a fast mesh free of extra commands.
        interval = max(self.reclaim_after / 3, 0.02)
        while not self._stopping:
            await asyncio.sleep(interval)
            due = time.monotonic() - interval
            held = [key for key, since in self._held.items() if since <= due]
            if not held:
                continue
            try:
                await self._set_idle(held, 0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("renewing leases on %s failed: %s", self.stream, exc)

    async def _set_idle(
        self, held: list[Held], idle_ms: int, leased: dict[str, tuple[str, str]] | None = None
    ) -> None:
        """Renew (``idle_ms`` 0) or hand back the messages ``held`` (``leased``: the local
        work in hand when they were listed, by default now)."""
        leased = self._leased if leased is None else leased
        by_stream: dict[str, list[str]] = {}
        by_lease_set: dict[str, dict[str, float]] = {}
        renewed = self.lease_score() - idle_ms
        for stream, message_id in held:
            lease = leased.get(message_id)
            if lease is not None:
                by_lease_set.setdefault(lease[0], {})[lease[1]] = renewed
            else:
                by_stream.setdefault(stream, []).append(message_id)
        for stream, ids in by_stream.items():
            await RENEW.call(self.client, [stream], [self.group, self.consumer, idle_ms, *ids])
        for lease_set, members in by_lease_set.items():
            # XX: a lease moved to the stream meanwhile is someone else's now.
            await self.client.zadd(lease_set, members, xx=True)

    async def _reclaim_loop(self) -> None:
        interval = max(self.reclaim_after / 2, 0.05)
        while not self._stopping:
            await asyncio.sleep(interval)
            try:
                await self.reclaim()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("reclaim on %s failed: %s", self.stream, exc)

    async def is_idle(self) -> bool:
        """True when nothing is in hand and the group has nothing undelivered or pending."""
        if self.stats.in_flight:
            return False
        for stream in self.streams:
            if not await self._stream_idle(stream):
                return False
        for lease_set in self._lease_sets.values():
            if await self.client.zcard(lease_set):
                return False
        return True

    async def _stream_idle(self, stream: str) -> bool:
        for group in await self.client.xinfo_groups(stream):
            if group.get("name") == self.group:
                lag = group.get("lag")
                # 'lag' is None when the server cannot tell (entries were trimmed): then
                # compare the last delivered id with the stream's last id.
                if lag is None:
                    info = await self.client.xinfo_stream(stream)
                    lag = (
                        0 if group.get("last-delivered-id") == info.get("last-generated-id") else 1
                    )
                return int(lag) == 0 and int(group.get("pending") or 0) == 0
        return True

    def reclaim_soon(self) -> None:
        """Run a reclaim pass now (another consumer of the stream handed messages back)."""
        if not self._stopping and self.reclaim_after > 0:
            self._side_task(self.reclaim())

    async def reclaim(self) -> int:
        """Take over messages idle longer than ``reclaim_after``, and move local work whose
        lease fell due onto its stream; returns how many."""
        idle_ms = int(self.reclaim_after * 1000)
        cutoff = self.lease_score() - idle_ms
        # One round trip asks every stream for its idle messages and every lease set
        # for the local work nobody renewed for as long.
        pipe = self.client.pipeline(transaction=False)
        for stream in self.streams:
            pipe.xpending_range(
                stream, self.group, min="-", max="+", count=self.batch, idle=idle_ms
            )
        lease_sets = list(self._lease_sets.items())
        for _, lease_set in lease_sets:
            pipe.zrangebyscore(lease_set, "-inf", cutoff, start=0, num=self.batch)
        replies = await pipe.execute()
        taken = 0
        for (stream, lease_set), due in zip(lease_sets, replies[len(self.streams) :]):
            taken += await self._unlease(stream, lease_set, due, cutoff)
        for stream, pending in zip(self.streams, replies):
            for entry in pending:
                message_id = entry["message_id"]
                claimed = await self.client.xclaim(
                    stream, self.group, self.consumer, idle_ms, [message_id]
                )
                # Fields are empty (or None) for an entry deleted meanwhile.
                for claimed_id, fields in entries(claimed):
                    if not fields:
                        self.ack(stream, claimed_id)
                        continue
                    self.stats.reclaimed += 1
                    taken += 1
                    deliveries = int(entry["times_delivered"]) + 1 + prior_deliveries(fields)
                    if deliveries > self.delivery_cap:
                        await self._bury(stream, claimed_id, fields, deliveries)
                    else:
                        await self._dispatch(stream, claimed_id, fields, deliveries)
        return taken

    async def _unlease(self, stream: str, lease_set: str, due: list[Any], cutoff: int) -> int:
        """Move local work whose holder stopped renewing it (not since ``cutoff``, ms) onto
        the stream, as delivered once already; work this consumer holds is left alone."""
        mine = {member for _, member in self._leased.values()}
        members = [text for text in (_text(m) for m in due) if text not in mine]
        if not members:
            return 0
        moved = await UNLEASE.call(self.client, [lease_set, stream], [cutoff, *members])
        self.stats.reclaimed += int(moved)
        return int(moved)

    async def _bury(
        self, stream: str, message_id: str, fields: dict[str, str], deliveries: int
    ) -> None:
        reason = f"delivered {deliveries - 1} times without success (cap {self.delivery_cap})"
        last = self._last_errors.pop((stream, message_id), None)
        if last is not None:  # what went wrong, when this process saw it go wrong
            reason += f"; last error: {last}"
        if self.dead_letter is not None:
            await self.dead_letter(stream, message_id, fields, deliveries, reason)
        self.stats.dead_lettered += 1
        self.ack(stream, message_id)

    async def stop(self, grace: float = 2.0) -> None:
        """Stop reading, let running handlers finish for ``grace`` seconds, flush acks.

        Messages whose handlers did not finish are handed back: marked idle for
        ``reclaim_after``, so another consumer takes them over at its next
        reclaim pass instead of waiting for them to time out.
        """
        _local.unregister(self)
        self._stopping = True
        self._throttle_changed.set()
        await cancel_and_wait(*self._loop_tasks, self._reclaim_task)
        if self._tasks:
            _, still = await asyncio.wait(self._tasks, timeout=grace)
            unfinished, leased = list(self._held), dict(self._leased)
            await cancel_and_wait(*still)
            if unfinished and self.reclaim_after > 0:
                with contextlib.suppress(Exception):
                    idle_ms = int(self.reclaim_after * 1000)
                    await asyncio.wait_for(self._set_idle(unfinished, idle_ms, leased), 1.0)
                    if self.handed_back is not None:
                        await asyncio.wait_for(self.handed_back(), 1.0)
        await cancel_and_wait(self._trim_task, self._lease_task)
        with contextlib.suppress(Exception):
            await self.batcher.drain()


async def create_groups(client: aioredis.Redis, streams: list[str], group: str) -> None:
    """Create ``group`` on each stream (and the stream), in one pipeline; a group that
    exists already (``BUSYGROUP``) is fine, any other refusal is raised."""
    pipe = client.pipeline(transaction=False)
    for stream in streams:
        pipe.xgroup_create(stream, group, id="0", mkstream=True)
    for reply in await pipe.execute(raise_on_error=False):
        if isinstance(reply, Exception) and "BUSYGROUP" not in str(reply):
            raise reply


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _entries(reply: Any) -> list[tuple[str, str, dict[str, str] | None]]:
    """(stream, id, fields) of an XREADGROUP reply, in RESP2 (list) or RESP3 (dict) shape."""
    if not reply:
        return []
    out: list[tuple[str, str, dict[str, str] | None]] = []
    if isinstance(reply, dict):
        for stream, value in reply.items():
            entries = value[0] if value and isinstance(value[0], list) else value
            out.extend((stream, message_id, fields) for message_id, fields in entries)
        return out
    for stream, entries in reply:
        out.extend((stream, message_id, fields) for message_id, fields in entries)
    return out
