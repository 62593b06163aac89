"""Golden replay histories: a recorded history replays to the same commands and result;
a changed workflow raises NonDeterminismError at the call that changed; ``patched()``
lets the change in without breaking old histories. The replay runs offline, on the
history alone, through the same runner the workers use."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from hotmesh_nb import NonDeterminismError
from hotmesh_nb.meshflow._context import Run, WorkflowInfo
from hotmesh_nb.meshflow._ledger import Ledger
from hotmesh_nb.meshflow._runner import Outcome, replay

GOLDEN = Path(__file__).with_name("golden")
sys.path.insert(0, str(GOLDEN))

import flows  # noqa: E402

HISTORY = json.loads((GOLDEN / "golden_order.json").read_text())


def _replay(fn, fields: dict[str, str]) -> tuple[Outcome, Run]:
    async def go() -> tuple[Outcome, Run]:
        info = WorkflowInfo("golden-1", fn.__name__, "golden", "golden")
        run = Run(info, Ledger.from_hash(fields), asyncio.get_running_loop(), services=None)
        return await replay(fn, list(HISTORY["args"]), run), run

    return asyncio.run(go())


def _prefix(indexes: list[str]) -> dict[str, str]:
    return {k: v for k, v in HISTORY["ledger"].items() if k.split("-")[2] in indexes}


def test_a_complete_history_replays_to_its_result() -> None:
    outcome, run = _replay(flows.golden_order, HISTORY["ledger"])
    assert outcome.kind == "returned" and run.items == []
    assert outcome.value == HISTORY["result"]


@pytest.mark.parametrize(
    ("recorded", "commands"),
    [
        ([], [("proxy", "double", "1")]),
        (["1"], [("sleep", "", "2")]),
        (["1", "2"], [("proxy", "add", "3.1"), ("proxy", "add", "4.1")]),  # the gather
        (["1", "2", "3.1"], [("proxy", "add", "4.1")]),
    ],
)
def test_each_partial_history_asks_for_exactly_the_next_commands(recorded, commands) -> None:
    outcome, run = _replay(flows.golden_order, _prefix(recorded))
    assert outcome.kind == "suspended"
    assert [(i["t"], i["n"], i["index"]) for i in run.items] == commands


def test_a_changed_workflow_fails_at_the_call_that_changed() -> None:
    outcome, _ = _replay(flows.golden_order_changed, HISTORY["ledger"])
    assert outcome.kind == "raised" and isinstance(outcome.error, NonDeterminismError)
    assert "#1" in str(outcome.error) and "double" in str(outcome.error)


def test_a_patched_change_keeps_old_histories_on_the_old_path() -> None:
    outcome, _ = _replay(flows.golden_order_patched, HISTORY["ledger"])
    assert outcome.kind == "returned" and outcome.value == HISTORY["result"]


def test_a_patched_change_takes_the_new_path_in_a_new_run(flow) -> None:
    flow(flows.golden_order_patched, task_queue="golden")
    handle = flow.client.workflow.start(
        args=[5], task_queue="golden", workflow_name="golden_order_patched"
    )
    result = handle.result(timeout=30)
    assert result["doubled"] == 105 and result["pair"] == [106, 107]
    assert handle.result(timeout=5) == result  # the marker keeps it on that path


def test_waiting_on_something_that_is_not_durable_is_an_error() -> None:
    async def stuck(n: int) -> None:
        await asyncio.get_running_loop().create_future()  # nobody resolves it

    outcome, _ = _replay(stuck, {})
    assert outcome.kind == "raised" and "not a durable" in str(outcome.error)


def test_a_blocking_workflow_is_named_in_the_log(caplog) -> None:
    import time

    async def sleepy(n: int) -> str:
        time.sleep(0.3)  # blocks the loop: a bug the stall detector reports
        return "done"

    outcome, _ = _replay(sleepy, {})
    assert outcome.value == "done"
    assert any("golden-1" in r.getMessage() and "held" in r.getMessage() for r in caplog.records)
