"""``interrupt``: end this job or another one at once.

``throw`` (default true) records an error (code 410 unless ``code`` says
otherwise) so waiters and awaiting parents see the interruption; ``throw:
false`` ends the job quietly. ``descend`` interrupts the job's child jobs too.
"""

from __future__ import annotations

from typing import Any

from ..._ids import fast_guid
from ...mapping import UNDEFINED
from ...model import ActivitySpec
from .. import _flow as flow
from .._protocol import Descend, Message
from .._step import SUCCESS, Step

INTERRUPTED = 410


def error_for(job_id: str, reason: Any, code: Any, stack: Any) -> dict[str, Any]:
    """The error an interrupted job carries."""
    return {
        "code": int(code)
        if isinstance(code, (int, float)) and not isinstance(code, bool)
        else INTERRUPTED,
        "message": str(reason)
        if reason not in (None, UNDEFINED, "")
        else f"job [{job_id}] interrupted",
        "stack": "" if stack in (None, UNDEFINED) else str(stack),
        "job_id": job_id,
    }


def enter(step: Step, activity: ActivitySpec, dad: str) -> None:
    """Leg 1 (the only leg): interrupt the target, then continue (unless it was us)."""
    ctx = step.context(activity, dad)
    config = activity.config

    def field(name: str) -> Any:
        return step.resolve(config.get(name), ctx, activity, name) if name in config else None

    target = field("target")
    target_id = step.job_id if target in (None, UNDEFINED, "") else str(target)
    throw = field("throw") is not False
    error = error_for(target_id, field("reason"), field("code"), field("stack")) if throw else None
    expire = field("expire")
    seconds = (
        int(expire) if isinstance(expire, (int, float)) and not isinstance(expire, bool) else None
    )
    output = step.output_data(activity, ctx)
    step.save_activity(activity, dad, data=output, code=SUCCESS, started=True, ended=True)
    ctx = step.context(activity, dad)
    step.apply_job_maps(activity, ctx)
    descend = field("descend") is True
    if target_id == step.job_id:
        if seconds is not None:
            step.expire = seconds
        if descend:
            step.send(step.engine_stream, _descend(step, target_id, error))
        step.delta -= 1
        step.halt(error)
        return
    topic = field("topic")
    graph = step.app.spec.graph_for_topic(str(topic)) if topic else step.graph
    publishes = graph.publishes if graph is not None and isinstance(graph.publishes, str) else ""
    step.interrupt_other(
        target_id, error, publishes, seconds if seconds is not None else step.expire_seconds()
    )
    if descend:
        step.send(step.engine_stream, _descend(step, target_id, error))
    step.resolve_flags(activity, ctx)
    flow.complete(step, activity, dad, SUCCESS)


def _descend(step: Step, job_id: str, error: dict[str, Any] | None) -> Descend:
    return Descend(guid=fast_guid(), job_id=job_id, error=error, version=step.app.version)


def resume(step: Step, activity: ActivitySpec, dad: str, message: Message) -> None:
    """An interrupt activity never resumes."""
    kind = message.KIND.value
    raise ValueError(f"interrupt activity '{activity.id}' received a {kind!r} message")
