"""The workflow-side API: call these (with ``await``) inside workflow functions.

A workflow function is plain ``async def`` code that MeshFlow *replays*: every
time it must make progress, the function runs again from the top, and each
durable call (an activity, ``sleep_for``, ``wait_for``, ``exec_child`` …) is
answered from the workflow's ledger in Redis when it was recorded, or
suspends the run when it was not. The suspended calls are dispatched; once
their results are recorded, the function runs again and gets further.

Determinism rules (the consequences of replay):

* Make the same durable calls, in the same order, on every replay. Branch only
  on arguments and on values returned by durable calls. Changing the calls of
  a running workflow raises :class:`~hotmesh_nb.NonDeterminismError`.
* Do I/O, read clocks and draw random numbers in *activities*, not in the
  workflow (use :func:`random` for a replay-stable random number).
* Code between durable calls runs again on every replay: keep it cheap and free
  of side effects (or make the side effect durable: :func:`signal`,
  :func:`search`, :func:`emit`).
* ``asyncio.gather`` (or tasks) of any number of durable calls runs them in
  parallel. Do not catch :class:`~hotmesh_nb.meshflow._meshflow_errors.Suspended`; a
  ``try/except Exception`` around durable calls is safe.
"""

from __future__ import annotations

import random as _random
import re
from collections.abc import Callable
from typing import Any

from .._codec import check_value
from .._ids import iso_compact
from ..durations import Duration, to_seconds
from ..errors import WorkflowError
from ._activity_registry import collect, register
from ._context import WorkflowInfo, current_run, next_index, upcoming_index
from ._ledger import result_field
from ._local_activity import run_local, runs_here
from ._policy import RetryPolicy

__all__ = [
    "ActivityProxy",
    "emit",
    "enrich",
    "exec_child",
    "get_context",
    "hook",
    "interrupt",
    "patched",
    "proxy_activities",
    "random",
    "search",
    "signal",
    "sleep_for",
    "start_child",
    "trace",
    "wait_for",
]


# -- the two kinds of durable calls ----------------------------------------------


async def _durable(kind: str, name: str, item: dict[str, Any], local: bool = False) -> Any:
    """A call whose result the engine records: replayed, or dispatched (suspends).

    ``local``: an activity this process may run itself (see :mod:`.local`); it runs
    inside this replay unless another run claimed it first.
    """
    run = current_run()
    index = next_index()
    run.info.counter += 1
    claim = run.ledger.claims.get(index)
    if claim is not None and (claim.get("t"), claim.get("n")) != (kind, name):
        raise run.mismatch(index, _what(claim.get("t"), claim.get("n")), _what(kind, name))
    hit = run.ledger.results.get(index)
    if hit is not None:
        recorded, record = hit
        if recorded != kind or record.get("n", name) != name:
            raise run.mismatch(index, _what(recorded, record.get("n")), _what(kind, name))
        run.info.replaying = True
        return _value(record, kind, name, run.info)
    run.info.replaying = False
    item.update({"t": kind, "n": name, "index": index, "key": result_field(kind, index)})
    if local and runs_here(name, index, run):
        record = await run.bridge(run_local(run, item), flush=False)
        return _value(record, kind, name, run.info)
    run.items.append(item)
    record = await run.wait_for_record(index)  # a parked run resumes here with the record
    return _value(record, kind, name, run.info)


async def _effect(kind: str, name: str, action: Callable[[], Any]) -> Any:
    """A side effect that happens once: skipped (its recorded value returned) on replay."""
    run = current_run()
    index = next_index()
    run.info.counter += 1
    hit = run.ledger.results.get(index)
    if hit is not None:
        recorded, record = hit
        if recorded != kind:
            raise run.mismatch(index, _what(recorded, record.get("n")), _what(kind, name))
        run.info.replaying = True
        return record.get("v")
    run.info.replaying = False
    field = result_field(kind, index)
    value = await run.bridge(run.services.effect(run.info, field, kind, name, action))
    run.ledger.results[index] = (kind, {"n": name, "v": value})  # what a parked run knows
    return value


def _what(kind: Any, name: Any) -> str:
    return f"{kind} '{name}'" if name else str(kind)


def _value(record: dict[str, Any], kind: str, name: str, info: WorkflowInfo) -> Any:
    error = record.get("e")
    if error:
        raise recorded_error(error, kind, name, info.workflow_id)
    if kind == "child" and "v" not in record:
        # A child's result comes from its job data, where the original's rule leaves out a
        # top-level '' (None is stored as null): a child without one returned ''.
        return ""
    return record.get("v")


