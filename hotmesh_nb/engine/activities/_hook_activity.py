"""``hook``: pass through, sleep on a durable timer, or wait for signals (web hooks).

* ``sleep: <seconds | rule>`` resolving to a number > 0: a timer in Redis wakes
  the activity (about one-second resolution), even after every process restarted.
* a target of the graph's ``hooks:`` section: the activity waits for
  ``hm.hook(topic, data)`` (or a ``signal`` activity); a signal that arrives
  before the hook registers is kept and delivered when it does.
* neither: it completes at once (an anchor for joins and cycles).
"""

from __future__ import annotations

import time
from typing import Any

from ...mapping import UNDEFINED, to_js_string
from ...model import ActivitySpec
from .. import _flow as flow
from .._protocol import TimeHook, WebHook
from .._step import SUCCESS, Step

SIGNAL_TTL = 365 * 86400
"""Least seconds a hook's registration lasts (a waiting job does not expire; a stale
registration of a job that ended some other way is cleared after this)."""


def sleep_seconds(step: Step, activity: ActivitySpec, ctx: dict[str, Any]) -> float | None:
    """The resolved ``sleep`` when it makes this a time hook, else None."""
    if activity.sleep is None:
        return None
    value = step.resolve(activity.sleep, ctx, activity, "sleep")
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        return None
    return float(value)


def wait_value(step: Step, activity: ActivitySpec, ctx: dict[str, Any]) -> str:
    """The value a signal must resolve to for this waiting hook (from its rule's ``expected``)."""
    rules = step.app.spec.hooks[activity.hook_topic or ""]
    rule = next(r for r in rules if r.to == activity.id)
    if not rule.match:
        return step.job_id
    value = step.resolve(rule.match[0].expected, ctx, activity, "hooks.expected")
    return to_js_string(value)


def enter(step: Step, activity: ActivitySpec, dad: str) -> None:
    """Leg 1: wait for a signal or a timer, or pass through."""
    ctx = step.context(activity, dad)
    if activity.hook_topic:
        ctx = _map_before_waiting(step, activity, dad, ctx)
        message = WebHook(**step.address(activity, dad))
        ttl = max(step.expire_seconds(), SIGNAL_TTL)
        step.add_wait(activity.hook_topic, wait_value(step, activity, ctx), ttl, message)
        return
    seconds = sleep_seconds(step, activity, ctx)
    if seconds is not None:
        _map_before_waiting(step, activity, dad, ctx)
        # Microseconds in the due time: timers set in the same millisecond still fire in
        # the order they were set (equal scores would fall back to the members' order).
        due = time.time_ns() / 1_000_000 + int(seconds * 1000)
        step.add_timer(round(due, 3), TimeHook(**step.address(activity, dad)))
        return
    output = step.output_data(activity, ctx)
    step.save_activity(
        activity, dad, data=output, code=SUCCESS, status="success", started=True, ended=True
    )
    finish(step, activity, dad, SUCCESS)


def _map_before_waiting(
    step: Step, activity: ActivitySpec, dad: str, ctx: dict[str, Any]
) -> dict[str, Any]:
    """Leg 1 of a hook that waits: as the original, its output and job maps run before
    the wait (a sleeper's ``job.maps`` show while it sleeps) and again when it resumes."""
    step.save_activity(activity, dad, data=step.output_data(activity, ctx), started=True)
    ctx = step.context(activity, dad)
    step.apply_job_maps(activity, ctx)
    return ctx


def finish(
    step: Step,
    activity: ActivitySpec,
    dad: str,
    code: int,
    index: int = 0,
    *,
    queued: bool = False,
    stays_open: bool = False,
    failed: bool = False,
) -> None:
    """Map job data, evaluate flags and follow the transitions (``queued``, ``failed``:
    see flow.complete; ``stays_open``: a pending signal, more may follow)."""
    ctx = step.context(activity, dad)
    step.apply_job_maps(activity, ctx)
    step.resolve_flags(activity, ctx)
    flow.complete(
        step,
        activity,
        dad,
        code,
        closes=not stays_open,
        failed=failed,
        index=index,
        queued=queued,
    )


def resume(step: Step, activity: ActivitySpec, dad: str, message: TimeHook | WebHook) -> None:
    """Leg 2: the timer fired or a signal arrived."""
    if isinstance(message, TimeHook):
        ctx = step.context(activity, dad)
        output = step.map_object(activity.output_maps, ctx, activity, "output.maps")
        step.save_activity(activity, dad, data=output, code=SUCCESS, status="success", ended=True)
        # As in the original, a timer's wake-up completes only the sleeping activity; what
        # follows it is queued behind the messages already on the stream. Timers that fall
        # due together thus end their activities first, and an interrupt that one of them
        # leads to lands before the others' next activities (the original's tree test).
        finish(step, activity, dad, SUCCESS, queued=True)
        return
    code = int(message.code or SUCCESS)
    status = message.status or "success"
    if status == "error":
        _resume_with_error(step, activity, dad, code, message.data)
        return
    # As the original: the status keeps the hook open (a 202 sent as a success closes it).
    pending = status == "pending"
    data = message.data
    node = step.save_activity(
        activity,
        dad,
        hook=UNDEFINED if data is None else data,
        code=code,
        status=status,
        ended=not pending,
    )
    ctx = step.context(activity, dad)
    output = step.map_object(activity.output_maps, ctx, activity, "output.maps")
    # Each signal an open hook receives starts its children in a new dimension.
    meta = node["output"]["metadata"]
    index = int(meta.get("n", 0))
    meta["n"] = index + 1
    step.save_activity(activity, dad, data=output if output else UNDEFINED)
    finish(step, activity, dad, code, index, stays_open=pending)


def _resume_with_error(step: Step, activity: ActivitySpec, dad: str, code: int, data: Any) -> None:
    """A signal sent with the ``error`` status, as the original takes it: the hook keeps
    no hook data (``{$self.hook.data}`` is undefined in its rules) and maps no output;
    its ``output.metadata.err`` is the signal's data, which becomes the job's error
    when no transition takes ``code``. The hook closes."""
    node = step.save_activity(activity, dad, code=code, status="error", error=data, ended=True)
    meta = node["output"]["metadata"]
    fields = data if isinstance(data, dict) else {}
    meta["error"] = {**fields, "is_stream_error": True}
    index = int(meta.get("n", 0))
    meta["n"] = index + 1
    finish(step, activity, dad, code, index, failed=True)
