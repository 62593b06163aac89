"""OpenTelemetry traces of jobs and workflows (the optional ``otel`` extra).

Like other instrumented libraries, hotmesh_nb writes spans to OpenTelemetry's
*global* tracer provider: once an application has configured one (an SDK
``TracerProvider`` with an exporter), every job it starts becomes a trace.
Nothing here imports OpenTelemetry until the application has done so itself,
and with no provider configured every entry point returns after a dictionary
lookup or two, so the extra costs nothing when it is absent or unused.

The shape of a job's trace:

* ``pub <topic>`` — the job's root span, a child of the caller's active span
  (if any), covering ``pub``. Its context (W3C ``traceparent``, through the
  global propagator) is stored in the job's metadata as ``trc`` and carried by
  every stream message about the job as ``tc``, so any process that handles
  the job continues the same trace. A child job (``await``, a MeshFlow child
  workflow or batch) is started inside its parent's trace: a workflow with its
  activities, timers, signals and children is one trace.
* one span per activity run, emitted by the process whose step ends it, with
  the start and end times the job itself recorded (nothing is held open while
  a job waits);
* ``worker <topic>`` — the worker callback, in the worker's process; it is the
  active span while the callback runs (the callback's own spans nest in it);
* ``job <topic>`` — the job's whole life, emitted by the step that ends it,
  with the job's outcome.

Every span's parent is an exported span, and a trace whose root was not
sampled produces no further spans (the parent's decision is kept). MeshFlow
spans are named after what the workflow did: ``activity <function>``,
``timer``, ``signal <id>``, ``child <workflow>``.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Awaitable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from ._ids import now_ms, parse_compact

if TYPE_CHECKING:
    from .engine._protocol import JobMessage, Work
    from .engine._step import Step

T = TypeVar("T")

METADATA_KEY = "trc"
"""Job metadata field holding the job's trace context (a propagation carrier)."""
MESSAGE_KEY = "tc"
"""Stream message field carrying the job's trace context between processes."""
_STARTED = "hotmesh-t0"
"""Carrier entry with the job's start (ms): the ``job`` span starts there."""

INSTRUMENTATION = "hotmesh_nb"
"""The instrumentation scope name of every span."""

_cache: list[Any] = [None, None]
"""(provider, tracer): the tracer of the global provider it was made for."""


def tracer() -> Any:
    """The tracer of the configured global provider; None when tracing is off.

    Off means OpenTelemetry was never imported in this process or no provider
    was set (the API's proxy or no-op provider): a lookup in ``sys.modules``
    and an identity check, nothing more.
    """
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:
        return None
    provider = _provider(trace)
    if provider is _cache[0]:
        return _cache[1]
    made = None
    if provider is not None and not isinstance(
        provider, (trace.ProxyTracerProvider, trace.NoOpTracerProvider)
    ):
        from . import __version__

        made = provider.get_tracer(INSTRUMENTATION, __version__)
        _install_log_ids()
    _cache[0], _cache[1] = provider, made
    return made


_fast: list[bool] = []
"""Whether the provider can be read from the API's module global (decided once)."""


def _provider(trace: Any) -> Any:
    """The global provider, or None while none is set.

    ``get_tracer_provider()`` looks up an environment variable on every call
    (1-2 µs here, twice per job); the module global it returns is read directly
    when it exists and the environment does not name a provider to load.
    """
    if not _fast:
        _fast.append(
            hasattr(trace, "_TRACER_PROVIDER") and "OTEL_PYTHON_TRACER_PROVIDER" not in os.environ
        )
    if _fast[0]:
        return trace._TRACER_PROVIDER
    return trace.get_tracer_provider()


# -- jobs -------------------------------------------------------------------------


