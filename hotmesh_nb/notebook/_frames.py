"""pandas DataFrames of jobs, job timelines, streams and members, with typed columns.

Column order is fixed and documented per frame; text columns are pandas'
``string`` dtype, times ``datetime64[ns, UTC]``, durations ``timedelta64[ns]``
and counts nullable ``Int64``, on pandas 2 and 3 alike.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import pandas as pd

from ._paint import failures
from ._probe import MEMBER_COLUMNS, JobRecord, RateMeter, StreamRecord
from ._theme import ERROR, STATUS

if TYPE_CHECKING:
    from pandas.io.formats.style import Styler

JOB_STATUSES = ("running", "pending", "done", "error", "interrupted")
"""Status labels of :func:`jobs_frame` (see :func:`~.paint.job_status`)."""

JOB_COLUMNS = ("id", "topic", "status", "created", "updated", "duration", "error", "failed")
TIMELINE_COLUMNS = (
    "activity",
    "type",
    "dimension",
    "status",
    "code",
    "start",
    "end",
    "duration",
    "data",
    "error",
)
STREAM_COLUMNS = ("stream", "role", "depth", "pending", "consumers", "live", "lag", "rate")

_TIME = "datetime64[ns, UTC]"
_SPAN = "timedelta64[ns]"
_EARLIEST = datetime.min.replace(tzinfo=timezone.utc)
_FINISHED = {"done", "error", "interrupted"}


def _frame(columns: dict[str, pd.Series]) -> pd.DataFrame:
    return pd.DataFrame(columns).reset_index(drop=True)


def _statuses(status: str | Iterable[str] | None) -> set[str] | None:
    if status is None:
        return None
    wanted = {status} if isinstance(status, str) else set(status)
    unknown = wanted - set(JOB_STATUSES)
    if unknown:
        raise ValueError(
            f"unknown job status {', '.join(sorted(unknown))}; use one of {', '.join(JOB_STATUSES)}"
        )
    return wanted


def jobs_frame(
    records: Iterable[JobRecord],
    *,
    status: str | Iterable[str] | None = None,
    limit: int | None = 1000,
) -> pd.DataFrame:
    """Jobs newest first (ties by id): ``id, topic, status, created, updated, duration, error,
    failed``.

    ``status`` keeps only jobs with that status (or any of several);
    ``limit`` keeps the newest ``limit`` (None: all). ``duration`` is
    ``updated - created`` for finished jobs and NaT while they run.
    ``failed`` names the activities that failed (a job can finish ``done``
    after a worker raised, when the next transition has no conditions);
    ``error`` is the job's error, else the first failed activity's.
    """
    if limit is not None and (not isinstance(limit, int) or limit < 0):
        raise ValueError(f"limit must be a non-negative integer or None, not {limit!r}")
    wanted = _statuses(status)
    chosen = [r for r in records if wanted is None or r.status in wanted]
    chosen.sort(key=lambda r: r.id)
    chosen.sort(key=lambda r: r.created or _EARLIEST, reverse=True)  # stable: ids stay sorted
    if limit is not None:
        chosen = chosen[:limit]
    durations = [
        r.updated - r.created if r.status in _FINISHED and r.updated and r.created else None
        for r in chosen
    ]
    return _frame(
        {
            "id": pd.Series([r.id for r in chosen], dtype="string"),
            "topic": pd.Series([r.topic for r in chosen], dtype="string"),
            "status": pd.Series([r.status for r in chosen], dtype="string"),
            "created": pd.Series([r.created for r in chosen], dtype=_TIME),
            "updated": pd.Series([r.updated for r in chosen], dtype=_TIME),
            "duration": pd.Series(durations, dtype=_SPAN),
            "error": pd.Series([r.problem for r in chosen], dtype="string"),
            "failed": pd.Series(
                [", ".join(dict.fromkeys(f.activity for f in r.failures)) or None for r in chosen],
                dtype="string",
            ),
        }
    )


def timeline_frame(export: dict[str, Any]) -> pd.DataFrame:
    """One row per activity run, in start order: ``activity, type, dimension, status, code,
    start, end, duration, data, error`` (``end``/``duration`` are NaT while the run is open;
    ``error`` is a failed run's message, with its exception type when recorded)."""
    entries: Sequence[dict[str, Any]] = export.get("timeline") or []
    spans = [
        e["end"] - e["start"] if e.get("end") is not None and e.get("start") is not None else None
        for e in entries
    ]
    codes = [int(e["code"]) if e.get("code") is not None else None for e in entries]
    messages = []
    for entry in entries:
        failed = failures([entry])
        messages.append(failed[0].text().partition(": ")[2] if failed else None)
    return _frame(
        {
            "activity": pd.Series([e.get("activity") for e in entries], dtype="string"),
            "type": pd.Series([e.get("type") for e in entries], dtype="string"),
            "dimension": pd.Series([e.get("dimension") for e in entries], dtype="string"),
            "status": pd.Series([e.get("status") for e in entries], dtype="string"),
            "code": pd.Series(codes, dtype="Int64"),
            "start": pd.Series([e.get("start") for e in entries], dtype=_TIME),
            "end": pd.Series([e.get("end") for e in entries], dtype=_TIME),
            "duration": pd.Series(spans, dtype=_SPAN),
            "data": pd.Series([e.get("data") for e in entries], dtype=object),
            "error": pd.Series(messages, dtype="string"),
        }
    )


def streams_frame(records: Sequence[StreamRecord], meter: RateMeter) -> pd.DataFrame:
    """``stream, role, depth, pending, consumers, live, lag, rate``: the engine stream first,
    then worker topics by name, one row each with the totals over the app's partitions.
    ``consumers`` counts the group's registered consumers (once each, however many partitions
    they read), ``live`` those that read recently (a crashed process's consumer stays
    registered but goes idle). ``rate`` is entries added per second since the meter's previous
    look at the stream (NaN the first time)."""
    rates = [meter.rate(r.key, r.added) for r in records]
    return _frame(
        {
            "stream": pd.Series([r.stream for r in records], dtype="string"),
            "role": pd.Series([r.role for r in records], dtype="string"),
            "depth": pd.Series([r.depth for r in records], dtype="Int64"),
            "pending": pd.Series([r.pending for r in records], dtype="Int64"),
            "consumers": pd.Series([r.consumers for r in records], dtype="Int64"),
            "live": pd.Series([r.live for r in records], dtype="Int64"),
            "lag": pd.Series([r.lag for r in records], dtype="Int64"),
            "rate": pd.Series(rates, dtype="float64"),
        }
    )


WORKER_COLUMNS = ("app", "role", "topic", "member", "pid", "processed", "failed", "started")
"""The default columns of :func:`members_frame` (at most 8, so it fits a notebook)."""


def members_frame(rows: Sequence[dict[str, Any]], *, all_columns: bool = False) -> pd.DataFrame:
    """Engines and workers: ``app, role, topic, member, pid, processed, failed, started``.

    ``started`` is a UTC datetime. With ``all_columns`` every roll-call field
    comes too: ``member, role, app, namespace, topic, host, pid, processed,
    failed, in_flight``, then the others by name (``stream`` is the Redis key
    the member reads).
    """
    if all_columns:
        extra = sorted({k for row in rows for k in row} - set(MEMBER_COLUMNS))
        names: tuple[str, ...] = (*MEMBER_COLUMNS, *extra)
    else:
        names = WORKER_COLUMNS
    columns: dict[str, pd.Series] = {}
    for name in names:
        values = [row.get(name) for row in rows]
        if name == "started":
            columns[name] = pd.Series([_epoch(v) for v in values], dtype=_TIME)
        else:
            columns[name] = pd.Series(values, dtype=_dtype_of(name, values))
    return _frame(columns)


def _epoch(value: Any) -> datetime | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    return value if isinstance(value, datetime) else None


def _dtype_of(name: str, values: list[Any]) -> str | type:
    present = [v for v in values if v is not None]
    if name in ("pid", "processed", "failed", "in_flight") or (
        present and all(isinstance(v, int) and not isinstance(v, bool) for v in present)
    ):
        return "Int64"
    if all(isinstance(v, str) for v in present):
        return "string"
    return object


def style_status(frame: pd.DataFrame) -> Styler:
    """``frame`` as a pandas ``Styler`` whose ``status`` cells (and non-empty ``error``
    cells) are coloured by status; other cells keep the theme's text colour.

    The Styler's table id is fixed, so its HTML is the same from run to run.
    """
    if "status" not in frame.columns:
        raise ValueError(
            "style_status needs a frame with a 'status' column, such as hm.jobs() or "
            f"hm.timeline(job_id); this one has {', '.join(map(str, frame.columns)) or 'none'}"
        )

    def colour(value: Any) -> str:
        css = STATUS.get(str(value)) if not pd.isna(value) else None
        return f"color: {css}; font-weight: bold" if css else ""

    def error(value: Any) -> str:
        return "" if pd.isna(value) or not str(value) else f"color: {ERROR}"

    styler = frame.style.set_uuid("hotmesh").map(colour, subset=["status"])
    if "error" in frame.columns:
        styler = styler.map(error, subset=["error"])
    return styler
