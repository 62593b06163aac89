"""Connections to a Redis-compatible server.

:func:`connect` resolves the URL in this order: the explicit ``url`` →
``HOTMESH_REDIS_URL`` → ``REDIS_URL`` → the embedded server (started on
demand). ``redis://``, ``rediss://`` (TLS) and ``unix://`` URLs work, with
passwords and ACL users (``redis://user:secret@host:6379/0``).

A URL naming any node of a Redis or Valkey Cluster is recognised at connect time
(``cluster_enabled:1`` in ``INFO cluster``) and gives cluster-aware clients
(redis-py's :class:`~redis.asyncio.cluster.RedisCluster`): commands go to the node
owning their key's slot, ``MOVED``/``ASK`` redirections and failovers are followed,
and keyless commands that concern every node (``SCRIPT LOAD``, ``SCAN``) reach every
primary. Classic pub/sub (the quorum, ``publishes`` topics) is broadcast over the cluster
bus, so those subscriptions use one connection to any live node and move to another when
that node fails; job completions use shard channels, one per partition, which
``engine/_waiters.py`` reads on the node owning each. On one node
nothing of this runs: the clients are the plain ones, as fast as before.

A :class:`Connection` is cheap to share: its clients live on the runtime loop
and are created once per process and URL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import re
import threading
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any, cast
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from redis import exceptions as redis_errors
from redis.asyncio.client import Pipeline
from redis.asyncio.cluster import ClusterPipeline, RedisCluster
from redis.asyncio.connection import Connection as _RedisConnection
from redis.asyncio.connection import SSLConnection
from redis.connection import parse_url
from redis.crc import key_slot
from redis.exceptions import RedisClusterException

from .acl import is_refusal, refusal
from .errors import ConnectError
from .runtime import blocking, get_runtime, on_close, on_runtime

CONNECT_TIMEOUT = 3.0
"""Seconds to wait for a server before failing with a clear message."""

COMMAND_TIMEOUT = 30.0
"""Seconds a reply may take before its connection is presumed dead. It stays above every
blocking read of the command client (see :func:`read_timeout`): redis-py's default of 5 s
equals the default 5 s stream read, so replies were cut off and connections dropped."""

READ_MARGIN = 5.0
"""Seconds a blocking read's socket waits beyond the read's own blocking time."""

log = logging.getLogger(__name__)


def read_timeout(block_ms: int) -> float:
    """The socket timeout a blocking read of ``block_ms`` needs (never the read's own time)."""
    return block_ms / 1000 + READ_MARGIN


def resolve_url(url: str | None = None) -> str:
    """The URL :func:`connect` would use (may start the embedded server)."""
    for candidate in (url, os.environ.get("HOTMESH_REDIS_URL"), os.environ.get("REDIS_URL")):
        if candidate:
            return candidate
    from . import server  # the embedded server: loaded only when no URL is given

    return server.url()


_SECRET_PARAMS = re.compile(r"(?i)(^|[&;])((?:password|username|user|pass)=)[^&;#]*")


def mask_url(url: str) -> str:
    """``url`` with every credential replaced by ``***`` (safe for messages, reprs and logs).

    Masks the password of ``user:password@``, a user-only ``secret@`` (some
    servers take a bare password there), and ``password=`` / ``username=``
    query parameters (``unix:///run/redis.sock?password=…``). The rest — an
    IPv6 host's brackets, the port, the path — is kept as written.
    """
    try:
        parts = urlsplit(url)
    except ValueError:  # not a URL we can take apart (a bad IPv6 literal): mask coarsely
        return _SECRET_PARAMS.sub(r"\1\2***", re.sub(r"://[^/?#]*@", "://***@", url))
    netloc = parts.netloc
    userinfo, at, hostport = netloc.rpartition("@")
    if at:
        user, colon, _password = userinfo.partition(":")
        netloc = f"{user}:***@{hostport}" if colon else f"***@{hostport}"
    query = _SECRET_PARAMS.sub(r"\1\2***", parts.query)
    if netloc == parts.netloc and query == parts.query:
        return url
    # Rebuilt by hand: urlunsplit drops the empty host of unix:///path.
    text = f"{parts.scheme}://{netloc}{parts.path}" if parts.scheme else f"//{netloc}{parts.path}"
    if query:
        text += f"?{query}"
    if parts.fragment:
        text += f"#{parts.fragment}"
    return text


def _user(client: Any) -> str | None:
    user = client.connection_pool.connection_kwargs.get("username")
    return None if user is None else str(user)


def _refusals(stack: list[Any], user: str | None, replies: list[Any]) -> list[Any]:
    """Pipelined replies, with each ACL refusal turned into a clear error."""
    return [
        refusal(reply, stack[i] if i < len(stack) else (), user)
        if isinstance(reply, Exception) and is_refusal(reply)
        else reply
        for i, reply in enumerate(replies)
    ]


def _pipeline_refusal(exc: redis_errors.ResponseError, stack: list[Any], user: str | None) -> Any:
    # redis-py's message names the failed command by its position (from 1).
    position = str(exc).split("Command # ", 1)[-1].split(" ", 1)[0]
    index = int(position) - 1 if position.isdigit() else 0
    args = stack[index] if 0 <= index < len(stack) else ()
    return refusal(exc, args, user)


class _Pipeline(Pipeline):
    """A pipeline whose ACL refusals are :class:`~hotmesh_nb.errors.PermissionDeniedError`."""

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        stack = [command[0] for command in self.command_stack]
        try:
            replies = await super().execute(raise_on_error)
        except redis_errors.ResponseError as exc:
            if not is_refusal(exc):
                raise
            raise _pipeline_refusal(exc, stack, _user(self)) from None
        return _refusals(stack, _user(self), replies)


class _Client(aioredis.Redis):
    """redis-py's client, with ACL refusals explained (named user, command, namespace)."""

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        try:
            # redis-py leaves execute_command unannotated.
            return await super().execute_command(*args, **options)  # type: ignore[no-untyped-call]
        except redis_errors.ResponseError as exc:
            if is_refusal(exc):
                raise refusal(exc, args, _user(self)) from None
            raise

    def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> _Pipeline:
        return _Pipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)