def job_begin(
    metadata: dict[str, Any], topic: str, data: dict[str, Any], parent: JobMessage | None
) -> Any:
    """Start a job's root span and store its context in ``metadata`` (None when off).

    ``parent`` is the ``await`` message of a child job: the child joins its
    parent's trace. Otherwise the caller's active span (carried onto the
    runtime thread by :func:`carry`) is the parent.
    """
    tracer_ = tracer()
    if tracer_ is None:
        return None
    from opentelemetry import propagate, trace

    context = None
    if parent is not None:
        carrier: dict[str, Any] | None = parent.trace
        if carrier is None:
            return None  # the parent job is not traced: neither is its child
        context = _extract(carrier)
    elif isinstance(metadata.get(METADATA_KEY), dict):
        # The caller named the span to continue (``workflow_trace``/``workflow_span``).
        context = _extract(metadata[METADATA_KEY])
    app = str(metadata.get("app"))
    name = _naming(app).root_name(topic, data) if app in NAMING else f"pub {topic}"
    span = tracer_.start_span(
        name,
        context=context,
        kind=trace.SpanKind.PRODUCER,
        attributes={**_job_attributes(metadata), "hotmesh.topic": topic},
    )
    carrier = {_STARTED: now_ms()}
    propagate.inject(carrier, context=trace.set_span_in_context(span))
    # Stored even when not sampled: every process handling the job keeps that decision.
    metadata[METADATA_KEY] = carrier
    return span


def parent_carrier(trace_id: str | None, span_id: str | None) -> dict[str, Any] | None:
    """The carrier of a job that continues a span named by its ids (None: no such span).

    ``trace_id`` (32 hex digits) and ``span_id`` (16 hex digits) are the W3C ids of
    a span of the caller's — the original's ``workflowTrace`` and ``workflowSpan``
    start options. The carrier is stored in the job's metadata (``trc``) whether or
    not tracing is on here, so every process that handles the job with tracing on
    parents its spans there; the caller's span counts as sampled.
    """
    if trace_id is None and span_id is None:
        return None
    if trace_id is None or span_id is None:
        raise ValueError(
            "workflow_trace and workflow_span go together: the trace id and the id of the "
            "span (in that trace) that the workflow continues"
        )
    trace_hex = _hex_id(trace_id, 32, "workflow_trace")
    span_hex = _hex_id(span_id, 16, "workflow_span")
    return {"traceparent": f"00-{trace_hex}-{span_hex}-01", _STARTED: now_ms()}


def _hex_id(value: Any, digits: int, name: str) -> str:
    text = (
        f"{value:0{digits}x}" if isinstance(value, int) and not isinstance(value, bool) else value
    )
    if not isinstance(text, str) or len(text) != digits or text.strip("0") == "":
        raise ValueError(
            f"{name} must be {digits} hex digits, not all zero (as OpenTelemetry formats "
            f"the id, e.g. format_trace_id()), not {value!r}"
        )
    try:
        int(text, 16)
    except ValueError:
        raise ValueError(f"{name} must be {digits} hex digits, not {value!r}") from None
    return text.lower()


def trace_ids(metadata: dict[str, Any]) -> tuple[str, str] | None:
    """``(trace id, span id)`` of a job's recorded trace context (hex), or None.

    The span is the job's root span when tracing was on where it started, else
    the caller's span it was started to continue (``workflow_trace``/``workflow_span``).
    """
    carrier = metadata.get(METADATA_KEY)
    parent = carrier.get("traceparent") if isinstance(carrier, dict) else None
    if not isinstance(parent, str):
        return None
    parts = parent.split("-")
    if len(parts) != 4 or len(parts[1]) != 32 or len(parts[2]) != 16:
        return None
    return parts[1], parts[2]


def job_created(span: Any, outcome: int) -> None:
    """End the root span once the job was written (``outcome`` 0: a duplicate id)."""
    if span is None:
        return
    if outcome == 0:
        from opentelemetry.trace import Status, StatusCode

        span.set_status(Status(StatusCode.ERROR, "duplicate job id"))
    span.end()


