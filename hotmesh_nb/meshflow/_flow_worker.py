"""MeshFlow workers: replay workflow functions and run activities for a task queue."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from redis import exceptions as redis_errors

from .._codec import check_value, dumps
from ..connection import Connection
from ..engine._config import EngineConfig
from ..engine._outage import Outage, is_transient
from ..engine._worker_service import Response, WorkerMessage
from ..errors import CallbackExit, NonDeterminismError
from ..hotmesh import HotMesh, Worker
from ..runtime import blocking, get_runtime, on_close, on_runtime
from ._context import Run, WorkflowInfo
from ._factory import DONE, FAIL, IDLE, MANY, ONE, RETRY
from ._ledger import END_CLAIM, claim_field, retry_claim
from ._local_activity import Retry, error_record
from ._local_activity import attempt as run_attempt
from ._meshflow_errors import FatalError
from ._policy import WORKFLOW_DEFAULT, RetryPolicy
from ._runner import Outcome, Parked, discard, replay, resume
from ._services import WorkflowServices, open_app
from .workflow import activity_topic

PARKED_RUNS = 1000
"""Suspended runs a workflow worker keeps in memory between steps (least recent go first)."""
STALE_REPLAYS = 5
"""Replays one workflow message may make when other runs keep recording its calls first."""


def workflow_topic(task_queue: str, workflow_name: str) -> str:
    """The worker topic replaying ``workflow_name`` on ``task_queue`` (as in the original)."""
    return f"{task_queue}-{workflow_name}"


_RUNNERS: dict[tuple[str, str, str, str], WorkflowRunner] = {}
"""The workflow runner serving each (server, namespace, task queue, workflow name) here.

