"""Run one replay of a workflow function, deciding by rule when it is waiting.

An ``async def`` workflow runs on a :class:`WorkflowLoop` of its own, stepped
by hand from the engine's event loop: no thread hop and no nested
``run_until_complete``. The loop gives every task a deterministic call
numbering (:mod:`.context`). The run ends when the function returns or raises,
or when it is **blocked**:

    no workflow task can run (no ready callback), no Redis operation it
    started is in flight, and no timer of its own is pending.

Then every task waits on a durable call with no recorded result (or on
something that no one will ever resolve, which is an error). The unrecorded
calls — all of them, ``asyncio.gather`` of any size — are dispatched together.
This is the rule of Temporal's workflow loop; unlike counting loop turns, it
gives the same answer on every replay.

What runs where: workflow code (``async def``) runs *on the engine's loop*,
between the engine's own callbacks, so it must not block — no ``time.sleep``,
no blocking I/O; anything slow or non-deterministic belongs in an activity. A
step that holds the loop longer than :data:`STALL_WARNING` seconds is logged,
naming the workflow. A plain ``def`` workflow (which cannot await durable
calls) runs in a thread.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import CallbackExit, WorkflowError
from ._context import Run, enter, task_factory
from ._ledger import Ledger
from ._meshflow_errors import Suspended

log = logging.getLogger(__name__)

STALL_WARNING = 0.2
"""Seconds a workflow may hold the engine's loop in one step before it is logged."""


@dataclass
class Outcome:
    """How a run ended: ``returned`` (value), ``suspended`` (run.items), ``raised`` (error),
    or ``stale`` (another run recorded a call this one ran locally: replay again).

    ``parked``: a suspended run kept alive (see :func:`replay`'s ``park``).
    """

    kind: str
    value: Any = None
    error: BaseException | None = None
    parked: Parked | None = None


class _NoSelector:
    """The selector of a loop that never waits for I/O (its owner only steps it)."""

    def select(self, timeout: float | None = None) -> list[Any]:
        return []

    def close(self) -> None:
        """Nothing to release."""


class WorkflowLoop(asyncio.BaseEventLoop):
    """An event loop that is never *run*: its owner steps it until it is blocked.

    It holds no file descriptors (no selector, no self-pipe): workflow code does
    no I/O of its own, so a parked run costs memory only. The two private
    attributes read here (``_ready``, ``_scheduled``) are the whole state of an
    asyncio loop's run queue; reading them is what lets the runner tell
    "nothing can run" apart from "nothing ran yet".
    """

    def __init__(self) -> None:
        super().__init__()
        self._selector = _NoSelector()
        self.set_task_factory(task_factory)

    def _process_events(self, event_list: list[Any]) -> None:
        """No I/O events: workflow code reaches Redis through the engine's loop."""

    def _write_to_self(self) -> None:
        """Nothing to wake: the loop is stepped by hand."""

    def runnable(self) -> bool:
        """True when a callback is ready to run."""
        return bool(self._ready)  # type: ignore[attr-defined]

    def next_timer(self) -> float | None:
        """Seconds until the earliest pending timer of workflow code (None: none)."""
        timers = [t for t in self._scheduled if not t.cancelled()]  # type: ignore[attr-defined]
        if not timers:
            return None
        return max(min(t.when() for t in timers) - self.time(), 0.0)

    def step_until_blocked(self) -> None:
        """Run ready callbacks (and due timers) until none is left.

        Called on the engine's thread while its loop waits for this call: the
        workflow loop is made the running loop meanwhile, so ``create_task``,
        ``gather`` and ``current_task`` inside workflow code find it.
        """
        outer = asyncio.events._get_running_loop()
        asyncio.events._set_running_loop(self)
        try:
            while self.runnable() or (self.next_timer() == 0.0):
                self._run_once()  # type: ignore[attr-defined]
        finally:
            asyncio.events._set_running_loop(outer)


@dataclass
class Parked:
    """A suspended run kept alive between steps of its workflow (Temporal's sticky cache).

    The function's tasks wait, on their own loop, for the results of the calls
    this run dispatched. When the workflow's next step comes to this process,
    :meth:`matches` checks the stored history against what the run knows; if it
    is exactly that plus the results of those calls, :func:`resume` hands them
    over and the function goes on from where it stopped, instead of replaying
    from the top. Otherwise the run is :func:`discard`-ed and replayed.
    """

    loop: WorkflowLoop
    task: asyncio.Task[Any]
    run: Run
    args: list[Any]
    known: dict[str, tuple[str, dict[str, Any]]]
    """The results the run had seen (or recorded itself) when it parked."""
    calls: dict[str, tuple[str, str]]
    """The dispatched calls it waits for: index → (type, name)."""

    def matches(self, ledger: Ledger, args: list[Any], attempt: int) -> bool:
        """Whether ``ledger`` is this run's history plus the results of its calls."""
        run = self.run
        if args != self.args or attempt != run.info.attempt:
            return False
        if ledger.results.keys() != self.known.keys() | self.calls.keys():
            return False
        for index, (kind, name) in self.calls.items():
            recorded, record = ledger.results[index]
            if recorded != kind or record.get("n", name) != name:
                return False
        if any(ledger.results[index] != hit for index, hit in self.known.items()):
            return False
        return ledger.patches == run.ledger.patches and ledger.search == run.ledger.search