def recorded_error(error: Any, kind: str, name: str, job_id: str) -> WorkflowError:
    """The exception a recorded failure raises inside the workflow (final: not retried)."""
    if isinstance(error, str):
        from .._codec import loads

        try:
            error = loads(error)
        except ValueError:
            error = {"message": error}
    if not isinstance(error, dict):
        error = {"message": str(error)}
    exc = WorkflowError(
        str(error.get("message") or f"{kind} '{name}' failed"),
        code=int(error.get("code") or 500),
        job_id=str(error.get("job_id") or job_id),
        error_type=error.get("type") or _type_from_stack(error.get("stack")),
        stack=error.get("stack"),
    )
    exc.recorded = True  # type: ignore[attr-defined]
    return exc


def _type_from_stack(stack: Any) -> str | None:
    if not isinstance(stack, str) or not stack.strip():
        return None
    last = stack.strip().splitlines()[-1]
    head = last.split(":", 1)[0].strip()
    return head.rsplit(".", 1)[-1] if head and " " not in head else None


# -- activities ------------------------------------------------------------------


class ActivityProxy:
    """Activities as awaitable functions: ``await acts.greet('Ada')`` runs ``greet`` durably.

    Each call runs in the worker replaying the workflow when it has the activity
    (a *local* activity, see :mod:`hotmesh_nb.meshflow._local_activity`), or else is
    dispatched to the activity workers of the task queue; either way it is
    retried with the proxy's :class:`RetryPolicy` and recorded: a replay returns
    the recorded value without running the activity again. An
    activity that exhausts its retries (or raises
    :class:`~hotmesh_nb.meshflow.FatalError` or a non-retryable type) raises
    :class:`~hotmesh_nb.WorkflowError` in the workflow, with the activity's
    error type, message and remote traceback.
    """

    def __init__(
        self,
        activities: dict[str, Callable[..., Any]],
        retry_policy: RetryPolicy,
        task_queue: str | None,
        timeouts: dict[str, float] | None = None,
        local: bool = True,
    ) -> None:
        self._activities = activities
        self._policy = retry_policy
        self._policy_data = retry_policy.to_dict()  # the policy is frozen: encoded once
        self._task_queue = task_queue
        self._timeouts = timeouts or {}
        self._local = local

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if name.startswith("_") or name not in self._activities:
            raise AttributeError(
                f"no activity '{name}' was proxied (known: {', '.join(self._activities)})"
            )
        return self._caller(name)

    def __getitem__(self, name: str) -> Callable[..., Any]:
        return self.__getattr__(name)

    def __dir__(self) -> list[str]:
        return sorted(self._activities)

    def __repr__(self) -> str:
        return f"ActivityProxy({', '.join(self._activities)})"

    def _caller(self, name: str) -> Callable[..., Any]:
        async def call(*args: Any) -> Any:
            info = current_run().info
            queue = self._task_queue or info.task_queue
            # Refused here, in the workflow, with the field named: never queued.
            check_value(list(args), "args", None, where=f"activity '{name}'")
            item = {
                "topic": activity_topic(queue, info.workflow_name),
                "a": list(args),
                "p": self._policy_data,
                "at": iso_compact(),
                **self._timeouts,
            }
            # An activity meant for another task queue runs on that queue's workers.
            local = self._local and queue == info.task_queue
            return await _durable("proxy", name, item, local)

        call.__name__ = name
        call.__qualname__ = f"proxy.{name}"
        return call


def activity_topic(task_queue: str, workflow_name: str) -> str:
    """The worker topic serving the activities of a workflow (as in the original)."""
    return f"{task_queue}-{workflow_name}-activity"


def proxy_activities(
    activities: Any = None,
    *,
    retry_policy: RetryPolicy | dict[str, Any] | None = None,
    task_queue: str | None = None,
    start_to_close_timeout: Duration | None = None,
    heartbeat_timeout: Duration | None = None,
    local: bool = True,
) -> ActivityProxy:
    """Durable stand-ins for ``activities`` (functions, a list, a dict or a module).

    Call it at module (or cell) level; it also registers the functions so that
    this process's workers can run them. ``def`` activities run in a thread,
    ``async def`` ones on the runtime loop. Arguments and results must be JSON
    values.

    ``start_to_close_timeout`` bounds each attempt; ``heartbeat_timeout`` fails an
    attempt that calls :func:`~hotmesh_nb.meshflow._activity.heartbeat` less often
    (see :mod:`hotmesh_nb.meshflow._activity`). A timed-out attempt raises
    ``ActivityTimeoutError`` and is retried by ``retry_policy``.

    ``local`` (default True): a worker that replays the workflow and has the
    activity registered runs it itself, inside the replay, instead of sending it
    to the task queue and back (the result is recorded the same way; see
    :mod:`hotmesh_nb.meshflow._local_activity`). Pass ``local=False`` for activities that must
    run on the task queue's activity workers — for example on a machine with a GPU
    or a licence — or make a separate proxy for them. Activities proxied to another
    ``task_queue`` always go through that queue.
    """
    found = collect(activities)
    register(found)
    policy = RetryPolicy.coerce(retry_policy) or RetryPolicy()
    timeouts: dict[str, float] = {}
    for field_name, value in (("sc", start_to_close_timeout), ("hb", heartbeat_timeout)):
        if value is not None:
            seconds = to_seconds(value)
            if seconds <= 0:
                raise ValueError(f"activity timeouts must be positive, not {value!r}")
            timeouts[field_name] = seconds
    return ActivityProxy(found, policy, task_queue, timeouts, local)


