"""Durable calls: gather, sleep, signals, children, hooks, search, interrupt, determinism."""

from __future__ import annotations

import asyncio
import time

import pytest
from waiting import wait_until

import hotmesh_nb
from hotmesh_nb import NonDeterminismError, WorkflowError
from hotmesh_nb.meshflow import workflow


def double(n: int) -> int:
    return n * 2


async def add(a: int, b: int) -> int:
    return a + b


def stamp() -> float:
    return time.time()


acts = workflow.proxy_activities(activities=[double, add, stamp])


async def fan_out(n: int) -> int:
    values = await asyncio.gather(*(acts.double(i) for i in range(n)))
    return sum(values)


def test_gather_of_forty_activities_runs_them_all(flow) -> None:
    flow(fan_out)
    handle = flow.client.workflow.start(args=[40], task_queue="default", workflow_name="fan_out")
    assert handle.result(timeout=60) == sum(i * 2 for i in range(40))
    timeline = handle.export()["timeline"]
    assert [row["index"] for row in timeline] == [f"1.{i}" for i in range(1, 41)] or len(
        timeline
    ) == 40
    assert all(row["error"] is None for row in timeline)


async def napper(seconds: float) -> str:
    first = await acts.double(1)
    slept = await workflow.sleep_for(seconds)
    second = await acts.double(first)
    return f"{first}-{slept}-{second}"


def test_sleep_for_survives_a_restart_of_every_process(flow, redis_url, namespace) -> None:
    flow(napper)
    handle = flow.client.workflow.start(args=[2], task_queue="default", workflow_name="napper")
    workflow_id = handle.workflow_id
    wait_until(lambda: any(r["type"] == "sleep" for r in handle.export()["timeline"]))
    hotmesh_nb.shutdown()  # every engine and worker is gone while the workflow sleeps
    time.sleep(2.5)
    flow(napper)
    again = flow.client.workflow.get_handle(workflow_id)
    assert again.result(timeout=30) == "2-2.0-4"


async def short_nap(seconds: float) -> float:
    before = await acts.stamp()
    await workflow.sleep_for(seconds)
    return await acts.stamp() - before


@pytest.mark.parametrize("seconds", [0.03, 0.08, 0.3])
def test_a_short_sleep_never_ends_before_its_time(flow, seconds: float) -> None:
    # Timers that fall due together fire together (within 100 ms of a firing), but the
    # firing itself waits for the earliest: a sleep shorter than that window still lasts.
    flow(short_nap)
    handle = flow.client.workflow.start(
        args=[seconds], task_queue="default", workflow_name="short_nap"
    )
    assert handle.result(timeout=30) >= seconds


async def waiter(signal_id: str) -> dict:
    got = await workflow.wait_for(signal_id)
    return {"got": got}


def test_wait_for_gets_a_signal_sent_after_it_registered(flow) -> None:
    flow(waiter)
    handle = flow.client.workflow.start(
        args=["sig-after"], task_queue="default", workflow_name="waiter"
    )
    wait_until(lambda: any(r["type"] == "wait" for r in handle.export()["timeline"]))
    time.sleep(0.2)
    handle.signal("sig-after", {"hi": "there"})
    assert handle.result(timeout=30) == {"got": {"hi": "there"}}


def test_wait_for_keeps_a_signal_sent_before_it_registered(flow) -> None:
    flow.client.workflow.signal("sig-before", [1, 2, 3])
    flow(waiter)
    handle = flow.client.workflow.start(
        args=["sig-before"], task_queue="default", workflow_name="waiter"
    )
    assert handle.result(timeout=30) == {"got": [1, 2, 3]}


async def signaller(signal_id: str) -> str:
    await workflow.signal(signal_id, {"from": "a workflow"})
    return "sent"


def test_a_workflow_signals_another(flow) -> None:
    flow(waiter)
    flow(signaller)
    receiver = flow.client.workflow.start(
        args=["sig-wf"], task_queue="default", workflow_name="waiter"
    )
    sender = flow.client.workflow.start(
        args=["sig-wf"], task_queue="default", workflow_name="signaller"
    )
    assert sender.result(timeout=30) == "sent"
    assert receiver.result(timeout=30) == {"got": {"from": "a workflow"}}


async def child(n: int) -> int:
    return await acts.add(n, 100)


async def parent(n: int) -> dict:
    result = await workflow.exec_child("child", [n])
    started = await workflow.start_child("child", [n + 1], workflow_id=f"started-{n}")
    return {"result": result, "started": started}


def test_exec_child_and_start_child(flow) -> None:
    flow(child)
    flow(parent)
    handle = flow.client.workflow.start(args=[5], task_queue="default", workflow_name="parent")
    assert handle.result(timeout=30) == {"result": 105, "started": "started-5"}
    other = flow.client.workflow.get_handle("started-5")
    assert other.result(timeout=30) == 106


async def broken_child(n: int) -> int:
    raise workflow_error_type(f"child {n} broke")


class ChildProblem(Exception):
    pass


workflow_error_type = ChildProblem


async def parent_of_broken(n: int) -> str:
    try:
        await workflow.exec_child("broken_child", [n])
    except WorkflowError as exc:
        return f"child failed: {exc.message}"
    return "no"


