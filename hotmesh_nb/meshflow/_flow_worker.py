"""MeshFlow workers: replay workflow functions and run activities for a task queue."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from redis import exceptions as redis_errors

from .. import telemetry
from ..connection import Connection
from ..engine._codec import check_value, dumps
from ..engine._config import EngineConfig
from ..engine._ids import iso_compact
from ..engine._outage import Outage, is_transient
from ..engine._stacks import remote_stack
from ..engine._worker_service import Response, WorkerMessage
from ..errors import CallbackExit, NonDeterminismError, PayloadError
from ..hotmesh import HotMesh, Worker
from ..runtime import blocking, get_runtime, on_runtime
from ._activity import ActivityInfo, _current, supervise
from ._activity_registry import lookup
from ._context import Run, WorkflowInfo
from ._factory import DONE, FAIL, IDLE, MANY, ONE, RETRY
from ._ledger import END_CLAIM, claim_field, retry_claim
from ._meshflow_errors import FatalError
from ._policy import WORKFLOW_DEFAULT, RetryPolicy
from ._runner import replay
from ._services import WorkflowServices, open_app
from .workflow import activity_topic


def workflow_topic(task_queue: str, workflow_name: str) -> str:
    """The worker topic replaying ``workflow_name`` on ``task_queue`` (as in the original)."""
    return f"{task_queue}-{workflow_name}"


def _error_record(exc: BaseException, code: int) -> dict[str, Any]:
    return {
        "message": str(exc) or type(exc).__name__,
        "type": getattr(exc, "error_type", None) or type(exc).__name__,
        "stack": getattr(exc, "stack", None) or remote_stack(exc),
        "code": code,
    }


def _server_outage(exc: BaseException) -> bool:
    """A transient error of the server (not an ``OSError`` the workflow's code raised)."""
    return isinstance(exc, (redis_errors.RedisError, redis_errors.RedisClusterException)) and (
        is_transient(exc)
    )


class WorkflowRunner:
    """The worker callback of one workflow function."""

    def __init__(self, fn: Callable[..., Any], name: str, task_queue: str) -> None:
        self.fn = fn
        self.name = name
        self.task_queue = task_queue
        self.services: WorkflowServices | None = None

    async def __call__(self, message: WorkerMessage) -> Response:
        # A server outage (a restart, a cluster failover) met by this run's own reads and
        # claims is waited out and the run replayed, not reported as the workflow's
        # error: a replay is deterministic and a redelivered run owns its earlier claims.
        outage = Outage(f"workflow {self.name}")
        while True:
            try:
                response = await self._run(message)
            except Exception as exc:
                if not _server_outage(exc):
                    raise
                await asyncio.sleep(outage.failed(exc))
                continue
            outage.ok()
            return response

    async def _run(self, message: WorkerMessage) -> Response:
        services = self.services
        assert services is not None
        data = message.data
        job_id = str(message.metadata["jid"])
        owner = str(message.metadata["guid"])
        attempt = int(data.get("attempt") or 1)
        info = WorkflowInfo(
            workflow_id=job_id,
            workflow_name=self.name,
            task_queue=str(data.get("taskQueue") or self.task_queue),
            namespace=services.keys.namespace,
            attempt=attempt,
            search_id=str(data.get("target") or job_id),
            parent_workflow_id=data.get("parentWorkflowId"),
        )
        ledger = await services.load_ledger(job_id)
        run = Run(info, ledger, asyncio.get_running_loop(), services)
        outcome = await replay(self.fn, list(data.get("args") or []), run)
        if outcome.kind == "suspended":
            return await self._dispatch(run, job_id, owner)
        if outcome.kind == "returned":
            if not await self._claim(job_id, owner, END_CLAIM, "end"):
                return Response({}, code=IDLE)
            try:
                check_value(outcome.value, "result", None, where=f"workflow '{self.name}'")
            except (TypeError, ValueError) as exc:
                record = _error_record(exc, 598)
                return Response({"error": record}, code=FAIL, status="success")
            return Response({"response": outcome.value}, code=DONE)
        error = outcome.error
        assert error is not None
        if _server_outage(error):
            raise error
        policy = RetryPolicy.from_dict(data.get("policy")) if data.get("policy") else None
        policy = policy or WORKFLOW_DEFAULT
        error_type = getattr(error, "error_type", None) or type(error).__name__
        final = (
            isinstance(error, (FatalError, NonDeterminismError, CallbackExit))
            or getattr(error, "recorded", False)
            or not isinstance(error, Exception)
        )
        if not final and policy.allows_retry(attempt, error_type):
            if not await self._claim(job_id, owner, retry_claim(attempt), "retry"):
                return Response({}, code=IDLE)
            body = {"delay": policy.delay(attempt), "attempt": attempt + 1, "message": str(error)}
            return Response(body, code=RETRY, status="success")
        if not await self._claim(job_id, owner, END_CLAIM, "end"):
            return Response({}, code=IDLE)
        code = getattr(error, "code", None)
        if not isinstance(code, int) or code < 400:
            code = 598 if final else 597
        return Response({"error": _error_record(error, code)}, code=FAIL, status="success")

    async def _claim(self, job_id: str, owner: str, field: str, kind: str) -> bool:
        assert self.services is not None
        won = await self.services.claim(job_id, owner, [(field, dumps({"t": kind, "g": owner}))])
        return bool(won and won[0])

    async def _dispatch(self, run: Run, job_id: str, owner: str) -> Response:
        assert self.services is not None
        items = run.items
        pairs = [
            (
                claim_field(item["index"]),
                dumps({"t": item["t"], "n": item["n"], "g": owner, "s": item.get("at")}),
            )
            for item in items
        ]
        won = await self.services.claim(job_id, owner, pairs)
        mine = [item for item, ok in zip(items, won, strict=False) if ok]
        if not mine:
            # Another run dispatched these calls; their results will replay us again.
            return Response({}, code=IDLE)
        if len(mine) == 1 and mine[0]["t"] != "wait":
            return Response({"item": _finish(mine[0], "")}, code=ONE, status="success")
        batch = [_finish(item, "L") for item in mine]
        body = {"id": f"{job_id}-batch-{mine[0]['index']}", "items": batch, "n": len(batch)}
        return Response(body, code=MANY, status="success")


def _finish(item: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Final shape of a dispatched item: its result key (``L``-prefixed in a batch job)."""
    item = dict(item, key=prefix + item["key"])
    if item["t"] == "sleep":
        item["ledger"] = {item["key"]: {"v": item["seconds"], "s": item.get("at")}}
    return item


async def run_activity(message: WorkerMessage) -> Response | dict[str, Any]:
    """The worker callback of every activity topic: run it, retry or record its result."""
    item = message.data.get("item") or {}
    attempt = int(message.data.get("attempt") or 1)
    name = str(item.get("n"))
    key = str(item.get("key"))
    record: dict[str, Any] = {"n": name, "a": attempt, "s": item.get("at")}
    info = ActivityInfo(
        activity=name,
        workflow_id=str(message.metadata.get("jid")),
        attempt=attempt,
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
        telemetry.record_current(exc)  # the worker call's span shows the activity failed
        policy = RetryPolicy.from_dict(item.get("p"))
        error_type = type(exc).__name__
        fatal = isinstance(exc, (FatalError, CallbackExit, PayloadError))  # retrying cannot help
        if not fatal and policy.allows_retry(attempt, error_type):
            body = {"delay": policy.delay(attempt), "attempt": attempt + 1, "message": str(exc)}
            return Response(body, code=RETRY, status="success")
        record["e"] = _error_record(exc, 598 if fatal else 597)
    else:
        record["v"] = value
    finally:
        _current.reset(token)
    record["f"] = iso_compact()
    return {"ledger": {key: record}}


class MeshFlowWorker:
    """A worker serving one workflow function (and its activities) on a task queue."""

    def __init__(self, hm: HotMesh, task_queue: str, workflow_name: str) -> None:
        self.hotmesh = hm
        self.task_queue = task_queue
        self.workflow_name = workflow_name

    def __repr__(self) -> str:
        return (
            f"MeshFlow.Worker(task_queue={self.task_queue!r}, workflow={self.workflow_name!r}, "
            f"namespace={self.hotmesh.namespace!r})"
        )

    @classmethod
    @on_runtime
    async def create_async(
        cls,
        *,
        task_queue: str,
        workflow: Callable[..., Any] | dict[str, Callable[..., Any]],
        connection: Connection | str | None = None,
        namespace: str | None = None,
        workflow_name: str | None = None,
        config: EngineConfig | None = None,
        guid: str | None = None,
    ) -> MeshFlowWorker:
        """Serve ``workflow`` on ``task_queue`` in this process (engine included).

        ``workflow`` is a function (registered under its ``__name__``, or
        ``workflow_name``) or ``{name: function}``. Calling it again with the
        same queue and name (a re-run notebook cell) keeps one worker and
        switches it to the new function. ``guid`` names the workflow worker on the
        mesh (roll calls, throttles) and ``<guid>XA`` its activity worker, as the
        original names its two runners; it must be unique per worker process.
        """
        if isinstance(workflow, dict):
            if not workflow:
                raise ValueError("workflow={} names no function")
            workflow_name, fn = list(workflow.items())[-1]
        else:
            fn = workflow
            workflow_name = workflow_name or fn.__name__
        runner = WorkflowRunner(fn, workflow_name, task_queue)
        workers = [
            Worker(workflow_topic(task_queue, workflow_name), runner, guid),
            Worker(
                activity_topic(task_queue, workflow_name),
                run_activity,
                None if guid is None else f"{guid}XA",
            ),
        ]
        hm = await open_app(connection, namespace, workers, config)
        runner.services = WorkflowServices(hm)
        return cls(hm, task_queue, workflow_name)

    @classmethod
    def create(cls, **options: Any) -> MeshFlowWorker:
        """Blocking twin of :meth:`create_async` (same keyword arguments)."""
        return get_runtime().run(cls.create_async(**options), name="create")

    async def run_async(self) -> None:
        """Nothing to do: the worker runs from ``create`` on (kept for Temporal habits)."""

    run = blocking(run_async)
