"""Helpers reading the span trees the tracing tests export."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from opentelemetry.sdk.trace import ReadableSpan
from waiting import wait_until


def tree(spans: Sequence[ReadableSpan]) -> dict[str, list[str]]:
    """Parent span name → sorted names of its children (``None`` for roots)."""
    by_id = {s.context.span_id: s for s in spans}
    out: dict[str, list[str]] = {}
    for span in spans:
        parent = by_id[span.parent.span_id].name if span.parent is not None else None
        out.setdefault(str(parent), []).append(span.name)
    return {k: sorted(v) for k, v in out.items()}


def assert_one_connected_trace(spans: Sequence[ReadableSpan], root: ReadableSpan) -> None:
    """Every span is in ``root``'s trace and its parent is one of the exported spans."""
    ids = {s.context.span_id for s in spans}
    for span in spans:
        assert span.context.trace_id == root.context.trace_id, span.name
        if span is not root:
            assert span.parent is not None and span.parent.span_id in ids, span.name


def finished(spans: Callable[[], list[ReadableSpan]], name: str, count: int = 1) -> None:
    wait_until(lambda: sum(s.name == name for s in spans()) >= count)
