"""Reading a mesh's live state from Redis for notebook views: jobs, streams and members.

Everything here is a coroutine for the runtime loop and returns plain records;
:mod:`.frames` turns them into DataFrames and :mod:`.monitor` into widgets.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import redis.asyncio as aioredis

from .._codec import loads
from .._ids import parse_compact
from ..engine import _state as st
from ..keys import ENGINE_GROUP, WORKER_GROUP, Keys, glob_escape
from ..runtime import get_runtime
from ._paint import ActivityFailure, error_message, failure_of, job_status

if TYPE_CHECKING:
    from ..hotmesh import HotMesh

log = logging.getLogger(__name__)

LIVE_IDLE_MS = 15_000
"""A consumer idle longer than this counts as gone (three times the default 5 s block)."""
SCAN_COUNT = 1000
"""Keys asked for per ``SCAN`` step."""
PIPELINE_CHUNK = 500
"""Commands sent per pipeline round trip when reading many jobs."""

JOB_FIELDS = (st.STATUS, st.META, st.UPDATED, st.ERROR)

MEMBER_COLUMNS = (
    "member",
    "role",
    "app",
    "namespace",
    "topic",
    "host",
    "pid",
    "processed",
    "failed",
    "in_flight",
)
"""Columns every member row has (roll-call rows may carry more)."""


@dataclass(frozen=True)
class JobRecord:
    """One job as listed by :func:`read_jobs`."""

    id: str
    topic: str | None
    version: str | None
    status: str
    created: datetime | None
    updated: datetime | None
    error: str | None
    failures: tuple[ActivityFailure, ...] = ()
    """Activities that failed, though the job may have gone on (see :mod:`.paint`)."""

    @property
    def problem(self) -> str | None:
        """The job's error, else its first failed activity's (``w1: ... (code 500)``)."""
        if self.error:
            return self.error
        return self.failures[0].text() if self.failures else None


@dataclass(frozen=True)
class StreamRecord:
    """One stream of an app as read by :func:`read_streams`."""

    stream: str
    """``engine`` for the engine stream, else the worker topic."""
    role: str
    """``engine`` or ``worker``."""
    key: str
    """The Redis key."""
    depth: int
    """``XLEN``: entries still in the stream (acknowledged ones are trimmed in batches)."""
    pending: int
    """Entries delivered to a consumer and not acknowledged yet."""
    consumers: int
    """Consumers registered in the group."""
    lag: int | None
    """Entries not yet delivered to the group (None when the server cannot tell)."""
    added: int | None
    """Entries ever added (``entries-added``; Redis >= 7), for rates."""
    live: int = 0
    """Consumers that read recently (idle under :data:`LIVE_IDLE_MS`): a crashed process's
    consumer stays registered in the group but stops reading, and its idle time grows."""
    idle_ms: int | None = None
    """The smallest idle time of the group's consumers (None without consumers)."""

    @property
    def waiting(self) -> int:
        """Entries no consumer has taken yet (``lag``; ``depth`` when the server cannot tell)."""
        return self.lag if self.lag is not None else self.depth


def pattern(keys: Keys, kind: str) -> str:
    """A ``SCAN`` pattern for every key of one kind of the app (``j`` jobs, ``x`` streams)."""
    return f"{glob_escape(keys.prefix)}:{kind}:*"


async def scan(client: aioredis.Redis, match: str, kind: str) -> list[str]:
    """Every key matching ``match`` of Redis type ``kind``, sorted (SCAN may repeat keys)."""
    found = {key async for key in client.scan_iter(match=match, count=SCAN_COUNT, _type=kind)}
    return sorted(found)


# -- jobs ----------------------------------------------------------------------------


def _job_record(job_id: str, values: list[str | None]) -> JobRecord | None:
    raw_status, raw_meta, updated, raw_error = values
    if raw_meta is None:
        return None  # not a job hash we wrote (or a job being deleted)
    try:
        meta = loads(raw_meta)
        semaphore = int(float(raw_status)) if raw_status is not None else None
    except ValueError:
        return None
    error = error_message(_decode(raw_error))
    return JobRecord(
        id=str(meta.get("jid") or job_id),
        topic=meta.get("tpc"),
        version=None if meta.get("vrs") is None else str(meta.get("vrs")),
        status=job_status(semaphore, bool(error)),
        created=parse_compact(meta.get("jc") or meta.get("ts")),
        updated=parse_compact(updated) if updated else None,
        error=error,
    )


