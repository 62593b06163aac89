"""The per-run context of a workflow function: ledger, call numbering, pending items.

One :class:`Run` exists per replay of a workflow function; it is reached
through a ``contextvars`` variable, so every task the function starts sees it.
Each task also has a :class:`Frame` that numbers its durable calls: a task
started by the function (``asyncio.gather``, ``create_task``) takes the next
number of its parent and numbers its own calls below it, so a call's index
depends only on the code path, never on which results are recorded yet.
"""

from __future__ import annotations

import asyncio
import contextvars
from dataclasses import dataclass, field
from typing import Any

from ..errors import HotMeshError, NonDeterminismError
from ._ledger import Ledger


@dataclass
class Frame:
    """Call numbering of one task of a workflow run."""

    path: tuple[int, ...] = ()
    seq: int = 0

    def next_index(self) -> str:
        """The index of the next durable call of this task."""
        self.seq += 1
        return self.peek()

    def peek(self, ahead: int = 0) -> str:
        """The index of this task's last call (or ``ahead`` calls later), not counting it."""
        return ".".join(str(p) for p in (*self.path, self.seq + ahead))

    def child(self) -> Frame:
        """The frame of a task this task starts (it takes one number of ours)."""
        self.seq += 1
        return Frame((*self.path, self.seq))


@dataclass
class WorkflowInfo:
    """What a workflow run knows about itself (``workflow.get_context()``)."""

    workflow_id: str
    """This workflow's id (the job id)."""
    workflow_name: str
    """The registered name of the function."""
    task_queue: str
    """The task queue the workflow runs on."""
    namespace: str
    """The namespace of the MeshFlow app."""
    attempt: int = 1
    """Attempt of the workflow function (> 1 after it raised and was retried)."""
    search_id: str = ""
    """The job whose searchable fields ``search()`` reads and writes (the workflow
    itself, or for a hook thread the workflow it was started on)."""
    parent_workflow_id: str | None = None
    """The workflow that started this one as a child, if any."""
    replaying: bool = False
    """Whether the current call is answered from the ledger (updated as the run goes)."""
    counter: int = 0
    """Durable calls made so far in this run."""


