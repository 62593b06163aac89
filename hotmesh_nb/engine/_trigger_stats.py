"""A trigger's ``stats``: job counts and ids by key, facet and time bucket.

The original's (deprecated) reporter: a trigger with ``stats.key`` and
``stats.measures`` records each new job in a time bucket of its key —

* ``count`` (every job), ``count:<target>:<value>`` for a ``count`` measure,
  ``sum:<target>`` / ``avg:<target>`` adding the value (one hash per bucket);
* ``index`` measures list the job's id under the facet ``<target>:<value>``;
* ``mdn`` measures keep the values in a sorted set.

``<target>`` is the measure's rule without its first three segments
(``{$self.input.data.parent_job_id}`` → ``parent_job_id``, deeper paths joined
by ``/``); buckets are UTC times floored to the granularity (``5m`` by default,
``10m``, ``15m``, ``30m``, ``1h``, or ``infinity`` for one bucket ``0``).
:func:`get_stats`, :func:`get_ids` and ``hook_all``'s key resolver read them
back over a window (``range`` such as ``'1h'``, ``start``, ``end`` or
``'NOW'``), the first two in the original's reports, key for key (which have
the ``count`` measures only); :func:`measure_rows` gives every measure. Unlike
the original, buckets expire ``EngineConfig.stats_expire`` seconds after their
last write, a namespace other than ``hmsh`` works, and a query with ``range``
alone, or with ``start`` and ``end``, covers the window it names (FIDELITY.md).

Partitions: a job's stats are written in its own partition (the creating step
touches one slot), so one key's bucket is spread over the app's P partitions.
The readers read every partition in one pipelined round trip and merge —
counters summed, id lists concatenated (bucket, then partition, then creation
order), medians taken over the union of the sorted sets — so that a report is
the one a single partition would give (ids within one bucket aside, whose order
across partitions is by partition: there is no global order of creation).
"""

from __future__ import annotations

import datetime as dt
import heapq
import re
import time
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis

from ..errors import HotMeshError
from ..keys import Keys, Partition
from ..mapping import UNDEFINED, to_js_string

MINUTES = {"5m": 5, "10m": 10, "15m": 15, "30m": 30, "1h": 60}
"""Granularities (bucket width in minutes); ``infinity`` is one bucket, ``0``."""

DEFAULT_GRANULARITY = "5m"

_RANGE = re.compile(r"^(\d+)\s*([mhd])$")
_UNIT = {"m": 60, "h": 3600, "d": 86400}


def target_path(rule: Any) -> str:
    """The name a measure's values are filed under (its rule minus three segments)."""
    parts = str(rule).strip().strip("{}").split(".")
    return "/".join(parts[3:]) or parts[-1]


def granularity_of(stats: dict[str, Any]) -> str:
    """The trigger's bucket width, checked."""
    value = str(stats.get("granularity") or DEFAULT_GRANULARITY)
    if value != "infinity" and value not in MINUTES:
        raise HotMeshError(
            f"stats granularity {value!r} is not one of {', '.join([*MINUTES, 'infinity'])}"
        )
    return value


def bucket_of(moment: dt.datetime, granularity: str) -> str:
    """The bucket (``YYYYMMDDHHmm``, UTC, floored) that ``moment`` falls in."""
    if granularity == "infinity":
        return "0"
    width = MINUTES[granularity]
    moment = moment.astimezone(dt.timezone.utc)
    floored = moment.replace(minute=moment.minute - moment.minute % width, second=0, microsecond=0)
    return floored.strftime("%Y%m%d%H%M")


_current: dict[str, tuple[int, str]] = {}


