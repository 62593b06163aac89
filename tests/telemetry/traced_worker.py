"""A worker in its own process, with OpenTelemetry writing its spans to a file.

    python traced_worker.py <redis url> <namespace> <app> <topic> <spans file>

Configures the SDK as an application would (a global provider and an
exporter: here the console exporter writing one JSON span per line to the
file), then serves ``topic``: the callback answers ``{'doubled': 2 * n}``.
Prints ``ready`` once the worker runs; exits when stdin closes.
"""

from __future__ import annotations

import json
import sys

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import ConsoleSpanExporter, SimpleSpanProcessor

import hotmesh_nb
from hotmesh_nb import HotMesh, Worker, WorkerMessage


def one_line(span: ReadableSpan) -> str:
    return json.dumps(json.loads(span.to_json())) + "\n"


def work(message: WorkerMessage) -> dict:
    with trace.get_tracer("worker-code").start_as_current_span("worker's own work"):
        return {"doubled": message.data["n"] * 2}


def main() -> None:
    url, namespace, app, topic, path = sys.argv[1:6]
    with open(path, "a", encoding="utf-8") as out:
        provider = TracerProvider(resource=Resource.create({"service.name": "traced-worker"}))
        provider.add_span_processor(
            SimpleSpanProcessor(ConsoleSpanExporter(out=out, formatter=one_line))
        )
        trace.set_tracer_provider(provider)
        HotMesh.init(app, connection=url, namespace=namespace, workers=[Worker(topic, work)])
        print("ready", flush=True)
        sys.stdin.read()  # until the test closes our stdin
        hotmesh_nb.shutdown()
        provider.shutdown()


if __name__ == "__main__":
    main()
