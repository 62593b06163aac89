"""Run another benchmark with OpenTelemetry absent, present but off, or on.

    python bench/tracing.py absent|off|on hello.py --no-peer --no-separate
    python bench/tracing.py on meshflow.py --no-peer --no-separate

``absent``: every ``opentelemetry`` import fails, as without the ``otel`` extra.
``off``: OpenTelemetry is importable but no tracer provider is configured
(the usual case: redis-py imports it whenever it is installed).
``on``: an SDK tracer provider with a batch processor and an exporter that
drops the spans, so the figures show what creating spans costs, not a backend.
Compare ``client CPU per job`` between the modes: throughput on a shared
machine moves more from run to run than tracing moves it.
"""

from __future__ import annotations

import importlib.abc
import runpy
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


class _NoOpenTelemetry(importlib.abc.MetaPathFinder):
    """Refuses every ``opentelemetry`` module, like an environment without the extra."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> None:
        if name.split(".")[0] == "opentelemetry":
            raise ImportError(f"{name} is blocked (mode 'absent')")


def _tracing_on() -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
    from opentelemetry.sdk.trace.export import (
        BatchSpanProcessor,
        SpanExporter,
        SpanExportResult,
    )

    class Drop(SpanExporter):
        def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(Drop()))
    trace.set_tracer_provider(provider)


def main() -> None:
    if len(sys.argv) < 3 or sys.argv[1] not in ("absent", "off", "on"):
        sys.exit("usage: python bench/tracing.py absent|off|on <benchmark.py> [its arguments]")
    mode, script = sys.argv[1], Path(__file__).with_name(sys.argv[2])
    if mode == "absent":
        sys.meta_path.insert(0, _NoOpenTelemetry())
    elif mode == "on":
        _tracing_on()
    sys.argv = [str(script), *sys.argv[3:]]
    runpy.run_path(str(script), run_name="__main__")


if __name__ == "__main__":
    main()