def step_committed(step: Step, outcome: int) -> None:
    """Emit the spans of the activities a committed step ended (and of the job, if it ended).

    ``outcome`` is the step script's answer: 1 applied, 2 applied and the job
    ended; anything else applied nothing, so nothing is traced.
    """
    if outcome not in (1, 2):
        return
    carrier = step.job.metadata.get(METADATA_KEY)
    tracer_ = tracer()
    if carrier is None or tracer_ is None:
        return
    from opentelemetry import trace

    context = _extract(carrier)
    if not trace.get_current_span(context).get_span_context().trace_flags.sampled:
        return
    app = step.app.keys.app
    naming = _naming(app) if app in NAMING else None
    base = _job_attributes(step.job.metadata)
    base["hotmesh.app"] = app
    base["hotmesh.app.version"] = step.app.version
    committed = time.time_ns()
    for name in step.writes:
        if name[:2] != "a:":
            continue
        aid, _, rest = name[2:].partition(",")
        node = step.job.activities.get(aid, {}).get("," + rest)
        meta = (node or {}).get("output", {}).get("metadata") or {}
        if not meta.get("done"):
            continue  # still open: its span is emitted by the step that ends it
        title = f"activity {aid}" if naming is None else naming.activity_name(aid, node)
        if title is None:
            continue
        _activity_span(tracer_, context, title, base, aid, "," + rest, node or {}, committed)
    if outcome == 2:
        _job_span(tracer_, context, step, base, carrier, committed)


def _activity_span(
    tracer_: Any,
    context: Any,
    title: str,
    base: dict[str, Any],
    aid: str,
    dad: str,
    node: dict[str, Any],
    end: int,
) -> None:
    # The recorded times have millisecond precision: the run ends when the step that
    # ended it was applied (so a worker call's span lies within its activity's span).
    meta = node["output"]["metadata"]
    start = _ns(meta.get("ac")) or end
    status = str(meta.get("status") or "success")
    attributes = {
        **base,
        "hotmesh.activity": aid,
        "hotmesh.activity.type": str(meta.get("atp")),
        "hotmesh.dimension": dad,
        "hotmesh.outcome": status,
    }
    if meta.get("code") is not None:
        attributes["hotmesh.code"] = int(meta["code"])
    span = tracer_.start_span(title, context=context, start_time=start, attributes=attributes)
    if status == "error":
        error = meta.get("error") or {}
        _fail(span, error.get("message") or _error_message(meta), error)
    span.end(end_time=end)


def _job_span(
    tracer_: Any,
    context: Any,
    step: Step,
    base: dict[str, Any],
    carrier: dict[str, Any],
    end: int,
) -> None:
    from opentelemetry.trace import Status, StatusCode

    started = carrier.get(_STARTED)
    start = int(started) * 1_000_000 if isinstance(started, int) else end
    error = step.job.error
    topic = str(step.job.metadata.get("tpc") or step.graph.subscribes)
    naming = _naming(base["hotmesh.app"]) if base["hotmesh.app"] in NAMING else None
    title = naming.job_name(topic, step.job.data) if naming is not None else f"job {topic}"
    attributes = {**base, "hotmesh.topic": topic, "hotmesh.outcome": "error" if error else "done"}
    span = tracer_.start_span(title, context=context, start_time=start, attributes=attributes)
    if error:
        _fail(span, str(error.get("message") or "job failed"), error)
    else:
        span.set_status(Status(StatusCode.OK))
    span.end(end_time=end)


# -- workers ----------------------------------------------------------------------


def worker_begin(app: str, topic: str, message: Work) -> Any:
    """Start the span of one worker call (None when off).

    A job started without tracing gets a worker span of its own trace, so a
    worker process with tracing on always shows its calls.
    """
    tracer_ = tracer()
    if tracer_ is None:
        return None
    from opentelemetry import trace

    carrier = message.trace
    context = _extract(carrier) if carrier is not None else None
    if context is not None:
        parent = trace.get_current_span(context).get_span_context()
        if not parent.trace_flags.sampled:
            # Not sampled: the callback runs inside the unsampled parent, so that its own
            # spans follow the decision too.
            return trace.NonRecordingSpan(parent)
    data = message.data or {}
    title = _naming(app).worker_name(topic, data) if app in NAMING else f"worker {topic}"
    attributes = {
        "hotmesh.app": app,
        "hotmesh.app.version": message.version,
        "hotmesh.job.id": message.job_id,
        "hotmesh.activity": message.activity,
        "hotmesh.dimension": message.dad,
        "hotmesh.topic": topic,
        "hotmesh.try": int(message.attempt or 0),
    }
    return tracer_.start_span(
        title, context=context, kind=trace.SpanKind.CONSUMER, attributes=attributes
    )


def within(span: Any, work: Awaitable[T]) -> Awaitable[T]:
    """``work`` run with ``span`` as the active span (its logs and child spans join it)."""
    return work if span is None else _within(span, work)


