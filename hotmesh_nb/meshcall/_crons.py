"""``cron`` and ``interrupt``: a function run on a schedule as one ``meshcall.cron`` job.

The job ``cron:<topic>:<id>`` cycles — sleep on a durable timer, run the
function, go again — until ``max_cycles`` runs happened or it is
interrupted. It lives in Redis, so the schedule survives restarts of every
process: any engine of the namespace fires its timers and any worker of the
topic runs the function. A run that raises is recorded in the job (its
activity shows the error) and the schedule carries on.

The finished or interrupted job stays readable for the engine's
``default_expire`` (an hour); starting a cron with the same id replaces it.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any

from croniter import CroniterBadDateError, CroniterError, croniter

from ..durations import Duration, to_seconds
from ..engine._worker_service import WorkerMessage
from ..errors import DuplicateJobError, JobNotFoundError
from ..hotmesh import HotMesh
from . import _jobs as jobs
from ._adapter import encode
from ._meshcall_app import CRON_TOPIC

MIN_INTERVAL = 1
"""Shortest interval in seconds: the resolution of the engine's durable timers."""

DEFAULT_MAX_CYCLES = 100_000
"""Runs after which a cron ends when ``max_cycles`` is not given (as in the original)."""

SYNTAX = (
    "5 fields 'minute hour day-of-month month day-of-week', or 6 with a seconds field first "
    "(UTC); each field '*', a number, a range 'a-b', a list 'a,b', a step '*/5' or 'a-b/2'; "
    "month and weekday names ('jan', 'mon-fri'); 'L' (last day of the month), '15W' "
    "(weekday nearest the 15th), '5#2' (second Friday), '5L' (last Friday), '?'; or an "
    "alias: @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly"
)
"""The cron syntax ``cron()`` reads, for error messages."""

_ALIASES = frozenset(
    {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
)
_WEEKDAYS = {
    name: str(n) for n, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))
}
# '5L' / 'friL' (last Friday of the month): the original's parser spells it this way,
# croniter spells it 'L5'.
_LAST_WEEKDAY = re.compile(r"^([0-7]|sun|mon|tue|wed|thu|fri|sat)l$")


def cron_job_id(topic: str, cron_id: str) -> str:
    """The job id of a cron: ids are scoped by topic."""
    return f"cron:{topic}:{cron_id}"


def is_cron_expression(interval: Duration) -> bool:
    """True when ``interval`` is written as a cron expression rather than a duration.

    Durations are one or two words (``'1 day'``, ``'90'``); cron expressions
    are an ``@`` alias or five or more fields.
    """
    if not isinstance(interval, str):
        return False
    text = interval.strip()
    return text.startswith("@") or len(text.split()) >= 5


def parse_cron(expression: str) -> str:
    """The expression as croniter reads it (lower case, ``5L`` as ``L5``), validated.

    Raises ``ValueError`` naming the expression and the accepted syntax when it
    cannot be read or never fires.
    """
    text = " ".join(expression.split()).lower()
    if text.startswith("@"):
        if text not in _ALIASES:
            raise ValueError(f"unknown cron alias {expression!r}: use {SYNTAX}")
    else:
        fields = text.split(" ")
        if len(fields) not in (5, 6):
            raise ValueError(
                f"cron expression {expression!r} has {len(fields)} fields: use {SYNTAX}"
            )
        weekday = fields[-1].split(",")
        for i, item in enumerate(weekday):
            last = _LAST_WEEKDAY.match(item)
            if last:
                day = last.group(1)
                weekday[i] = "l" + _WEEKDAYS.get(day, day)
        fields[-1] = ",".join(weekday)
        text = " ".join(fields)
    try:
        croniter(text, _utc(0), second_at_beginning=True)
    except (CroniterError, ValueError, KeyError) as exc:
        raise ValueError(f"invalid cron expression {expression!r} ({exc}): use {SYNTAX}") from None
    try:
        next_fire(text, time.time())
    except CroniterBadDateError:
        raise ValueError(f"the cron expression {expression!r} never fires") from None
    return text


def _utc(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=timezone.utc)


