"""Benchmark: the seed's hello app (trigger → worker) beside the original and arq, same server.

    python bench/hello.py [--total 2000] [--concurrency 50] [--seq 500] [--no-peer]

Prints one table: sequential latency (p50/p95), throughput with N jobs in
flight, caller-process CPU and Redis commands per job (``INFO commandstats``,
net of idle traffic) for hotmesh_nb with its worker in the caller's process and
in a ``hotmesh-nb worker`` process, for the original (@hotmeshio/hotmesh 0.3.32)
and for arq 0.28 (both polls at 1 ms, ``max_jobs=50``, its worker in its own
process: ``bench/peers/arq_peer.py``), with ratios. Every caller is driven from
a plain asyncio loop of its own (``asyncio.run``).
"""

from __future__ import annotations

import argparse
import contextlib
from typing import Any

import redis
from _common import (
    Row,
    collect_columns,
    column,
    commands_per_call,
    compare_table,
    host_settings,
    hotmesh_worker_argv,
    idle_rate,
    sequential,
    size_parser,
    throughput,
    worker_process,
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


async def measure(
    url: str, admin: redis.Redis, args: argparse.Namespace, separate: bool = False
) -> dict[str, Any]:
    """hotmesh_nb's figures; ``separate``: its worker in a ``hotmesh-nb worker`` process."""
    hm = await HotMesh.init_async(
        "bench",
        connection=url,
        namespace="bench",
        workers=[] if separate else [Worker("work.do", work)],
    )
    await hm.deploy_async(APP_YAML)
    await hm.activate_async("1")
    worker: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
    if separate:
        argv = hotmesh_worker_argv("bench", url, "bench", {"work.do": "hello:work"})
        worker = worker_process(argv, ready="serving app")

    async def job(n: int) -> None:
        out = await hm.pubsub_async("bench.test", {"n": n})
        assert out == {"result": f"done-{n}"}, out

    with worker:
        for i in range(args.warmup):
            await job(i)
        seq = await sequential(job, args.seq)
        rate = await throughput(job, args.total, args.concurrency)
        per_job, top = await commands_per_call(admin, job, args.count, await idle_rate(admin))
    return {
        "seq": seq,
        "per_sec": rate["per_sec"],
        "cpu_ms": rate["cpu_ms"],
        "commands": per_job,
        "top": top,
    }


def run(args: argparse.Namespace) -> str:
    """Measure every column against one server; the printable report."""
    return report(collect(args), args)


def collect(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Every column's figures, measured one after another against one fresh server."""
    return collect_columns(
        args, measure, node_script="hello.mjs", python_peer="arq_peer.py", per="job", top=10
    )


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace) -> str:
    """The comparison table, then each system's most frequent Redis commands."""

    def values(path: str) -> dict[str, Any]:
        return {name: column(result, path) for name, result in results.items()}

    rows = [
        Row("sequential p50 (ms)", "lower", values("seq.p50")),
        Row("sequential p95 (ms)", "lower", values("seq.p95")),
        Row(
            f"throughput, {args.total} jobs, {args.concurrency} in flight (jobs/s)",
            "higher",
            values("per_sec"),
        ),
        Row("caller-process CPU per job (ms)", "lower", values("cpu_ms")),
        Row("Redis commands per job", "lower", values("commands")),
    ]
    lines = [
        "",
        "hello (trigger → worker; arq: one job returning a greeting), same server, same run",
        "",
        compare_table(rows, "arq 0.28"),
        "",
    ]
    labels = {
        "same": "hotmesh_nb (same proc)",
        "separate": "hotmesh_nb (separate proc)",
        "original": "original",
        "peer": "arq",
    }
    for name, result in results.items():
        if "top" in result:
            lines.append(f"{labels[name]} commands per job: {result['top']}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    return size_parser(__doc__.splitlines()[0], total=2000, seq=500, warmup=50, count=200)


def main() -> None:
    args = build_parser().parse_args()
    with host_settings(args) as host:
        print(run(args))
        if host:
            print(host)


if __name__ == "__main__":
    main()
