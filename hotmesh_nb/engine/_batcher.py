"""Coalesce commands from many concurrent tasks into one pipeline round trip.

Under load, dozens of jobs want to write at once; sending each alone costs a
round trip (~60 µs of client CPU) per command. A :class:`Batcher` queues the
commands of every task that submits and sends them together once the loop has
run what was ready, or as soon as :data:`EAGER_FLUSH` of them wait; up to
:data:`FLUSH_DEPTH` flushes are out at once. An idle batcher flushes at once, so
latency does not suffer.

Why not one batch per loop pass: jobs then move in step. Fifty jobs in flight
each queue a script while the loop runs them, the fifty go out together, and the
client waits while the server runs all fifty, then the server waits while the
client handles fifty replies (measured: the loop idle 16 % of the time, every
flush exactly 50 long). Sending the first sixteen at once keeps both busy.

The batcher also rides out server outages for everything sent through it: a
dropped connection, a restart or failover, ``SCRIPT FLUSH`` (scripts are
reloaded) and a full memory are waited out and the commands that did not run
are sent again. A submitter that will not wait (``patient=False``, a user's
``pub``) gets a clear error instead.

On a single server the batcher sends on a connection of its own (a
:class:`~._wire.Lane`): redis-py's pipeline adds ~40 µs of bookkeeping per flush
(pool checks, observability hooks, a timeout context per reply, retries we do
ourselves). Other clients (a cluster) use redis-py's pipeline. On the lane, a flush
is written as soon as it starts and settled from a callback when its replies are in;
only a flush that must wait (an outage, a forgotten script, a full server) gets a
task, which sends again what did not run.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import logging
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis

from .._lua import is_noscript, load_all
from ..errors import HotMeshError
from ._outage import Outage, explain, is_transient
from ._wire import Lane

log = logging.getLogger(__name__)

Command = Callable[[Any], None]
"""Adds one command to a pipeline (``lambda pipe: pipe.xack(...)``)."""

EAGER_FLUSH = 16
"""Queued commands that start a flush without waiting for the loop's pass to end (the
server then works while the client makes the rest; 8 to 24 measured alike)."""

STOPPED = (
    "stopped: this engine (or worker) was stopped, and sends nothing any more; "
    "HotMesh.init(...) starts a new one"
)
"""What a command submitted after :meth:`Batcher.close` fails with."""

FLUSH_DEPTH = 4
"""Flushes out at once. They share the lane's connection, whose replies come in order;
on redis-py's pipeline (a cluster) each takes connections of its own."""


