"""``signal``: send a signal to hooks of other jobs (``subtype: one`` or ``all``).

``one`` resolves the target hook's match value from the signal data and wakes
that job; ``all`` wakes every job indexed under ``key_name:key_value``
(trigger ``stats.measures`` with ``measure: index``). A signal whose hook has
not registered yet is kept until it does.
"""

from __future__ import annotations

from typing import Any

from ..._ids import fast_guid
from ...mapping import to_js_string
from ...model import ActivitySpec
from .. import _flow as flow
from .._protocol import Message, SignalAll
from .._step import SUCCESS, Step


def signal_value(step: Step, topic: str, data: Any) -> str | None:
    """The value signals on ``topic`` with ``data`` resolve to (None: no hook listens)."""
    rules = step.app.spec.hooks.get(topic)
    if not rules:
        return None
    rule = rules[0]
    if not rule.match:
        return to_js_string(data.get("id")) if isinstance(data, dict) else None
    ctx = {"$self": {"hook": {"data": data}}, "$hook": {"data": data}}
    value = step.app.resolve(rule.match[0].actual, ctx, f"hooks.{topic}.actual")
    return to_js_string(value)


def enter(step: Step, activity: ActivitySpec, dad: str) -> None:
    """Leg 1 (the only leg): send the signal, then continue."""
    ctx = step.context(activity, dad)
    config = activity.config
    topic = step.resolve(config.get("topic"), ctx, activity, "topic")
    data = step.map_object(activity.signal_maps, ctx, activity, "signal.maps")
    code = int(config.get("code") or SUCCESS)
    status = str(config.get("status") or "success")
    if activity.subtype == "all":
        key_name = step.resolve(config.get("key_name"), ctx, activity, "key_name")
        key_value = step.resolve(config.get("key_value"), ctx, activity, "key_value")
        message = SignalAll(
            guid=fast_guid(),
            topic=topic,
            data=data,
            facet=f"{to_js_string(key_name)}:{to_js_string(key_value)}",
            code=code,
            status=status,
            version=step.app.version,
        )
        step.send(step.engine_stream, message)
    else:
        value = signal_value(step, str(topic), data)
        if value is not None:
            step.add_signal(str(topic), value, data, code=code, status=status)
    output = step.output_data(activity, ctx)
    step.save_activity(activity, dad, data=output, code=SUCCESS, started=True, ended=True)
    ctx = step.context(activity, dad)
    step.apply_job_maps(activity, ctx)
    step.resolve_flags(activity, ctx)
    flow.complete(step, activity, dad, SUCCESS)


def resume(step: Step, activity: ActivitySpec, dad: str, message: Message) -> None:
    """A signal activity never resumes."""
    raise ValueError(f"signal activity '{activity.id}' received a {message.KIND.value!r} message")