# -- Redis Cluster ------------------------------------------------------------------------


def _closed_under_us(exc: AttributeError) -> redis_errors.ConnectionError:
    """redis-py's cluster client closes every connection when it refreshes the topology
    after a node failed; a command on one of them at that moment dies with an
    ``AttributeError`` on the vanished socket (``None``). It is a connection error: the
    batcher and the consumers wait it out and send again."""
    return redis_errors.ConnectionError(
        f"the connection was closed while in use, during a cluster topology refresh ({exc})"
    )


class _StackView:
    """A cluster pipeline's queued commands as ``(args, options)`` pairs, like
    :attr:`redis.asyncio.client.Pipeline.command_stack` (the batcher reads either)."""

    __slots__ = ("_queue",)

    def __init__(self, queue: list[Any]) -> None:
        self._queue = queue

    def __len__(self) -> int:
        return len(self._queue)

    def __iter__(self) -> Iterator[tuple[tuple[Any, ...], dict[str, Any]]]:
        return ((command.args, command.kwargs) for command in self._queue)

    def __getitem__(self, index: int) -> tuple[tuple[Any, ...], dict[str, Any]]:
        command = self._queue[index]
        return command.args, command.kwargs


class _ClusterPipeline(ClusterPipeline):
    """redis-py's cluster pipeline, with the single-node pipeline's ``command_stack`` and
    ACL refusals explained.

    Not transactional unless asked (``transaction=True``, all keys in one slot): like a
    single node's ``transaction=False`` pipeline, each command runs on its own, in order
    per node. Every atomic step of hotmesh_nb is one Lua script, never a pipeline.
    """

    @property
    def command_stack(self) -> _StackView:
        """The queued commands, as ``(args, options)`` pairs."""
        return _StackView(self._execution_strategy._command_queue)  # type: ignore[attr-defined]

    async def execute(self, raise_on_error: bool = True, allow_redirections: bool = True) -> Any:
        stack = [args for args, _ in self.command_stack]
        user = _user(self.cluster_client)
        try:
            replies = await super().execute(raise_on_error, allow_redirections)
        except redis_errors.ResponseError as exc:
            if not is_refusal(exc):
                raise
            raise _pipeline_refusal(exc, stack, user) from None
        except AttributeError as exc:
            if "NoneType" not in str(exc):
                raise
            raise _closed_under_us(exc) from exc
        return _refusals(stack, user, replies)