class Batcher:
    """One batcher per client: ``submit`` queues a command and returns its reply's
    future; what is queued goes out once per loop pass, or at once when
    :data:`EAGER_FLUSH` commands wait."""

    def __init__(self, client: aioredis.Redis, max_batch: int = 512, *, name: str = "") -> None:
        self._client = client
        self._max_batch = max_batch
        self._queue: list[_Entry] = []
        self._scheduled = False
        """A flush of what is queued is due at the end of the loop's pass."""
        self._closed = False
        self._outage = Outage(f"pipeline {name}".strip())
        self._lane = Lane.of(client)
        self._replicas: tuple[int, int] | None = None
        self._short_of_replicas = False
        self._flushing: set[asyncio.Future[Any]] = set()
        """Flushes out: their tasks, or the replies' futures of those written at once."""
        # Flushes run in a context of their own: never in a submitter's (its span).
        self._context = contextvars.Context()

    def require_replicas(self, count: int, timeout_ms: int) -> None:
        """End every flush with ``WAIT count timeout_ms`` on each node it wrote to.

        ``WAIT`` counts the replicas that have the writes of *its own connection*: in the
        same pipeline it covers every command the flush sent to that node (a cluster
        pipeline keeps one connection per node), so one ``WAIT`` per node covers all.
        """
        self._replicas = (count, timeout_ms) if count > 0 else None

    def _add_wait(self, commands: list[tuple[Any, Any]]) -> int:
        """Append ``WAIT`` to a flush's commands when a durability setting asks for it;
        returns how many were appended (one per node written to)."""
        if self._replicas is None:
            return 0
        count, timeout_ms = self._replicas
        if not hasattr(self._client, "get_node_from_key"):
            commands.append((("WAIT", count, timeout_ms), {}))
            return 1
        nodes = {}
        for args, _ in commands:
            key = _first_key(args)
            if key is not None:
                node = self._client.get_node_from_key(key)
                nodes[node.name] = node
        for node in nodes.values():
            commands.append((("WAIT", count, timeout_ms), {"target_nodes": node}))
        return len(nodes)

    def _check_wait(self, reply: Any) -> None:
        assert self._replicas is not None
        count = self._replicas[0]
        short = isinstance(reply, Exception) or int(reply) < count
        if short and not self._short_of_replicas:
            log.warning(
                "durability: %s of %d replica(s) confirmed the last writes within %d ms "
                "(a replica is down or catching up); steps go on without that guarantee",
                reply if isinstance(reply, Exception) else int(reply),
                count,
                self._replicas[1],
            )
        elif not short and self._short_of_replicas:
            log.warning("durability: %d replica(s) confirm writes again", count)
        self._short_of_replicas = short

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called: nothing is sent any more."""
        return self._closed

    def _schedule(self) -> None:
        """Flush what is queued once the loop has run what is ready now (every task that
        submits in this pass joins the same flush)."""
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_soon(self._flush_scheduled, context=self._context)

    def _flush_scheduled(self) -> None:
        self._scheduled = False
        if not self._closed:  # a closed batcher's connection stays closed
            self._start_flushes()

    def submit(self, command: Command, *, patient: bool = True) -> asyncio.Future[Any]:
        """Queue ``command`` now; the future resolves with its reply (an exception reply
        raises).

        A patient command waits out a server outage and is sent again; an
        impatient one fails at once with :class:`~hotmesh_nb.errors.ConnectError`
        or :class:`~hotmesh_nb.errors.ServerFullError`. A plain method returning the
        future (every step submits): awaiting it is all a caller does.

        After :meth:`close` (its engine or worker was stopped) the future fails with
        :class:`~hotmesh_nb.errors.HotMeshError` at once: nothing is sent any more.
        """
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self._closed:
            future.set_exception(HotMeshError(STOPPED))
            return future
        self._queue.append(_Entry(command, future, patient))
        if len(self._queue) >= EAGER_FLUSH:
            self._start_flushes()
        self._schedule()
        return future

    def send(self, command: Command) -> None:
        """Queue ``command`` without waiting for it (acks, best-effort writes); dropped
        after :meth:`close` (an ack never sent leaves its message to a reclaimer)."""
        if self._closed:
            return
        self._queue.append(_Entry(command, None, True))
        self._schedule()

    def flush_queued(self) -> bool:
        """Start sending what is queued now, not when the loop's pass ends; True when
        some of it is left to a flush's task, which writes at the loop's next pass.

        A caller about to write on another connection (a blocking read) then yields
        once, so that the commands queued before it reach the server first.
        """
        if not self._queue:
            return False
        return not self._start_flushes()

    def _start_flushes(self) -> bool:
        """Send what is queued, as long as fewer than :data:`FLUSH_DEPTH` flushes are out;
        True when every flush started was written at once."""
        written = True
        while self._queue and len(self._flushing) < FLUSH_DEPTH:
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
            written = self._start_flush(batch) and written
        return written

    def _start_flush(self, batch: list[_Entry]) -> bool:
        """Write the batch now when the lane's connection is open, and settle it from a
        callback when its replies are in: no task, and no loop pass before the write.
        Anything else (no lane, no connection yet, a flush that must wait) runs in a
        task of its own (:meth:`_flush`). True when the batch was written (or failed) at
        once."""
        try:
            flush = _Flush(self._client, batch)
        except Exception as exc:  # a command function that cannot queue its command
            _fail(batch, exc)
            log.exception("a pipeline flush failed")
            return True
        if self._lane is not None and Lane.takes(flush.stack):
            commands = list(flush.stack)
            waited = self._add_wait(commands)
            try:
                written = self._lane.start(commands)
            except Exception:  # the socket refused the write: nothing went out
                written = None
            if written is not None:
                self._flushing.add(written)
                landed = functools.partial(self._landed, flush, commands, waited)
                written.add_done_callback(landed, context=self._context)
                return True
        self._continue(flush, None)
        return False

    def _landed(
        self,
        flush: _Flush,
        commands: list[tuple[Any, Any]],
        waited: int,
        written: asyncio.Future[list[Any]],
    ) -> None:
        """The replies of a flush written at once: settle its entries, or let a task go on
        with it when some of it must wait (an outage, a forgotten script, a full server)."""
        self._flushing.discard(written)
        assert self._lane is not None
        if written.cancelled():
            _fail(flush.batch, asyncio.CancelledError())
        else:
            try:
                answers = self._lane.decode(commands, written.result())
            except Exception as exc:  # the connection failed (or went silent)
                self._continue(flush, exc)
            else:
                self._take_waits(answers, waited)
                if any(_needs_another_pass(answer) for answer in answers):
                    self._continue(flush, answers)
                else:
                    self._outage.ok()
                    flush.settle(answers)
        if self._queue:
            self._schedule()

    def _continue(self, flush: _Flush, first: list[Any] | Exception | None) -> None:
        """Run (the rest of) ``flush`` in a task: ``first`` is the outcome of its first
        round trip when it was written already."""
        task = asyncio.get_running_loop().create_task(
            self._flush_batch(flush, first), context=self._context
        )
        self._flushing.add(task)
        task.add_done_callback(self._flushed)

    def _flushed(self, flush: asyncio.Task[None]) -> None:
        self._flushing.discard(flush)
        if self._queue:
            self._schedule()

    async def _flush_batch(self, flush: _Flush, first: list[Any] | Exception | None) -> None:
        """:meth:`_flush`, and whatever ends it early ends the batch's entries too: a
        submitter never waits for a flush that is gone."""
        try:
            await self._flush(flush, first)
        except BaseException as exc:
            _fail(flush.batch, exc)
            if isinstance(exc, Exception):
                log.exception("a pipeline flush failed")
            else:
                raise

    async def _flush(self, flush: _Flush, first: list[Any] | Exception | None) -> None:
        """Send the flush's commands until each has its reply, waiting out outages."""
        batch, stack, owners = flush.batch, flush.stack, flush.owners
        replies: list[Any] = [None] * len(stack)
        todo = list(range(len(stack)))
        reloads = 0
        while todo:
            try:
                if first is None:
                    answers = await self._round_trip([stack[i] for i in todo])
                else:
                    outcome, first = first, None
                    if isinstance(outcome, Exception):
                        raise outcome
                    answers = [await a if inspect.isawaitable(a) else a for a in outcome]
            except Exception as exc:
                if not is_transient(exc) or self._closed:
                    _settle(batch, owners, todo, exc)
                    return
                todo = await self._wait_out(exc, batch, owners, todo)
                continue
            self._outage.ok()
            for i, answer in zip(todo, answers):
                replies[i] = answer
            # EVALSHA of a forgotten script did not run: reload every script, send again
            # (a few times at most, in case the server keeps forgetting them).
            noscript = [i for i in todo if is_noscript(replies[i])]
            if noscript and reloads < 3 and not self._closed:
                reloads += 1
                try:
                    await load_all(self._client)
                except Exception as exc:
                    if not is_transient(exc):
                        _settle(batch, owners, noscript, exc)
                        noscript = []
            else:
                noscript = []
            # Commands the server refused for now (OOM, LOADING, READONLY…) wait.
            refused = [
                i
                for i in todo
                if isinstance(replies[i], Exception)
                and not is_noscript(replies[i])
                and is_transient(replies[i])
            ]
            if refused and not self._closed:
                refused = await self._wait_out(replies[refused[0]], batch, owners, refused)
            else:
                refused = []
            todo = sorted(noscript + refused)
        flush.settle(replies)

    async def _round_trip(self, commands: list[tuple[Any, Any]]) -> list[Any]:
        """Send ``commands`` (and the ``WAIT`` a durability setting asks for); their replies."""
        waited = self._add_wait(commands)
        answers = await self._send(commands)
        self._take_waits(answers, waited)
        return answers

    def _take_waits(self, answers: list[Any], waited: int) -> None:
        """Remove the replies of the ``WAIT`` s appended to a flush, checking each."""
        for _ in range(waited):
            self._check_wait(answers.pop())

    async def _send(self, commands: list[tuple[Any, Any]]) -> list[Any]:
        """Send ``(args, options)`` commands in one round trip; their replies (errors too)."""
        if self._lane is not None and Lane.takes(commands):
            return await self._lane.send(commands)
        sent = self._client.pipeline(transaction=False)
        for args, options in commands:
            sent.execute_command(*args, **options)
        replies: list[Any] = await sent.execute(raise_on_error=False)
        return replies

    async def _wait_out(
        self, exc: BaseException, batch: list[_Entry], owners: list[int], todo: list[int]
    ) -> list[int]:
        """Fail the impatient commands in ``todo``, sleep the backoff; the rest to retry."""
        impatient = [i for i in todo if not batch[owners[i]].patient]
        if impatient:
            _settle(batch, owners, impatient, explain(exc))
        delay = self._outage.failed(exc)
        await asyncio.sleep(delay)
        return [i for i in todo if batch[owners[i]].patient]

    async def drain(self) -> None:
        """Flush whatever is queued, and wait for every flush (used before stopping)."""
        while self._queue or self._flushing:
            self._start_flushes()
            if self._flushing:  # none when every flush started failed at once
                await asyncio.wait(list(self._flushing))

    async def close(self) -> None:
        """Flush what is queued, wait for every flush, then close the lane."""
        self._closed = True
        await self.drain()
        if self._lane is not None:
            await self._lane.close()


