"""What a job did at each activity, read from :meth:`HotMesh.export`'s timeline."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from ..engine.codec import loads
from .graph import ActivityState, JobMark


def job_status(semaphore: int | None, failed: bool) -> str:
    """The status label of a job from its semaphore and whether it recorded an error.

    ``> 0`` running (threads open), ``0`` done (or ``error`` when it failed),
    ``<= -100000000`` interrupted, other negatives pending.
    """
    if semaphore is None:
        return "unknown"
    if semaphore > 0:
        return "running"
    if semaphore == 0:
        return "error" if failed else "done"
    if semaphore <= -100_000_000:
        return "interrupted"
    return "pending"


def error_message(error: Any) -> str | None:
    """A one-line message from a stored job error (a dict or text); None when there is none."""
    if not error:
        return None
    if isinstance(error, dict):
        message = str(error.get("message") or "failed")
        code = error.get("code")
        return f"{message} (code {code})" if code is not None else message
    return str(error)


def overlay(
    timeline: list[dict[str, Any]], now: datetime | None = None
) -> dict[str, ActivityState]:
    """Activity id → state, merging all dimensions of each activity.

    An activity is ``error`` when any run reported an error, ``running`` while
    any run is open, otherwise ``done``; its duration spans the first start to
    the last end (or to ``now`` while running).
    """
    now = now or datetime.now(timezone.utc)
    runs: dict[str, list[dict[str, Any]]] = {}
    for entry in timeline:
        runs.setdefault(entry["activity"], []).append(entry)
    states = {}
    for activity_id, entries in runs.items():
        failed = any(e.get("status") == "error" for e in entries)
        open_ = any(e.get("end") is None for e in entries)
        status = "error" if failed else "running" if open_ else "done"
        starts = [e["start"] for e in entries if e.get("start") is not None]
        ends = [e["end"] for e in entries if e.get("end") is not None]
        duration = None
        if starts:
            last = now if open_ else max(ends, default=None)
            if last is not None:
                duration = max(last - min(starts), timedelta(0))
        states[activity_id] = ActivityState(status, duration, len(entries))
    return states


def job_mark(export: dict[str, Any]) -> JobMark:
    """The job line of a painted graph from an export."""
    metadata = export.get("metadata") or {}
    error = error_message(_loads(metadata.get("err")))
    return JobMark(
        id=str(metadata.get("jid", "?")),
        status=job_status(export.get("status"), bool(error)),
        error=error,
        topic=metadata.get("tpc"),
    )


def _loads(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return loads(value)
        except ValueError:
            return value
    return value