async def _within(span: Any, work: Awaitable[T]) -> T:
    from opentelemetry import context, trace

    token = context.attach(trace.set_span_in_context(span))
    try:
        return await work
    finally:
        context.detach(token)


def worker_failed(span: Any, exc: BaseException) -> None:
    """Record the exception a worker callback raised on its span."""
    if span is not None:
        span.record_exception(exc)


def record_current(exc: BaseException) -> None:
    """Mark the active span failed with ``exc`` (code that handles the error itself)."""
    trace = sys.modules.get("opentelemetry.trace")
    if trace is None:
        return
    span = trace.get_current_span()
    if span.is_recording():
        span.record_exception(exc)
        span.set_status(trace.Status(trace.StatusCode.ERROR, str(exc) or type(exc).__name__))


def worker_end(span: Any, status: str, code: int, data: Any) -> None:
    """End a worker call's span with the callback's outcome."""
    if span is None:
        return
    from opentelemetry.trace import Status, StatusCode

    span.set_attribute("hotmesh.outcome", status)
    span.set_attribute("hotmesh.code", code)
    if status == "error":
        message = data.get("message") if isinstance(data, dict) else None
        span.set_status(Status(StatusCode.ERROR, str(message or f"failed with code {code}")))
    span.end()


# -- the caller's context ---------------------------------------------------------


def carry(coro: Coroutine[Any, Any, T]) -> Coroutine[Any, Any, T]:
    """Let ``coro`` see the caller's active span when it runs on the runtime loop.

    The runtime runs coroutines on its own thread, where the caller's context
    variables are not visible; a job started inside a span must still be its
    child. Returns ``coro`` itself when there is nothing to carry.
    """
    context_module = sys.modules.get("opentelemetry.context")
    if context_module is None:
        return coro
    current = context_module.get_current()
    if not current:
        return coro
    return _attached(context_module, current, coro)


async def _attached(context_module: Any, current: Any, coro: Awaitable[T]) -> T:
    token = context_module.attach(current)
    try:
        return await coro
    finally:
        context_module.detach(token)


# -- log records ------------------------------------------------------------------

_LOG_PREFIX = "hotmesh_nb"
_installed: list[bool] = []


def _install_log_ids() -> None:
    """Give the library's log records ``otelTraceID`` / ``otelSpanID`` (once per process).

    Installed when tracing is first seen on; the ids are those of the active
    span (``'0'`` when none), in the hex form OpenTelemetry's own logging
    instrumentation uses, so one format string serves both.
    """
    if _installed:
        return
    _installed.append(True)
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        if record.name.startswith(_LOG_PREFIX) and not hasattr(record, "otelTraceID"):
            _add_ids(record)
        return record

    logging.setLogRecordFactory(factory)


def _add_ids(record: logging.LogRecord) -> None:
    trace = sys.modules.get("opentelemetry.trace")
    context = trace.get_current_span().get_span_context() if trace is not None else None
    if context is not None and context.is_valid:
        record.otelTraceID = format(context.trace_id, "032x")
        record.otelSpanID = format(context.span_id, "016x")
        record.otelTraceSampled = context.trace_flags.sampled
    else:
        record.otelTraceID = "0"
        record.otelSpanID = "0"
        record.otelTraceSampled = False


# -- helpers ----------------------------------------------------------------------

_contexts: dict[tuple[Any, ...], Any] = {}
"""Recently extracted trace contexts by carrier: a job's steps share one."""
_CONTEXTS_KEPT = 4096


def _extract(carrier: dict[str, Any]) -> Any:
    """The OpenTelemetry context a job's carrier names (parsing it costs ~10 µs: cached)."""
    from opentelemetry import propagate

    try:
        key = tuple(carrier.items())
        context = _contexts.get(key)
    except TypeError:  # a propagator of the user's with unhashable values: no cache
        return propagate.extract(carrier)
    if context is None:
        if len(_contexts) >= _CONTEXTS_KEPT:
            _contexts.clear()
        context = _contexts[key] = propagate.extract(carrier)
    return context