A runner replaced by new code (a re-run cell) or stopped at shutdown unwinds its
parked runs: they must neither resume under other code nor be left to the GC."""


async def _discard_all_parked() -> None:
    for runner in list(_RUNNERS.values()):
        runner.discard_parked()
    _RUNNERS.clear()


on_close(_discard_all_parked)


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
        self.ready = asyncio.Event()
        """Set once ``services`` is: work that arrives while the app starts waits for it."""
        self.parked: OrderedDict[str, Parked] = OrderedDict()
        """Suspended runs by workflow id, kept for the next step (see ``_runner.Parked``)."""

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
        if self.services is None:
            # Its stream may hold work (a timer that fell due while no process ran) before
            # ``create`` has finished opening the app.
            await self.ready.wait()
        services = self.services
        assert services is not None
        data = message.data
        job_id = str(message.metadata["jid"])
        owner = str(message.metadata["guid"])
        attempt = int(data.get("attempt") or 1)
        args = list(data.get("args") or [])
        parked = self.parked.pop(job_id, None)
        for _ in range(STALE_REPLAYS):
            ledger = await services.load_ledger(job_id)
            if parked is not None and parked.matches(ledger, args, attempt):
                run = parked.run
                outcome = await resume(parked, ledger, owner, park=True)
            else:
                if parked is not None:
                    discard(parked)  # the history moved on elsewhere: replay from the top
                info = WorkflowInfo(
                    workflow_id=job_id,
                    workflow_name=self.name,
                    task_queue=str(data.get("taskQueue") or self.task_queue),
                    namespace=services.keys.namespace,
                    attempt=attempt,
                    search_id=str(data.get("target") or job_id),
                    parent_workflow_id=data.get("parentWorkflowId"),
                )
                run = Run(info, ledger, asyncio.get_running_loop(), services, owner=owner)
                run.local = True
                outcome = await replay(self.fn, args, run, park=True)
            parked = outcome.parked
            outage = next((exc for exc in run.io_errors if _server_outage(exc)), None)
            if outage is not None:
                # Redis work the workflow code awaited (a claim, an effect) met an outage:
                # whatever the code made of that error, the run is replayed, not concluded.
                if parked is not None:
                    discard(parked)
                raise outage
            try:
                response = None
                if outcome.kind != "stale":
                    response = await self._conclude(run, outcome, data)
            except BaseException:
                if parked is not None:
                    discard(parked)
                raise
            if parked is not None:
                dispatched_all = run.dispatched == len(run.items) > 0
                if response is not None and dispatched_all and not run.stale:
                    self._park(job_id, parked)
                else:
                    discard(parked)
                parked = None
            if not run.stale and response is not None:
                return response
            # Another run recorded a call this one ran locally: replay on its result.
        return Response({}, code=IDLE)

    def _park(self, job_id: str, parked: Parked) -> None:
        """Keep a suspended run for the workflow's next step (the oldest goes past the cap)."""
        self.parked[job_id] = parked
        while len(self.parked) > PARKED_RUNS:
            _, oldest = self.parked.popitem(last=False)
            discard(oldest)

    def discard_parked(self) -> None:
        """Unwind every parked run (at shutdown)."""
        while self.parked:
            _, parked = self.parked.popitem()
            discard(parked)

    async def _conclude(self, run: Run, outcome: Outcome, data: dict[str, Any]) -> Response:
        """The response of a finished replay (its claims taken; IDLE when they are not ours)."""
        attempt = run.info.attempt
        if outcome.kind == "suspended":
            return await self._dispatch(run, run.info.workflow_id, run.owner)
        if outcome.kind == "returned":
            if not await self._claim(run, END_CLAIM, "end"):
                return Response({}, code=IDLE)
            try:
                check_value(outcome.value, "result", None, where=f"workflow '{self.name}'")
            except (TypeError, ValueError) as exc:
                record = error_record(exc, 598)
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
            if not await self._claim(run, retry_claim(attempt), "retry"):
                return Response({}, code=IDLE)
            body = {"delay": policy.delay(attempt), "attempt": attempt + 1, "message": str(error)}
            return Response(body, code=RETRY, status="success")
        if not await self._claim(run, END_CLAIM, "end"):
            return Response({}, code=IDLE)
        code = getattr(error, "code", None)
        if not isinstance(code, int) or code < 400:
            code = 598 if final else 597
        return Response({"error": error_record(error, code)}, code=FAIL, status="success")

    async def _claim(self, run: Run, field: str, kind: str) -> bool:
        # The run's pending local-activity results are written by the same script.
        assert self.services is not None
        record = dumps({"t": kind, "g": run.owner})
        won = await self.services.claim(run.info.workflow_id, run.owner, [(field, record)], run)
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
        won = await self.services.claim(job_id, owner, pairs, run)
        mine = [item for item, ok in zip(items, won, strict=False) if ok]
        run.dispatched = len(mine)
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
    attempt_no = int(message.data.get("attempt") or 1)
    try:
        record = await run_attempt(item, attempt_no, str(message.metadata.get("jid")))
    except Retry as retry:
        body = {"delay": retry.delay, "attempt": attempt_no + 1, "message": str(retry.error)}
        return Response(body, code=RETRY, status="success")
    return {"ledger": {str(item.get("key")): record}}


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
            # The bound method, not the instance: an ``async def`` callback is awaited on
            # the loop, where an instance with an async __call__ would cost a thread hop.
            Worker(workflow_topic(task_queue, workflow_name), runner.__call__, guid),
            Worker(
                activity_topic(task_queue, workflow_name),
                run_activity,
                None if guid is None else f"{guid}XA",
            ),
        ]
        hm = await open_app(connection, namespace, workers, config)
        runner.services = WorkflowServices(hm)
        runner.ready.set()
        key = (hm.connection.url, hm.namespace, task_queue, workflow_name)
        replaced = _RUNNERS.get(key)
        _RUNNERS[key] = runner
        if replaced is not None and replaced is not runner:
            replaced.discard_parked()
        return cls(hm, task_queue, workflow_name)

    @classmethod
    def create(cls, **options: Any) -> MeshFlowWorker:
        """Blocking twin of :meth:`create_async` (same keyword arguments)."""
        return get_runtime().run(cls.create_async(**options), name="create")

    async def run_async(self) -> None:
        """Nothing to do: the worker runs from ``create`` on (kept for Temporal habits)."""

    run = blocking(run_async)
