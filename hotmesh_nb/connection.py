"""Connections to a Redis-compatible server.

:func:`connect` resolves the URL in this order: the explicit ``url`` →
``HOTMESH_REDIS_URL`` → ``REDIS_URL`` → the embedded server (started on
demand). ``redis://``, ``rediss://`` (TLS) and ``unix://`` URLs work, with
passwords and ACL users (``redis://user:secret@host:6379/0``).

A :class:`Connection` is cheap to share: its clients live on the runtime loop
and are created once per process and URL.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
from typing import Any
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from redis import exceptions as redis_errors
from redis.asyncio.client import Pipeline

from . import server
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


def read_timeout(block_ms: int) -> float:
    """The socket timeout a blocking read of ``block_ms`` needs (never the read's own time)."""
    return block_ms / 1000 + READ_MARGIN


def resolve_url(url: str | None = None) -> str:
    """The URL :func:`connect` would use (may start the embedded server)."""
    for candidate in (url, os.environ.get("HOTMESH_REDIS_URL"), os.environ.get("REDIS_URL")):
        if candidate:
            return candidate
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


def _user(client: aioredis.Redis | Pipeline) -> str | None:
    return client.connection_pool.connection_kwargs.get("username")


class _Pipeline(Pipeline):
    """A pipeline whose ACL refusals are :class:`~hotmesh_nb.errors.PermissionDeniedError`."""

    async def execute(self, raise_on_error: bool = True) -> list[Any]:
        stack = [command[0] for command in self.command_stack]
        try:
            replies = await super().execute(raise_on_error)
        except redis_errors.ResponseError as exc:
            if not is_refusal(exc):
                raise
            # redis-py's message names the failed command by its position (from 1).
            position = str(exc).split("Command # ", 1)[-1].split(" ", 1)[0]
            index = int(position) - 1 if position.isdigit() else 0
            args = stack[index] if 0 <= index < len(stack) else ()
            raise refusal(exc, args, _user(self)) from None
        return [
            refusal(reply, stack[i] if i < len(stack) else (), _user(self))
            if isinstance(reply, Exception) and is_refusal(reply)
            else reply
            for i, reply in enumerate(replies)
        ]


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


class Connection:
    """A server URL and the clients of this process that talk to it.

    ``client`` is for commands (a pool: concurrent commands get their own
    sockets, so a blocking stream read never delays a write).
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._client: aioredis.Redis | None = None
        self._readers: dict[float, aioredis.Redis] = {}
        self._checked = False

    def __repr__(self) -> str:
        return f"Connection({mask_url(self.url)!r})"

    @property
    def client(self) -> aioredis.Redis:
        """The command client, bound to the runtime loop (create it there)."""
        if self._client is None:
            self._client = _Client.from_url(
                self.url,
                decode_responses=True,
                socket_connect_timeout=CONNECT_TIMEOUT,
                socket_timeout=COMMAND_TIMEOUT,
                health_check_interval=0,
                **self._tcp_options(),
                max_connections=512,
            )
        return self._client

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
        options = {**self._tcp_options(), **options}
        return _Client.from_url(
            self.url, decode_responses=True, socket_connect_timeout=CONNECT_TIMEOUT, **options
        )

    async def _check(self) -> None:
        if self._checked:
            return
        try:
            await asyncio.wait_for(self.client.ping(), CONNECT_TIMEOUT + 1)
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
            tls = ""
            if self.url.startswith("rediss:"):
                tls = (
                    "; over TLS also check the URL's ssl_ca_certs (the CA of the server's "
                    "certificate) and, when the server requires client certificates, "
                    "ssl_certfile and ssl_keyfile"
                )
            raise ConnectError(
                f"cannot reach a server at {mask_url(self.url)} ({exc}); check that it runs "
                "and the URL is right, or unset HOTMESH_REDIS_URL / REDIS_URL to use the "
                f"embedded server{tls}"
            ) from None
        self._checked = True

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