# -- changing code while workflows run ----------------------------------------------

_PATCH_ID = re.compile(r"^[A-Za-z0-9_.]+$")


async def patched(patch_id: str) -> bool:
    """Whether this workflow takes the new code path of change ``patch_id``.

    Changing a workflow's durable calls breaks the replay of runs already in
    flight (:class:`~hotmesh_nb.NonDeterminismError`). Guard the change instead::

        if await workflow.patched("bigger-discount"):
            total = await acts.discount(total, 0.2)   # new code
        else:
            total = await acts.discount(total, 0.1)   # what old runs recorded

    A run that reaches this point for the first time takes the new path, and a
    marker in its history keeps it there on every replay. A run whose history
    already goes past this point (it ran the old code here) keeps the old path.
    Once no old run is left, drop the ``else`` branch, and later the call. As
    Temporal's ``workflow.patched``; ``patch_id`` is letters, digits, ``_`` and ``.``.
    """
    if not _PATCH_ID.match(patch_id):
        raise ValueError(f"patch id {patch_id!r}: use letters, digits, '_' and '.'")
    run = current_run()
    if patch_id in run.ledger.patches:
        return True
    upcoming = upcoming_index()
    if upcoming in run.ledger.results or upcoming in run.ledger.claims:
        return False  # this run's history went on past here with the old code
    await run.bridge(run.services.mark_patch(run.info.workflow_id, patch_id))
    run.ledger.patches.add(patch_id)
    return True


# -- time and signals --------------------------------------------------------------


async def sleep_for(duration: Duration) -> float:
    """Sleep durably (``'30 seconds'``, ``'1 month'``, seconds or a ``timedelta``).

    The timer lives in Redis: the workflow wakes even if every process
    restarted meanwhile. Returns the seconds slept (truthy, so
    ``while await sleep_for('1 day'):`` loops).
    """
    seconds = to_seconds(duration)
    if float(seconds).is_integer():
        seconds = int(seconds)  # recorded (and shown in timelines) as 1, not 1.0
    slept = await _durable("sleep", "", {"seconds": seconds, "at": iso_compact()})
    return float(slept)


async def wait_for(signal_id: str) -> Any:
    """Wait until ``signal_id`` is signalled and return the signal's data.

    A signal sent before the workflow reaches ``wait_for`` is kept and
    delivered when it does. Signal ids are namespace-wide: use ids that name
    the workflow (``f'approve-{order_id}'``).
    """
    return await _durable("wait", str(signal_id), {"signal": str(signal_id), "at": iso_compact()})


async def signal(signal_id: str, data: Any = None) -> None:
    """Send ``data`` to whatever waits (or will wait) on ``signal_id``; once per workflow."""
    run = current_run()
    services = run.services
    check_value(data, "data", None, where=f"signal '{signal_id}'")

    async def send() -> None:
        await services.send_signal(str(signal_id), data)

    await _effect("signal", str(signal_id), send)


# -- children and hooks ---------------------------------------------------------------


def _child_start(
    workflow_name: str,
    args: list[Any] | tuple[Any, ...],
    task_queue: str | None,
    workflow_id: str | None,
    expire: Duration | None,
    config: dict[str, Any] | RetryPolicy | None,
    search: dict[str, Any] | None,
    index_hint: str,
) -> dict[str, Any]:
    info = current_run().info
    queue = task_queue or info.task_queue
    check_value(list(args), "args", None, where=f"child workflow '{workflow_name}'")
    policy = RetryPolicy.coerce(config) if config is not None else None
    start = {
        "workflowId": workflow_id or f"{info.workflow_id}-{workflow_name}-{index_hint}",
        "topic": f"{queue}-{workflow_name}",
        "name": workflow_name,
        "taskQueue": queue,
        "args": list(args),
        "parentWorkflowId": info.workflow_id,
        "await": True,
    }
    if policy is not None:
        start["policy"] = policy.to_dict()
    if expire is not None:
        start["expire"] = int(to_seconds(expire))
    if search:
        start["search"] = search
    return start


