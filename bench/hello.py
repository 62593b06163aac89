"""Benchmark: the seed's hello app (trigger → worker) beside the original, same server.

    python bench/hello.py [--total 2000] [--concurrency 50] [--seq 500] [--no-peer]

Prints sequential latency (p50/p95/p99), throughput with N jobs in flight and
Redis commands per job (``INFO commandstats``, net of idle traffic) for
hotmesh_nb and for the original (@hotmeshio/hotmesh 0.3.32), with ratios.
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

import hotmesh_nb
from hotmesh_nb import HotMesh, Worker

APP_YAML = """
app:
  id: bench
  version: '1'
  graphs:
    - subscribes: bench.test
      expire: 120
      activities:
        t1:
          type: trigger
        w1:
          type: worker
          topic: work.do
          input:
            maps:
              n: '{t1.output.data.n}'
          job:
            maps:
              result: '{$self.output.data.result}'
      transitions:
        t1:
          - to: w1
"""


async def work(msg: hotmesh_nb.WorkerMessage) -> dict:
    return {"result": f"done-{msg.data['n']}"}


async def measure(url: str, admin: redis.Redis, args: argparse.Namespace) -> dict:
    hm = await HotMesh.init_async(
        "bench", connection=url, namespace="bench", workers=[Worker("work.do", work)]
    )
    await hm.deploy_async(APP_YAML)
    await hm.activate_async("1")

    async def job(n: int) -> None:
        out = await hm.pubsub_async("bench.test", {"n": n})
        assert out == {"result": f"done-{n}"}, out

    for i in range(args.warmup):
        await job(i)
    seq = await sequential(job, args.seq)
    rate = await throughput(job, args.total, args.concurrency)
    per_job, top = await commands_per_call(admin, job, args.count, await idle_rate(admin))
    return {
        "seq": seq,
        "jobs_per_sec": rate["per_sec"],
        "cpu_ms_per_job": rate["cpu_ms"],
        "commands_per_job": per_job,
        "top": top,
    }


def main() -> None:
    parser = size_parser(__doc__.splitlines()[0], total=2000, seq=500, warmup=50, count=200)
    args = parser.parse_args()
    ours, theirs = run_both(measure, args, "hello.mjs", peer_env(args))
    seq_t = theirs.get("sequential", {})
    rows = [
        ("sequential p50 (ms)", ours["seq"]["p50"], seq_t.get("p50"), "low"),
        ("sequential p95 (ms)", ours["seq"]["p95"], seq_t.get("p95"), "low"),
        ("sequential p99 (ms)", ours["seq"]["p99"], seq_t.get("p99"), "low"),
        (
            f"throughput, {args.total} jobs, {args.concurrency} in flight (jobs/s)",
            ours["jobs_per_sec"],
            theirs.get("throughput", {}).get("jobsPerSec"),
            "high",
        ),
        (
            "client CPU per job (ms)",
            ours["cpu_ms_per_job"],
            theirs.get("throughput", {}).get("node_cpu_ms_per_item"),
            "low",
        ),
        (
            "Redis commands per job",
            ours["commands_per_job"],
            theirs.get("commands", {}).get("per_job_net_of_idle"),
            "low",
        ),
    ]
    print("\nhello app (trigger → worker), same server, same run\n")
    print(table(rows))
    print(f"\nhotmesh_nb commands per job: {ours['top']}")
    if theirs:
        top = {t["cmd"]: t["per_job"] for t in theirs["commands"]["top"][:10]}
        print(f"original commands per job:   {top}")


if __name__ == "__main__":
    main()
