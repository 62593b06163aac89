"""``hook``: a pass-through anchor (timers and signals come with the next engine issue)."""

from __future__ import annotations

from typing import Any

from ...model import ActivitySpec
from .. import flow
from ..step import SUCCESS, Step


def enter(step: Step, activity: ActivitySpec, dad: str) -> None:
    """Leg 1: map output and job data, then continue at once."""
    if activity.sleep is not None or activity.hook_topic:
        raise ValueError(
            f"activity '{activity.id}': hooks that sleep or wait for a signal need the "
            "timer and signal support of a later release"
        )
    ctx = step.context(activity, dad)
    output = step.map_object(activity.output_maps, ctx, activity, "output.maps")
    step.save_activity(activity, dad, data=output, code=SUCCESS, started=True, ended=True)
    ctx = step.context(activity, dad)
    step.apply_job_maps(activity, ctx)
    step.resolve_flags(activity, ctx)
    flow.complete(step, activity, dad, SUCCESS)


def resume(step: Step, activity: ActivitySpec, dad: str, message: dict[str, Any]) -> None:
    """Leg 2 of a hook (timers and signals) is not reachable yet."""
    raise ValueError(f"activity '{activity.id}' received an unexpected {message.get('k')!r}")