def _decode(raw: str | None) -> Any:
    if raw is None:
        return None
    try:
        return loads(raw)
    except ValueError:
        return raw


FailureCache = dict[str, tuple[ActivityFailure, ...]]
"""Job hash key → failed activities of a finished job (they never change once it ended)."""


async def read_failures(
    client: aioredis.Redis, names: list[str]
) -> dict[str, tuple[ActivityFailure, ...]]:
    """The failed activity runs of each job hash in ``names`` (two pipelined round trips)."""
    found: dict[str, tuple[ActivityFailure, ...]] = {}
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.hkeys(name)
    fields = [[f for f in keys if f.startswith(st.ACTIVITY)] for keys in await pipe.execute()]
    pipe = client.pipeline(transaction=False)
    for name, wanted in zip(names, fields):
        if wanted:
            pipe.hmget(name, wanted)
    replies = iter(await pipe.execute()) if any(fields) else iter(())
    for name, wanted in zip(names, fields):
        values = next(replies) if wanted else []
        out = []
        for field_name, raw in zip(wanted, values):
            if raw is None or '"error"' not in raw:
                continue  # cheap test first: only failed runs carry status "error"
            try:
                node = loads(raw)
            except ValueError:
                continue
            meta = (node.get("output") or {}).get("metadata") or {}
            failure = failure_of(
                str(meta.get("aid") or field_name[2:]), str(meta.get("dad") or ""), meta
            )
            if failure is not None:
                out.append((str(meta.get("ac") or ""), failure))
        out.sort(key=lambda pair: pair[0])
        found[name] = tuple(f for _, f in out)
    return found


async def read_jobs(
    client: aioredis.Redis, keys: Keys, cache: FailureCache | None = None
) -> list[JobRecord]:
    """Every job of the app that still has state in Redis (finished jobs expire), with the
    activities that failed. ``cache`` keeps finished jobs' failures between calls."""
    names = await scan(client, pattern(keys, "j"), "hash")
    head = keys.job("")
    if cache is None:
        cache = {}
    else:  # forget jobs that expired or were scrubbed
        for gone in set(cache) - set(names):
            del cache[gone]
    records = []
    for start in range(0, len(names), PIPELINE_CHUNK):
        chunk = names[start : start + PIPELINE_CHUNK]
        pipe = client.pipeline(transaction=False)
        for name in chunk:
            pipe.hmget(name, list(JOB_FIELDS))
        found = []
        for name, values in zip(chunk, await pipe.execute()):
            record = _job_record(name.removeprefix(head), values)
            if record is not None:
                found.append((name, record))
        unknown = [name for name, _ in found if name not in cache]
        fresh = await read_failures(client, unknown) if unknown else {}
        for name, record in found:
            failed = cache.get(name, fresh.get(name, ()))
            if record.status in ("done", "error", "interrupted"):
                cache[name] = failed
            records.append(dataclasses.replace(record, failures=failed))
    return records


# -- streams -------------------------------------------------------------------------


async def read_streams(client: aioredis.Redis, keys: Keys) -> list[StreamRecord]:
    """The engine stream and every worker stream of the app: engine first, then by topic."""
    names = await scan(client, pattern(keys, "x"), "stream")
    if not names:
        return []
    head = keys.engine_stream
    pipe = client.pipeline(transaction=False)
    for name in names:
        pipe.xinfo_stream(name)
        pipe.xinfo_groups(name)
        pipe.xinfo_consumers(name, WORKER_GROUP if name != head else ENGINE_GROUP)
    replies = await pipe.execute(raise_on_error=False)
    records = []
    for index, name in enumerate(names):
        info, groups, consumers = replies[3 * index : 3 * index + 3]
        if isinstance(info, Exception) or isinstance(groups, Exception):
            continue  # deleted between SCAN and XINFO
        idles = (
            [] if isinstance(consumers, Exception) else [int(c.get("idle") or 0) for c in consumers]
        )
        topic = name.removeprefix(head)
        role = "worker" if topic else "engine"
        wanted = WORKER_GROUP if topic else ENGINE_GROUP
        ours = [g for g in groups if g.get("name") == wanted] or list(groups)
        lags = [g.get("lag") for g in ours]
        records.append(
            StreamRecord(
                stream=topic or "engine",
                role=role,
                key=name,
                depth=int(info.get("length", 0)),
                pending=sum(int(g.get("pending") or 0) for g in ours),
                consumers=sum(int(g.get("consumers") or 0) for g in ours),
                lag=sum(int(v) for v in lags) if lags and None not in lags else None,
                added=info.get("entries-added"),
                live=sum(1 for idle in idles if idle < LIVE_IDLE_MS),
                idle_ms=min(idles) if idles else None,
            )
        )
    records.sort(key=lambda r: (r.role != "engine", r.stream))
    return records


