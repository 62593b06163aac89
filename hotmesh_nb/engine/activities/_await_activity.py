"""``await``: start a child job on another graph's topic and continue with its data.

``await: false`` continues at once with ``{job_id}`` of the child. A child's
error reaches the parent as an error with the child's code; a child's ``emit``
arrives as a pending (202) result.
"""

from __future__ import annotations

from ...model import ActivitySpec
from .._protocol import Await, Result
from .._step import Step
from . import _worker_activity as worker


def enter(step: Step, activity: ActivitySpec, dad: str) -> None:
    """Leg 1: ask an engine to start the child job."""
    ctx = step.context(activity, dad)
    topic = step.resolve(activity.topic, ctx, activity, "topic")
    if not isinstance(topic, str) or not topic:
        raise ValueError(f"activity '{activity.id}': topic resolved to {topic!r}, not a name")
    data = step.map_object(activity.input_maps, ctx, activity, "input.maps")
    waits = True
    if activity.awaits is not True:
        waits = step.resolve(activity.awaits, ctx, activity, "await") is not False
    step.save_activity(activity, dad, started=True)
    message = Await(**step.address(activity, dad), topic=topic, data=data, wait=waits)
    step.send(step.engine_stream, message)


def resume(step: Step, activity: ActivitySpec, dad: str, message: Result) -> None:
    """Leg 2: the child finished (or emitted, or started when not awaited)."""
    worker.resume(step, activity, dad, message)
