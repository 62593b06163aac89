"""Benchmark: a two-activity MeshFlow workflow beside the original, same server.

    python bench/meshflow.py [--total 1000] [--concurrency 50] [--seq 200] [--no-peer]

Prints sequential latency (start + result; p50/p95/p99), throughput with N
workflows in flight and Redis commands per workflow (``INFO commandstats``,
net of idle traffic) for hotmesh_nb and for the original
(@hotmeshio/hotmesh 0.3.32, ``meshflow.mjs``), with ratios.
"""

from __future__ import annotations

import argparse

import redis
from _common import (
    commands_per_call,
    idle_rate,
    peer_env,
    run_both,
    sequential,
    size_parser,
    table,
    throughput,
)

from hotmesh_nb import MeshFlow
from hotmesh_nb.meshflow import workflow


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

    async def numbered(n: int) -> None:
        await run_one(f"n{n}")

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


def main() -> None:
    parser = size_parser(__doc__.splitlines()[0], total=1000, seq=200, warmup=20, count=100)
    args = parser.parse_args()
    ours, theirs = run_both(measure, args, "meshflow.mjs", peer_env(args))
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
    if theirs:
        top = {t["cmd"]: t["per_workflow"] for t in theirs["commands"]["top"][:12]}
        print(f"original commands per workflow:   {top}")


if __name__ == "__main__":
    main()
