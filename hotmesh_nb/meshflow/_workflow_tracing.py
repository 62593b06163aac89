"""Span names of MeshFlow jobs: what the workflow did, not the graph's plumbing.

:mod:`hotmesh_nb.telemetry` asks these functions (by app id, lazily) how to
name the spans of the ``meshflow`` app. A workflow's trace then reads like its
code: ``start workflow <name>``, ``replay <name>``, ``activity <function>``,
``timer``, ``signal <id>``, ``child <workflow>``, ``workflow <name>``. The
activities that only move the state machine along (cycles, pivots, ledger
records) get no span of their own; they are visible in ``hm.trace(job_id)``.
"""

from __future__ import annotations

from typing import Any

from ._factory import COLLATE, EXECUTE


def root_name(topic: str, data: dict[str, Any]) -> str:
    """The root span of a workflow (or batch) job, started by ``start`` or a parent."""
    if topic == EXECUTE:
        return f"start workflow {data.get('name')}"
    if topic == COLLATE:
        return "start batch"
    return f"pub {topic}"


def job_name(topic: str, data: dict[str, Any]) -> str:
    """The span of a workflow job's whole life."""
    if topic == EXECUTE:
        name = data.get("workflow")
        return f"workflow {name}" if name else "workflow"
    if topic == COLLATE:
        return "batch"
    return f"job {topic}"


def worker_name(topic: str, data: dict[str, Any]) -> str:
    """A worker call: one replay of the workflow function, or one activity attempt."""
    item = data.get("item")
    if isinstance(item, dict) and item.get("n"):
        return f"activity {item['n']}"
    if data.get("name"):
        return f"replay {data['name']}"
    return f"worker {topic}"


def activity_name(aid: str, node: dict[str, Any]) -> str | None:
    """A durable timer, signal or child workflow; None for the graph's own steps.

    Workflow replays and activities are traced where they run (:func:`worker_name`).
    """
    kind = aid[2:] if aid.startswith("c_") else aid
    if kind == "sleeper":
        return "timer"
    if kind == "waiter":
        signal = ((node.get("hook") or {}).get("data") or {}).get("id")
        return f"signal {signal}" if signal else "signal"
    if kind == "childer":
        data = (node.get("output") or {}).get("data") or {}
        name = data.get("workflow")
        return f"child {name}" if name else "child workflow"
    return None


def local_activity_span(name: str, job_id: str, attempt: int) -> Any:
    """The span of one attempt of a local activity (None when tracing is off).

    A local activity runs inside the replay that called it, but its span is the
    sibling of that replay's, under the same parent, exactly where an activity run by
    a worker puts its span: a trace reads the same whichever ran it. The span says
    ``hotmesh.activity.local``.
    """
    from .. import telemetry

    tracer_ = telemetry.tracer()
    if tracer_ is None:
        return None
    from opentelemetry import trace

    replay = trace.get_current_span()
    if not replay.get_span_context().is_valid:
        return None  # the replay is not traced: neither is its activity
    if not replay.is_recording():
        return trace.NonRecordingSpan(replay.get_span_context())
    parent = getattr(replay, "parent", None)
    context = trace.set_span_in_context(trace.NonRecordingSpan(parent)) if parent else None
    inherited = dict(getattr(replay, "attributes", None) or {})
    attributes = {
        **{k: v for k, v in inherited.items() if k in ("hotmesh.app", "hotmesh.app.version")},
        "hotmesh.job.id": job_id,
        "hotmesh.activity.local": True,
        "hotmesh.try": attempt - 1,
    }
    return tracer_.start_span(
        f"activity {name}", context=context, kind=trace.SpanKind.INTERNAL, attributes=attributes
    )
