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
``'NOW'``). Unlike the original, buckets expire ``EngineConfig.stats_expire``
seconds after their last write, and a namespace other than ``hmsh`` works.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import redis.asyncio as aioredis

from ..errors import HotMeshError
from ..keys import Keys
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


def record(step: Any, trigger: Any, ctx: dict[str, Any], job_id: str, key: str, ttl: int) -> None:
    """Queue the stats writes of a new job on its creating step."""
    stats = trigger.stats or {}
    measures = [m for m in stats.get("measures") or [] if isinstance(m, dict)]
    if not key or not measures:
        return
    keys = step.part  # a job's stats go to its own partition (merged when read)
    bucket = bucket_of(dt.datetime.now(dt.timezone.utc), granularity_of(stats))
    counters = keys.stats_bucket(key, bucket)
    step.add_stat("hincr", counters, "count", 1, ttl)  # one EXPIRE for the whole hash
    for measure in measures:
        kind = measure.get("measure")
        rule = measure.get("target")
        value = step.resolve(rule, ctx, trigger, "stats.measures.target")
        if value in (None, UNDEFINED):
            continue
        target = target_path(rule)
        if kind == "count":
            step.add_stat("hincr", counters, f"count:{target}:{to_js_string(value)}", 1, "")
        elif kind in ("sum", "avg") and _is_number(value):
            step.add_stat("hincr", counters, f"{kind}:{target}", value, "")
        elif kind == "index":
            facet = f"{target}:{to_js_string(value)}"
            step.add_stat("rpush", keys.stats_ids(key, bucket, facet), job_id, "", ttl)
        elif kind == "mdn" and _is_number(value):
            step.add_stat("zadd", keys.stats_median(key, bucket, target), value, job_id, ttl)


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


async def get_stats(
    client: aioredis.Redis, keys: Keys, key: str, granularity: str, query: dict[str, Any]
) -> dict[str, Any]:
    """Job counts and measures of ``key`` over the query's window."""
    buckets = window(query, granularity)
    pipe = client.pipeline(transaction=False)
    for bucket in buckets:
        pipe.hgetall(keys.stats_bucket(key, bucket))
    hashes = await pipe.execute()
    total = 0.0
    sums: dict[str, float] = {}
    segments = []
    for bucket, fields in zip(buckets, hashes):
        count = float(fields.get("count", 0))
        total += count
        measures = []
        for name, raw in sorted(fields.items()):
            if name == "count":
                continue
            kind, _, target = name.partition(":")
            value = float(raw)
            sums[name] = sums.get(name, 0.0) + value
            measures.append({"target": target, "type": kind, "value": _num(value)})
        if fields or not query.get("sparse"):
            segments.append({"time": bucket, "count": _num(count), "measures": measures})
    measures = []
    for name, value in sorted(sums.items()):
        kind, _, target = name.partition(":")
        if kind == "avg":
            value = value / total if total else 0.0
        measures.append({"target": target, "type": kind, "value": _num(value)})
    return {
        "key": key,
        "granularity": granularity,
        "range": query.get("range"),
        "end": query.get("end", "NOW" if query.get("range") else None),
        "count": _num(total),
        "measures": measures,
        "segments": segments,
    }


async def get_ids(
    client: aioredis.Redis,
    keys: Keys,
    key: str,
    granularity: str,
    query: dict[str, Any],
    facets: list[str],
) -> dict[str, Any]:
    """Ids of ``key``'s jobs indexed under each facet, per bucket of the query's window."""
    buckets = window(query, granularity)
    pipe = client.pipeline(transaction=False)
    for bucket in buckets:
        for facet in facets:
            pipe.lrange(keys.stats_ids(key, bucket, facet), 0, -1)
    lists = iter(await pipe.execute())
    counts = dict.fromkeys(facets, 0)
    segments = []
    for bucket in buckets:
        measures = []
        for facet in facets:
            ids = next(lists)
            counts[facet] += len(ids)
            if ids:
                measures.append(
                    {"time": bucket, "target": facet, "count": len(ids), "type": "ids", "ids": ids}
                )
        if measures or not query.get("sparse"):
            segments.append({"time": bucket, "measures": measures})
    return {
        "key": key,
        "facets": facets,
        "granularity": granularity,
        "range": query.get("range"),
        "start": buckets[0] if buckets else None,
        "counts": [{"facet": f, "count": n} for f, n in counts.items()],
        "segments": segments,
    }


def ids_of(report: dict[str, Any]) -> list[str]:
    """Every job id of a :func:`get_ids` report, once, in bucket order."""
    seen: dict[str, None] = {}
    for segment in report["segments"]:
        for measure in segment["measures"]:
            seen.update(dict.fromkeys(measure["ids"]))
    return list(seen)


def _num(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value
