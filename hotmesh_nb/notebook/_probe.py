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
from ..engine import _dead_letters as dead_letters
from ..engine import _local
from ..engine import _state as st
from ..keys import ENGINE_GROUP, WORKER_GROUP, Keys, Partition, glob_escape
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
    """One stream of an app as read by :func:`read_streams`: the engine stream or a worker
    topic, summed over the app's partitions."""

    stream: str
    """``engine`` for the engine stream, else the worker topic."""
    role: str
    """``engine`` or ``worker``."""
    key: str
    """The Redis key of the topic's stream in its first partition (a name for rates)."""
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
    keys: tuple[str, ...] = ()
    """The topic's stream in each partition that has one (``key`` first)."""

    @property
    def waiting(self) -> int:
        """Entries no consumer has taken yet (``lag``; ``depth`` when the server cannot tell)."""
        return self.lag if self.lag is not None else self.depth


def parts(keys: Keys) -> list[Partition]:
    """The app's partitions, or none while its layout is unknown here (not deployed yet):
    a view then shows no jobs and no streams rather than failing."""
    return keys.parts if keys.known else []


def patterns(keys: Keys, kind: str) -> list[str]:
    """``SCAN`` patterns that together match every key of one kind of the app's partitions
    (``j`` jobs, ``x`` streams).

    One partition: its own pattern. Several: one pattern for them all (``{ns:app:*}:x:*``)
    whose matches :func:`scan_kind` narrows to the partitions' exact prefixes. On one
    server each ``SCAN`` pass walks the whole keyspace whatever its pattern, so one pass
    instead of one per partition keeps a dashboard refresh as cheap with 16 partitions
    as with one.
    """
    found = parts(keys)
    if len(found) <= 1:
        return keys.match_kind(kind)
    head = glob_escape(f"{{{keys.namespace}:{keys.app}:")
    return [f"{head}*{glob_escape('}')}:{kind}:*"]


async def scan(client: aioredis.Redis, match: str, kind: str) -> list[str]:
    """Every key matching ``match`` of Redis type ``kind``, sorted (SCAN may repeat keys)."""
    found = {key async for key in client.scan_iter(match=match, count=SCAN_COUNT, _type=kind)}
    return sorted(found)


async def scan_kind(client: aioredis.Redis, keys: Keys, kind: str, rtype: str) -> list[str]:
    """Every key of one kind (``j``, ``x``...) and Redis type ``rtype`` in every partition
    of the app, sorted."""
    heads = tuple(f"{part.prefix}:{kind}:" for part in parts(keys))
    found: set[str] = set()
    for match in patterns(keys, kind):
        found.update(await scan(client, match, rtype))
    return sorted(name for name in found if name.startswith(heads))


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
    names = await scan_kind(client, keys, "j", "hash")
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
            record = _job_record(name.partition("}:j:")[2], values)
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


async def read_streams(client: aioredis.Redis, keys: Keys, server: str = "") -> list[StreamRecord]:
    """The engine stream and every worker topic of the app: engine first, then by topic.

    A topic has a stream in each partition; its record sums them (depth, pending,
    lag, entries added) and counts its consumers once, by name, however many
    partitions each reads. One pipelined round trip after the ``SCAN``.

    Work handed to a worker in the process that queued it skips the stream (local
    dispatch, ``engine/_local.py``): the work in hand counts as pending (its leases),
    and what this process (``server``: its URL) handed over so far counts as added, so
    a topic served in this process shows its rate. What other processes handed to
    their own workers shows in their members' counts (:func:`read_members`), not here.
    """
    names = await scan_kind(client, keys, "x", "stream")
    if not names:
        return []
    pipe = client.pipeline(transaction=False)
    topics = []
    leases: list[bool] = []  # whether the stream's lease set was asked for too
    for name in names:
        topic = name.partition("}:x:")[2]
        topics.append(topic)
        pipe.xinfo_stream(name)
        pipe.xinfo_groups(name)
        pipe.xinfo_consumers(name, WORKER_GROUP if topic else ENGINE_GROUP)
        part = keys.partition_of_key(name) if topic else None
        leases.append(part is not None)
        if part is not None:
            pipe.zcard(part.work_leases(topic))
    replies = iter(await pipe.execute(raise_on_error=False))
    found: dict[str, list[tuple[str, Any, Any, Any]]] = {}
    for name, topic, asked in zip(names, topics, leases):
        info, groups, consumers = next(replies), next(replies), next(replies)
        leased = next(replies) if asked else None
        if isinstance(info, Exception) or isinstance(groups, Exception):
            continue  # deleted between SCAN and XINFO
        if leased is not None and not isinstance(leased, Exception):
            info = {
                **info,
                "local-pending": int(leased or 0),
                "local-added": _local.taken(server, name),
            }
        found.setdefault(topic, []).append((name, info, groups, consumers))
    records = [_stream_record(topic, streams) for topic, streams in found.items()]
    records.sort(key=lambda r: (r.role != "engine", r.stream))
    return records


def _stream_record(topic: str, streams: list[tuple[str, Any, Any, Any]]) -> StreamRecord:
    """One topic's record from its partitions' ``XINFO`` replies (sorted by key)."""
    wanted = WORKER_GROUP if topic else ENGINE_GROUP
    depth = pending = group_consumers = 0
    lags: list[Any] = []
    added: list[Any] = []
    idle: dict[str, int] = {}  # consumer name → its least idle time over the partitions
    named = True
    for _, info, groups, consumers in streams:
        ours = [g for g in groups if g.get("name") == wanted] or list(groups)
        depth += int(info.get("length", 0))
        entries_added = info.get("entries-added")
        added.append(
            None if entries_added is None else int(entries_added) + info.get("local-added", 0)
        )
        pending += sum(int(g.get("pending") or 0) for g in ours) + info.get("local-pending", 0)
        group_consumers = max(group_consumers, sum(int(g.get("consumers") or 0) for g in ours))
        lags.extend(g.get("lag") for g in ours)
        if isinstance(consumers, Exception):
            named = False
            continue
        for consumer in consumers:
            name, ms = str(consumer.get("name")), int(consumer.get("idle") or 0)
            idle[name] = min(ms, idle.get(name, ms))
    return StreamRecord(
        stream=topic or "engine",
        role="worker" if topic else "engine",
        key=streams[0][0],
        depth=depth,
        pending=pending,
        consumers=len(idle) if named else group_consumers,
        lag=sum(int(v) for v in lags) if lags and None not in lags else None,
        added=sum(int(v) for v in added) if None not in added else None,
        live=sum(1 for ms in idle.values() if ms < LIVE_IDLE_MS),
        idle_ms=min(idle.values()) if idle else None,
        keys=tuple(name for name, *_ in streams),
    )


def stream_name(key: str) -> str:
    """How a view names a stream key: its worker topic, or ``engine`` (in any partition)."""
    head, sep, topic = key.partition("}:x:")
    if not sep or not head.startswith("{"):
        return key  # not a stream key of ours: shown as it is
    return topic or "engine"


async def read_dead_letters(client: aioredis.Redis, keys: Keys, count: int) -> list[dict[str, Any]]:
    """The newest ``count`` dead letters of every partition, newest first (none while the
    app's layout is unknown here)."""
    if not keys.known:
        return []
    return await dead_letters.read(client, keys, count)


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
