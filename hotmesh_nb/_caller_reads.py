"""Reads sent from the caller's own event loop, for answers that need no engine.

An ``*_async`` call awaited on another loop (a notebook cell, a FastAPI handler)
crosses to the runtime thread and back: two thread wake-ups, which on a local
server take longer than the read itself. A read that settles a call alone (a
cached MeshCall answer) is sent from the caller's loop instead, over a connection
of that loop. Reads queued in one pass of the loop share one round trip, as the
engine's own reads do.

Each loop gets one :class:`CallerReads` per server URL, made on first use; its
connection is named :data:`CLIENT_NAME` in ``CLIENT LIST``. It is closed when its
loop finishes (``asyncio.run`` finalizes asynchronous generators, and one of ours
holds it) or by ``hotmesh_nb.shutdown()``. A read that fails closes it and keeps
that loop off this path for :data:`COOL_OFF` seconds: meanwhile the runtime's
route, which rides out outages, serves every call.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncGenerator
from typing import Any

import redis.asyncio as aioredis

from .connection import COMMAND_TIMEOUT, Connection
from .engine._wire import Lane
from .runtime import get_runtime, on_close

CLIENT_NAME = "hotmesh-nb-caller"
"""The name of these connections on the server (``CLIENT LIST``)."""

COOL_OFF = 5.0
"""Seconds a loop whose read failed stays on the runtime's route (which handles outages)."""

_Key = tuple[asyncio.AbstractEventLoop, str]
_Command = tuple[tuple[Any, ...], dict[str, Any]]


class CallerReads:
    """One loop's reads of one server, each pass's reads in one round trip."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client
        # A single server's connection is written directly; a cluster's goes through
        # redis-py's pipeline, which routes each key to its node.
        self._lane = Lane.of(client)
        self._queue: list[tuple[_Command, asyncio.Future[Any]]] = []
        self._sending: set[asyncio.Future[None]] = set()
        self._keeper: AsyncGenerator[None, None] | None = None
        self._closed = False

    def hmget(self, key: str, fields: tuple[str, ...]) -> asyncio.Future[list[Any]]:
        """``HMGET key fields``, sent with the other reads of this pass of the loop."""
        future = asyncio.get_running_loop().create_future()
        if self._closed:
            future.set_exception(ConnectionError("these reads were closed"))
            return future
        if not self._queue:
            future.get_loop().call_soon(self._flush)
        self._queue.append(((("HMGET", key, *fields), {}), future))
        return future

    def _flush(self) -> None:
        batch, self._queue = self._queue, []
        if not batch:  # closed since this flush was scheduled
            return
        commands = [command for command, _ in batch]
        lane = self._lane
        if lane is not None:
            try:
                started = lane.start(commands)
            except Exception as exc:  # the socket refused the write: nothing was sent
                _settle(batch, exc)
                return
            if started is not None:
                started.add_done_callback(lambda done: _landed(lane, batch, done))
                return
        task = asyncio.ensure_future(self._send(batch, commands))
        self._sending.add(task)  # held until done: the loop keeps only a weak reference
        task.add_done_callback(self._sending.discard)

    async def _send(
        self, batch: list[tuple[_Command, asyncio.Future[Any]]], commands: list[_Command]
    ) -> None:
        try:
            if self._lane is not None:
                replies: list[Any] = await self._lane.send(commands)
            else:
                pipe = self._client.pipeline(transaction=False)
                for args, _ in commands:
                    pipe.execute_command(*args)
                replies = await pipe.execute(raise_on_error=False)
        except Exception as exc:
            _settle(batch, exc)
        else:
            _settle(batch, replies)

    async def aclose(self) -> None:
        """Close the connection (reads still queued fail, later ones too)."""
        self._closed = True
        _settle(self._queue, ConnectionError("these reads were closed"))
        self._queue = []
        if self._lane is not None:
            # Its loop may be ending (``asyncio.run``): the socket must close now, before
            # the loop does, not after a TLS goodbye that needs more passes of it.
            await self._lane.close(at_once=True)
            await asyncio.sleep(0)
        await self._client.aclose()


def _landed(lane: Lane, batch: list[tuple[_Command, asyncio.Future[Any]]], done: Any) -> None:
    """Settle ``batch`` from the replies (or the failure) of the write that carried it."""
    if done.cancelled():
        _settle(batch, asyncio.CancelledError())
    elif done.exception() is not None:
        _settle(batch, done.exception())
    else:
        _settle(batch, lane.decode([command for command, _ in batch], done.result()))


def _settle(batch: list[tuple[_Command, asyncio.Future[Any]]], outcome: Any) -> None:
    """Each future of ``batch`` gets its reply (an error reply raises), or ``outcome``
    raised when it is one error for all."""
    for n, (_, future) in enumerate(batch):
        if future.done():
            continue
        reply = outcome if isinstance(outcome, BaseException) else outcome[n]
        if isinstance(reply, BaseException):
            future.set_exception(reply)
        else:
            future.set_result(reply)


_held: dict[_Key, CallerReads] = {}
_cooling: dict[_Key, float] = {}
_lock = threading.Lock()


async def reads_for(connection: Connection) -> CallerReads | None:
    """The running loop's reads of ``connection``'s server, or None: on the runtime's own
    loop (its engine's batcher is there) and while the loop cools off after a failure."""
    loop = asyncio.get_running_loop()
    if loop is get_runtime().loop:
        return None
    key = (loop, connection.url)
    reads = _held.get(key)
    if reads is not None:
        return reads
    until = _cooling.get(key)
    if until is not None:
        if time.monotonic() < until:
            return None
        del _cooling[key]
    reads = CallerReads(
        connection.new_client(
            socket_timeout=COMMAND_TIMEOUT, max_connections=8, client_name=CLIENT_NAME
        )
    )
    with _lock:
        # A loop closed without finalizing its generators left its entry behind.
        for stale in [k for k in _held if k[0].is_closed()]:
            del _held[stale]
        for stale in [k for k in _cooling if k[0].is_closed()]:
            del _cooling[stale]
        _held[key] = reads
    reads._keeper = _keep(key, reads)
    # The loop now tracks the generator: ``shutdown_asyncgens`` (the end of
    # ``asyncio.run``) closes it, and it closes the reads.
    await reads._keeper.__anext__()
    return reads


async def failed(connection: Connection) -> None:
    """Close the running loop's reads after a failure and cool the loop off."""
    key = (asyncio.get_running_loop(), connection.url)
    _cooling[key] = time.monotonic() + COOL_OFF
    with _lock:
        reads = _held.pop(key, None)
    if reads is not None:
        await reads.aclose()


async def _keep(key: _Key, reads: CallerReads) -> AsyncGenerator[None, None]:
    try:
        yield
    finally:
        with _lock:
            if _held.get(key) is reads:  # not a newer one made after a failure
                del _held[key]
        await reads.aclose()


async def _close_all() -> None:
    """At shutdown: close every loop's reads on that loop (without waiting for it)."""
    with _lock:
        held = list(_held.items())
        _held.clear()
        _cooling.clear()
    for (loop, _), reads in held:
        try:
            asyncio.run_coroutine_threadsafe(_close(reads), loop)
        except RuntimeError:  # that loop is closed
            pass


async def _close(reads: CallerReads) -> None:
    if reads._keeper is not None:
        await reads._keeper.aclose()  # its ``finally`` closes the reads
    else:
        await reads.aclose()


on_close(_close_all)