async def exec_child(
    workflow_name: str,
    args: list[Any] | tuple[Any, ...] = (),
    *,
    task_queue: str | None = None,
    workflow_id: str | None = None,
    expire: Duration | None = None,
    config: dict[str, Any] | RetryPolicy | None = None,
) -> Any:
    """Run another workflow as a child and return its result (its error raises here).

    The child id defaults to ``<this id>-<name>-<call index>`` (stable across
    replays); a worker for ``workflow_name`` must serve the task queue.
    """
    run = current_run()
    peek = f"{'.'.join(map(str, _peek_path(run)))}"
    start = _child_start(workflow_name, args, task_queue, workflow_id, expire, config, None, peek)
    return await _durable("child", workflow_name, {"start": start, "at": iso_compact()})


def _peek_path(run: Any) -> tuple[int, ...]:
    from ._context import _FRAME

    frame = _FRAME.get()
    return (*frame.path, frame.seq + 1)


async def start_child(
    workflow_name: str,
    args: list[Any] | tuple[Any, ...] = (),
    *,
    task_queue: str | None = None,
    workflow_id: str | None = None,
    expire: Duration | None = None,
    config: dict[str, Any] | RetryPolicy | None = None,
) -> str:
    """Start another workflow without waiting for it; returns its workflow id (once)."""
    run = current_run()
    peek = ".".join(map(str, _peek_path(run)))
    start = _child_start(workflow_name, args, task_queue, workflow_id, expire, config, None, peek)
    services = run.services

    async def launch() -> str:
        return await services.start_workflow(start, parent=False)

    return await _effect("start", workflow_name, launch)


async def hook(
    workflow_name: str | None = None,
    args: list[Any] | tuple[Any, ...] = (),
    *,
    task_queue: str | None = None,
    workflow_id: str | None = None,
    config: RetryPolicy | dict[str, Any] | None = None,
) -> str:
    """Run ``workflow_name`` as a parallel thread of a workflow (this one by default).

    The hook thread is a workflow job of its own (``<target>-hook-...``) whose
    :func:`search` reads and writes the *target* workflow's fields, so threads
    share state there. ``config`` is the hook function's :class:`RetryPolicy`
    (or the original's ``{maximumAttempts, backoffCoefficient, maximumInterval}``;
    default: no retry). Started once: a replay returns the recorded id. Returns
    the hook thread's id.
    """
    run = current_run()
    info = run.info
    name = workflow_name or info.workflow_name
    queue = task_queue or info.task_queue
    target = workflow_id or info.search_id
    peek = ".".join(map(str, _peek_path(run)))
    start: dict[str, Any] = {
        "workflowId": f"{info.workflow_id}-hook-{peek}",
        "topic": f"{queue}-{name}",
        "name": name,
        "taskQueue": queue,
        "args": list(args),
        "target": target,
    }
    policy = RetryPolicy.coerce(config)
    if policy is not None:
        start["policy"] = policy.to_dict()
    services = run.services

    async def launch() -> str:
        return await services.start_workflow(start, parent=False)

    return await _effect("hook", name, launch)


async def interrupt(workflow_id: str, *, reason: str | None = None, descend: bool = False) -> bool:
    """Interrupt another workflow (it ends with a 410 error); once per workflow."""
    services = current_run().services

    async def stop() -> bool:
        return await services.interrupt(workflow_id, reason=reason, descend=descend)

    return bool(await _effect("interrupt", workflow_id, stop))


# -- replay-stable helpers ------------------------------------------------------------


async def random() -> float:
    """A random number in [0, 1) that is the same on every replay of this call."""
    run = current_run()
    index = next_index()
    run.info.counter += 1
    return _random.Random(f"{run.info.workflow_id}/{index}").random()


def get_context() -> WorkflowInfo:
    """The running workflow's id, name, task queue, namespace, attempt and counters."""
    return current_run().info


async def emit(events: dict[str, Any]) -> None:
    """Publish ``{topic: payload}`` events (``hm.sub`` subscribers see them); once."""
    services = current_run().services

    async def publish() -> None:
        await services.publish(events)

    await _effect("emit", ",".join(events), publish)


async def trace(attributes: dict[str, Any]) -> None:
    """Record ``attributes`` once in the log (there is no OpenTelemetry exporter yet)."""
    services = current_run().services
    info = current_run().info

    async def note() -> None:
        services.log_trace(info, attributes)

    await _effect("trace", "", note)


def search() -> Any:
    """The workflow's searchable fields (``set/get/mget/delete/incr/mult``)."""
    from ._workflow_search import WorkflowSearch

    return WorkflowSearch(current_run())


async def enrich(fields: dict[str, Any]) -> int:
    """Set searchable fields at once (``search().set(fields)``)."""
    return await search().set(fields)
