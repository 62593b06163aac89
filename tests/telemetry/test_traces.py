"""OpenTelemetry spans of YAML jobs and MeshFlow workflows, checked in an in-memory exporter."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode
from span_tree import assert_one_connected_trace, finished, tree
from waiting import wait_until

from hotmesh_nb import HotMesh, JobError, WorkerMessage

APP = """
app:
  id: traced
  version: '1'
  graphs:
    - subscribes: traced.start
      activities:
        t1:
          type: trigger
        w1:
          type: worker
          topic: traced.work
          input:
            maps:
              n: '{t1.output.data.n}'
          job:
            maps:
              doubled: '{$self.output.data.doubled}'
        h1:
          type: hook
      transitions:
        t1:
          - to: w1
        w1:
          - to: h1
"""


def double(message: WorkerMessage) -> dict:
    inner = trace.get_tracer("test").start_span("inside the callback")
    inner.end()
    return {"doubled": message.data["n"] * 2}


def test_a_yaml_job_with_a_worker_is_one_trace_under_the_callers_span(mesh, spans) -> None:
    hm: HotMesh = mesh("traced", APP, {"traced.work": double})
    with trace.get_tracer("test").start_as_current_span("caller") as caller:
        job = hm.pubsub("traced.start", {"n": 21})
    assert job["doubled"] == 42
    finished(spans, "job traced.start")
    got = spans()
    root = next(s for s in got if s.name == "pub traced.start")
    assert root.parent is not None and root.parent.span_id == caller.get_span_context().span_id
    assert root.kind == SpanKind.PRODUCER
    assert tree(got) == {
        "None": ["caller"],
        "caller": ["pub traced.start"],
        "pub traced.start": [
            "activity h1",
            "activity t1",
            "activity w1",
            "job traced.start",
            "worker traced.work",
        ],
        "worker traced.work": ["inside the callback"],
    }
    assert_one_connected_trace([s for s in got if s.name != "caller"], root)
    worker = next(s for s in got if s.name == "worker traced.work")
    activity = next(s for s in got if s.name == "activity w1")
    assert worker.kind == SpanKind.CONSUMER
    # The activity span runs from leg 1 to its response; the worker call falls inside it.
    assert activity.start_time <= worker.start_time and worker.end_time <= activity.end_time
    job_id = root.attributes["hotmesh.job.id"]
    for span in got:
        if span.name == "caller" or span.name == "inside the callback":
            continue
        assert span.attributes["hotmesh.app"] == "traced", span.name
        assert span.attributes["hotmesh.app.version"] == "1", span.name
        assert span.attributes["hotmesh.job.id"] == job_id, span.name
    assert activity.attributes["hotmesh.activity"] == "w1"
    assert activity.attributes["hotmesh.outcome"] == "success"
    assert activity.attributes["hotmesh.code"] == 200
    done = next(s for s in got if s.name == "job traced.start")
    assert done.attributes["hotmesh.outcome"] == "done"
    assert done.status.status_code == StatusCode.OK
    assert done.start_time <= root.end_time and done.end_time >= activity.end_time


ONE_STEP = APP.replace("        w1:\n          - to: h1\n", "")


def fail(message: WorkerMessage) -> dict:
    raise ValueError(f"cannot handle {message.data['n']}")


def test_a_failing_worker_records_the_exception_and_fails_its_spans(mesh, spans) -> None:
    hm = mesh("traced", ONE_STEP, {"traced.work": fail})
    with pytest.raises(JobError):
        hm.pubsub("traced.start", {"n": 1})
    finished(spans, "job traced.start")
    got = {s.name: s for s in spans()}
    worker = got["worker traced.work"]
    assert worker.status.status_code == StatusCode.ERROR
    event = next(e for e in worker.events if e.name == "exception")
    assert event.attributes["exception.type"] == "ValueError"
    assert event.attributes["exception.message"] == "cannot handle 1"
    activity = got["activity w1"]
    assert activity.status.status_code == StatusCode.ERROR
    assert activity.attributes["hotmesh.outcome"] == "error"
    assert activity.attributes["hotmesh.code"] == 500
    assert any(e.name == "exception" for e in activity.events)
    job = got["job traced.start"]
    assert job.status.status_code == StatusCode.ERROR
    assert job.attributes["hotmesh.outcome"] == "error"


def test_an_unsampled_caller_leaves_the_job_untraced(mesh, spans) -> None:
    hm = mesh("traced", APP, {"traced.work": double})
    unsampled = trace.NonRecordingSpan(
        trace.SpanContext(
            trace_id=0x1234, span_id=0x5678, is_remote=True, trace_flags=trace.TraceFlags(0)
        )
    )
    with trace.use_span(unsampled):
        job_id = hm.pub("traced.start", {"n": 2})
    wait_until(lambda: hm.get_status(job_id) == 0)
    assert hm.get_state(job_id)["metadata"]["trc"]["traceparent"].endswith("-00")
    # The worker keeps the parent's decision too: nothing of this job was exported.
    assert [s.name for s in spans()] == []


def test_log_records_of_the_library_carry_the_trace_and_span_ids(mesh, spans, caplog) -> None:
    bad = ONE_STEP.replace(
        "doubled: '{$self.output.data.doubled}'", "'x[-]': '{$self.output.data.doubled}'"
    )
    hm = mesh("traced", bad, {"traced.work": double})
    with caplog.at_level(logging.INFO, logger="hotmesh_nb"):
        with pytest.raises(JobError):
            hm.pubsub("traced.start", {"n": 3})
        finished(spans, "worker traced.work")
    worker = next(s for s in spans() if s.name == "worker traced.work")
    record = next(r for r in caplog.records if "failed" in r.getMessage())
    assert record.name.startswith("hotmesh_nb")
    assert record.otelTraceID == format(worker.context.trace_id, "032x")
    assert record.otelSpanID == format(worker.context.span_id, "016x")


def test_trace_shows_the_timeline_in_span_shape(mesh, spans) -> None:
    hm = mesh("traced", APP, {"traced.work": double})
    job_id = hm.pub("traced.start", {"n": 4})
    wait_until(lambda: hm.get_status(job_id) == 0)
    frame = hm.trace(job_id)
    assert list(frame.columns) == [
        "span",
        "parent",
        "activity",
        "type",
        "dimension",
        "start",
        "end",
        "duration_ms",
        "status",
        "code",
    ]
    assert frame["span"].tolist() == [job_id, "t1,0", "w1,0,0", "h1,0,0,0"]
    assert frame["parent"].tolist()[1:] == [job_id] * 3
    assert frame["status"].tolist() == ["done", "success", "success", "success"]
    assert (frame["duration_ms"] >= 0).all()
    assert frame["start"].is_monotonic_increasing


WORKER = Path(__file__).with_name("traced_worker.py")


def test_the_trace_goes_on_in_a_worker_process(mesh, spans, redis_url, namespace, tmp_path) -> None:
    hm = mesh("traced", ONE_STEP)  # this process runs the engine, not the worker
    path = tmp_path / "worker-spans.jsonl"
    path.touch()
    child = subprocess.Popen(
        [sys.executable, str(WORKER), redis_url, namespace, "traced", "traced.work", str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        with trace.get_tracer("test").start_as_current_span("caller"):
            job = hm.pubsub("traced.start", {"n": 5}, timeout=30)
        assert job["doubled"] == 10

        def exported() -> list[dict]:
            lines = path.read_text(encoding="utf-8").splitlines()
            return [json.loads(line) for line in lines if line.strip()]

        wait_until(
            lambda: {"job traced.start", "worker's own work"} <= {s["name"] for s in exported()}
        )
    finally:
        child.communicate("", timeout=30)
    here = {s.name: s for s in spans()}
    there = {s["name"]: s for s in exported()}
    root = here["pub traced.start"]
    trace_id = f"0x{root.context.trace_id:032x}"
    root_id = f"0x{root.context.span_id:016x}"
    # The worker process continued the job's trace: its spans hang under the job's root.
    assert set(there) == {
        "worker traced.work",
        "worker's own work",
        "activity w1",
        "job traced.start",
    }
    assert {s["context"]["trace_id"] for s in there.values()} == {trace_id}
    assert there["worker traced.work"]["parent_id"] == root_id
    assert there["activity w1"]["parent_id"] == root_id
    assert there["job traced.start"]["parent_id"] == root_id
    assert (
        there["worker's own work"]["parent_id"] == there["worker traced.work"]["context"]["span_id"]
    )
    assert there["worker traced.work"]["resource"]["attributes"]["service.name"] == "traced-worker"
    assert (
        there["worker traced.work"]["attributes"]["hotmesh.job.id"]
        == root.attributes["hotmesh.job.id"]
    )
    # This process traced what it did: the root and the trigger.
    assert here["activity t1"].parent.span_id == root.context.span_id


def test_without_opentelemetry_jobs_run_and_trace_frames_still_work(redis_url, namespace) -> None:
    script = Path(__file__).with_name("without_otel.py")
    done = subprocess.run(
        [sys.executable, str(script), redis_url, namespace],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["result"] == {"answer": 42}
    assert report["spans"][1:] == ["t1,0", "w1,0,0"]
    assert report["loaded"] == []
