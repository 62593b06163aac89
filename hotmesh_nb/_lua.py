"""Lua scripts: assembled from a package's ``lua/`` folder, loaded once per server, called by SHA.

Shared by every layer that keeps an atomic step on the server (the engine, MeshCall,
MeshFlow's ledger, the fallback search index); each registers its own scripts.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
from collections.abc import Callable
from importlib import resources
from typing import Any

import redis.asyncio as aioredis
from redis import exceptions as redis_errors

_REGISTRY: list[LuaScript] = []
"""Every script of the package: a server that forgot its scripts gets all of them back."""


INCLUDE = "-- @include "
"""A line that pulls a shared piece (another file of the same ``lua/`` folder) in its place."""


def assemble(folder: Any, name: str, seen: set[str] | None = None) -> str:
    """The text of ``name.lua`` with its ``-- @include piece`` lines replaced by the pieces.

    Redis scripts cannot call each other, so shared functions (``announce``,
    ``interrupt_job``) live in files of their own and are pasted in when a script is
    built. Each piece is pasted once, where it is first included (a piece may include
    others), so a function is never defined twice.
    """
    seen = set() if seen is None else seen
    seen.add(name)
    lines = []
    source = folder.joinpath(f"{name}.lua")
    if not source.is_file():
        raise FileNotFoundError(f"no Lua script '{name}.lua' in {folder}")
    for line in source.read_text().splitlines(keepends=True):
        if line.startswith(INCLUDE):
            piece = line[len(INCLUDE) :].strip()
            if not folder.joinpath(f"{piece}.lua").is_file():
                raise FileNotFoundError(
                    f"{name}.lua includes '{piece}', but there is no {piece}.lua in {folder}: "
                    f"fix the line '{line.strip()}'"
                )
            if piece not in seen:
                lines.append(assemble(folder, piece, seen))
            continue
        lines.append(line)
    return "".join(lines)


class LuaScript:
    """A script from a package's ``lua/`` folder; ``sha`` is computed locally, loaded on demand."""

    def __init__(self, name: str, *, package: str, allow_oom: bool = False) -> None:
        self.name = name
        folder = resources.files(package).joinpath("lua")
        body = assemble(folder, name)
        # The shebang makes the server check memory *before* running a script: without
        # it a full server fails the first write inside the script, after earlier
        # writes (an XACK) were applied, and a step could be half done. Scripts that
        # only free memory (trim, lease renewals) may run on a full server.
        shebang = "#!lua flags=allow-oom\n" if allow_oom else "#!lua\n"
        self.source = shebang + body
        self.sha = hashlib.sha1(self.source.encode()).hexdigest()
        _REGISTRY.append(self)

    async def load(self, client: aioredis.Redis) -> None:
        """Make sure the server knows the script (after a restart or FLUSH)."""
        await client.script_load(self.source)

    def add(self, pipe: Any, keys: list[str], args: list[Any]) -> None:
        """Queue an EVALSHA on a pipeline (the script must be loaded)."""
        pipe.evalsha(self.sha, len(keys), *keys, *args)

    def queued(self, keys: list[str], args: list[Any]) -> Callable[[Any], None]:
        """The batcher command that queues this call (:meth:`add`) on a pipeline: a
        partial, not a closure (every step makes one)."""
        return functools.partial(_evalsha, self.sha, keys, args)

    async def call(self, client: aioredis.Redis, keys: list[str], args: list[Any]) -> Any:
        """Run the script now, loading it first if the server has forgotten it."""
        try:
            return await client.evalsha(self.sha, len(keys), *keys, *args)
        except redis_errors.NoScriptError:
            await self.load(client)
            return await client.evalsha(self.sha, len(keys), *keys, *args)


def _evalsha(sha: str, keys: list[str], args: list[Any], pipe: Any) -> None:
    pipe.evalsha(sha, len(keys), *keys, *args)


def is_noscript(reply: Any) -> bool:
    """True when a pipelined reply says the script was not loaded."""
    return isinstance(reply, redis_errors.NoScriptError) or (
        isinstance(reply, redis_errors.ResponseError) and str(reply).startswith("NOSCRIPT")
    )


async def load_all(client: aioredis.Redis) -> None:
    """Load every script of the package (at engine start, and after the server forgot them).

    A server restarted without persistence, a failover to a replica that never saw
    ``SCRIPT LOAD``, or ``SCRIPT FLUSH`` all empty the script cache; loading is
    idempotent, so reloading everything at once is the simplest complete answer.
    """
    if hasattr(client, "get_primaries"):
        # A cluster: SCRIPT LOAD goes to every primary, which a pipeline cannot send.
        await asyncio.gather(*(client.script_load(script.source) for script in _REGISTRY))
        return
    pipe = client.pipeline(transaction=False)
    for script in _REGISTRY:
        pipe.script_load(script.source)
    await pipe.execute()
