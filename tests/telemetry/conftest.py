"""Fixtures for tracing tests: an OpenTelemetry SDK with an in-memory exporter.

OpenTelemetry lets a process set its global tracer provider once. These tests
set one for their own duration and take it away again afterwards (as
OpenTelemetry's own test utilities do), so the rest of the suite runs with
tracing off, as most users do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.test.globals_test import reset_trace_globals

import hotmesh_nb
from hotmesh_nb import EngineConfig, HotMesh, Worker


@pytest.fixture(scope="module")
def exporter() -> Iterator[InMemorySpanExporter]:
    """Spans finished in this process (the global provider exports here)."""
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    reset_trace_globals()
    trace.set_tracer_provider(provider)
    yield memory
    hotmesh_nb.shutdown()
    provider.shutdown()
    reset_trace_globals()


@pytest.fixture
def spans(exporter: InMemorySpanExporter) -> Iterator[Callable[[], list[ReadableSpan]]]:
    """``spans()``: the spans finished since the test began."""
    exporter.clear()
    yield exporter.get_finished_spans
    hotmesh_nb.shutdown()
    exporter.clear()


@pytest.fixture
def mesh(redis_url: str, namespace: str, exporter: Any) -> Callable[..., HotMesh]:
    """``mesh(app_id, yaml, workers={topic: fn})`` → a deployed, activated HotMesh."""

    def make(app_id: str, yaml_text: str, workers: dict[str, Any] | None = None) -> HotMesh:
        hm = HotMesh.init(
            app_id,
            connection=redis_url,
            namespace=namespace,
            workers=[Worker(t, fn) for t, fn in (workers or {}).items()],
            config=EngineConfig(block_ms=500),
        )
        hm.deploy(yaml_text)
        hm.activate("1")
        return hm

    return make
