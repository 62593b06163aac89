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
from collections.abc import Sequence
from typing import Any

from ..durations import Duration, to_seconds
from ..errors import DuplicateJobError, JobNotFoundError
from ..hotmesh import HotMesh
from ..mapping.functions.cron import is_valid_cron, nextDelay
from . import jobs
from .adapter import encode
from .app import CRON_TOPIC

MIN_INTERVAL = 1
"""Shortest interval in seconds: the resolution of the engine's durable timers."""

DEFAULT_MAX_CYCLES = 100_000
"""Runs after which a cron ends when ``max_cycles`` is not given (as in the original)."""


def cron_job_id(topic: str, cron_id: str) -> str:
    """The job id of a cron: ids are scoped by topic."""
    return f"cron:{topic}:{cron_id}"


def schedule(interval: Duration, delay: Duration | None, max_cycles: int | None) -> dict[str, Any]:
    """The cron job's timing fields: ``interval``, ``cron``, ``delay``, ``max_cycles``.

    A 5-field cron expression (UTC) runs on its schedule — the first run waits
    for it, and ``delay`` does not apply. A duration runs at once (or after
    ``delay``) and then waits ``interval`` after each run.
    """
    cycles = DEFAULT_MAX_CYCLES if max_cycles is None else int(max_cycles)
    if cycles < 1:
        raise ValueError(f"max_cycles must be at least 1, not {max_cycles!r}")
    expression = _cron_expression(interval)
    if expression is not None:
        first = nextDelay(expression)
        if first < 0:
            raise ValueError(f"the cron expression {interval!r} never fires")
        # nextDelay rounds to the nearest second: one more never fires before the
        # schedule point (the cron graph's cycle does the same for later runs).
        return {
            "cron": expression,
            "interval": MIN_INTERVAL,
            "delay": first + 1,
            "max_cycles": cycles,
        }
    seconds = to_seconds(interval)
    if math.isinf(seconds) or seconds <= 0:
        raise ValueError(f"interval must be a positive duration or a cron expression: {interval!r}")
    fields: dict[str, Any] = {
        "interval": max(MIN_INTERVAL, math.ceil(seconds)),
        "max_cycles": cycles,
    }
    if delay is not None:
        wait = to_seconds(delay)
        if math.isinf(wait) or wait < 0:
            raise ValueError(f"delay must be a duration of 0 or more seconds, not {delay!r}")
        fields["delay"] = math.ceil(wait)
    return fields


def _cron_expression(interval: Duration) -> str | None:
    """``interval`` when it is a cron expression; None for a duration."""
    if not isinstance(interval, str) or len(interval.split()) != 5:
        return None
    expression = " ".join(interval.split())
    if not is_valid_cron(expression):
        raise ValueError(
            f"unsupported cron expression {interval!r}: use 5 fields (minute hour day month "
            "weekday, UTC) holding numbers or '*' (weekday also 'a-b' or 'a,b'); steps, "
            "lists and names are not supported by the engine's @cron.nextDelay"
        )
    return expression


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
