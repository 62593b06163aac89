"""One pub/sub connection per engine: job completions, emits and user subscriptions.

The done channel and who must hear a completion
------------------------------------------------

A job ends in a step script, which announces it on the app's done channel. When the
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
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis

from .._codec import loads
from .._ids import guid
from .._replies import text_map
from ..acl import is_refusal, refusal
from ..runtime import cancel_and_wait
from ._outage import Outage, is_transient
from ._protocol import StepCall
from ._scripts import STEP
from ._state import completion_payload

if TYPE_CHECKING:
    from ..keys import Keys

log = logging.getLogger(__name__)

Callback = Callable[[str, dict[str, Any]], Any]

_token: tuple[int, str] = (-1, "")


def process_token() -> str:
    """This process's name in job hashes (field ``w``); a forked child gets its own."""
    global _token
    pid, token = _token
    if pid != os.getpid():
        token = f"P{os.getpid()}.{guid(10)}"
        _token = (os.getpid(), token)
    return token


_local: dict[str, list[Subscriptions]] = {}
"""Done channel → the started subscriptions of this process (step replies settle them)."""


def settle_local(done_channel: str, completion: str | bytes) -> None:
    """Settle this process's waiters from a completion a step script returned."""
    try:
        payload = loads(completion)
    except ValueError:
        return
    for subscriptions in _local.get(done_channel, ()):
        subscriptions.settle(payload)


class Subscriptions:
    """Channel and pattern subscriptions sharing one connection, plus job waiters."""

    def __init__(self, client: aioredis.Redis, done_channel: str, keys: Keys | None = None) -> None:
        self._client = client
        self._done_channel = done_channel
        self._keys = keys
        """The app's keys; without them no waiter is claimed (every completion published)."""
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

    async def start(
        self, run_callback: Callable[[Callback, str, dict[str, Any]], Coroutine[Any, Any, Any]]
    ) -> None:
        """Subscribe to the app's completion channel and start reading."""
        self._run_callback = run_callback
        await self.subscribe(self._done_channel, self._on_done, internal=True)
        _local.setdefault(self._done_channel, []).append(self)

    @property
    def done_channel(self) -> str:
        """The app's completion channel."""
        return self._done_channel

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

    def wait(self, job_id: str) -> asyncio.Future[dict[str, Any]]:
        """A future resolved with the job's completion payload.

        Unless ``pub`` claims it at once (it starts the job), the job is marked so that
        its completion is published (see the module docstring).
        """
        loop = asyncio.get_running_loop()
        future: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._waiters.setdefault(job_id, []).append(future)
        if self._keys is not None and job_id not in self._watches:
            self._watches[job_id] = loop.call_soon(self._start_watch, job_id)
        return future

    def claim(self, job_id: str) -> bool:
        """``pub`` is about to create ``job_id``: True when this process waits for it.

        The waiters registered for it are the creator's (from ``on_id``, before the job
        exists): they need no mark, and the job is created with this process's token.
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
        """Mark a running job for a late waiter; settle the waiter if it has ended."""
        assert self._keys is not None
        keys = self._keys
        outage = Outage("marking a waited job")
        part = keys.part_of(job_id)
        script_keys, args = StepCall(part.job(job_id), part.engine_stream, "watch").encode()
        while job_id in self._waiters:
            try:
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
                    return
                await asyncio.sleep(outage.failed(exc))

    def forget(self, job_id: str, future: asyncio.Future[Any]) -> None:
        """Drop a waiter (timed out or cancelled)."""
        waiters = self._waiters.get(job_id)
        if waiters and future in waiters:
            waiters.remove(future)
            if not waiters:
                del self._waiters[job_id]

    def settle(self, payload: dict[str, Any]) -> None:
        """Resolve the waiters of a job from its completion payload (however it was read)."""
        self._on_done(self._done_channel, payload)

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
        # The server answers a refused (P)SUBSCRIBE with an error instead of its
        # confirmation: the subscriptions still waiting for one fail with it (one
        # subscription is made at a time per caller, so the error is theirs).
        user = self._client.connection_pool.connection_kwargs.get("username")
        for name, event in self._confirmed.items():
            if not event.is_set():
                command = "PSUBSCRIBE" if name in self._patterns else "SUBSCRIBE"
                self._refused[name] = refusal(exc, (command, name), user)
                event.set()

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
            name = message.get("pattern") or message.get("channel")
            if kind in ("subscribe", "psubscribe"):
                event = self._confirmed.get(message.get("channel"))
                if event is not None:
                    event.set()
                if self._lost:
                    # redis-py subscribes again on reconnect; the first confirmation
                    # means the channels are live, so completions missed meanwhile
                    # can be looked up without a gap.
                    self._lost = False
                    self._outage.ok()
                    if self.on_resubscribed is not None and self._waiters:
                        asyncio.get_running_loop().create_task(
                            self.on_resubscribed(list(self._waiters))
                        )
                continue
            if kind not in ("message", "pmessage"):
                continue
            channel = message["channel"]
            try:
                payload = loads(message["data"])
            except ValueError:
                continue
            callback = self._channels.get(channel) if kind == "message" else None
            if callback is None:
                callback = self._patterns.get(name) or self._match_pattern(channel)
            if callback is None:
                continue
            if callback in self._internal:
                callback(channel, payload)
            elif self._run_callback is not None:
                asyncio.get_running_loop().create_task(
                    self._run_callback(callback, channel, payload)
                )

    def _match_pattern(self, channel: str) -> Callback | None:
        for pattern, callback in self._patterns.items():
            if fnmatch.fnmatchcase(channel, pattern):
                return callback
        return None

    async def close(self) -> None:
        """Cancel waiters and close the connection."""
        started = _local.get(self._done_channel, [])
        if self in started:
            started.remove(self)
            if not started:
                del _local[self._done_channel]
        for handle in self._watches.values():
            handle.cancel()
        self._watches.clear()
        await cancel_and_wait(self._task, *self._side)
        for waiters in self._waiters.values():
            for future in waiters:
                future.cancel()
        self._waiters.clear()
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]  # redis-py leaves it unannotated
        with contextlib.suppress(Exception):
            await self._client.aclose()  # the marks of late waiters used its pool
