"""``exec`` and ``flush``: one function call as a ``meshcall.call`` job, cached by id.

Where answers live and for how long:

* a call without ``id`` runs as a job with a random id; the finished job is
  deleted ``UNCACHED_EXPIRE`` second after it completes (pass ``ttl`` to keep
  it longer, e.g. to look at it in ``jobs()`` or a graph);
* a call with ``id`` runs as the job ``call:<topic>:<id>`` in the namespace's
  Redis. Its finished hash *is* the cache entry: it holds the answer for
  ``ttl`` after the call completed (``'infinity'`` keeps it until flushed),
  and survives restarts of every process and of the server (as far as the
  server persists its data). A later call with the same topic and id returns
  the stored answer without running the function; a call that finds the job
  still running waits for it instead of running the function twice.
  A call that raised or was interrupted is not an answer: the next call
  runs the function again.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from typing import Any

from redis.exceptions import ConnectionError, RedisError, TimeoutError

from .. import _caller_reads as caller_reads
from .._codec import loads
from ..durations import Duration, to_seconds
from ..errors import DuplicateJobError, JobError, JobNotFoundError
from ..errors import TimeoutError as HotMeshTimeout
from ..hotmesh import HotMesh
from ..keys import WORKER_GROUP
from . import _jobs as jobs
from ._adapter import encode
from ._meshcall_app import CALL_TOPIC
from ._meshcall_errors import MeshCallError

UNCACHED_EXPIRE = 1
"""Seconds a call's finished job is kept when no ``ttl`` is given (the original's 1 s)."""

DEFAULT_TIMEOUT = 30.0
"""Seconds ``exec`` waits for the answer by default (the original's 30 s)."""

_ATTEMPTS = 5
"""Lookups before giving up when other callers keep replacing the same call job."""

MISS = object()
"""What :func:`cached_here` returns when it has no answer (None is an answer)."""


def call_job_id(topic: str, call_id: str) -> str:
    """The job id of a cached call: ids are scoped by topic, so functions never share one."""
    return f"call:{topic}:{call_id}"


def expire_seconds(ttl: Duration | None) -> int:
    """The graph ``expire`` for a ``ttl``: whole seconds, 0 for ``'infinity'`` (keep)."""
    if ttl is None:
        return UNCACHED_EXPIRE
    seconds = to_seconds(ttl)
    if math.isinf(seconds):
        return 0
    if seconds <= 0:
        raise ValueError(f"ttl must be positive (or 'infinity'), not {ttl!r}")
    return max(1, math.ceil(seconds))


async def call(
    hm: HotMesh,
    topic: str,
    args: Sequence[Any],
    *,
    call_id: str | None,
    ttl: Duration | None,
    flush: bool,
    timeout: float,
) -> Any:
    """Run ``topic``'s function with ``args`` (or return its cached answer)."""
    payload = _payload(topic, args, ttl)
    if call_id is None:
        return await _run(hm, topic, payload, timeout, forget_on_timeout=True)
    job_id = call_job_id(topic, str(call_id))
    payload["id"] = job_id
    if flush:
        await hm.connection.client.delete(hm.keys.job(job_id))
    for _ in range(_ATTEMPTS):
        entry = await jobs.read(hm, job_id)
        if entry.usable:
            return jobs.decode_response(entry.response)
        if entry.running:
            done = await _join(hm, topic, job_id, timeout)
            if done is not None:
                return _outcome(topic, job_id, done)
            continue
        if entry.status is not None:
            # It failed or was interrupted: not an answer. Replace it (unless a
            # concurrent caller already did: then the next lookup finds theirs).
            await jobs.delete_if_ended(hm, job_id)
        try:
            return await _run(hm, topic, payload, timeout, forget_on_timeout=False)
        except DuplicateJobError:
            continue  # another caller started it first: join theirs
    raise JobError(
        f"MeshCall topic '{topic}': the call '{call_id}' kept being replaced by other callers",
        job_id=job_id,
    )


async def cached_here(
    hm: HotMesh, topic: str, args: Sequence[Any], *, call_id: str, ttl: Duration | None
) -> Any:
    """The cached answer of ``call_id``, read from the caller's own event loop; :data:`MISS`
    when there is none (or this loop cannot read it): :func:`call` then runs on the runtime.

    The arguments are checked as :func:`call` checks them: a bad call fails the same
    way whether or not its answer is cached.
    """
    reads = await caller_reads.reads_for(hm.connection)
    if reads is None:
        return MISS
    _payload(topic, args, ttl)
    try:
        entry = await jobs.read_with(reads, hm, call_job_id(topic, str(call_id)))
    except (ConnectionError, TimeoutError, OSError):
        # The runtime's route knows outages and failovers: it takes this call and, for a
        # while, this loop's next ones.
        await caller_reads.failed(hm.connection)
        return MISS
    except RedisError:
        return MISS  # the runtime's route answers, with this error if it persists
    return jobs.decode_response(entry.response) if entry.usable else MISS


def _payload(topic: str, args: Sequence[Any], ttl: Duration | None) -> dict[str, Any]:
    """The call job's data; raises on arguments that cannot be sent or a bad ``ttl``."""
    if isinstance(args, (str, bytes, dict)):
        raise TypeError(f"args must be a list of arguments, not {type(args).__name__}")
    return {
        "topic": topic,
        "args": encode(list(args), "MeshCall arguments", "args"),
        "expire": expire_seconds(ttl),
    }


async def flush(hm: HotMesh, topic: str, call_id: str) -> bool:
    """Delete the cached answer of ``call_id``; True when there was one."""
    return bool(await hm.connection.client.delete(hm.keys.job(call_job_id(topic, str(call_id)))))


async def _run(
    hm: HotMesh, topic: str, payload: dict[str, Any], timeout: float, *, forget_on_timeout: bool
) -> Any:
    # Started, then awaited: a call that times out knows its job (a plain call ends it).
    job_id, future = await jobs.start(hm, CALL_TOPIC, payload)
    try:
        done = await jobs.wait(hm, job_id, future, timeout)
    except asyncio.TimeoutError:
        raise await _timeout(hm, topic, job_id, timeout, forget_on_timeout) from None
    return _outcome(topic, job_id, done)


async def _join(hm: HotMesh, topic: str, job_id: str, timeout: float) -> dict[str, Any] | None:
    try:
        return await jobs.join(hm, job_id, timeout, lambda: jobs.read(hm, job_id))
    except asyncio.TimeoutError:
        raise await _timeout(hm, topic, job_id, timeout, False) from None


def _outcome(topic: str, job_id: str, done: dict[str, Any]) -> Any:
    """The answer in a completion payload, or the error it carries."""
    error = done.get("err")
    if isinstance(error, str):
        error = loads(error)
    detail = done.get("ed")
    detail = loads(detail) if isinstance(detail, str) else detail or {}
    if error:
        raise MeshCallError(
            str(error.get("message") or "the call failed"),
            topic=topic,
            error_type=detail.get("name") or error.get("name"),
            remote_traceback=error.get("stack"),
            code=int(error.get("code") or 500),
            job_id=job_id,
        )
    if int(done.get("s") or 0) < 0:
        raise JobError(
            f"MeshCall topic '{topic}': the call was interrupted", code=410, job_id=job_id
        )
    return jobs.decode_response((done.get("d") or {}).get("response"))


async def _timeout(
    hm: HotMesh, topic: str, job_id: str, timeout: float, forget: bool
) -> HotMeshTimeout:
    """The error for a call nobody answered in time (and, for a plain call, end its job)."""
    served = await _has_workers(hm, topic)
    if forget:
        # Nobody waits for this answer any more: end the job so it does not linger.
        try:
            await hm.engine.interrupt(job_id, throw=False, expire=UNCACHED_EXPIRE)
        except JobNotFoundError:
            pass
    if served:
        reason = f"its workers did not answer within {timeout:g} s"
    else:
        reason = (
            f"no worker serves it in namespace '{hm.namespace}' (start one with "
            f"MeshCall.connect({topic!r}, fn, namespace={hm.namespace!r}))"
        )
    kept = "" if forget else "; the call stays queued and its answer will be cached"
    return HotMeshTimeout(f"MeshCall topic '{topic}': {reason}{kept}")


async def _has_workers(hm: HotMesh, topic: str) -> bool:
    try:
        # Every worker reads every partition: partition 0's group knows them all.
        groups = await hm.connection.client.xinfo_groups(hm.keys.part(0).worker_stream(topic))
    except Exception:  # no such stream: nobody ever served the topic
        return False
    return any(g.get("name") == WORKER_GROUP and int(g.get("consumers") or 0) > 0 for g in groups)