class _Entry:
    """One submitted command function and who waits for its reply."""

    __slots__ = ("command", "first", "future", "patient")

    def __init__(self, command: Command, future: asyncio.Future[Any] | None, patient: bool):
        self.command = command
        self.future = future
        self.patient = patient
        self.first: int | None = None


class _Flush:
    """A batch as the commands it sends: ``stack[i]`` is ``(args, options)``, queued by
    the command function of entry ``owners[i]``; an entry's reply is that of its first
    command (:attr:`_Entry.first`)."""

    __slots__ = ("batch", "owners", "stack")

    def __init__(self, client: Any, batch: list[_Entry]) -> None:
        pipe = client.pipeline(transaction=False)
        # A command function may queue zero or several commands.
        owners: list[int] = []
        for n, entry in enumerate(batch):
            before = len(pipe.command_stack)
            entry.command(pipe)
            entry.first = before if len(pipe.command_stack) > before else None
            owners += [n] * (len(pipe.command_stack) - before)
        self.batch = batch
        self.owners = owners
        self.stack: list[tuple[Any, Any]] = list(pipe.command_stack)

    def settle(self, replies: list[Any]) -> None:
        """Give each waiting entry its reply (``replies[i]`` answers ``stack[i]``)."""
        for entry in self.batch:
            if entry.future is not None and not entry.future.done():
                reply = None if entry.first is None else replies[entry.first]
                if isinstance(reply, Exception):
                    entry.future.set_exception(reply)
                else:
                    entry.future.set_result(reply)