# redis-py refuses these in a cluster pipeline because they *may* span slots or nodes;
# hotmesh_nb sends them with keys (or a channel) of one app's slot only, which the
# pipeline routes like any keyed command (a script's keys are checked to share a slot).
_PIPELINE_ALLOWED = ("evalsha", "eval", "publish", "sinter", "sunion", "sdiff", "mget")
for _name in _PIPELINE_ALLOWED:
    setattr(_ClusterPipeline, _name, getattr(aioredis.Redis, _name))


_CLOSED_TRANSPORT = "handler is closed"
"""uvloop's complaint at a write to a socket it already closed."""


def lost_under_write(exc: RuntimeError) -> redis_errors.ConnectionError | None:
    """The lost connection that uvloop's ``exc`` at a write means (None: another error).

    asyncio's loop drops a write to a socket it closed, and the next read fails with
    redis-py's ``ConnectionError``; uvloop raises ``RuntimeError`` at the write instead.
    """
    if _CLOSED_TRANSPORT not in str(exc):
        return None
    return redis_errors.ConnectionError(
        f"the connection was lost before the command was sent ({exc})"
    )


class _WriteGuard:
    """A write on a socket the event loop already closed is a lost connection.

    uvloop (the runtime's loop when installed) raises ``RuntimeError`` at such a write
    (see :func:`lost_under_write`), and redis-py lets it through: the batcher, the
    consumers, pub/sub and redis-py's own cluster client then took a lost connection
    for a failed command. Every connection class of our clients carries this guard.
    """

    async def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        try:
            await super().send_packed_command(command, check_health)  # type: ignore[misc]
        except RuntimeError as exc:
            lost = lost_under_write(exc)
            if lost is None:
                raise
            raise lost from None


_GUARDED: dict[type, type] = {}


def guarded(connection_class: type) -> type:
    """``connection_class`` with :class:`_WriteGuard` (one subclass per class, made once)."""
    if issubclass(connection_class, _WriteGuard):
        return connection_class
    made = _GUARDED.get(connection_class)
    if made is None:
        made = _GUARDED[connection_class] = type(
            connection_class.__name__, (_WriteGuard, connection_class), {}
        )
    return made


