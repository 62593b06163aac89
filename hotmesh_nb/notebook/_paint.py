"""What a job did at each activity, read from :meth:`HotMesh.export`'s timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from .._codec import loads
from ._graph import ActivityState, JobMark


def job_status(semaphore: int | str | None, failed: bool) -> str:
    """The status label of a job from its semaphore and whether it recorded an error.

    ``> 0`` running (threads open), ``0`` done (or ``error`` when it failed),
    ``<= -100000000`` interrupted, other negatives pending. An export's semaphore is
    the stored text (as the original's ``export``).
    """
    if semaphore is None:
        return "unknown"
    semaphore = int(semaphore)
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


@dataclass(frozen=True)
class ActivityFailure:
    """An activity run that ended with an error, though its job may have gone on.

    A worker that raises makes its activity fail; when the next transition has
    no conditions the job still completes (the original's rule). These records
    are how every notebook view says so.
    """

    activity: str
    """The activity id."""
    message: str
    """The error's message."""
    code: int | None = None
    """The error code (500 for an exception a worker raised)."""
    error_type: str | None = None
    """The exception's type, when the engine recorded it."""
    dimension: str = ""
    """Which run of the activity (its dimensional address)."""

    def text(self) -> str:
        """``w1: ValueError: card declined (code 500)``."""
        kind = f"{self.error_type}: " if self.error_type else ""
        code = f" (code {self.code})" if self.code is not None else ""
        return f"{self.activity}: {kind}{self.message}{code}"


def _error_type(error: dict[str, Any], metadata: dict[str, Any]) -> str | None:
    # The stored err stays the original's; the worker activity keeps the exception's
    # type beside it, in ``error_detail`` (older records may carry it in the err).
    detail = metadata.get("error_detail")
    detail = detail if isinstance(detail, dict) else {}
    sources = ((detail, "name"), (error, "name"), (error, "type"), (metadata, "ety"))
    for source, name in sources:
        value = source.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def failure_of(activity: str, dimension: str, metadata: dict[str, Any]) -> ActivityFailure | None:
    """The failure an activity's output metadata records (None when the run succeeded)."""
    raw = metadata.get("err")
    if metadata.get("status") != "error" and not raw:
        return None
    error = _loads(raw) if raw else {}
    if not isinstance(error, dict):
        error = {"message": str(error)}
    code = error.get("code", metadata.get("code"))
    return ActivityFailure(
        activity=activity,
        message=str(error.get("message") or "failed"),
        code=int(code) if isinstance(code, (int, float, str)) and str(code).isdigit() else None,
        error_type=_error_type(error, metadata),
        dimension=dimension,
    )


def failures(timeline: list[dict[str, Any]]) -> list[ActivityFailure]:
    """The failed activity runs of an export's timeline, in start order."""
    out = []
    for entry in timeline:
        if entry.get("status") != "error" and not entry.get("error"):
            continue
        metadata = {
            "status": "error",
            "err": entry.get("error"),
            "code": entry.get("code"),
            "ety": entry.get("error_type"),
        }
        found = failure_of(str(entry.get("activity")), str(entry.get("dimension") or ""), metadata)
        if found is not None:
            out.append(found)
    return out


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
        errors = [f.text() for f in failures(entries)]
        states[activity_id] = ActivityState(
            status, duration, len(entries), errors[0] if errors else None
        )
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
        failures=tuple(failures(export.get("timeline") or [])),
    )


def _loads(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return loads(value)
        except ValueError:
            return value
    return value