@dataclass
class Run:
    """One replay of a workflow function."""

    info: WorkflowInfo
    ledger: Ledger
    bridge_loop: asyncio.AbstractEventLoop
    """The runtime loop: where Redis I/O runs."""
    services: Any
    """The :class:`~hotmesh_nb.meshflow._flow_worker.WorkflowServices` of this worker."""
    items: list[dict[str, Any]] = field(default_factory=list)
    """Durable calls without a result, in call order: what this run dispatches."""
    fatal: BaseException | None = None
    """A non-determinism detected during the run (fails it whatever the code does)."""
    waiting: dict[str, asyncio.Future[Any]] = field(default_factory=dict)
    """Unrecorded calls → the future their task waits on: resolved with the call's record
    when a parked run resumes, failed with ``Suspended`` to unwind it."""
    io: int = 0
    """Redis operations in flight (the run is not blocked while any is)."""
    owner: str = ""
    """The worker message this run answers (its claims carry it)."""
    local: bool = False
    """Whether activities may run in this process, inside the run (a worker's run)."""
    pending: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    """Results of local activities not written yet: result field → (claim field, claim
    record, result record). They go out with the run's next write (a claim, an effect),
    claimed and recorded at once, before anything the workflow did after them can be
    seen outside this process."""
    io_errors: list[BaseException] = field(default_factory=list)
    """Errors of the Redis operations the workflow code awaited (an outage among them
    means the run's view of the history is unreliable: it is replayed)."""
    dispatched: int = 0
    """How many of ``items`` this run dispatched (the others were another run's)."""
    stale: bool = False
    """Another run claimed an index this run ran locally: its replay must start again."""
    _settled: asyncio.Event | None = None

    def wait_for_record(self, index: str) -> asyncio.Future[Any]:
        """The future unrecorded call ``index`` waits on (in the workflow's loop)."""
        future = asyncio.get_running_loop().create_future()
        self.waiting[index] = future
        return future

    async def bridge(self, coro: Any, *, flush: bool = True) -> Any:
        """Run a coroutine on the runtime loop (Redis I/O) and wait for it in workflow code.

        The workflow loop is stepped on the runtime's own thread, so the two loops
        meet through plain callbacks: the operation's task resolves a future of the
        workflow loop, and the runner steps that loop again once no I/O is in flight.
        With ``flush``, results of local activities still pending are written first:
        a side effect never becomes visible before the results it may depend on.
        """
        waiter = asyncio.get_running_loop().create_future()
        if flush and self.pending and self.services is not None:
            coro = self.services.flushed(self, coro)
        task = self.bridge_loop.create_task(coro)
        self.io += 1

        def finished(done: asyncio.Task[Any]) -> None:
            self.io -= 1
            if waiter.cancelled():
                if not done.cancelled() and done.exception() is not None:
                    # The workflow no longer waits for it, but the run must know it failed.
                    self.io_errors.append(done.exception())  # type: ignore[arg-type]
            elif done.cancelled():
                waiter.cancel()
            elif done.exception() is not None:
                self.io_errors.append(done.exception())  # type: ignore[arg-type]
                waiter.set_exception(done.exception())  # type: ignore[arg-type]
            else:
                waiter.set_result(done.result())
            if self.io == 0 and self._settled is not None:
                self._settled.set()

        task.add_done_callback(finished)
        return await waiter

    async def io_settled(self) -> None:
        """Wait (on the runtime loop) until no Redis operation of this run is in flight."""
        while self.io:
            self._settled = asyncio.Event()
            await self._settled.wait()

    def mismatch(self, index: str, recorded: str, asked: str) -> NonDeterminismError:
        """Record and return the error for a call that differs from the history."""
        error = NonDeterminismError(
            f"workflow '{self.info.workflow_id}' is not deterministic: durable call #{index} "
            f"was recorded as {recorded} but the code now asks for {asked}; workflow code must "
            "make the same durable calls in the same order on every replay (deploy changed "
            "code under a new workflow name, or let running workflows finish first)",
            code=598,
            job_id=self.info.workflow_id,
            error_type="NonDeterminismError",
        )
        if self.fatal is None:
            self.fatal = error
        return error


_RUN: contextvars.ContextVar[Run] = contextvars.ContextVar("meshflow_run")
_FRAME: contextvars.ContextVar[Frame] = contextvars.ContextVar("meshflow_frame")


def current_run() -> Run:
    """The run of the calling workflow code (raises outside a workflow)."""
    run = _RUN.get(None)
    if run is None:
        raise HotMeshError(
            "this MeshFlow function can only be called inside a workflow function run by "
            "MeshFlow.Worker (activities and client code cannot call it)"
        )
    return run


def next_index() -> str:
    """Number the calling task's next durable call."""
    current_run()
    return _FRAME.get().next_index()


def upcoming_index() -> str:
    """The index the calling task's next durable call will get (nothing is numbered)."""
    current_run()
    return _FRAME.get().peek(1)


def task_factory(
    loop: asyncio.AbstractEventLoop, coro: Any, context: contextvars.Context | None = None
) -> asyncio.Task[Any]:
    """Give each task started inside a workflow run its own call numbering."""
    ctx = context if context is not None else contextvars.copy_context()
    frame = ctx.get(_FRAME)
    if frame is not None:
        ctx.run(_FRAME.set, frame.child())
    return asyncio.Task(coro, loop=loop, context=ctx)


def enter(run: Run) -> contextvars.Context:
    """A context in which a workflow function runs as ``run``."""
    ctx = contextvars.copy_context()
    ctx.run(_RUN.set, run)
    ctx.run(_FRAME.set, Frame())
    return ctx
