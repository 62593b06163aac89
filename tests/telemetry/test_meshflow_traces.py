"""A MeshFlow workflow — activities, a timer, a signal and a child — is one trace."""

from __future__ import annotations

from collections import Counter

from opentelemetry import trace
from opentelemetry.trace import StatusCode
from span_tree import assert_one_connected_trace, finished
from waiting import wait_until

from hotmesh_nb import EngineConfig, MeshFlow
from hotmesh_nb.meshflow import workflow


def triple(n: int) -> int:
    return n * 3


async def increment(n: int) -> int:
    return n + 1


def refuse(n: int) -> int:
    raise RuntimeError(f"no {n}")


acts = workflow.proxy_activities(
    activities=[triple, increment, refuse], retry_policy={"maximum_attempts": 1}
)


async def helper(n: int) -> int:
    return await acts.increment(n)


async def conductor(n: int) -> dict:
    tripled = await acts.triple(n)
    incremented = await acts.increment(tripled)
    await workflow.sleep_for(1)
    signalled = await workflow.wait_for(f"go-{workflow.get_context().workflow_id}")
    child = await workflow.exec_child("helper", [incremented])
    return {"child": child, "signal": signalled}


def test_a_workflow_with_activities_a_timer_a_signal_and_a_child_is_one_trace(
    redis_url, namespace, spans
) -> None:
    config = EngineConfig(block_ms=500)
    options = {"connection": redis_url, "namespace": namespace, "config": config}
    MeshFlow.Worker.create(task_queue="q", workflow=conductor, **options)
    MeshFlow.Worker.create(task_queue="q", workflow=helper, **options)
    client = MeshFlow.Client(**options)
    with trace.get_tracer("test").start_as_current_span("caller") as caller:
        handle = client.workflow.start(
            args=[2], task_queue="q", workflow_name="conductor", workflow_id="wf-traced"
        )
    wait_until(lambda: any(s.name == "timer" for s in spans()))
    client.workflow.signal("go-wf-traced", {"ok": True})
    assert handle.result(timeout=30) == {"child": 8, "signal": {"ok": True}}
    finished(spans, "workflow conductor")
    got = [s for s in spans() if s.name != "caller"]
    names = Counter(s.name for s in got)
    print(sorted(names.items()))
    by_id = {s.context.span_id: s for s in got}
    root = next(s for s in got if s.name == "start workflow conductor")
    assert root.parent.span_id == caller.get_span_context().span_id
    assert_one_connected_trace(got, root)

    def parent_of(name: str) -> str:
        span = next(s for s in got if s.name == name)
        return by_id[span.parent.span_id].name

    # Each durable step of the workflow is a span under the workflow's root.
    for name in ("activity triple", "timer", "child helper", "workflow conductor"):
        assert parent_of(name) == "start workflow conductor", name
    assert names["activity triple"] == 1
    assert names["activity increment"] == 2  # one in the workflow, one in its child
    # One replay per timer, signal and child, and the last: the two activities run
    # locally, inside the first replay (their spans stay where a worker puts them).
    assert names["replay conductor"] >= 4
    # The signal is awaited in a batch job started inside the workflow's trace.
    assert parent_of("signal go-wf-traced") == "start batch"
    assert parent_of("start batch") == "start workflow conductor"
    # The child workflow is a subtree of the same trace.
    assert parent_of("start workflow helper") == "start workflow conductor"
    assert parent_of("workflow helper") == "start workflow helper"
    helper_activity = [s for s in got if s.name == "activity increment"]
    assert {by_id[s.parent.span_id].name for s in helper_activity} == {
        "start workflow conductor",
        "start workflow helper",
    }
    activity = next(s for s in got if s.name == "activity triple")
    assert activity.attributes["hotmesh.app"] == "meshflow"
    assert activity.attributes["hotmesh.job.id"] == "wf-traced"
    assert activity.attributes["hotmesh.activity.local"] is True
    assert activity.status.status_code != StatusCode.ERROR


async def refuser() -> int:
    return await acts.refuse(5)


def test_a_failing_activity_fails_its_span_and_the_workflows(redis_url, namespace, spans) -> None:
    options = {"connection": redis_url, "namespace": namespace}
    MeshFlow.Worker.create(task_queue="q", workflow=refuser, **options)
    client = MeshFlow.Client(**options)
    handle = client.workflow.start(task_queue="q", workflow_name="refuser", workflow_id="wf-bad")
    try:
        handle.result(timeout=30)
    except Exception as exc:
        assert "no 5" in str(exc)
    finished(spans, "workflow refuser")
    got = {s.name: s for s in spans()}
    activity = got["activity refuse"]
    assert activity.status.status_code == StatusCode.ERROR
    event = next(e for e in activity.events if e.name == "exception")
    assert event.attributes["exception.type"] == "RuntimeError"
    assert got["workflow refuser"].status.status_code == StatusCode.ERROR
