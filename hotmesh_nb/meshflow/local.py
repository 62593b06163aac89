"""Local activities: an activity run by the worker that replays its workflow.

When the process replaying a workflow has the activity registered (and the
proxy allows it, see :func:`~hotmesh_nb.meshflow.workflow.proxy_activities`),
the durable call does not go out to the activity topic and back through the
workflow job. The run:

1. **claims** the call's ledger index (``lua/claim.lua``), as a dispatch does,
   so that only one run executes it;
2. **runs** the attempts here, under the same :class:`~.policy.RetryPolicy`,
   ``start_to_close_timeout`` and ``heartbeat_timeout`` as on an activity
   worker (the same :func:`~.activity.supervise`);
3. keeps the result **pending** in the run and writes it with the run's next
   write to the job — the next claim, an effect, or the claim that ends the
   run — in the same script, before anything that followed it can be seen.

What this means after a crash: a result that was written replays; one that was
not (the process died during the attempt or before the next write) is lost with
the process, and the redelivered replay runs the activity again (at least once,
as on a worker). The first recorded result stays (``HSETNX``): a result is never
recorded twice. A failed attempt that will be retried writes its attempt number
into its claim, so a replay after a crash goes on counting attempts instead of
starting again.
"""

from __future__ import annotations

import asyncio
from typing import Any

from .. import telemetry
from ..engine.codec import check_value, dumps
from ..engine.ids import iso_compact
from ..engine.stacks import remote_stack
from ..errors import CallbackExit, PayloadError
from ..runtime import get_runtime
from .activity import ActivityInfo, _current, supervise
from .context import Run
from .errors import FatalError
from .ledger import claim_field
from .policy import RetryPolicy
from .registry import ACTIVITIES, lookup
from .tracing import local_activity_span


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


def runs_here(name: str, run: Run) -> bool:
    """Whether activity ``name`` may run inside ``run`` (a worker's run that has it)."""
    return run.local and run.services is not None and name in ACTIVITIES


async def run_local(run: Run, item: dict[str, Any]) -> dict[str, Any] | None:
    """Claim, run and (pending) record one activity item; None when the claim was lost.

    Runs on the runtime loop (reached through ``Run.bridge``).
    """
    services = run.services
    job_id = run.info.workflow_id
    index = str(item["index"])
    claim = {"t": "proxy", "n": item["n"], "g": run.owner, "s": item.get("at")}
    won = await services.claim(job_id, run.owner, [(claim_field(index), dumps(claim))], run)
    if not won or not won[0]:
        return None  # another run has it (or the workflow ended): its result replays us
    previous = run.ledger.claims.get(index) or {}
    attempt_no = int(previous.get("a") or 0) + 1 if previous.get("g") == run.owner else 1
    while True:
        span = local_activity_span(str(item["n"]), job_id, attempt_no)
        try:
            record = await telemetry.within(span, attempt(item, attempt_no, job_id))
        except Retry as retry:
            telemetry.worker_end(span, "error", 599, {"message": str(retry.error)})
            # The attempt count survives a crash: the claim carries it.
            await services.client.hset(
                services.keys.job(job_id), claim_field(index), dumps({**claim, "a": attempt_no})
            )
            await asyncio.sleep(retry.delay)
            attempt_no += 1
            continue
        failed = "e" in record
        telemetry.worker_end(
            span, "error" if failed else "success", 597 if failed else 200, record.get("e")
        )
        run.pending[str(item["key"])] = dumps(record)
        return record
