"""``worker``: hand the mapped input to the workers of a topic; resume on their response."""

from __future__ import annotations

from typing import Any

from ...mapping import UNDEFINED
from ...model import ActivitySpec
from .. import _flow as flow
from .._protocol import Reply, Result, Work, status_for
from .._step import Step


def enter(step: Step, activity: ActivitySpec, dad: str) -> None:
    """Leg 1: map the input and queue a message on the worker stream."""
    ctx = step.context(activity, dad)
    topic = step.resolve(activity.topic, ctx, activity, "topic")
    if not isinstance(topic, str) or not topic:
        raise ValueError(f"activity '{activity.id}': topic resolved to {topic!r}, not a name")
    data = step.map_object(activity.input_maps, ctx, activity, "input.maps")
    # As in the original, an input key named like a job data key also sets that job field.
    for key in step.app.job_keys(step.graph).intersection(data):
        step.write_job_value(key, data[key])
    step.save_activity(activity, dad, started=True)
    policy = {"retry": activity.retry} if activity.retry else None
    message = Work(**step.address(activity, dad), topic=topic, data=data, policy=policy)
    if step.app.expire_at_start(activity.id):
        expire = step.resolve(activity.expire, ctx, activity, "expire")
        if isinstance(expire, (int, float)) and not isinstance(expire, bool):
            message.expire = int(expire)
    step.send(step.worker_stream(topic), message)


def resume(step: Step, activity: ActivitySpec, dad: str, message: Reply | Result) -> None:
    """Leg 2: record the worker's response (or the awaited child's result) and move on."""
    code = int(message.code or 200)
    status = message.status or status_for(code)
    data = message.data
    if not isinstance(data, dict):
        data = {} if data is None else {"response": data}
    error: Any = None
    details: dict[str, Any] = {}
    if status == "error":
        # As the original: an error leg has no output data; ``output.metadata.err`` holds
        # the message ("unknown" when the answer has none) and code. The stack and type
        # are kept aside for the job's error.
        error = {"message": data.get("message", "unknown"), "code": code}
        details = _details(data)
    node = step.save_activity(
        activity,
        dad,
        data=UNDEFINED if error is not None else data,
        code=code,
        status=status,
        error=error if error is not None else UNDEFINED,
        error_type=details.get("name") if error is not None else None,
        ended=status != "pending",
        started_ms=message.started,
    )
    if error is not None:
        # The job's error is the original's, key for key; what we know beyond it (the
        # exception's type) is kept beside it.
        stack = {"stack": data["stack"]} if "stack" in data else {}
        if activity.type == "await" and "message" in data:
            # An awaited child's error passes on as the child recorded it (an interrupt's
            # carries the child's job_id), key for key, as the original's.
            node["output"]["metadata"]["error"] = {**data, "is_stream_error": True}
        else:
            node["output"]["metadata"]["error"] = {**error, **stack, "is_stream_error": True}
        if details:
            node["output"]["metadata"]["error_detail"] = details
    ctx = step.context(activity, dad)
    step.apply_job_maps(activity, ctx)
    carried = None
    if isinstance(message, Reply) and step.app.expire_at_start(activity.id):
        carried = message.expire
    step.resolve_flags(activity, ctx, expire=carried)
    # As the original's: the status, not the code, says whether the activity stays open
    # (a 202 that succeeds closes it; a pending 200 keeps it open).
    flow.complete(step, activity, dad, code, closes=status != "pending", failed=error is not None)


def _details(data: dict[str, Any]) -> dict[str, Any]:
    # Apart from ``resume``: a comprehension there would cost every answer a cell.
    return {k: data[k] for k in ("name", "error") if k in data}