def _needs_another_pass(reply: Any) -> bool:
    """A reply the batcher does not hand out as it is: a forgotten script, a refusal for
    now (OOM, LOADING…), or an awaitable from a reply callback."""
    if isinstance(reply, Exception):
        return is_noscript(reply) or is_transient(reply)
    return inspect.isawaitable(reply)


def _fail(batch: list[_Entry], exc: BaseException) -> None:
    """End every entry of ``batch`` still waiting with ``exc`` (cancelled for a
    cancellation)."""
    for entry in batch:
        if entry.future is None or entry.future.done():
            continue
        if isinstance(exc, asyncio.CancelledError):
            entry.future.cancel()
        else:
            entry.future.set_exception(exc)


def _settle(batch: list[_Entry], owners: list[int], which: list[int], exc: BaseException) -> None:
    """Fail the entries owning the commands ``which`` with ``exc``."""
    for n in {owners[i] for i in which}:
        future = batch[n].future
        if future is not None and not future.done():
            future.set_exception(exc)


def _first_key(args: tuple[Any, ...]) -> str | None:
    """The first key a command names (scripts: their first ``KEYS``), for routing."""
    if not args:
        return None
    name = str(args[0]).upper()
    if name in ("EVALSHA", "EVAL", "FCALL"):
        return str(args[3]) if len(args) > 3 and int(args[2]) > 0 else None
    return str(args[1]) if len(args) > 1 else None
