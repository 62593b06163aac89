"""``cycle``: go back to an ancestor (marked ``cycle: true``) in a new dimension.

The mapped input becomes the ancestor's output data for the new iteration;
the ancestor's descendants run again at fresh addresses, so every iteration's
activity state is kept apart while job data carries across iterations.
"""

from __future__ import annotations

from ...model import ActivitySpec
from .. import _state as st
from .._protocol import Cycle, Message
from .._step import SUCCESS, Step

KEEP_ITERATIONS = 20
"""Iterations of a cycle whose activity states stay in the job; older ones are removed
so a long-running cycle (a cron) keeps a job of bounded size."""


def next_dimension(dad: str, depth: int) -> str:
    """The ancestor's address for its next iteration (its own segment plus one)."""
    parts = dad.split(",")[: depth + 2]
    parts[-1] = str(int(parts[-1]) + 1)
    return ",".join(parts)


def enter(step: Step, activity: ActivitySpec, dad: str) -> None:
    """Leg 1: send the ancestor its next iteration; this thread continues there.

    Its ``job.maps``, if any, are never applied: the original ignores them too (the
    deploy warns)."""
    ctx = step.context(activity, dad)
    data = step.map_object(activity.input_maps, ctx, activity, "input.maps")
    ancestor = step.app.activity(str(activity.ancestor))
    target = next_dimension(dad, len(ancestor.ancestors))
    step.save_activity(
        activity, dad, data=data, code=SUCCESS, status="success", started=True, ended=True
    )
    step.send(step.engine_stream, Cycle(**step.address(ancestor, target), data=data))
    step.forget(_old_iteration(step, ancestor, target))


def _old_iteration(step: Step, ancestor: ActivitySpec, target: str) -> list[str]:
    """Fields of the iteration that falls out of the kept history when ``target`` starts."""
    parts = target.split(",")
    old = int(parts[-1]) - KEEP_ITERATIONS
    if old < 0:
        return []
    base = ",".join([*parts[:-1], str(old)])
    depth = len(ancestor.ancestors)
    fields = []
    for activity in step.graph.activities.values():
        if activity.id != ancestor.id and ancestor.id not in activity.ancestors:
            continue
        dad = base + ",0" * (len(activity.ancestors) - depth)
        fields += [
            st.activity_field(activity.id, dad),
            f"{st.GUARD}{activity.id}{dad}",
            f"{st.ENTERED}{activity.id}{dad}",
        ]
    return fields


def resume(step: Step, activity: ActivitySpec, dad: str, message: Message) -> None:
    """A cycle activity never resumes."""
    raise ValueError(f"cycle activity '{activity.id}' received a {message.KIND.value!r} message")
