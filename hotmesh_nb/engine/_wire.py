"""The batcher's own connection to a single server: one write and one wake-up per flush.

redis-py reads each reply of a pipeline through its stream reader, under a fresh
timeout context per reply: ~40 µs of bookkeeping per flush and more per reply. A
:class:`Lane` instead writes a flush's commands packed by hiredis in one write and
parses every reply in the connection's ``data_received`` callback, with hiredis too;
the flush's future resolves once, when the last reply is in.

The connection is made and greeted by the client's own connection class (TLS, ACL
users, ``SELECT``, unix sockets and the client name work as for every other
command); the lane then takes its transport over. Replies come back as
``parse_response`` makes them: the same error classes (so outages and refusals are
recognised) and the client's reply callbacks.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import inspect
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis
from redis import exceptions as redis_errors
from redis.client import EMPTY_RESPONSE as _EMPTY_RESPONSE
from redis.client import NEVER_DECODE as _NEVER_DECODE

from ..acl import is_refusal, refusal
from ..connection import lost_under_write

_hiredis: Any
try:  # a dependency (redis[hiredis]); without it the batcher uses redis-py's pipeline
    import hiredis as _hiredis
except ImportError:  # pragma: no cover - depends on the environment
    _hiredis = None


class Lane:
    """Pipelined round trips on one connection of the client's pool, kept for the lane.

    Several flushes may be out at once on the connection: the server answers them in
    the order they were written. A connection that fails midway (closed, or silent
    beyond the client's socket timeout) is dropped with the replies nobody will read:
    every flush out on it fails, and the next one connects again.
    """

    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client
        self._pool: aioredis.ConnectionPool = client.connection_pool
        kwargs = self._pool.connection_kwargs
        self._user = kwargs.get("username")
        self._timeout: float | None = kwargs.get("socket_timeout")
        self._wire: _Wire | None = None
        self._opening: asyncio.Future[_Wire] | None = None

    @staticmethod
    def of(client: Any) -> Lane | None:
        """A lane for a single-server RESP2 client, None for any other (a cluster client)."""
        if _hiredis is None or not isinstance(client, aioredis.Redis):
            return None
        pool = getattr(client, "connection_pool", None)
        if not isinstance(pool, aioredis.ConnectionPool):
            return None
        # RESP3 may interleave push messages with replies: redis-py's reader sorts them.
        if str(pool.connection_kwargs.get("protocol") or 2) != "2":
            return None
        return Lane(client)

    @staticmethod
    def takes(commands: list[tuple[Any, Any]]) -> bool:
        """False for a flush with a command whose reply must stay bytes (redis-py's pipeline
        decodes per command; the lane's reader decodes every reply alike)."""
        return not any(_NEVER_DECODE in options for _, options in commands)

    def start(self, commands: list[tuple[Any, Any]]) -> asyncio.Future[list[Any]] | None:
        """Write every command now on the open connection; the future resolves with their
        raw replies (:meth:`decode` them). None when no connection is open: :meth:`send`
        makes one. A write the socket refuses raises (nothing was sent)."""
        wire = self._wire
        if wire is None or wire.closed:
            return None
        return wire.start(_packed(commands), len(commands), self._timeout)

    async def send(self, commands: list[tuple[Any, Any]]) -> list[Any]:
        """Write every command at once, then return each reply (an error reply is returned)."""
        wire = self._wire
        if wire is None or wire.closed:
            wire = await self._connect()
        raw = await wire.round_trip(_packed(commands), len(commands), self._timeout)
        replies = self.decode(commands, raw)
        for n, reply in enumerate(replies):
            if inspect.isawaitable(reply):
                replies[n] = await reply
        return replies

    def decode(self, commands: list[tuple[Any, Any]], raw: list[Any]) -> list[Any]:
        """The replies as redis-py's client returns them: its reply callbacks applied, an
        error reply returned (a refusal explained). A callback may return an awaitable
        (redis-py allows it; none of the commands the engine sends does): :meth:`send`
        awaits it, a caller of :meth:`start` must."""
        callbacks = self._client.response_callbacks
        replies: list[Any] = []
        for (args, options), reply in zip(commands, raw):
            if isinstance(reply, redis_errors.ResponseError):
                if _EMPTY_RESPONSE in options:
                    replies.append(options[_EMPTY_RESPONSE])
                elif is_refusal(reply):
                    replies.append(refusal(reply, args, self._user))
                else:
                    replies.append(reply)
                continue
            callback = callbacks.get(args[0])
            if callback is not None:
                extra = {k: v for k, v in options.items() if k not in ("keys", _EMPTY_RESPONSE)}
                reply = callback(reply, **extra)
            replies.append(reply)
        return replies

    async def _connect(self) -> _Wire:
        """The lane's connection, made again; flushes that find it closed at once share
        one new connection (each would otherwise leave the one before it orphaned)."""
        opening = self._opening
        if opening is None:
            opening = self._opening = asyncio.ensure_future(_Wire.open(self._pool))
            opening.add_done_callback(self._opened)
        return await asyncio.shield(opening)

    def _opened(self, opening: asyncio.Future[_Wire]) -> None:
        self._opening = None
        if not opening.cancelled() and opening.exception() is None:
            self._wire = opening.result()

    async def close(self, *, at_once: bool = False) -> None:
        """Close the lane's connection, and the one being made, once it is made.

        ``at_once`` drops it without a goodbye (no TLS ``close_notify``, unsent bytes
        lost): the socket is closed at the loop's next pass, which matters to a loop
        about to close itself.
        """
        wire, self._wire = self._wire, None
        if wire is not None:
            wire.close(at_once=at_once)
        if self._opening is not None:
            # Its caller gave up (shielded, it goes on): left alone, it would become the
            # lane's connection after the lane closed, a socket nobody ever closes.
            self._opening.add_done_callback(_close_opened)


def _close_opened(opening: asyncio.Future[_Wire]) -> None:
    if not opening.cancelled() and opening.exception() is None:
        opening.result().close()


def _packed(commands: list[tuple[Any, Any]]) -> bytes:
    return b"".join([_pack(args) for args, _ in commands])


def _pack(args: tuple[Any, ...]) -> bytes:
    name = args[0]
    if isinstance(name, str) and " " in name:  # redis-py names some commands "CLIENT KILL"
        args = (*name.split(), *args[1:])
    try:
        return _hiredis.pack_command(args)  # type: ignore[no-any-return]
    except TypeError:  # an argument hiredis does not pack: redis-py's packer says what
        return b"".join(aioredis.Connection().pack_command(*args))


class _Wire(asyncio.Protocol):
    """The protocol on the lane's transport: replies are parsed as they arrive."""

    def __init__(self, transport: asyncio.Transport, reader: Any, streams: Any = None) -> None:
        self._transport = transport
        # redis-py's stream pair for the socket: a stream writer closes its transport
        # when collected, so it lives as long as the wire.
        self._streams = streams
        self._reader = reader
        self._pending: collections.deque[_RoundTrip] = collections.deque()
        """Round trips written and not yet answered, oldest first (replies come in order)."""
        self.closed = False

    @classmethod
    async def open(cls, pool: aioredis.ConnectionPool) -> _Wire:
        """Connect and greet through the pool's connection class, then take the socket."""
        conn: Any = await pool.get_connection()  # type: ignore[no-untyped-call]
        wire = None
        try:
            reader_stream, writer = conn._reader, conn._writer
            if reader_stream is None or writer is None or len(reader_stream._buffer):
                raise redis_errors.ConnectionError("the lane's connection is not ready")
            kwargs: dict[str, Any] = {
                "protocolError": redis_errors.InvalidResponse,
                "replyError": _reply_error(conn),
            }
            encoder = conn.encoder
            if encoder.decode_responses:
                kwargs["encoding"] = encoder.encoding
                kwargs["errors"] = encoder.encoding_errors
            transport = writer.transport
            wire = cls(transport, _hiredis.Reader(**kwargs), (reader_stream, writer))
            transport.set_protocol(wire)
            # The socket is the lane's now: the pool keeps a disconnected slot, which
            # connects again if the pool ever hands it out.
            conn._reader = conn._writer = None
        finally:
            try:
                await pool.release(conn)
            except BaseException:
                # Cancelled here (a shutdown cancels every task), the socket is the wire's
                # already, and nobody would get the wire to close it.
                if wire is not None:
                    wire.close()
                raise
        return wire

    def start(self, packed: bytes, count: int, timeout: float | None) -> asyncio.Future[list[Any]]:
        """Write ``packed`` (``count`` commands); the future resolves with their ``count``
        replies, or fails with the connection (closed, or silent for ``timeout`` seconds).

        Several round trips may be in flight: the server answers them in the order
        they were written.
        """
        if self.closed:
            raise redis_errors.ConnectionError("Connection closed by server.")
        loop = asyncio.get_running_loop()
        done: asyncio.Future[list[Any]] = loop.create_future()
        try:
            self._transport.write(packed)
        except RuntimeError as exc:  # uvloop: the socket closed before we heard of it
            lost = lost_under_write(exc)
            if lost is None:
                raise
            self.close()
            raise lost from None
        timer = None if timeout is None else loop.call_later(timeout, self._expire, done)
        self._pending.append(_RoundTrip(done, count, timer))
        return done

    async def round_trip(self, packed: bytes, count: int, timeout: float | None) -> list[Any]:
        """:meth:`start`, awaited."""
        done = self.start(packed, count, timeout)
        try:
            return await done
        finally:
            if not done.done() or done.cancelled():
                # Cancelled midway: the replies still due would answer the next flush.
                self.close()

    def data_received(self, data: bytes) -> None:
        reader = self._reader
        reader.feed(data)
        pending = self._pending
        try:
            while (reply := reader.gets()) is not False:
                if not pending:
                    self._fail(redis_errors.InvalidResponse("a reply nobody asked for"))
                    return
                trip = pending[0]
                trip.replies.append(reply)
                if len(trip.replies) == trip.count:
                    pending.popleft()
                    if trip.timer is not None:
                        trip.timer.cancel()
                    if not trip.done.done():
                        trip.done.set_result(trip.replies)
        except redis_errors.InvalidResponse as exc:
            self._fail(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._settle(redis_errors.ConnectionError(f"Connection closed by server. {exc or ''}"))

    def eof_received(self) -> bool | None:
        return None  # close the transport (connection_lost follows)

    def _expire(self, done: asyncio.Future[list[Any]]) -> None:
        if not done.done():
            self._fail(redis_errors.TimeoutError("Timeout reading from the server"))

    def _fail(self, exc: Exception) -> None:
        self._settle(exc)
        self.close()

    def _settle(self, exc: Exception) -> None:
        pending, self._pending = self._pending, collections.deque()
        for trip in pending:
            if trip.timer is not None:
                trip.timer.cancel()
            if not trip.done.done():
                trip.done.set_exception(exc)

    def close(self, *, at_once: bool = False) -> None:
        """Drop the connection (replies still due are never read); ``at_once``: abort it."""
        self.closed = True
        with contextlib.suppress(Exception):
            if at_once:
                self._transport.abort()
            else:
                self._transport.close()


class _RoundTrip:
    """One write's future, its timeout and the replies it has received so far."""

    __slots__ = ("count", "done", "replies", "timer")

    def __init__(
        self, done: asyncio.Future[list[Any]], count: int, timer: asyncio.TimerHandle | None
    ) -> None:
        self.done = done
        self.count = count
        self.timer = timer
        self.replies: list[Any] = []


def _reply_error(conn: Any) -> Callable[[str], Exception]:
    """redis-py's mapping of an error reply to its exception class (NOSCRIPT, OOM, …)."""
    parse = getattr(getattr(conn, "_parser", None), "parse_error", None)
    return parse if callable(parse) else redis_errors.ResponseError
