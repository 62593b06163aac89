"""Benchmark: a two-activity MeshFlow workflow beside the original and DBOS, same run.

    python bench/meshflow.py [--total 1000] [--concurrency 50] [--seq 200] [--no-peer]

Prints one table: sequential latency (start + result; p50/p95), throughput with
N workflows in flight, caller-process CPU and Redis commands per workflow
(``INFO commandstats``, net of idle traffic) for hotmesh_nb with its MeshFlow
worker in the caller's process and in a process of its own
(``python bench/meshflow.py --serve-worker URL``), for the original
(@hotmeshio/hotmesh 0.3.32, ``meshflow.mjs``) and for DBOS 3.4 (two steps, SQLite,
its async API: ``bench/peers/dbos_peer.py``), with ratios. Every caller is
driven from a plain asyncio loop of its own (``asyncio.run``).
"""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
import threading
from typing import Any

import redis
from _common import (
    Row,
    collect_columns,
    column,
    commands_per_call,
    compare_table,
    host_settings,
    idle_rate,
    sequential,
    size_parser,
    throughput,
    worker_process,
)

import hotmesh_nb
from hotmesh_nb import MeshFlow
from hotmesh_nb.meshflow import workflow

READY = "meshflow worker ready"


async def greet(name: str) -> str:
    return f"Hello, {name}!"


async def farewell(greeting: str) -> str:
    return f"{greeting} Goodbye!"


acts = workflow.proxy_activities(activities=[greet, farewell])


async def bench_flow(name: str) -> str:
    a = await acts.greet(name)
    return await acts.farewell(a)


async def measure(
    url: str, admin: redis.Redis, args: argparse.Namespace, separate: bool = False
) -> dict[str, Any]:
    """hotmesh_nb's figures; ``separate``: the workflow worker in a process of its own."""
    worker: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
    if separate:
        argv = [sys.executable, __file__, "--serve-worker", url]
        worker = worker_process(argv, ready=READY)
    else:
        await MeshFlow.Worker.create_async(
            connection=url, namespace="bench", task_queue="bench", workflow=bench_flow
        )
    client = MeshFlow.Client(connection=url, namespace="bench")

    async def numbered(n: int) -> None:
        name = f"n{n}"
        handle = await client.workflow.start_async(
            args=[name], task_queue="bench", workflow_name="bench_flow"
        )
        out = await handle.result_async(timeout=60)
        assert out == f"Hello, {name}! Goodbye!", out

    with worker:
        for i in range(args.warmup):
            await numbered(i)
        offset = args.warmup
        seq = await sequential(numbered, args.seq, offset)
        offset += args.seq
        rate = await throughput(numbered, args.total, args.concurrency, offset)
        offset += args.total
        idle = await idle_rate(admin)
        per_wf, top = await commands_per_call(admin, numbered, args.count, idle, offset)
    return {
        "seq": seq,
        "per_sec": rate["per_sec"],
        "cpu_ms": rate["cpu_ms"],
        "commands": per_wf,
        "top": top,
    }


def serve_worker(url: str) -> None:
    """The separate worker process: serve ``bench_flow`` until SIGTERM, then drain."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    MeshFlow.Worker.create(
        connection=url, namespace="bench", task_queue="bench", workflow=bench_flow
    )
    print(READY, flush=True)
    stop.wait()
    hotmesh_nb.shutdown()


def run(args: argparse.Namespace) -> str:
    """Measure every column against one server; the printable report."""
    return report(collect(args), args)


def collect(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Every column's figures, measured one after another against one fresh server."""
    return collect_columns(
        args,
        measure,
        node_script="meshflow.mjs",
        python_peer="dbos_peer.py",
        per="workflow",
        top=12,
    )


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> str:
    """The comparison table, then each system's most frequent Redis commands."""

    def values(path: str) -> dict[str, Any]:
        return {name: column(result, path) for name, result in results.items()}

    rows = [
        Row("sequential p50 (ms)", "lower", values("seq.p50")),
        Row("sequential p95 (ms)", "lower", values("seq.p95")),
        Row(
            f"throughput, {args.total} workflows, {args.concurrency} in flight (workflows/s)",
            "higher",
            values("per_sec"),
        ),
        Row("caller-process CPU per workflow (ms)", "lower", values("cpu_ms")),
        Row("Redis commands per workflow", "lower", values("commands")),
    ]
    lines = [
        "",
        "MeshFlow: a workflow of two activities (DBOS: two steps; start + result), same run",
        "",
        compare_table(rows, "DBOS 3.4 (SQLite)"),
        "",
    ]
    labels = {
        "same": "hotmesh_nb (same proc)",
        "separate": "hotmesh_nb (separate proc)",
        "original": "original",
    }
    for name, result in results.items():
        if "top" in result and name in labels:
            lines.append(f"{labels[name]} commands per workflow: {result['top']}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    return size_parser(__doc__.splitlines()[0], total=1000, seq=200, warmup=20, count=100)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--serve-worker":
        serve_worker(sys.argv[2])
        return
    args = build_parser().parse_args()
    with host_settings(args) as host:
        print(run(args))
        if host:
            print(host)


if __name__ == "__main__":
    main()
