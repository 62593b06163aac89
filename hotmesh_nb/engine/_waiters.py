"""Pub/sub of an engine: job completions, emits, the quorum and user subscriptions.

Done channels: one per partition, sharded, listened to lazily
--------------------------------------------------------------

A job ends in a step script, which announces it with ``SPUBLISH`` on the done channel
of the job's partition (:attr:`Partition.done_channel`, a shard channel in the
partition's slot). A process listens (``SSUBSCRIBE``) only to the partitions of jobs
it waits for, from the moment it first waits for one of them, and keeps listening
(no churn): :meth:`Subscriptions.follow` subscribes before the job can end (``pub``
awaits it before it creates a job it waits for; a late waiter before it marks the
job), and costs a set lookup once the partition is followed. On one server the shard
channels share the connection of the classic ones (the quorum, ``sub``/``psub``). On
a Redis Cluster a shard channel is only relayed by the shard owning its slot, so each
node holding followed partitions gets its own connection, read by its own task with a
blocking read; when a node fails or a slot moves, its channels move to their new
owner, and the waiters are caught up from the job hashes (completions published
while nobody listened are lost).

Who must hear a completion
--------------------------

When the
process that waits for a job is also the one whose step ends it (a ``pubsub`` job
whose worker lives in the caller's process), the message would only travel back to
where it came from. So:

* A waiter registered *before* the job is written (``pubsub`` and every other
  start-and-wait registers from ``pub``'s ``on_id``) is claimed by ``pub``
  (:meth:`Subscriptions.claim`): the job is created with field ``w`` = this process's
  :func:`process_token`.
* A step that ends a job whose ``w`` is the token of the process running it returns
  the completion in its reply; that process settles its waiters from it
  (:func:`settle_local`) and the script does not PUBLISH on the done channel.
* A waiter that comes *later* (a handle's ``result``, a join, any process) marks the
  job with ``W`` (:meth:`Subscriptions.wait` does it in the background) and the
  completion is published again. If the job ended before the mark, the mark's reply
  says so and the waiter is settled from the job's hash, so it cannot miss the end.

Everything else is published as before: jobs nobody in the ending process waits for,
emits, interrupts, and every message of a graph's ``publishes`` channel (``sub`` and
``psub`` subscribers always receive).
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import logging
import os
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar, cast

import redis.asyncio as aioredis
from redis import exceptions as redis_errors
from redis.asyncio.client import PubSub

from .._codec import loads
from .._ids import guid
from .._replies import text_map
from ..acl import is_refusal, refusal
from ..connection import is_cluster
from ..runtime import cancel_and_wait
from ._outage import Outage, is_transient
from ._protocol import StepCall
from ._scripts import STEP
from ._state import completion_payload

if TYPE_CHECKING:
    from ..keys import Keys

log = logging.getLogger(__name__)

Callback = Callable[[str, dict[str, Any]], Any]
T = TypeVar("T")

_token = ""


def process_token() -> str:
    """This process's name in job hashes (field ``w``); a forked child gets its own."""
    global _token
    if not _token:
        _token = f"P{os.getpid()}.{guid(10)}"
    return _token


def _forget_token() -> None:
    # Asked on every step: a fork hook, not a getpid() per call, tells a child apart.
    global _token
    _token = ""


os.register_at_fork(after_in_child=_forget_token)


_local: dict[str, list[Subscriptions]] = {}
"""App prefix (:attr:`Keys.prefix`) → the started subscriptions of this process (step
replies settle them)."""


def settle_local(app: str, completion: str | bytes) -> None:
    """Settle this process's waiters of app ``app`` (its keys' prefix) from a completion
    a step script returned."""
    try:
        payload = loads(completion)
    except ValueError:
        return
    for subscriptions in _local.get(app, ()):
        subscriptions.settle(payload)