def test_a_child_error_raises_in_the_parent(flow) -> None:
    flow(broken_child)
    flow(parent_of_broken)
    handle = flow.client.workflow.start(
        args=[3], task_queue="default", workflow_name="parent_of_broken"
    )
    assert handle.result(timeout=30) == "child failed: child 3 broke"


async def forever(signal_id: str) -> str:
    await workflow.wait_for(signal_id)
    return "never"


def test_interrupt_a_running_workflow(flow) -> None:
    flow(forever)
    handle = flow.client.workflow.start(
        args=["nobody-sends-this"], task_queue="default", workflow_name="forever"
    )
    wait_until(lambda: any(r["type"] == "wait" for r in handle.export()["timeline"]))
    assert handle.interrupt("stop now") is True
    with pytest.raises(WorkflowError) as caught:
        handle.result(timeout=10)
    assert caught.value.code == 410
    assert "stop now" in caught.value.message


async def changing(signal_id: str) -> int:
    first = await acts.double(2)
    await workflow.wait_for(signal_id)
    return first


async def changed(signal_id: str) -> int:
    first = await acts.add(2, 2)  # the history says double
    await workflow.wait_for(signal_id)
    return first


def test_changed_code_raises_non_determinism_error(flow) -> None:
    flow({"versioned": changing})
    handle = flow.client.workflow.start(
        args=["nd-signal"], task_queue="default", workflow_name="versioned"
    )
    wait_until(lambda: any(r["type"] == "wait" for r in handle.export()["timeline"]))
    flow({"versioned": changed})  # a redeploy with different code (same name)
    handle.signal("nd-signal", None)
    with pytest.raises(NonDeterminismError) as caught:
        handle.result(timeout=30)
    assert "#1" in caught.value.message
    assert "proxy 'double'" in caught.value.message
    assert "proxy 'add'" in caught.value.message


async def counter_hook(amount: int) -> float:
    return await workflow.search().incr("count", amount)


async def counted(n: int) -> str:
    search = workflow.search()
    await search.set({"owner": "ada", "count": 0})
    for _ in range(n):
        await workflow.hook("counter_hook", [1])
    await workflow.wait_for(f"counted-{workflow.get_context().workflow_id}")
    return await search.get("count")


def test_hooks_share_search_state_and_incr_is_exact(flow) -> None:
    flow(counter_hook)
    flow(counted)
    handle = flow.client.workflow.start(
        args=[8], task_queue="default", workflow_name="counted", workflow_id="counted-1"
    )
    wait_until(lambda: handle.query_state(["count"]) == {"count": "8"})
    flow.client.workflow.signal("counted-counted-1", None)
    assert handle.result(timeout=30) == "8"
    assert handle.query_state(["owner"]) == {"owner": "ada"}


def test_client_hook_runs_a_thread_on_a_running_workflow(flow) -> None:
    flow(counter_hook)
    flow(forever)
    handle = flow.client.workflow.start(
        args=["hook-target"], task_queue="default", workflow_name="forever"
    )
    threads = [
        flow.client.workflow.hook(
            workflow_id=handle.workflow_id,
            workflow_name="counter_hook",
            task_queue="default",
            args=[5],
        )
        for _ in range(4)
    ]
    for thread in threads:
        flow.client.workflow.get_handle(thread).result(timeout=30)
    assert handle.query_state(["count"]) == {"count": "20"}
    handle.interrupt()


def test_signal_in_false_closes_a_workflow_to_hooks(flow) -> None:
    flow(counter_hook)
    flow(forever)
    closed = flow.client.workflow.start(
        args=["closed"], task_queue="default", workflow_name="forever", signal_in=False
    )
    with pytest.raises(hotmesh_nb.HotMeshError, match="signal_in=False"):
        flow.client.workflow.hook(
            workflow_id=closed.workflow_id,
            workflow_name="counter_hook",
            task_queue="default",
            args=[1],
        )
    closed.interrupt()


FLAKY_TRIES: dict[str, int] = {}


async def flaky_hook(key: str, failures: int) -> str:
    FLAKY_TRIES[key] = FLAKY_TRIES.get(key, 0) + 1
    if FLAKY_TRIES[key] <= failures:
        raise RuntimeError(f"attempt {FLAKY_TRIES[key]} of {key} fails")
    await workflow.search().set({"hooked": key})
    return key


async def hooks_with_config(key: str, failures: int, attempts: int) -> str:
    policy = {"maximumAttempts": attempts, "backoffCoefficient": 1, "maximumInterval": "1 second"}
    return await workflow.hook("flaky_hook", [key, failures], config=policy)


def test_a_hook_from_a_workflow_retries_by_its_config(flow) -> None:
    # The original's HookOptions.config: the hook function's retry policy.
    flow(flaky_hook)
    flow(hooks_with_config)
    handle = flow.client.workflow.start(
        args=["wf-retried", 2, 3], task_queue="default", workflow_name="hooks_with_config"
    )
    thread = handle.result(timeout=30)
    assert flow.client.workflow.get_handle(thread).result(timeout=30) == "wf-retried"
    assert FLAKY_TRIES["wf-retried"] == 3
    assert handle.query_state(["hooked"]) == {"hooked": "wf-retried"}
    short = flow.client.workflow.start(
        args=["wf-short", 5, 2], task_queue="default", workflow_name="hooks_with_config"
    )
    with pytest.raises(WorkflowError, match="attempt 2 of wf-short fails"):
        flow.client.workflow.get_handle(short.result(timeout=30)).result(timeout=30)
