"""Benchmark: a two-activity MeshFlow workflow beside the original, same server.

    python bench/meshflow.py [--total 1000] [--concurrency 50] [--seq 200] [--no-peer]

Prints sequential latency (start + result; p50/p95/p99), throughput with N
workflows in flight and Redis commands per workflow (``INFO commandstats``,
net of idle traffic) for hotmesh_nb and for the original
(@hotmeshio/hotmesh 0.3.32, ``meshflow.mjs``), with ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import time

import redis
from _common import bench_server, command_stats, percentiles, run_peer, table

import hotmesh_nb
from hotmesh_nb import MeshFlow
from hotmesh_nb.meshflow import workflow
from hotmesh_nb.runtime import get_runtime


async def greet(name: str) -> str:
    return f"Hello, {name}!"


async def farewell(greeting: str) -> str:
    return f"{greeting} Goodbye!"


acts = workflow.proxy_activities(activities=[greet, farewell])


async def bench_flow(name: str) -> str:
    a = await acts.greet(name)
    return await acts.farewell(a)


async def measure(url: str, admin: redis.Redis, args: argparse.Namespace) -> dict:
    await MeshFlow.Worker.create_async(
        connection=url, namespace="bench", task_queue="bench", workflow=bench_flow
    )
    client = MeshFlow.Client(connection=url, namespace="bench")

    async def run_one(name: str) -> None:
        handle = await client.workflow.start_async(
            args=[name], task_queue="bench", workflow_name="bench_flow"
        )
        out = await handle.result_async(timeout=60)
        assert out == f"Hello, {name}! Goodbye!", out

    for i in range(args.warmup):
        await run_one(f"w{i}")

    latencies = []
    for i in range(args.seq):
        started = time.perf_counter()
        await run_one(f"s{i}")
        latencies.append((time.perf_counter() - started) * 1000)

    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    counter = iter(range(args.total))

    async def lane() -> None:
        for i in counter:
            await run_one(f"c{i}")

    started = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(args.concurrency)))
    elapsed = time.perf_counter() - started
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu_ms = (cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime) * 1000

    admin.config_resetstat()
    await asyncio.sleep(3)
    idle = sum(command_stats(admin).values()) / 3
    admin.config_resetstat()
    started = time.perf_counter()
    for i in range(args.count):
        await run_one(f"k{i}")
    counted_for = time.perf_counter() - started
    stats = command_stats(admin)
    per_wf = (sum(stats.values()) - idle * counted_for) / args.count
    top = sorted(stats.items(), key=lambda kv: -kv[1])[:12]
    return {
        "seq": percentiles(latencies),
        "per_sec": args.total / elapsed,
        "cpu_ms": cpu_ms / args.total,
        "commands": per_wf,
        "top": {k: round(v / args.count, 2) for k, v in top},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seq", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--no-peer", action="store_true", help="skip the original")
    args = parser.parse_args()

    with bench_server() as port:
        url = f"redis://127.0.0.1:{port}"
        admin = redis.Redis(port=port, decode_responses=True)
        ours = get_runtime().run(measure(url, admin, args))
        hotmesh_nb.shutdown()
        admin.flushall()
        peer = None
        if not args.no_peer:
            peer = run_peer(
                "meshflow.mjs",
                port,
                {
                    "SEQ": str(args.seq),
                    "TOTAL": str(args.total),
                    "CONC": str(args.concurrency),
                    "WARMUP": str(args.warmup),
                    "COUNT_K": str(args.count),
                },
            )
    theirs = peer or {}
    seq_t = theirs.get("sequential", {})
    thr_t = theirs.get("throughput", {})
    rows = [
        ("sequential p50 (ms)", ours["seq"]["p50"], seq_t.get("p50"), "low"),
        ("sequential p95 (ms)", ours["seq"]["p95"], seq_t.get("p95"), "low"),
        ("sequential p99 (ms)", ours["seq"]["p99"], seq_t.get("p99"), "low"),
        (
            f"throughput, {args.total} workflows, {args.concurrency} in flight (workflows/s)",
            ours["per_sec"],
            thr_t.get("workflowsPerSec"),
            "high",
        ),
        ("client CPU per workflow (ms)", ours["cpu_ms"], thr_t.get("node_cpu_ms_per_item"), "low"),
        (
            "Redis commands per workflow",
            ours["commands"],
            theirs.get("commands", {}).get("per_workflow_net_of_idle"),
            "low",
        ),
    ]
    print("\nMeshFlow: two sequential activities (start + result), same server, same run\n")
    print(table(rows))
    print(f"\nhotmesh_nb commands per workflow: {ours['top']}")
    if peer:
        top = {t["cmd"]: t["per_workflow"] for t in theirs["commands"]["top"][:12]}
        print(f"original commands per workflow:   {top}")


if __name__ == "__main__":
    main()
