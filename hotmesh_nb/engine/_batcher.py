"""Coalesce commands from many concurrent tasks into one pipeline round trip.

Under load, dozens of jobs want to write at once; sending each alone costs a
round trip (~60 µs of client CPU) per command. A :class:`Batcher` queues the
commands of every task that submits while a flush is in flight and sends them
together. An idle batcher flushes at once, so latency does not suffer.

The batcher also rides out server outages for everything sent through it: a
dropped connection, a restart or failover, ``SCRIPT FLUSH`` (scripts are
reloaded) and a full memory are waited out and the commands that did not run
are sent again. A submitter that will not wait (``patient=False``, a user's
``pub``) gets a clear error instead.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis

from ..runtime import cancel_and_wait
from ._outage import Outage, explain, is_transient
from ._scripts import is_noscript, load_all

Command = Callable[[Any], None]
"""Adds one command to a pipeline (``lambda pipe: pipe.xack(...)``)."""


class Batcher:
    """One flusher task per client; ``submit`` returns the command's reply."""

    def __init__(self, client: aioredis.Redis, max_batch: int = 512, *, name: str = "") -> None:
        self._client = client
        self._max_batch = max_batch
        self._queue: list[_Entry] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closed = False
        self._outage = Outage(f"pipeline {name}".strip())

    def _ensure_task(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="batcher")

    async def submit(self, command: Command, *, patient: bool = True) -> Any:
        """Queue ``command``; resolves with its reply (an exception reply raises).

        A patient command waits out a server outage and is sent again; an
        impatient one fails at once with :class:`~hotmesh_nb.errors.ConnectError`
        or :class:`~hotmesh_nb.errors.ServerFullError`.
        """
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._queue.append(_Entry(command, future, patient))
        self._wake.set()
        self._ensure_task()
        result = await future
        if isinstance(result, Exception):
            raise result
        return result

    def send(self, command: Command) -> None:
        """Queue ``command`` without waiting for it (acks, best-effort writes)."""
        self._queue.append(_Entry(command, None, True))
        self._wake.set()
        self._ensure_task()

    async def _run(self) -> None:
        while not self._closed:
            await self._wake.wait()
            self._wake.clear()
            await self.drain()

    async def _flush(self, batch: list[_Entry]) -> None:
        pipe = self._client.pipeline(transaction=False)
        # A command function may queue zero or several commands: remember which
        # entry each queued command belongs to (its first reply is the entry's).
        owners: list[int] = []
        for n, entry in enumerate(batch):
            before = len(pipe.command_stack)
            entry.command(pipe)
            entry.first = before if len(pipe.command_stack) > before else None
            owners += [n] * (len(pipe.command_stack) - before)
        stack = list(pipe.command_stack)
        replies: list[Any] = [None] * len(stack)
        todo = list(range(len(stack)))
        reloads = 0
        while todo:
            sent = self._client.pipeline(transaction=False)
            for i in todo:
                args, options = stack[i]
                sent.execute_command(*args, **options)
            try:
                answers = await sent.execute(raise_on_error=False)
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
        for entry in batch:
            if entry.future is not None and not entry.future.done():
                entry.future.set_result(None if entry.first is None else replies[entry.first])

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
        """Flush whatever is queued (used before stopping)."""
        while self._queue:
            batch = self._queue[: self._max_batch]
            del self._queue[: self._max_batch]
            await self._flush(batch)

    async def close(self) -> None:
        """Flush and stop the flusher task."""
        self._closed = True
        await self.drain()
        await cancel_and_wait(self._task)


class _Entry:
    """One submitted command function and who waits for its reply."""

    __slots__ = ("command", "first", "future", "patient")

    def __init__(self, command: Command, future: asyncio.Future[Any] | None, patient: bool):
        self.command = command
        self.future = future
        self.patient = patient
        self.first: int | None = None


def _settle(batch: list[_Entry], owners: list[int], which: list[int], exc: BaseException) -> None:
    """Fail the entries owning the commands ``which`` with ``exc``."""
    for n in {owners[i] for i in which}:
        future = batch[n].future
        if future is not None and not future.done():
            future.set_exception(exc)
