"""The original's ``workflowTrace`` / ``workflowSpan`` start options.

A workflow started with a trace id and a span id continues that span: the ids
are kept in the workflow's metadata, and every span of the workflow is in that
trace, its root a child of the named span — even when the span lives in another
process or service, as the ids are all that crossed over.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.trace import format_span_id, format_trace_id
from span_tree import assert_one_connected_trace, finished

import hotmesh_nb
from hotmesh_nb import EngineConfig, MeshData, MeshFlow, telemetry


def shout(word: str) -> str:
    return word.upper()


async def relay(word: str) -> str:
    return word + "!"


@pytest.fixture
def remote_ids(exporter) -> Iterator[tuple[str, str, trace.Span]]:
    """Ids of a span that ends before the workflow starts (as a caller elsewhere)."""
    with trace.get_tracer("caller").start_as_current_span("request") as request:
        context = request.get_span_context()
    yield format_trace_id(context.trace_id), format_span_id(context.span_id), request


def test_meshdata_exec_continues_the_named_span(redis_url, namespace, spans, remote_ids) -> None:
    trace_id, span_id, request = remote_ids
    md = MeshData(redis_url, namespace=namespace, config=EngineConfig(block_ms=500))
    md.connect("shout", shout)
    # Not inside the caller's span: only the ids tell where the workflow belongs.
    assert (
        md.exec("shout", ["hi"], id="one", workflow_trace=trace_id, workflow_span=span_id) == "HI"
    )
    finished(spans, "workflow shout")
    traced = [s for s in spans() if s.name != "request"]
    root = next(s for s in traced if s.parent is not None and s.parent.span_id == int(span_id, 16))
    assert root.context.trace_id == int(trace_id, 16)
    assert_one_connected_trace([*traced, request], request)  # type: ignore[list-item]
    # The workflow's metadata carries the ids (the root span continues the named one).
    metadata = md.info("shout", "one")["metadata"]
    ids = telemetry.trace_ids(metadata)
    assert ids is not None and ids[0] == trace_id
    assert ids[1] == format_span_id(root.context.span_id)


def test_meshflow_start_takes_the_ids_too(redis_url, namespace, spans, remote_ids) -> None:
    trace_id, span_id, _ = remote_ids
    options = {
        "connection": redis_url,
        "namespace": namespace,
        "config": EngineConfig(block_ms=500),
    }
    MeshFlow.Worker.create(task_queue="q", workflow=relay, **options)
    client = MeshFlow.Client(**options)
    handle = client.workflow.start(
        args=["go"],
        task_queue="q",
        workflow_name="relay",
        workflow_id="wf-ids",
        workflow_trace=trace_id,
        workflow_span=span_id,
    )
    assert handle.result(timeout=30) == "go!"
    finished(spans, "workflow relay")
    ours = [s for s in spans() if s.name != "request"]
    assert ours and all(s.context.trace_id == int(trace_id, 16) for s in ours)
    assert any(s.parent is not None and s.parent.span_id == int(span_id, 16) for s in ours)
    hotmesh_nb.shutdown()


def test_ids_are_checked(redis_url, namespace, exporter) -> None:
    md = MeshData(redis_url, namespace=namespace, config=EngineConfig(block_ms=500))
    md.connect("shout", shout)
    good_trace, good_span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    with pytest.raises(ValueError, match="go together"):
        md.exec("shout", ["x"], workflow_trace=good_trace)
    with pytest.raises(ValueError, match="workflow_trace must be 32 hex digits"):
        md.exec("shout", ["x"], workflow_trace="abc", workflow_span=good_span)
    with pytest.raises(ValueError, match="workflow_span must be 16 hex digits"):
        md.exec("shout", ["x"], workflow_trace=good_trace, workflow_span="0" * 16)
    with pytest.raises(ValueError, match="workflow_span must be 16 hex digits"):
        md.exec("shout", ["x"], workflow_trace=good_trace, workflow_span="zz" * 8)