def next_fire(expression: str, after: float) -> float:
    """The first time (epoch seconds) strictly after ``after`` that ``expression`` names (UTC).

    ``expression`` is one :func:`parse_cron` returned; a sixth field comes first
    and counts seconds, as in the original's cron parser.
    """
    return float(croniter(expression, _utc(after), second_at_beginning=True).get_next(float))


def plan(expression: str, after_ms: float | None, now: float) -> dict[str, Any]:
    """The next run of a scheduled cron: ``{'at': <epoch ms>, 'sleep': <seconds>}``.

    The next schedule point is strictly after both ``now`` and the previous
    point ``after_ms``: a timer that fired a little early (clocks of two
    processes differ) never runs one point twice. A run that overran later
    points skips them, as the original does.
    """
    base = now if after_ms is None else max(now, after_ms / 1000)
    at = next_fire(expression, base)
    # Whole milliseconds, rounded up: the engine's timer never fires before the point.
    return {"at": math.ceil(at * 1000), "sleep": math.ceil((at - now) * 1000) / 1000}


async def plan_callback(message: WorkerMessage) -> dict[str, Any]:
    """The worker of the cron graph's ``plan`` activity: when to run next."""
    after = message.data.get("after")
    return plan(
        str(message.data["cron"]),
        float(after) if isinstance(after, (int, float)) else None,
        time.time(),
    )


def schedule(interval: Duration, delay: Duration | None, max_cycles: int | None) -> dict[str, Any]:
    """The cron job's timing fields: ``scheduled``, ``interval`` or ``cron``, ``delay``…

    A cron expression runs on its schedule (UTC): the first run waits for it,
    and ``delay`` does not apply (as in the original). A duration runs at once
    (or after ``delay``) and then waits ``interval`` after each run.
    """
    cycles = DEFAULT_MAX_CYCLES if max_cycles is None else int(max_cycles)
    if cycles < 1:
        raise ValueError(f"max_cycles must be at least 1, not {max_cycles!r}")
    if is_cron_expression(interval):
        expression = parse_cron(str(interval))
        first = plan(expression, None, time.time())
        return {
            "scheduled": True,
            "cron": expression,
            "delay": first["sleep"],
            "at": first["at"],
            "max_cycles": cycles,
        }
    seconds = to_seconds(interval)
    if math.isinf(seconds) or seconds <= 0:
        raise ValueError(f"interval must be a positive duration or a cron expression: {interval!r}")
    fields: dict[str, Any] = {
        "scheduled": False,
        "interval": max(MIN_INTERVAL, math.ceil(seconds)),
        "max_cycles": cycles,
    }
    if delay is not None:
        wait = to_seconds(delay)
        if math.isinf(wait) or wait < 0:
            raise ValueError(f"delay must be a duration of 0 or more seconds, not {delay!r}")
        fields["delay"] = math.ceil(wait)
    return fields


async def start(
    hm: HotMesh,
    topic: str,
    cron_id: str,
    args: Sequence[Any] | None,
    timing: dict[str, Any],
) -> bool:
    """Start the cron unless one with this id runs; True when started."""
    if isinstance(args, (str, bytes, dict)):
        raise TypeError(f"args must be a list of arguments, not {type(args).__name__}")
    job_id = cron_job_id(topic, str(cron_id))
    payload = {
        "id": job_id,
        "topic": topic,
        "args": encode(list(args or []), "MeshCall cron arguments"),
        **timing,
    }
    try:
        await hm.engine.pub(CRON_TOPIC, payload)
        return True
    except DuplicateJobError:
        pass
    # The id is taken. A cron that still runs wins; one that ended is replaced.
    # The delete checks the status atomically: of two callers racing here, one
    # deletes and starts, the other finds the new job running and gets False.
    if not await jobs.delete_if_ended(hm, job_id):
        return False
    try:
        await hm.engine.pub(CRON_TOPIC, payload)
        return True
    except DuplicateJobError:
        return False


async def interrupt(hm: HotMesh, topic: str, cron_id: str) -> bool:
    """Stop the cron quietly; False when it was not running."""
    try:
        return await hm.engine.interrupt(cron_job_id(topic, str(cron_id)), throw=False)
    except JobNotFoundError:
        return False
