"""MeshCall's view of job hashes: read a cached call, delete a finished job, wait for one.

A cached answer *is* the finished ``meshcall.call`` job: its hash holds the
status semaphore, the ``response`` (JSON text) and, when the function
raised, the error. Reading it costs one ``HMGET``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from .._caller_reads import CallerReads
from .._codec import loads
from .._lua import LuaScript
from ..engine import _state as st
from ..engine._waiters import settled
from ..hotmesh import HotMesh

# Deletes the job only when it has ended (status <= 0): a job started again in
# the meantime by another caller must survive. Returns 1 deleted, 0 running, -1 absent.
DELETE_IF_ENDED = LuaScript("delete_if_ended", package=__package__)
"""Delete a call job once it has ended (see ``lua/delete_if_ended.lua``)."""

_FIELDS = (st.STATUS, st.data_field("response"), st.ERROR)


@dataclass(frozen=True)
class Entry:
    """A call job as found in Redis."""

    status: int | None
    """The status semaphore: None absent, > 0 running, 0 done, < 0 interrupted."""
    response: str | None
    """The function's answer as JSON text (None while running, or when it failed)."""
    error: dict[str, Any] | None
    """The job's error, when the function raised or the job was interrupted with one."""

    @property
    def running(self) -> bool:
        """True while the call has not ended."""
        return self.status is not None and self.status > 0

    @property
    def usable(self) -> bool:
        """True for a call that completed without error: a cache hit."""
        return self.status == 0 and self.error is None


async def read(hm: HotMesh, job_id: str) -> Entry:
    """The call job ``job_id`` (one command, pipelined with concurrent ones)."""
    key = hm.keys.job(job_id)
    # The engine's batcher sends the reads of concurrent callers in one round trip.
    return _entry(await hm.engine.batcher.submit(lambda pipe: pipe.hmget(key, _FIELDS)))


async def read_with(reads: CallerReads, hm: HotMesh, job_id: str) -> Entry:
    """The call job ``job_id``, read from the caller's own event loop."""
    return _entry(await reads.hmget(hm.keys.job(job_id), _FIELDS))


def _entry(values: list[Any]) -> Entry:
    status, response, error = values
    return Entry(
        None if status is None else int(float(status)),
        None if response is None else loads(response),
        None if error is None else loads(error),
    )


async def delete_if_ended(hm: HotMesh, job_id: str) -> bool:
    """Delete the job when it has ended; True when it was deleted."""
    client = hm.connection.client
    deleted = await DELETE_IF_ENDED.call(client, [hm.keys.job(job_id)], [st.STATUS])
    return int(deleted) == 1


async def start(
    hm: HotMesh, topic: str, payload: dict[str, Any]
) -> tuple[str, asyncio.Future[dict[str, Any]]]:
    """Start a job; its id, and the future of its completion payload (``{s, m, d, err}``)
    for :func:`wait`.

    The waiter is registered before the job is written, so a fast job cannot
    finish unseen. Raises ``DuplicateJobError`` when the job id is taken.
    """
    waiting: list[tuple[str, asyncio.Future[dict[str, Any]]]] = []
    subscriptions = hm.engine.subscriptions

    def register(job_id: str) -> None:
        waiting.append((job_id, subscriptions.wait(job_id)))

    try:
        job_id = await hm.engine.pub(topic, payload, on_id=register)
    except BaseException:
        for waiting_id, future in waiting:
            subscriptions.forget(waiting_id, future)
        raise
    return job_id, waiting[0][1]


async def join(
    hm: HotMesh, job_id: str, timeout: float, check: Callable[[], Awaitable[Entry]]
) -> dict[str, Any] | None:
    """Wait for a running job; None when ``check()`` finds it already ended.

    The waiter is registered before ``check`` reads the job: a completion
    between the two cannot be missed.
    """
    future = hm.engine.subscriptions.wait(job_id)
    entry = await check()
    if not entry.running:
        hm.engine.subscriptions.forget(job_id, future)
        return None
    return await wait(hm, job_id, future, timeout)


async def wait(
    hm: HotMesh, job_id: str, future: asyncio.Future[dict[str, Any]], timeout: float
) -> dict[str, Any]:
    """The completion payload ``future`` brings; ``asyncio.TimeoutError`` (with the job
    still running) after ``timeout`` seconds."""
    try:
        return await settled(future, timeout)
    except BaseException:
        hm.engine.subscriptions.forget(job_id, future)
        raise


def decode_response(text: str | None) -> Any:
    """The function's answer from its JSON text (None when it returned nothing)."""
    return None if text is None else loads(text)