class _RovingMixin:
    """A connection that, each time it (re)connects, goes to the next node of a cluster.

    Classic ``PUBLISH`` reaches every node of a cluster, so a subscriber may listen on
    any of them; this keeps a pub/sub connection alive through a node's failure (the
    reconnect lands on another node, and redis-py subscribes again there).
    """

    host: str
    port: int

    def __init__(self, *, roster: Callable[[], list[tuple[str, int]]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._roster = roster
        self._turn = random.randrange(1 << 16)

    async def _connect(self) -> None:
        nodes = self._roster()
        if nodes:
            self._turn += 1
            self.host, self.port = nodes[self._turn % len(nodes)]
        await super()._connect()  # type: ignore[misc]


class _RovingConnection(_WriteGuard, _RovingMixin, _RedisConnection):
    """A plain TCP connection to the next node of a cluster."""


class _RovingSSLConnection(_WriteGuard, _RovingMixin, SSLConnection):
    """A TLS connection to the next node of a cluster."""


class _ClusterClient(RedisCluster):
    """redis-py's cluster client, with ACL refusals explained and pub/sub that outlives
    a node."""

    _pubsub_client: aioredis.Redis | None = None
    _url: str = ""
    _options: dict[str, Any] | None = None

    @classmethod
    def for_url(cls, url: str, **options: Any) -> _ClusterClient:
        """A client of the cluster that ``url`` names a node of."""
        client = cast(_ClusterClient, cls.from_url(url, **options))
        client._url = url
        client._options = options
        # redis-py fixes the nodes' connection class; it makes their connections lazily.
        nodes = client.nodes_manager
        kwargs = nodes.connection_kwargs
        kwargs["connection_class"] = guarded(kwargs.get("connection_class", _RedisConnection))
        for node in nodes.startup_nodes.values():
            node.connection_class = guarded(node.connection_class)
        return client

    @property
    def connection_pool(self) -> SimpleNamespace:
        """The connection options, where code written for one node looks for them."""
        return SimpleNamespace(connection_kwargs=self.get_connection_kwargs())

    async def execute_command(self, *args: Any, **options: Any) -> Any:
        try:
            return await super().execute_command(*args, **options)
        except redis_errors.ResponseError as exc:
            if is_refusal(exc):
                raise refusal(exc, args, _user(self)) from None
            raise
        except AttributeError as exc:
            if "NoneType" not in str(exc):
                raise
            raise _closed_under_us(exc) from exc

    async def _determine_slot(self, command: str, *args: Any) -> int:
        """The slot of a command; the streams of ``XREADGROUP``/``XREAD`` read here.

        redis-py asks a server (``COMMAND GETKEYS``, a round trip, always to the same
        node) for the keys of commands whose keys move in their arguments: twice per
        worker read, and all on one primary.
        """
        name = command.decode() if isinstance(command, bytes) else str(command)
        if name.upper() in ("XREADGROUP", "XREAD"):
            words = [a.decode() if isinstance(a, bytes) else str(a) for a in args]
            upper = [w.upper() for w in words]
            if "STREAMS" in upper:
                rest = args[upper.index("STREAMS") + 1 :]
                slots = {self.keyslot(key) for key in rest[: len(rest) // 2]}
                if len(slots) == 1:
                    return slots.pop()
        return await super()._determine_slot(command, *args)

    def pipeline(self, transaction: Any = None, shard_hint: Any = None) -> _ClusterPipeline:
        if shard_hint:
            raise ValueError("shard_hint has no meaning on a cluster")
        return _ClusterPipeline(self, transaction)  # type: ignore[abstract]  # redis-py's stubs

    def _roster(self) -> list[tuple[str, int]]:
        return [(node.host, int(node.port)) for node in self.get_nodes()]

    def pubsub(self, node: Any = None, host: Any = None, port: Any = None, **kwargs: Any) -> Any:
        """A classic (broadcast) pub/sub on one live node, moving on when it fails (the
        node is chosen per connection: ``node``, ``host`` and ``port`` are ignored)."""
        if self._pubsub_client is None:
            options = dict(parse_url(self._url))  # type: ignore[no-untyped-call]
            ssl = options.pop("connection_class", None) is SSLConnection
            options.update(self._options or {})
            options.pop("max_connections", None)
            pool = aioredis.ConnectionPool(
                connection_class=_RovingSSLConnection if ssl else _RovingConnection,
                roster=self._roster,
                **options,
            )
            # from_pool: closing the client disconnects the pool too.
            self._pubsub_client = _Client.from_pool(pool)
        return self._pubsub_client.pubsub(**kwargs)

    async def aclose(self) -> None:
        pubsub_client, self._pubsub_client = self._pubsub_client, None
        if pubsub_client is not None:
            await pubsub_client.aclose()
        await super().aclose()


def is_cluster(client: Any) -> bool:
    """True for a client of a Redis Cluster (as :attr:`Connection.client` gives)."""
    return isinstance(client, RedisCluster)


def check_same_slot(keys: list[str], what: str = "a script") -> None:
    """Raise ``ValueError`` unless every key of ``keys`` hashes to one cluster slot.

    Every atomic step must touch one slot only (Redis Cluster refuses the rest with
    ``CROSSSLOT``); tests call this on every script's keys, on one node too.
    """
    slots = {key_slot(key.encode()) for key in keys}
    if len(slots) > 1:
        raise ValueError(
            f"{what} touches keys of {len(slots)} cluster slots ({', '.join(keys)}): every "
            "key of one atomic step must carry the same hash tag"
        )


async def scan_page(client: Any, *, cursor: int, match: str, count: int) -> tuple[int, list[Any]]:
    """One ``SCAN`` page over the whole keyspace, resumable by the returned cursor (0: done).

    On one server it is the server's cursor. On a cluster the primaries are scanned one
    after another, in a stable order; the cursor says which one and where: ``node cursor
    × primaries + node index``, so 0 still starts and ends the scan.
    """
    if not is_cluster(client):
        next_cursor, found = await client.scan(cursor=cursor, match=match, count=count)
        return int(next_cursor), list(found)
    primaries = sorted(client.get_primaries(), key=lambda node: node.name)
    index, node_cursor = cursor % len(primaries), cursor // len(primaries)
    cursors, found = await client.scan(
        cursor=node_cursor, match=match, count=count, target_nodes=primaries[index]
    )
    next_node_cursor = int(next(iter(cursors.values()), 0))
    if next_node_cursor:
        return next_node_cursor * len(primaries) + index, list(found)
    index += 1  # this primary is done: the next one starts at its cursor 0
    return (index if index < len(primaries) else 0), list(found)


class Connection:
    """A server URL and the clients of this process that talk to it.

    ``client`` is for commands (a pool: concurrent commands get their own
    sockets, so a blocking stream read never delays a write). On a Redis Cluster
    (:attr:`cluster`), every client is cluster-aware; its type is still announced as
    :class:`redis.asyncio.Redis`, whose commands it offers.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._client: aioredis.Redis | None = None
        self._readers: dict[float, aioredis.Redis] = {}
        self._checked = False
        self.cluster = False
        """True when the URL names a node of a Redis Cluster (known after connecting)."""

    def __repr__(self) -> str:
        return f"Connection({mask_url(self.url)!r})"

    @property
    def client(self) -> aioredis.Redis:
        """The command client, bound to the runtime loop (create it there)."""
        if self._client is None:
            self._client = self._new(socket_timeout=COMMAND_TIMEOUT, max_connections=512)
        return self._client

    def _new(self, **options: Any) -> aioredis.Redis:
        options = {
            "decode_responses": True,
            "socket_connect_timeout": CONNECT_TIMEOUT,
            "health_check_interval": 0,
            **self._tcp_options(),
            **options,
        }
        if self.cluster:
            # Typed as the single-node client: it offers the same commands (see the class).
            return cast(aioredis.Redis, _ClusterClient.for_url(self.url, **options))
        client = _Client.from_url(self.url, **options)
        pool = client.connection_pool
        pool.connection_class = guarded(pool.connection_class)  # connections are made lazily
        return client

    def _tcp_options(self) -> dict[str, Any]:
        # Keepalive notices a peer that vanished without closing (TCP only).
        return {} if self.url.startswith("unix:") else {"socket_keepalive": True}

    def reader(self, block_ms: int) -> aioredis.Redis:
        """The client for blocking reads of ``block_ms``: its socket outlasts the read."""
        timeout = read_timeout(block_ms)
        if timeout <= COMMAND_TIMEOUT:
            return self.client
        client = self._readers.get(timeout)
        if client is None:
            client = self._readers[timeout] = self.new_client(
                socket_timeout=timeout, max_connections=512
            )
        return client

    def new_client(self, **options: Any) -> aioredis.Redis:
        """A separate client (e.g. for pub/sub, whose reads wait without a time limit)."""
        options.setdefault("socket_timeout", None)
        return self._new(**options)

    def _unreachable(self, exc: BaseException) -> ConnectError:
        tls = ""
        if self.url.startswith("rediss:"):
            tls = (
                "; over TLS also check the URL's ssl_ca_certs (the CA of the server's "
                "certificate) and, when the server requires client certificates, "
                "ssl_certfile and ssl_keyfile"
            )
        return ConnectError(
            f"cannot reach a server at {mask_url(self.url)} ({exc}); check that it runs "
            "and the URL is right, or unset HOTMESH_REDIS_URL / REDIS_URL to use the "
            f"embedded server{tls}"
        )

    async def _check(self) -> None:
        if self._checked:
            return
        try:
            await asyncio.wait_for(self.client.ping(), CONNECT_TIMEOUT + 1)
            hello = await self._hello()
        except (
            redis_errors.AuthenticationError,
            redis_errors.AuthenticationWrongNumberOfArgsError,
        ):
            raise ConnectError(
                f"the server at {mask_url(self.url)} refused the credentials; check the user "
                "and password in the URL (redis://user:password@host:port)"
            ) from None
        except redis_errors.ResponseError as exc:
            if "NOAUTH" in str(exc) or "WRONGPASS" in str(exc):
                raise ConnectError(
                    f"the server at {mask_url(self.url)} needs a password ({exc}); put it in "
                    "the URL: redis://:password@host:port or redis://user:password@host:port"
                ) from None
            raise
        except (redis_errors.ConnectionError, OSError, asyncio.TimeoutError) as exc:
            raise self._unreachable(exc) from None
        if hello.get("mode") == "cluster":
            await self._become_cluster()
        elif hello.get("role") in ("replica", "slave"):
            await self._refuse_replica()
        self._checked = True

    async def _hello(self) -> dict[str, Any]:
        """The server's ``HELLO`` (mode: cluster or standalone; role), in one round trip.

        ``HELLO`` is in ``@connection``, which every ACL role of :mod:`hotmesh_nb.acl`
        grants (``INFO`` is ``@dangerous``). A server without it counts as one node.
        """
        if self.url.startswith("unix:"):
            return {}
        try:
            # Without arguments HELLO keeps the connection's protocol (RESP2 or RESP3).
            reply = await asyncio.wait_for(
                self.client.execute_command("HELLO"),  # type: ignore[no-untyped-call]
                CONNECT_TIMEOUT + 1,
            )
        except redis_errors.ResponseError:
            return {}
        if isinstance(reply, list):  # RESP2: a flat list of names and values
            reply = dict(zip(reply[::2], reply[1::2]))
        return {str(k): v for k, v in reply.items()} if isinstance(reply, dict) else {}

    async def _refuse_replica(self) -> None:
        primary = "its primary"
        with contextlib.suppress(redis_errors.RedisError):
            info = await self.client.info("replication")
            primary = f"{info.get('master_host')}:{info.get('master_port')}"
        raise ConnectError(
            f"the server at {mask_url(self.url)} is a read-only replica of {primary}; "
            "hotmesh_nb writes on every step. Point the URL at the primary"
        )

    async def _become_cluster(self) -> None:
        """Swap the single-node client for a cluster-aware one and learn the topology."""
        probe, self._client = self._client, None
        if probe is not None:
            await probe.aclose()
        self.cluster = True
        client = self.client
        try:
            await asyncio.wait_for(
                client.initialize(),
                CONNECT_TIMEOUT * 2,
            )
        except (redis_errors.RedisError, RedisClusterException, OSError, TimeoutError) as exc:
            raise ConnectError(
                f"{mask_url(self.url)} is a node of a Redis Cluster, but the cluster is not "
                f"usable: {exc}. Check `CLUSTER INFO` on its nodes (cluster_state:ok, every "
                "slot served); a failover may still be in progress"
            ) from None
        log.info(
            "%s is a Redis Cluster node: cluster-aware clients (%d primaries); each app "
            "lives in one slot",
            mask_url(self.url),
            len(client.get_primaries()),  # type: ignore[attr-defined]
        )

    @on_runtime
    async def ping_async(self) -> bool:
        """Round-trip a ``PING``; raises :class:`ConnectError` when unreachable."""
        await self._check()
        return bool(await self.client.ping())

    ping = blocking(ping_async)

    async def aclose(self) -> None:
        """Close the clients (runs on the runtime loop)."""
        client, self._client = self._client, None
        readers, self._readers = list(self._readers.values()), {}
        self._checked = False
        for each in ([client] if client is not None else []) + readers:
            await each.aclose()


_connections: dict[str, Connection] = {}
_lock = threading.Lock()


async def _close_all() -> None:
    with _lock:
        conns = list(_connections.values())
        _connections.clear()
    for conn in conns:
        await conn.aclose()


on_close(_close_all)


@on_runtime
async def connect_async(url: str | None = None) -> Connection:
    """Awaitable twin of :func:`connect`."""
    loop = asyncio.get_running_loop()
    resolved = url or os.environ.get("HOTMESH_REDIS_URL") or os.environ.get("REDIS_URL")
    if not resolved:
        from . import server  # the embedded server: loaded only when no URL is given

        resolved = await loop.run_in_executor(None, server.url)
    with _lock:
        conn = _connections.get(resolved)
        if conn is None:
            conn = _connections[resolved] = Connection(resolved)
    await conn._check()
    return conn


def connect(url: str | Connection | None = None) -> Connection:
    """Connect to a Redis-compatible server; the same URL gives the same Connection.

    Raises :class:`ConnectError` within a few seconds when the server cannot be
    reached or refuses the credentials; the message names the URL (password
    masked) and what to try.
    """
    if isinstance(url, Connection):
        return url
    return get_runtime().run(connect_async(url), name="connect")
