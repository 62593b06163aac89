"""Coalesce commands from many concurrent tasks into one pipeline round trip.

Under load, dozens of jobs want to write at once; sending each alone costs a
round trip (~60 µs of client CPU) per command. A :class:`Batcher` queues the
commands of every task that submits while a flush is in flight and sends them
together. An idle batcher flushes at once, so latency does not suffer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis

from ..runtime import cancel_and_wait

Command = Callable[[Any], None]
"""Adds one command to a pipeline (``lambda pipe: pipe.xack(...)``)."""


class Batcher:
    """One flusher task per client; ``submit`` returns the command's reply."""

    def __init__(self, client: aioredis.Redis, max_batch: int = 512) -> None:
        self._client = client
        self._max_batch = max_batch
        self._queue: list[tuple[Command, asyncio.Future[Any] | None]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False

    def _ensure_task(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="batcher")

    async def submit(self, command: Command) -> Any:
        """Queue ``command``; resolves with its reply (an exception reply raises)."""
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append((command, future))
        self._wake.set()
        self._ensure_task()
        result = await future
        if isinstance(result, Exception):
            raise result
        return result

    def send(self, command: Command) -> None:
        """Queue ``command`` without waiting for it (acks, best-effort writes)."""
        self._queue.append((command, None))
        self._wake.set()
        self._ensure_task()

    async def _run(self) -> None:
        while not self._closed:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
                await self._flush(batch)

    async def _flush(self, batch: list[tuple[Command, asyncio.Future[Any] | None]]) -> None:
        pipe = self._client.pipeline(transaction=False)
        # A command function may queue zero or several commands: remember where
        # each one's first reply will be.
        starts: list[int | None] = []
        for command, _ in batch:
            before = len(pipe.command_stack)
            command(pipe)
            starts.append(before if len(pipe.command_stack) > before else None)
        if not pipe.command_stack:
            for _, future in batch:
                if future is not None and not future.done():
                    future.set_result(None)
            return
        try:
            replies = await pipe.execute(raise_on_error=False)
        except Exception as exc:  # the connection failed: every caller sees why
            for _, future in batch:
                if future is not None and not future.done():
                    future.set_exception(exc)
            return
        for (_, future), start in zip(batch, starts):
            if future is not None and not future.done():
                future.set_result(None if start is None else replies[start])

    async def drain(self) -> None:
        """Flush whatever is queued (used before stopping)."""
        while self._queue:
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
            await self._flush(batch)

    async def close(self) -> None:
        """Flush and stop the flusher task."""
        await self.drain()
        self._closed = True
        await cancel_and_wait(self._task)