def _job_attributes(metadata: dict[str, Any]) -> dict[str, Any]:
    return {
        "hotmesh.app": str(metadata.get("app")),
        "hotmesh.app.version": str(metadata.get("vrs")),
        "hotmesh.job.id": str(metadata.get("jid")),
    }


def _ns(stamp: Any) -> int | None:
    moment = parse_compact(stamp) if isinstance(stamp, str) else None
    return None if moment is None else round(moment.timestamp() * 1000) * 1_000_000


def _error_message(meta: dict[str, Any]) -> str:
    raw = meta.get("err")
    return f"failed with code {meta.get('code')}" if not raw else str(raw)


def _fail(span: Any, message: str, error: dict[str, Any]) -> None:
    """Error status plus an ``exception`` event from a recorded error (no live exception)."""
    from opentelemetry.trace import Status, StatusCode

    span.set_status(Status(StatusCode.ERROR, message))
    attributes = {"exception.message": message}
    for source, target in (("name", "exception.type"), ("stack", "exception.stacktrace")):
        if error.get(source):
            attributes[target] = str(error[source])
    span.add_event("exception", attributes)


NAMING: dict[str, str] = {"meshflow": "hotmesh_nb.meshflow._workflow_tracing"}
"""Apps whose spans are named by their own rules: app id → module with
``root_name``, ``job_name``, ``worker_name`` and ``activity_name``."""


def _naming(app: str) -> Any:
    return __import__(NAMING[app], fromlist=["activity_name"])


# -- the notebook view --------------------------------------------------------------


def trace_frame(export: dict[str, Any]) -> Any:
    """A job's timeline in span shape, as a Gantt-style ``pandas.DataFrame``.

    One row for the job (``span`` = the job id, no parent) and one per
    activity run (``span`` = ``<activity><dimension>``, ``parent`` = the job
    id), in start order. Columns: ``span, parent, activity, type, dimension,
    start, end, duration_ms, status, code``. Built from the job's own recorded
    timings (:meth:`HotMesh.export`), so it needs no exporter and no
    OpenTelemetry.
    """
    import pandas as pd

    metadata = export.get("metadata") or {}
    job_id = str(metadata.get("jid"))
    entries = export.get("timeline") or []
    stored = export.get("status")  # the semaphore as stored (text, as the original's)
    status = None if stored is None else int(stored)
    ended = status is not None and status <= 0 and status != -1
    job_start = parse_compact(metadata.get("jc"))
    job_end = parse_compact(metadata.get("ju")) if ended else None
    if metadata.get("err"):
        job_status = "error"
    elif ended:
        job_status = "done"
    else:
        job_status = "running" if status != -1 else "pending"
    rows: list[dict[str, Any]] = [
        {
            "span": job_id,
            "parent": None,
            "activity": None,
            "type": "job",
            "dimension": None,
            "start": job_start,
            "end": job_end,
            "status": job_status,
            "code": None,
        }
    ]
    for entry in entries:
        rows.append(
            {
                "span": f"{entry.get('activity')}{entry.get('dimension') or ''}",
                "parent": job_id,
                "activity": entry.get("activity"),
                "type": entry.get("type"),
                "dimension": entry.get("dimension"),
                "start": entry.get("start"),
                "end": entry.get("end"),
                "status": entry.get("status"),
                "code": entry.get("code"),
            }
        )
    time = "datetime64[ns, UTC]"
    frame = pd.DataFrame(
        {
            "span": pd.Series([r["span"] for r in rows], dtype="string"),
            "parent": pd.Series([r["parent"] for r in rows], dtype="string"),
            "activity": pd.Series([r["activity"] for r in rows], dtype="string"),
            "type": pd.Series([r["type"] for r in rows], dtype="string"),
            "dimension": pd.Series([r["dimension"] for r in rows], dtype="string"),
            "start": pd.Series([r["start"] for r in rows], dtype=time),
            "end": pd.Series([r["end"] for r in rows], dtype=time),
            "status": pd.Series([r["status"] for r in rows], dtype="string"),
            "code": pd.Series(
                [int(r["code"]) if r["code"] is not None else None for r in rows], dtype="Int64"
            ),
        }
    )
    frame.insert(7, "duration_ms", (frame["end"] - frame["start"]).dt.total_seconds() * 1000)
    return frame