async def replay(
    fn: Callable[..., Any], args: list[Any], run: Run, *, park: bool = False
) -> Outcome:
    """Replay ``fn(*args)`` as ``run``; awaited on the engine's (runtime) loop.

    With ``park``, a run that suspends is not unwound: the outcome carries it
    (``parked``), and the caller must :func:`resume` or :func:`discard` it.
    """
    if not inspect.iscoroutinefunction(fn):
        return await _replay_plain(fn, args, run)
    loop = WorkflowLoop()
    run.waiting = {}
    task = asyncio.Task(_call(fn, args), loop=loop, context=enter(run))
    try:
        outcome = await _drive(loop, task, run, park)
    except BaseException:
        _unwind(loop, task, run)
        raise
    if outcome.kind == "suspended" and park:
        outcome.parked = Parked(
            loop,
            task,
            run,
            args,
            dict(run.ledger.results),
            {item["index"]: (item["t"], item["n"]) for item in run.items},
        )
    return outcome


async def resume(parked: Parked, ledger: Ledger, owner: str, *, park: bool = False) -> Outcome:
    """Go on with a parked run: the results of its calls are in ``ledger`` (it matches)."""
    run = parked.run
    waiting, run.waiting = run.waiting, {}
    run.ledger, run.owner, run.items, run.stale, run.fatal = ledger, owner, [], False, None
    run.dispatched = 0
    run.io_errors = []
    for index, future in waiting.items():
        if not future.done():
            future.set_result(ledger.results[index][1])
    try:
        outcome = await _drive(parked.loop, parked.task, run, park)
    except BaseException:
        _unwind(parked.loop, parked.task, run)
        raise
    if outcome.kind == "suspended" and park:
        parked.known = dict(run.ledger.results)
        parked.calls = {item["index"]: (item["t"], item["n"]) for item in run.items}
        outcome.parked = parked
    return outcome


def discard(parked: Parked) -> None:
    """Unwind a parked run (every waiting call raises ``Suspended``) and close its loop."""
    _unwind(parked.loop, parked.task, parked.run)


async def _drive(loop: WorkflowLoop, task: asyncio.Task[Any], run: Run, park: bool) -> Outcome:
    while True:
        _step(loop, run)
        if task.done():
            break
        if run.io:
            await run.io_settled()  # the engine's loop does the Redis work meanwhile
            continue
        wait = loop.next_timer()
        if wait is not None:
            await asyncio.sleep(wait)  # a non-durable asyncio.sleep in workflow code
            continue
        break  # blocked: every task waits on a durable call (or on nothing at all)
    while run.io:
        # The function ended while work it started goes on (a gathered local activity
        # after a sibling raised): that work is claimed, so it finishes and its result
        # is written with this run's last claim, or no later run could ever take it.
        await run.io_settled()
        _step(loop, run)
    if (
        park
        and not task.done()
        and run.items
        and run.fatal is None
        and not run.stale
        and all(not future.done() for future in run.waiting.values())
    ):
        return Outcome("suspended")  # kept alive: the caller parks or discards it
    error = task.exception() if task.done() and not task.cancelled() else None
    _unwind(loop, task, run)
    if run.stale:
        return Outcome("stale")
    if run.fatal is not None:
        return Outcome("raised", error=run.fatal)
    if run.items:
        # Whatever the function did after a call was left unanswered (even if it
        # swallowed the suspension and returned), this run is suspended.
        return Outcome("suspended")
    if not task.done() or task.cancelled():
        return Outcome(
            "raised",
            error=WorkflowError(
                f"workflow '{run.info.workflow_id}' waits on something that is not a durable "
                "MeshFlow call (a future or event no one resolves); await only workflow.* "
                "calls and activities",
                code=598,
                job_id=run.info.workflow_id,
                error_type="WorkflowError",
            ),
        )
    if error is not None:
        return Outcome("raised", error=error)
    return Outcome("returned", value=task.result())


def _unwind(loop: WorkflowLoop, task: asyncio.Task[Any], run: Run) -> None:
    """Stop a run's tasks: every unrecorded call raises ``Suspended``; close the loop."""
    if loop.is_closed():
        return
    for future in run.waiting.values():
        if not future.done():
            future.set_exception(Suspended())
    _step(loop, run)
    if not task.done():
        task.cancel()
        _step(loop, run)
    for future in run.waiting.values():
        if future.done() and not future.cancelled():
            future.exception()  # retrieved: no "never retrieved" warning
    if task.done() and not task.cancelled():
        task.exception()
    loop.close()


def _step(loop: WorkflowLoop, run: Run) -> None:
    began = time.perf_counter()
    loop.step_until_blocked()
    held = time.perf_counter() - began
    if held > STALL_WARNING:
        log.warning(
            "workflow '%s' (%s) held the engine's event loop for %.2f s in one step; move "
            "blocking or slow work into an activity",
            run.info.workflow_id,
            run.info.workflow_name,
            held,
        )


async def _call(fn: Callable[..., Any], args: list[Any]) -> Any:
    try:
        result = fn(*args)
        if inspect.isawaitable(result):
            result = await result
    except (Exception, asyncio.CancelledError, Suspended):
        raise
    except BaseException as exc:
        # sys.exit() in workflow code would escape the loop's step and stop the
        # engine: the workflow fails instead (its error names what was raised).
        raise CallbackExit(exc) from None
    return result


async def _replay_plain(fn: Callable[..., Any], args: list[Any], run: Run) -> Outcome:
    """A plain ``def`` workflow: no durable calls are possible, so it runs once, in a thread."""
    from ..runtime import get_runtime

    context = enter(run)
    try:
        value = await get_runtime().call_user(lambda: context.run(fn, *args))
    except Exception as exc:
        return Outcome("raised", error=exc)
    if inspect.isawaitable(value):
        return Outcome(
            "raised",
            error=WorkflowError(
                f"workflow '{run.info.workflow_name}' returned an awaitable from a plain def; "
                "declare it async def",
                code=598,
                job_id=run.info.workflow_id,
                error_type="WorkflowError",
            ),
        )
    return Outcome("returned", value=value)
