"""Moving a job through its graph: entering activities and following transitions."""

from __future__ import annotations

from typing import Any

from ..mapping import strict_equals
from ..model import ActivitySpec, TransitionSpec
from ._protocol import Cycle, Transition
from ._step import Step


def enter(step: Step, activity: ActivitySpec, dad: str) -> None:
    """Run leg 1 of ``activity`` at ``dad`` within this step."""
    step.begin()
    if activity.status_threshold is not None and not _active_enough(step, activity, dad):
        return
    # The activity types are built on this module, so their table is looked up here, at
    # run time, not imported at the top (which would be a cycle). The model only admits
    # known types, so every activity has a handler.
    from .activities import TYPES

    TYPES[activity.type].enter(step, activity, dad)


def _active_enough(step: Step, activity: ActivitySpec, dad: str) -> bool:
    """``statusThreshold`` (dynamic activation control): run only while more threads live.

    With ``t`` threads or fewer open (this one included) the activity does not
    run and the arriving thread ends; when exactly ``t`` (> 0) remain, they are
    all closed, which ends the job — e.g. a hook kept open for signals stops
    holding a job whose other work is done.
    """
    ctx = step.context(activity, dad)
    threshold = step.resolve(activity.status_threshold, ctx, activity, "statusThreshold")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
        return True
    open_threads = step.job.status + step.delta
    if open_threads > threshold:
        return True
    step.delta -= int(threshold) if threshold > 0 and open_threads == threshold else 1
    return False


def matches(
    step: Step, transition: TransitionSpec, activity: ActivitySpec, ctx: dict[str, Any]
) -> bool:
    """Whether ``transition`` is taken (the code test was already passed)."""
    return not transition.match or _conditions_hold(step, transition, activity, ctx)


def _conditions_hold(
    step: Step, transition: TransitionSpec, activity: ActivitySpec, ctx: dict[str, Any]
) -> bool:
    # Apart from ``matches``: its generator's cells would cost every transition.
    results = (
        strict_equals(
            step.resolve(m.actual, ctx, activity, f"transitions.{transition.to}.actual"),
            m.expected,
        )
        for m in transition.match
    )
    return all(results) if transition.gate == "and" else any(results)


def follow(step: Step, activity: ActivitySpec, dad: str, code: int) -> list[str]:
    """Targets of the transitions leaving ``activity`` for status ``code``."""
    transitions = step.graph.transitions_from(activity.id)
    if not transitions:
        return []
    ctx: dict[str, Any] | None = None
    chosen = []
    for transition in transitions:
        if not transition.accepts_code(code):
            continue
        if transition.match and ctx is None:
            ctx = step.context(activity, dad)
        if matches(step, transition, activity, ctx or {}):
            chosen.append(transition.to)
    return chosen


def complete(
    step: Step,
    activity: ActivitySpec,
    dad: str,
    code: int,
    *,
    closes: bool = True,
    failed: bool = False,
    index: int = 0,
    queued: bool = False,
) -> int:
    """Follow the transitions of ``activity`` and start its children.

    ``closes`` is False while the activity stays open (a pending response): its
    thread continues. ``failed``: the activity ended with an ``error`` status; when
    no transition takes it, the job fails. As in the original, the status decides,
    not the code: an error with code 200 that nothing handles fails the job, a 500
    sent as a success does not. ``index`` numbers the dimension of this activity's
    children (the Nth message an open activity receives starts its children at
    ``dad,N``). ``queued`` starts every child through a transition message on the
    engine stream instead of within this step (see ``hook.resume``: a timer's
    wake-up). Returns the number of children started.
    """
    targets = follow(step, activity, dad, code)
    step.delta += len(targets) - (1 if closes else 0)
    if not targets and failed and step.job.error is None:
        node = step.job.node(activity.id, dad)
        meta = node.get("output", {}).get("metadata", {})
        err = meta.get("error") or {
            "message": f"activity '{activity.id}' failed with code {code}",
            "code": code,
        }
        step.fail_job(dict(err), meta.get("error_detail"))
    for target in targets:
        child = step.app.activity(target)
        child_dad = f"{dad},{index}"
        if queued or step.app.is_join(target):
            # Several paths lead here: a transition message lets its guard admit one.
            # A queued child waits behind the messages already on the stream.
            step.send(step.engine_stream, Transition(**step.address(child, child_dad)))
        else:
            enter(step, child, child_dad)
    return len(targets)


def reenter(step: Step, activity: ActivitySpec, dad: str, message: Cycle) -> None:
    """A ``cycle`` sent ``activity`` its next iteration at ``dad``: run it again there."""
    step.begin()
    data = message.data or {}
    step.save_activity(
        activity, dad, data=data, code=200, status="success", started=True, ended=True
    )
    ctx = step.context(activity, dad)
    step.apply_job_maps(activity, ctx)
    step.resolve_flags(activity, ctx)
    complete(step, activity, dad, 200)
