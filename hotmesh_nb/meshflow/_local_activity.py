"""Local activities: an activity run by the worker that replays its workflow.

When the process replaying a workflow has the activity registered (and the
proxy allows it, see :func:`~hotmesh_nb.meshflow.workflow.proxy_activities`),
the durable call does not go out to the activity topic and back through the
workflow job. The run:

1. **runs** the attempts at once, under the same :class:`~.policy.RetryPolicy`,
   ``start_to_close_timeout`` and ``heartbeat_timeout`` as on an activity
   worker (the same :func:`~.activity.supervise`);
2. keeps the result **pending** in the run and, with the run's next write to
   the job — before the next local activity starts, with the next claim or
   effect, or with the claim that ends the run — claims the call's ledger index
   and records the result in one script (``lua/claim.lua``), before anything
   that followed it can be seen or run;
3. if another run claimed that index meanwhile (a duplicate delivery, a former
   step still running), this run is **stale**: it stops before its next write
   and the worker replays the workflow again on what was recorded.

What this means after a crash: a result that was written replays; the activity
that was running when the process died (its result not written yet) runs again
on the redelivered replay (at least once, as on a worker). The first recorded
result stays (``HSETNX``): a result is never recorded twice, and a run never
goes on with a result other than the recorded one. A failed attempt that will
be retried claims the index and writes its attempt number there, so a replay
after a crash goes on counting attempts instead of starting again.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .. import telemetry
from .._codec import check_value, dumps, loads
from .._ids import iso_compact
from ..engine._stacks import remote_stack
from ..errors import CallbackExit, PayloadError
from ..runtime import get_runtime
from ._activity import ActivityInfo, _current, supervise
from ._activity_registry import ACTIVITIES, lookup
from ._context import Run
from ._ledger import claim_field
from ._meshflow_errors import FatalError, Suspended
from ._policy import RetryPolicy
from ._workflow_tracing import local_activity_span


def error_record(exc: BaseException, code: int) -> dict[str, Any]:
    """The ledger's form of an error (message, type, remote stack, code)."""
    return {
        "message": str(exc) or type(exc).__name__,
        "type": getattr(exc, "error_type", None) or type(exc).__name__,
        "stack": getattr(exc, "stack", None) or remote_stack(exc),
        "code": code,
    }


class Retry(Exception):
    """An attempt failed and the policy allows another (``delay`` seconds later)."""

    def __init__(self, delay: float, error: BaseException) -> None:
        super().__init__(str(error))
        self.delay = delay
        self.error = error


async def attempt(item: dict[str, Any], attempt_no: int, job_id: str) -> dict[str, Any]:
    """Run one attempt of an activity item; its ledger record, or :class:`Retry`.

    Shared by activity workers (a dispatched item) and local activities, so that
    both classify errors, time out and record results alike.
    """
    name = str(item.get("n"))
    record: dict[str, Any] = {"n": name, "a": attempt_no, "s": item.get("at")}
    info = ActivityInfo(
        activity=name,
        workflow_id=job_id,
        attempt=attempt_no,
        start_to_close_timeout=item.get("sc"),
        heartbeat_timeout=item.get("hb"),
    )
    token = _current.set(info)
    try:
        fn = lookup(name)
        value = await supervise(info, get_runtime().call_user(fn, *(item.get("a") or [])))
        # A result JSON cannot hold exactly fails the activity, naming the field.
        check_value(value, "result", None, where=f"activity '{name}'")
    except Exception as exc:
        telemetry.record_current(exc)  # the activity's span shows the attempt failed
        policy = RetryPolicy.from_dict(item.get("p"))
        fatal = isinstance(exc, (FatalError, CallbackExit, PayloadError))  # retrying cannot help
        if not fatal and policy.allows_retry(attempt_no, type(exc).__name__):
            raise Retry(policy.delay(attempt_no), exc) from exc
        record["e"] = error_record(exc, 598 if fatal else 597)
    else:
        record["v"] = value
    finally:
        _current.reset(token)
    record["f"] = iso_compact()
    return record


def runs_here(name: str, index: str, run: Run) -> bool:
    """Whether activity ``name`` may run inside ``run`` as durable call ``index``.

    Only in a worker's run that has the function, and not when another run (a
    former step of this workflow) already dispatched that call: its result will come.
    """
    if not (run.local and run.services is not None and name in ACTIVITIES):
        return False
    claim = run.ledger.claims.get(index)
    return claim is None or claim.get("g") == run.owner


async def run_local(run: Run, item: dict[str, Any]) -> dict[str, Any]:
    """Run one activity item here; its record, pending in ``run`` until the next write.

    Runs on the runtime loop (reached through ``Run.bridge``). The attempt starts
    without a round trip: the index is claimed when the result is written, with the
    run's next write. A run that finds the index taken by then is stale and replays
    again (the activity ran once more than needed: at least once, as on a worker).
    """
    job_id = run.info.workflow_id
    index = str(item["index"])
    claim = {"t": "proxy", "n": item["n"], "g": run.owner, "s": item.get("at")}
    previous = run.ledger.claims.get(index) or {}
    attempt_no = int(previous.get("a") or 0) + 1
    if run.pending:
        # Results of earlier activities are written before this one starts: a crash
        # during this attempt re-runs this activity only, as with the task queue.
        await run.services.flush(run)
        if run.stale:
            raise Suspended()
    while True:
        span = local_activity_span(str(item["n"]), job_id, attempt_no)
        try:
            record = await telemetry.within(span, attempt(item, attempt_no, job_id))
        except Retry as retry:
            telemetry.worker_end(span, "error", 599, {"message": str(retry.error)})
            # The failed attempt is claimed and counted: a crash does not reset the count.
            pair = (claim_field(index), dumps({**claim, "a": attempt_no}))
            won = await run.services.claim(job_id, run.owner, [pair], run)
            if run.stale or not won or not won[0]:
                raise Suspended() from None  # another run has this call now
            await asyncio.sleep(retry.delay)
            attempt_no += 1
            continue
        failed = "e" in record
        telemetry.worker_end(
            span, "error" if failed else "success", 597 if failed else 200, record.get("e")
        )
        claim["a"] = attempt_no
        text = dumps(record)
        run.pending[str(item["key"])] = (claim_field(index), dumps(claim), text)
        run.ledger.results[index] = ("proxy", loads(text))  # as a replay will read it
        return record
