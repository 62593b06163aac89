"""Benchmark: the cost of ``EngineConfig.replicas_to_wait`` (``WAIT`` after each flush).

    python bench/durability.py [--total 2000] [--concurrency 50] [--seq 300]

Runs the hello app (trigger → worker) on a local Redis Cluster (3 primaries, 1 replica
each, started in a private ``HOTMESH_HOME`` and removed afterwards), once with
``replicas_to_wait=0`` and once with ``1``, in one run, interleaved: sequential latency,
throughput with N jobs in flight and client CPU per job.
"""

from __future__ import annotations

import argparse
import os
import tempfile

from _common import sequential, throughput

import hotmesh_nb
from hotmesh_nb import EngineConfig, HotMesh, Worker, server

APP_YAML = """
app:
  id: {app}
  version: '1'
  graphs:
    - subscribes: {app}.test
      expire: 120
      activities:
        t1:
          type: trigger
        w1:
          type: worker
          topic: {app}.work
          input: {{ maps: {{ n: '{{t1.output.data.n}}' }} }}
          job: {{ maps: {{ result: '{{$self.output.data.result}}' }} }}
      transitions:
        t1:
          - to: w1
"""


async def work(msg: hotmesh_nb.WorkerMessage) -> dict:
    return {"result": msg.data["n"]}


async def measure(url: str, replicas: int, round_: int, args: argparse.Namespace) -> dict:
    app = f"dur{replicas}r{round_}"
    hm = await HotMesh.init_async(
        app,
        connection=url,
        namespace="durbench",
        workers=[Worker(f"{app}.work", work)],
        config=EngineConfig(replicas_to_wait=replicas, replica_wait_ms=1000),
    )
    await hm.deploy_async(APP_YAML.format(app=app))
    await hm.activate_async("1")

    async def job(n: int) -> None:
        assert await hm.pubsub_async(f"{app}.test", {"n": n}) == {"result": n}

    for i in range(50):
        await job(i)
    seq = await sequential(job, args.seq)
    rate = await throughput(job, args.total, args.concurrency)
    await hm.stop_async()
    return {"p50": seq["p50"], "p95": seq["p95"], **rate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--total", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seq", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    os.environ["HOTMESH_HOME"] = tempfile.mkdtemp(prefix="hotmesh-durability-")
    server.cluster_start(primaries=3, replicas=1)
    try:
        url = server.cluster_url()
        runtime = hotmesh_nb.runtime.get_runtime()
        results: dict[int, list[dict]] = {0: [], 1: []}
        for round_ in range(args.rounds):
            for replicas in (0, 1):
                results[replicas].append(runtime.run(measure(url, replicas, round_, args)))
        hotmesh_nb.shutdown()
    finally:
        server.cluster_stop(remove=True)

    def best(replicas: int, key: str, high: bool) -> float:
        values = [r[key] for r in results[replicas]]
        return max(values) if high else min(values)

    print("\nhello app on a local cluster (3 primaries, 1 replica each), best of rounds\n")
    print("| metric | replicas_to_wait=0 | replicas_to_wait=1 | cost |")
    print("|---|---:|---:|---:|")
    for label, key, high in (
        ("sequential p50 (ms)", "p50", False),
        ("sequential p95 (ms)", "p95", False),
        (f"throughput, {args.concurrency} in flight (jobs/s)", "per_sec", True),
        ("client CPU per job (ms)", "cpu_ms", False),
    ):
        off, on = best(0, key, high), best(1, key, high)
        cost = f"{(on / off - 1) * 100:+.0f} %" if off else "—"
        print(f"| {label} | {off:,.2f} | {on:,.2f} | {cost} |")


if __name__ == "__main__":
    main()