async def settled(future: asyncio.Future[T], timeout: float | None) -> T:
    """``future``'s result (a waiter from :meth:`Subscriptions.wait`), or
    :class:`asyncio.TimeoutError` after ``timeout`` seconds (None: no limit).

    What ``asyncio.wait_for`` does for a future, without the second future and the
    callbacks it makes per call on 3.11. On timeout the future itself ends with the
    error (its waiter list skips a done future; the caller then ``forget`` s it); a
    caller cancelled meanwhile cancels it, as with ``wait_for``.
    """
    if timeout is None or future.done():
        return await future
    if timeout <= 0:
        _time_out(future)
        return await future
    timer = asyncio.get_running_loop().call_later(timeout, _time_out, future)
    try:
        return await future
    finally:
        timer.cancel()


def _time_out(future: asyncio.Future[Any]) -> None:
    if not future.done():
        future.set_exception(asyncio.TimeoutError())


class Subscriptions:
    """Channel, pattern and shard-channel subscriptions, plus job waiters.

    Classic channels and patterns share one connection; so do shard channels on one
    server. On a cluster, shard channels live on one :class:`_NodeReader` per node.
    """

    def __init__(self, client: aioredis.Redis, keys: Keys) -> None:
        self._client = client
        self._keys = keys
        self._cluster = is_cluster(client)
        self._watches: dict[str, asyncio.Handle] = {}
        """Late waiters whose job is not marked yet (``pub`` claims them before then)."""
        self._side: set[asyncio.Task[None]] = set()
        self._pubsub = client.pubsub()
        self._outage = Outage("pub/sub")
        self._channels: dict[str, Callback] = {}
        self._internal: set[Callback] = set()
        self._patterns: dict[str, Callback] = {}
        self._confirmed: dict[str, asyncio.Event] = {}
        self._waiters: dict[str, list[asyncio.Future[dict[str, Any]]]] = {}
        self._task: asyncio.Task[None] | None = None
        self._run_callback: (
            Callable[[Callback, str, dict[str, Any]], Coroutine[Any, Any, Any]] | None
        ) = None
        self.on_resubscribed: Callable[[list[str]], Coroutine[Any, Any, None]] | None = None
        """Called with the awaited job ids after the connection came back: completions
        published while it was down are lost, so the owner reads those jobs instead."""
        self._lost = False
        self._refused: dict[str, BaseException] = {}
        """Subscriptions the server's ACL refused, with the error their caller gets."""
        self._followed: set[str] = set()
        """Done channels listened to (confirmed): waiting on their jobs costs nothing more."""
        self._following: dict[str, asyncio.Task[None]] = {}
        """Done channels being subscribed (every caller awaits the same subscription)."""
        self._nodes: dict[str, _NodeReader] = {}
        """Cluster only: node name → the reader of the shard channels it owns."""

    async def start(
        self, run_callback: Callable[[Callback, str, dict[str, Any]], Coroutine[Any, Any, Any]]
    ) -> None:
        """Get ready to deliver messages; done channels are followed when waited on."""
        self._run_callback = run_callback
        _local.setdefault(self._keys.prefix, []).append(self)

    @property
    def followed(self) -> frozenset[str]:
        """The done channels (one per partition) this process listens to."""
        return frozenset(self._followed)

    def _ensure_reader(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._read(), name="pubsub")

    async def subscribe(self, channel: str, callback: Callback, *, internal: bool = False) -> None:
        """Deliver messages of ``channel`` to ``callback(channel, payload)``.

        ``internal`` callbacks (the engine's own) run on the loop at once; user
        callbacks run through the runtime (threads for plain functions).
        """
        self._channels[channel] = callback
        if internal:
            self._internal.add(callback)
        event = self._confirmed.setdefault(channel, asyncio.Event())
        await self._pubsub.subscribe(channel)
        self._ensure_reader()
        await asyncio.wait_for(event.wait(), 10)
        if channel in self._refused:
            self._channels.pop(channel, None)
            self._confirmed.pop(channel, None)
            await self._pubsub.unsubscribe(channel)
            raise self._refused.pop(channel)

    async def psubscribe(self, pattern: str, callback: Callback) -> None:
        """Deliver messages of every channel matching ``pattern``."""
        self._patterns[pattern] = callback
        event = self._confirmed.setdefault(pattern, asyncio.Event())
        await self._pubsub.psubscribe(pattern)
        self._ensure_reader()
        await asyncio.wait_for(event.wait(), 10)
        if pattern in self._refused:
            self._patterns.pop(pattern, None)
            self._confirmed.pop(pattern, None)
            await self._pubsub.punsubscribe(pattern)
            raise self._refused.pop(pattern)

    async def unsubscribe(self, channel: str) -> None:
        """Stop delivering ``channel``."""
        self._channels.pop(channel, None)
        self._confirmed.pop(channel, None)
        await self._pubsub.unsubscribe(channel)

    async def punsubscribe(self, pattern: str) -> None:
        """Stop delivering ``pattern``."""
        self._patterns.pop(pattern, None)
        self._confirmed.pop(pattern, None)
        await self._pubsub.punsubscribe(pattern)

    def follows(self, job_id: str) -> bool:
        """Whether the done channel of ``job_id``'s partition is listened to already."""
        return self._keys.part_of(job_id).done_channel in self._followed

    async def follow(self, job_id: str) -> None:
        """Listen to the done channel of ``job_id``'s partition (returns once the server
        confirmed it; at once when it is followed already)."""
        channel = self._keys.part_of(job_id).done_channel
        if channel in self._followed:
            return
        task = self._following.get(channel)
        if task is None:
            task = asyncio.get_running_loop().create_task(
                self._ssubscribe(channel), name="follow partition"
            )
            self._following[channel] = task
        # Shielded: a caller that gives up does not cancel the others' subscription.
        await asyncio.shield(task)

    async def _ssubscribe(self, channel: str) -> None:
        try:
            self._channels[channel] = self._on_done
            self._internal.add(self._on_done)
            event = self._confirmed.setdefault(channel, asyncio.Event())
            if self._cluster:
                await self._client.initialize()  # the slot map
                owner = self._client.get_node_from_key(channel)  # type: ignore[attr-defined]
                await self._node(owner).ssubscribe(channel)
            else:
                try:
                    await self._pubsub.ssubscribe(channel)
                except Exception as exc:
                    if not is_transient(exc):
                        raise
                    # The connection is down: its reconnect subscribes the channel, and
                    # the confirmation may still come in time.
                    self._pubsub.shard_channels[channel] = None
                self._ensure_reader()
            await asyncio.wait_for(event.wait(), 10)
            if channel in self._refused:
                self._channels.pop(channel, None)
                self._confirmed.pop(channel, None)
                raise self._refused.pop(channel)
            self._followed.add(channel)
        finally:
            self._following.pop(channel, None)

    def _node(self, node: Any) -> _NodeReader:
        reader = self._nodes.get(node.name)
        if reader is None:
            reader = self._nodes[node.name] = _NodeReader(self, node)
        return reader

    def wait(self, job_id: str) -> asyncio.Future[dict[str, Any]]:
        """A future resolved with the job's completion payload.

        Unless ``pub`` claims it at once (it starts the job), the job's partition is
        followed and the job marked so that its completion is published (see the
        module docstring).
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._waiters.setdefault(job_id, []).append(future)
        if job_id not in self._watches:
            self._watches[job_id] = loop.call_soon(self._start_watch, job_id)
        return future

    def claim(self, job_id: str) -> bool:
        """``pub`` is about to create ``job_id``: True when this process waits for it.

        The waiters registered for it are the creator's (from ``on_id``, before the job
        exists): they need no mark, and the job is created with this process's token.
        The creator then :meth:`follow` s the job's partition before it creates the job.
        """
        handle = self._watches.pop(job_id, None)
        if handle is None:
            return False
        handle.cancel()
        return bool(self._waiters.get(job_id))

    def _start_watch(self, job_id: str) -> None:
        self._watches.pop(job_id, None)
        task = asyncio.get_running_loop().create_task(self._watch(job_id), name="watch job")
        self._side.add(task)
        task.add_done_callback(self._side.discard)

    async def _watch(self, job_id: str) -> None:
        """Follow a running job's partition and mark the job for a late waiter; settle
        the waiter if the job has ended."""
        keys = self._keys
        outage = Outage("marking a waited job")
        part = keys.part_of(job_id)
        script_keys, args = StepCall(part.job(job_id), part.engine_stream, "watch").encode()
        while job_id in self._waiters:
            try:
                # Listening first: once the job is marked its end is published there.
                await self.follow(job_id)
                reply = await STEP.call(self._client, script_keys, args)
                outcome, status = int(reply[0]), int(reply[1])
                if outcome == 1 and (status <= 0 and status != -1):
                    # It ended before the mark: its completion may not have been published.
                    fields = text_map(await self._client.hgetall(keys.job(job_id)))
                    payload = completion_payload(fields)
                    if payload is not None:
                        self.settle(payload)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if not is_transient(exc):
                    log.warning("could not mark job %s for its waiter: %s", job_id, exc)
                    self._fail(job_id, exc)
                    return
                await asyncio.sleep(outage.failed(exc))

    def _fail(self, job_id: str, exc: BaseException) -> None:
        # A waiter whose job cannot be followed (an ACL refusal...) hears why, instead
        # of waiting for a completion that would never reach it.
        for future in self._waiters.pop(job_id, ()):
            if not future.done():
                future.set_exception(exc)

    def forget(self, job_id: str, future: asyncio.Future[Any]) -> None:
        """Drop a waiter (timed out or cancelled)."""
        waiters = self._waiters.get(job_id)
        if waiters and future in waiters:
            waiters.remove(future)
            if not waiters:
                del self._waiters[job_id]

    def settle(self, payload: dict[str, Any]) -> None:
        """Resolve the waiters of a job from its completion payload (however it was read)."""
        self._on_done("", payload)

    def _on_done(self, channel: str, payload: dict[str, Any]) -> None:
        if payload.get("k") != "done":
            return
        job_id = (payload.get("m") or {}).get("jid")
        if not isinstance(job_id, str):
            return
        for future in self._waiters.pop(job_id, ()):
            if not future.done():
                future.set_result(payload)

    def _refuse(self, exc: BaseException) -> None:
        # The server answers a refused (P/S)SUBSCRIBE with an error instead of its
        # confirmation: the subscriptions still waiting for one fail with it (one
        # subscription is made at a time per caller, so the error is theirs).
        user = self._client.connection_pool.connection_kwargs.get("username")
        for name, event in self._confirmed.items():
            if not event.is_set():
                if name in self._patterns:
                    command = "PSUBSCRIBE"
                elif self._channels.get(name) == self._on_done:
                    command = "SSUBSCRIBE"
                else:
                    command = "SUBSCRIBE"
                self._refused[name] = refusal(exc, (command, name), user)
                event.set()

    def _caught_up(self) -> None:
        """Channels are live again: settle the waiters whose job ended meanwhile."""
        if self.on_resubscribed is not None and self._waiters:
            task = asyncio.get_running_loop().create_task(self.on_resubscribed(list(self._waiters)))
            self._side.add(task)
            task.add_done_callback(self._side.discard)

    async def _read(self) -> None:
        while True:
            try:
                message = await self._pubsub.get_message(timeout=None)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if is_refusal(exc):
                    self._refuse(exc)
                    continue
                delay = self._outage.failed(exc)
                self._lost = True
                await asyncio.sleep(delay)
                continue
            if message is None:
                continue
            kind = message.get("type")
            confirmed = kind in ("subscribe", "psubscribe", "ssubscribe")
            if (
                confirmed
                and self._lost
                and (kind == "ssubscribe" or not self._pubsub.shard_channels)
            ):
                # redis-py subscribes again on reconnect, shard channels last; their
                # first confirmation means every channel is live, so completions
                # missed meanwhile can be looked up without a gap.
                self._lost = False
                self._outage.ok()
                self._caught_up()
            self._dispatch(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        """Deliver one message read from any connection (or note a confirmation)."""
        kind = message.get("type")
        name = message.get("pattern") or message.get("channel")
        if kind in ("subscribe", "psubscribe", "ssubscribe"):
            event = self._confirmed.get(message.get("channel"))  # type: ignore[arg-type]
            if event is not None:
                event.set()
            return
        if kind not in ("message", "pmessage", "smessage"):
            return
        channel = message["channel"]
        try:
            payload = loads(message["data"])
        except ValueError:
            return
        callback = self._channels.get(channel) if kind != "pmessage" else None
        if callback is None and kind != "smessage":
            callback = self._patterns.get(name) or self._match_pattern(channel)  # type: ignore[arg-type]
        if callback is None:
            return
        if callback in self._internal:
            callback(channel, payload)
        elif self._run_callback is not None:
            asyncio.get_running_loop().create_task(self._run_callback(callback, channel, payload))

    def _match_pattern(self, channel: str) -> Callback | None:
        for pattern, callback in self._patterns.items():
            if fnmatch.fnmatchcase(channel, pattern):
                return callback
        return None

    async def _relocate(self, reader: _NodeReader) -> None:
        """Move the channels of ``reader`` whose slot another node owns now (a failover,
        a migration) to that node's reader."""
        cluster: Any = self._client
        try:
            await cluster.nodes_manager.initialize()  # the slot map as the cluster sees it now
        except Exception as exc:
            log.debug("cluster topology not readable yet: %s", exc)
            return
        moves: list[tuple[str, _NodeReader]] = []
        for channel in reader.channels:
            try:
                owner = cluster.get_node_from_key(channel)
            except Exception as exc:  # a slot without an owner during a failover
                log.debug("no owner for %s yet: %s", channel, exc)
                continue
            if owner.name != reader.name:
                moves.append((channel, self._node(owner)))
        # Every moved channel is awaited before any is sent: the waiters are caught up
        # once the last of them is confirmed, not after the first.
        for channel, target in moves:
            reader.drop(channel)
            target.expect(channel)
        for channel, target in moves:
            await target.ssubscribe(channel)
        if not reader.channels:
            self._nodes.pop(reader.name, None)
            await reader.close()

    async def close(self) -> None:
        """Cancel waiters and close the connections."""
        started = _local.get(self._keys.prefix, [])
        if self in started:
            started.remove(self)
            if not started:
                del _local[self._keys.prefix]
        for handle in self._watches.values():
            handle.cancel()
        self._watches.clear()
        await cancel_and_wait(self._task, *self._side, *self._following.values())
        for reader in list(self._nodes.values()):
            await reader.close()
        self._nodes.clear()
        for waiters in self._waiters.values():
            for future in waiters:
                future.cancel()
        self._waiters.clear()
        with contextlib.suppress(Exception):
            # Any: redis-py annotates it in some versions only (no ignore fits them all).
            await cast(Any, self._pubsub).aclose()
        with contextlib.suppress(Exception):
            await self._client.aclose()  # the marks of late waiters used its pool