class RateMeter:
    """Rates of monotonic counters from successive samples (one meter per viewer)."""

    def __init__(self) -> None:
        self._last: dict[str, tuple[float, float]] = {}

    def rate(self, name: str, total: float | None, now: float | None = None) -> float:
        """Per-second increase of ``total`` since the previous sample; NaN on the first."""
        now = time.monotonic() if now is None else now
        if total is None:
            return math.nan
        previous = self._last.get(name)
        self._last[name] = (now, total)
        if previous is None or now <= previous[0]:
            return math.nan
        return max(total - previous[1], 0) / (now - previous[0])


# -- members -------------------------------------------------------------------------


async def here(hm: HotMesh, method: str, *args: Any) -> Any:
    """Await ``hm.<method>(*args)`` (an ``@on_runtime`` method) directly on this loop.

    Callers already run on the runtime loop. The bridging wrapper would look the
    runtime up again, and while :func:`hotmesh_nb.shutdown` runs that lookup starts
    a fresh runtime and sends the call there, with clients of the old loop.
    """
    function = getattr(type(hm), method)
    return await getattr(function, "__wrapped__", function)(hm, *args)


def local_meshes() -> list[HotMesh]:
    """A HotMesh for every app this process runs an engine for (with its workers)."""
    from ..engine._engine import Engine
    from ..engine._worker_service import WorkerService
    from ..hotmesh import HotMesh

    services = list(get_runtime().services().values())
    meshes = []
    for engine in services:
        if not isinstance(engine, Engine):
            continue
        workers = [
            w
            for w in services
            if isinstance(w, WorkerService)
            and w.keys == engine.keys
            and w.connection.url == engine.connection.url
        ]
        meshes.append(HotMesh(engine.connection, engine.keys, engine.config, engine, workers))
    meshes.sort(key=lambda m: (m.connection.url, m.namespace, m.app_id))
    return meshes


def local_members(hm: HotMesh) -> list[dict[str, Any]]:
    """Roll-call rows for the engine and workers of ``hm``'s app that run in this process."""
    from ..engine._engine import Engine
    from ..engine._worker_service import WorkerService

    host, pid = socket.gethostname(), os.getpid()
    rows = []
    for service in get_runtime().services().values():
        if not isinstance(service, (Engine, WorkerService)):
            continue
        if service.keys != hm.keys or service.connection.url != hm.connection.url:
            continue
        consumer = getattr(service, "consumer", None)
        stats = consumer.stats if consumer is not None else None
        is_worker = isinstance(service, WorkerService)
        rows.append(
            {
                "member": consumer.consumer if consumer is not None else f"{host}:{pid}:client",
                "role": "worker" if is_worker else "engine" if consumer is not None else "client",
                "app": hm.app_id,
                "namespace": hm.namespace,
                "topic": service.topic if isinstance(service, WorkerService) else None,
                "host": host,
                "pid": pid,
                "processed": stats.processed if stats else 0,
                "failed": stats.failed if stats else 0,
                "in_flight": stats.in_flight if stats else 0,
            }
        )
    return rows


async def read_members(meshes: Iterable[HotMesh]) -> list[dict[str, Any]]:
    """Engines and workers of the apps: the mesh-wide roll call when the HotMesh offers one,
    else the members running in this process. Sorted by app, role, topic and member."""
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    for hm in meshes:
        found: list[dict[str, Any]] | None = None
        if hasattr(hm, "roll_call_async"):
            try:
                found = list(await here(hm, "roll_call_async"))
            except Exception as exc:  # a failed roll call must not blank the view
                log.warning("roll call of app %s failed (%r); showing local members", hm, exc)
        for row in found if found is not None else local_members(hm):
            row = {**{c: None for c in MEMBER_COLUMNS}, **row}
            row.setdefault("app", hm.app_id)
            row["namespace"] = row.get("namespace") or hm.namespace
            rows[(row["namespace"], str(row["app"]), str(row["member"]))] = row
    return sorted(
        rows.values(),
        key=lambda r: tuple(
            str(r[c] or "") for c in ("namespace", "app", "role", "topic", "member")
        ),
    )