def current_bucket(stats: dict[str, Any]) -> str:
    """The bucket a job started now falls in: its metadata's ``ts`` (``'0'`` for an
    ``infinity`` granularity), worked out once a minute per granularity."""
    try:
        granularity = granularity_of(stats)
    except HotMeshError:
        granularity = DEFAULT_GRANULARITY  # refused where the stats are recorded
    now = time.time()
    minute = int(now // 60)
    cached = _current.get(granularity)
    if cached is None or cached[0] != minute:
        moment = dt.datetime.fromtimestamp(minute * 60, dt.timezone.utc)
        cached = _current[granularity] = (minute, bucket_of(moment, granularity))
    return cached[1]


def record(
    step: Any,
    trigger: Any,
    ctx: dict[str, Any],
    job_id: str,
    key: str,
    ttl: int,
    part: Partition | None = None,
) -> None:
    """Queue the stats writes of a new job on its creating step.

    They go to ``part``, the partition of the job being created (by default
    ``keys.part_of(job_id)``, which it always is): the creating script touches
    that partition's slot only.
    """
    stats = trigger.stats or {}
    if not key or not stats.get("measures"):  # most triggers: no list to build
        return
    measures = [m for m in stats["measures"] if isinstance(m, dict)]
    if not measures:
        return
    if part is None:
        part = step.app.keys.part_of(job_id)
    values = []
    for measure in measures:
        rule = measure.get("target")
        value = step.resolve(rule, ctx, trigger, "stats.measures.target")
        values.append((str(measure.get("measure")), target_path(rule), value))
    bucket = bucket_of(dt.datetime.now(dt.timezone.utc), granularity_of(stats))
    for op in stat_ops(part, key, bucket, job_id, values, ttl):
        step.add_stat(*op)


StatOp = tuple[str, str, Any, Any, int | str]
"""One stats write: ``(kind, key, a, b, ttl)``, the arguments of ``Step.add_stat``."""


def stat_ops(
    part: Partition,
    key: str,
    bucket: str,
    job_id: str,
    values: Sequence[tuple[str, str, Any]],
    ttl: int,
) -> list[StatOp]:
    """The stats writes of one new job of partition ``part`` in ``bucket``.

    ``values`` are the job's measures as ``(measure, target, value)``; a value
    that is missing (or not a number for ``sum``/``avg``/``mdn``) writes nothing.
    """
    counters = part.stats_bucket(key, bucket)
    ops: list[StatOp] = [("hincr", counters, "count", 1, ttl)]  # one EXPIRE for the hash
    for kind, target, value in values:
        if value in (None, UNDEFINED):
            continue
        if kind == "count":
            ops.append(("hincr", counters, f"count:{target}:{to_js_string(value)}", 1, ""))
        elif kind in ("sum", "avg") and _is_number(value):
            ops.append(("hincr", counters, f"{kind}:{target}", value, ""))
        elif kind == "index":
            facet = f"{target}:{to_js_string(value)}"
            ops.append(("rpush", part.stats_ids(key, bucket, facet), job_id, "", ttl))
        elif kind == "mdn" and _is_number(value):
            ops.append(("zadd", part.stats_median(key, bucket, target), value, job_id, ttl))
    return ops


def median_targets(stats: dict[str, Any]) -> list[str]:
    """The targets of a trigger's ``mdn`` measures (what :func:`measure_rows` ``medians`` takes)."""
    return [
        target_path(m.get("target"))
        for m in stats.get("measures") or []
        if isinstance(m, dict) and m.get("measure") == "mdn"
    ]


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def window(query: dict[str, Any], granularity: str, now: dt.datetime | None = None) -> list[str]:
    """The buckets a query covers (``range`` with ``end``/``start``, or ``start`` and ``end``)."""
    if granularity == "infinity":
        return ["0"]
    now = now or dt.datetime.now(dt.timezone.utc)
    given = [name for name in ("start", "end", "range") if query.get(name) not in (None, "")]
    if given == ["range"]:
        given = ["end", "range"]
        query = {**query, "end": "NOW"}
    if len(given) != 2:
        raise HotMeshError(
            "a stats query needs exactly two of 'start', 'end' and 'range' (or 'range' alone, "
            "ending now), e.g. {'data': {...}, 'range': '1h', 'end': 'NOW'}"
        )
    start = _moment(query.get("start"), now) if "start" in given else None
    end = _moment(query.get("end"), now) if "end" in given else None
    span = _span(query["range"]) if "range" in given else None
    if start is None:
        assert end is not None and span is not None
        start = end - span
    elif end is None:
        assert span is not None
        end = start + span
    if end < start:
        raise HotMeshError("a stats query's 'end' is before its 'start'")
    step = dt.timedelta(minutes=MINUTES[granularity])
    out: list[str] = []
    cursor = dt.datetime.strptime(bucket_of(start, granularity), "%Y%m%d%H%M").replace(
        tzinfo=dt.timezone.utc
    )
    while cursor <= end:
        out.append(cursor.strftime("%Y%m%d%H%M"))
        cursor += step
    return out


def _moment(value: Any, now: dt.datetime) -> dt.datetime:
    if value == "NOW":
        return now
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if _is_number(value):
        return dt.datetime.fromtimestamp(float(value) / 1000, dt.timezone.utc)
    try:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise HotMeshError(
            f"stats query time {value!r}: use 'NOW', an ISO date or epoch milliseconds"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def _span(value: Any) -> dt.timedelta:
    match = _RANGE.match(str(value).strip())
    if not match:
        raise HotMeshError(f"stats range {value!r}: use minutes, hours or days, e.g. '90m', '1h'")
    return dt.timedelta(seconds=int(match.group(1)) * _UNIT[match.group(2)])


async def _read_counters(
    client: aioredis.Redis, keys: Keys, key: str, buckets: Sequence[str], medians: Sequence[str]
) -> tuple[list[dict[str, float]], list[dict[str, list[float]]]]:
    """Each bucket's counters (every partition's hash, merged) and ``mdn`` values."""
    parts = keys.parts
    pipe = client.pipeline(transaction=False)
    for bucket in buckets:
        for part in parts:
            pipe.hgetall(part.stats_bucket(key, bucket))
    for bucket in buckets:
        for target in medians:
            for part in parts:
                pipe.zrange(part.stats_median(key, bucket, target), 0, -1, withscores=True)
    replies = iter(await pipe.execute())
    hashes = [merge_counters([next(replies) for _ in parts]) for _ in buckets]
    values = [
        {target: merge_sorted([next(replies) for _ in parts]) for target in medians}
        for _ in buckets
    ]
    return hashes, values


def _counts(fields: dict[str, float]) -> list[dict[str, Any]]:
    """A bucket's ``count`` measures (``count:<target>:<value>`` fields), in field order."""
    return [
        {"target": name[6:], "type": "count", "value": _num(value)}
        for name, value in fields.items()
        if name.startswith("count:")
    ]


async def get_stats(
    client: aioredis.Redis,
    keys: Keys,
    key: str,
    granularity: str,
    query: dict[str, Any],
) -> dict[str, Any]:
    """Job counts of ``key`` over the query's window, from every partition, in the
    original's report: ``{key, granularity, range?, end?, count, measures,
    segments?}``.

    ``measures`` are the ``count`` measures over the window (``{target:
    '<target>:<value>', type: 'count', value}``, in order of first appearance),
    as the original reports them: its report leaves ``sum``, ``avg`` and ``mdn``
    out (:func:`measure_rows` has them). ``range`` and ``end`` echo the query
    when it has them. ``segments`` (absent when ``sparse`` is ``True``) has one
    ``{count?, time, measures}`` per bucket, ``time`` as ``YYYY-MM-DDTHH:MMZ``
    (``'0'`` for ``infinity``); an empty bucket has no ``count``.
    """
    buckets = window(query, granularity)
    hashes, _ = await _read_counters(client, keys, key, buckets, ())
    total = 0.0
    measures: dict[str, float] = {}
    segments = []
    for bucket, fields in zip(buckets, hashes):
        total += fields.get("count", 0.0)
        found = _counts(fields)
        for measure in found:
            measures[measure["target"]] = measures.get(measure["target"], 0.0) + measure["value"]
        segment: dict[str, Any] = {"count": _num(fields["count"])} if "count" in fields else {}
        segment["time"] = iso_bucket(bucket)
        segment["measures"] = found
        segments.append(segment)
    report: dict[str, Any] = {"key": key, "granularity": granularity}
    for name in ("range", "end"):
        if query.get(name) is not None:
            report[name] = query[name]
    report["count"] = _num(total)
    report["measures"] = [
        {"target": target, "type": "count", "value": _num(value)}
        for target, value in measures.items()
    ]
    if query.get("sparse") is not True:
        report["segments"] = segments
    return report


async def measure_rows(
    client: aioredis.Redis,
    keys: Keys,
    key: str,
    granularity: str,
    query: dict[str, Any],
    medians: Sequence[str] = (),
) -> list[tuple[str, str, str, int | float]]:
    """Every measure of ``key`` per bucket of the query's window, as ``(bucket, target,
    type, value)`` rows: the bucket's job count (target ``'jobs'``), then its ``count``,
    ``sum`` and ``avg`` measures (``avg`` is the sum over the bucket's jobs) and the
    median of each of ``medians`` (see :func:`median_targets`). Only buckets that
    hold something have rows; ``sparse`` is ignored.
    """
    buckets = window(query, granularity)
    hashes, values = await _read_counters(client, keys, key, buckets, medians)
    rows: list[tuple[str, str, str, int | float]] = []
    for bucket, fields, found in zip(buckets, hashes, values):
        count = fields.get("count", 0.0)
        if fields:
            rows.append((bucket, "jobs", "count", _num(count)))
        for name, value in fields.items():
            if name == "count":
                continue
            kind, _, target = name.partition(":")
            if kind == "avg":
                value = value / count if count else 0.0
            rows.append((bucket, target, kind, _num(value)))
        for target in medians:
            if found[target]:
                rows.append((bucket, target, "mdn", _num(median(found[target]))))
    return rows


def iso_bucket(bucket: str) -> str:
    """A bucket as the original's reports name it: ``YYYY-MM-DDTHH:MMZ`` (``'0'``,
    the ``infinity`` bucket, stays ``'0'``)."""
    if len(bucket) != 12:
        return bucket
    return f"{bucket[:4]}-{bucket[4:6]}-{bucket[6:8]}T{bucket[8:10]}:{bucket[10:12]}Z"


def merge_counters(hashes: Sequence[dict[str, Any]]) -> dict[str, float]:
    """One bucket's counter hashes of every partition, summed field by field."""
    merged: dict[str, float] = {}
    for fields in hashes:
        for name, raw in fields.items():
            merged[name] = merged.get(name, 0.0) + float(raw)
    return merged


def merge_sorted(sets: Sequence[Sequence[tuple[str, float]]]) -> list[float]:
    """The scores of one bucket's ``mdn`` sorted sets of every partition, as one sorted list.

    A job is in one partition only, so the union is the concatenation; each set
    comes sorted from ``ZRANGE``, so a k-way merge keeps the whole sorted.
    """
    return list(heapq.merge(*([float(score) for _, score in found] for found in sets)))


def median(values: Sequence[float]) -> float:
    """The median of sorted ``values`` (the mean of the middle two for an even count)."""
    middle = len(values) // 2
    if len(values) % 2:
        return values[middle]
    return (values[middle - 1] + values[middle]) / 2


async def get_ids(
    client: aioredis.Redis,
    keys: Keys,
    key: str,
    granularity: str,
    query: dict[str, Any],
    facets: list[str],
) -> dict[str, Any]:
    """Ids of ``key``'s jobs indexed under each facet, per bucket of the query's window, in
    the original's report: ``{key, facets, granularity, range?, start?, counts,
    segments}``.

    No ``facets`` means those of the ``count`` measures :func:`get_stats` finds.
    ``counts`` has one ``{facet, count}`` per facet; every bucket has a segment
    ``{time, measures}`` with one ``{type: 'ids', target, time, count, ids}`` per
    facet, empty ones included (``sparse`` is ignored, as by the original).
    ``range`` and ``start`` echo the query when it has them. Each bucket's ids are
    every partition's list, concatenated in partition order (each list in
    creation order).
    """
    if not facets:
        report = await get_stats(client, keys, key, granularity, query)
        facets = list(dict.fromkeys(m["target"] for m in report["measures"]))
    buckets = window(query, granularity) if facets else []
    parts = keys.parts
    pipe = client.pipeline(transaction=False)
    for facet in facets:
        for bucket in buckets:
            for part in parts:
                pipe.lrange(part.stats_ids(key, bucket, facet), 0, -1)
    lists = iter(await pipe.execute())
    found = {
        (facet, bucket): [job_id for _ in parts for job_id in next(lists)]
        for facet in facets
        for bucket in buckets
    }
    counts: dict[str, int] = {}
    for (facet, _), ids in found.items():
        counts[facet] = counts.get(facet, 0) + len(ids)
    segments = []
    for bucket in buckets:
        time = iso_bucket(bucket)
        measures = [
            {"type": "ids", "target": f, "time": time, "count": len(ids), "ids": ids}
            for f in facets
            for ids in (found[f, bucket],)
        ]
        segments.append({"time": time, "measures": measures})
    report = {"key": key, "facets": facets, "granularity": granularity}
    for name in ("range", "start"):
        if query.get(name) is not None:
            report[name] = query[name]
    report["counts"] = [{"facet": f, "count": n} for f, n in counts.items()]
    report["segments"] = segments
    return report


def ids_of(report: dict[str, Any]) -> list[str]:
    """Every job id of a :func:`get_ids` report, once, in bucket order."""
    seen: dict[str, None] = {}
    for segment in report["segments"]:
        for measure in segment["measures"]:
            seen.update(dict.fromkeys(measure["ids"]))
    return list(seen)


def id_lists(
    keys: Keys, key: str, granularity: str, query: dict[str, Any], facets: Sequence[str]
) -> dict[Partition, list[str]]:
    """The id lists a query covers, by partition (what ``hook_all``'s ``scrub`` deletes)."""
    buckets = window(query, granularity)
    return {
        part: [part.stats_ids(key, bucket, facet) for bucket in buckets for facet in facets]
        for part in keys.parts
    }


async def scrub(
    client: aioredis.Redis,
    keys: Keys,
    key: str,
    granularity: str,
    query: dict[str, Any],
    facets: Sequence[str],
) -> int:
    """Delete the id lists a query covers in every partition; returns how many existed.

    One ``DEL`` per partition (a ``DEL`` of keys in several slots is refused by a
    cluster), all in one pipelined round trip.
    """
    lists = [names for names in id_lists(keys, key, granularity, query, facets).values() if names]
    if not lists:
        return 0
    pipe = client.pipeline(transaction=False)
    for names in lists:
        pipe.delete(*names)
    return sum(int(n) for n in await pipe.execute())


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value