class _NodePubSub(PubSub):
    """A node's pub/sub that subscribes again one channel at a time after a reconnect (a
    cluster refuses one ``SSUBSCRIBE`` of channels in several slots)."""

    async def _resubscribe_shard_channels(self) -> None:
        for channel in list(self.shard_channels):
            await self.ssubscribe(channel)


class _NodeReader:
    """The shard channels a process listens to on one node of a cluster.

    One connection to the node, read by one task that blocks on it (an idle process
    sends nothing). redis-py reconnects and subscribes again after a blip; when the
    node is gone or a slot moved, the channels move to their new owner's reader. Either
    way the waiters are caught up once every channel that went unheard is confirmed.
    """

    def __init__(self, owner: Subscriptions, node: Any) -> None:
        self._owner = owner
        self.name: str = node.name
        pool = aioredis.ConnectionPool(
            connection_class=node.connection_class, **node.connection_kwargs
        )
        self._redis = aioredis.Redis.from_pool(pool)  # closing it closes the pool
        self._pubsub = _NodePubSub(pool, encoder=pool.get_encoder())  # type: ignore[no-untyped-call]
        self._outage = Outage(f"pub/sub on {node.name}")
        self._lost = False
        """The connection failed: every channel here went unheard until confirmed again."""
        self._awaiting: set[str] = set()
        """Unheard channels whose confirmation comes before the waiters are caught up."""
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        """Subscriptions one at a time: two first ones at once would each open a connection,
        and the reader would read only one of them."""

    @property
    def channels(self) -> list[str]:
        """The shard channels this reader subscribes to (again after a reconnect)."""
        return [str(c) for c in self._pubsub.shard_channels]

    def drop(self, channel: str) -> None:
        """Forget a channel another node owns now (not subscribed again here)."""
        self._pubsub.shard_channels.pop(channel, None)

    def expect(self, channel: str) -> None:
        """``channel`` moves here unheard: catch the waiters up once it is confirmed."""
        self._awaiting.add(channel)

    async def ssubscribe(self, channel: str) -> None:
        """Subscribe to ``channel`` here and make sure the node is being read."""
        async with self._lock:
            try:
                await self._pubsub.ssubscribe(channel)
            except Exception as exc:
                if not is_transient(exc):
                    raise
                # Kept: the reader's reconnect subscribes it.
                self._pubsub.shard_channels[channel] = None
                self._lost = True
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._read(), name=f"pubsub {self.name}"
            )

    def _confirmed(self, channel: str) -> None:
        if self._lost:
            # redis-py sent every channel again on reconnect: all are awaited.
            self._lost = False
            self._outage.ok()
            self._awaiting.update(self.channels)
        if channel in self._awaiting:
            self._awaiting.discard(channel)
            if not self._awaiting:
                self._owner._caught_up()

    async def _read(self) -> None:
        pubsub = self._pubsub
        while pubsub.shard_channels:
            try:
                if pubsub.connection is None:
                    # The first subscription never reached the node: connect and send it.
                    async with self._lock:
                        for channel in self.channels:
                            await pubsub.ssubscribe(channel)
                message = await pubsub.get_message(timeout=None)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if is_refusal(exc):
                    self._owner._refuse(exc)
                    continue
                self._lost = True
                if not isinstance(exc, redis_errors.ResponseError):  # MOVED: at once
                    await asyncio.sleep(self._outage.failed(exc))
                await self._owner._relocate(self)
                continue
            if message is None:
                continue
            kind = message.get("type")
            if kind == "ssubscribe":
                self._confirmed(str(message.get("channel")))
            elif kind == "sunsubscribe" and message.get("channel") in pubsub.shard_channels:
                # The server dropped us (its slot moved away): follow the slot.
                await self._owner._relocate(self)
                continue
            self._owner._dispatch(message)

    async def close(self) -> None:
        """Stop reading and close the connection."""
        task = self._task
        if task is not None and task is not asyncio.current_task():
            await cancel_and_wait(task)
        with contextlib.suppress(Exception):
            await cast(Any, self._pubsub).aclose()  # Any: see Subscriptions.close
        with contextlib.suppress(Exception):
            await self._redis.aclose()
