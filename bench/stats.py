"""What a trigger's ``stats`` (get_stats / get_ids / hook_all's key resolver) cost per job.

    python bench/stats.py [--total 2000] [--concurrency 50] [--seq 300] [--count 200]

The hello app twice on one server: plain, and with a trigger that keeps stats
(a key and four measures: count, sum, avg and an index). The table shows what the
stats writes add: Redis commands (they run inside the job's one creation script,
so no extra round trip), throughput and latency. An app without ``stats`` pays
nothing.
"""

from __future__ import annotations

import argparse

import redis
from _common import (
    bench_server,
    commands_per_call,
    idle_rate,
    sequential,
    size_parser,
    throughput,
)

import hotmesh_nb
from hotmesh_nb import HotMesh, Worker
from hotmesh_nb.runtime import get_runtime

PLAIN = """
app:
  id: {app}
  version: '1'
  graphs:
    - subscribes: {app}.test
      expire: 120
      activities:
        t1:
          type: trigger
{stats}
        w1:
          type: worker
          topic: {app}.work
          input: {{ maps: {{ n: '{{t1.output.data.n}}' }} }}
          job: {{ maps: {{ result: '{{$self.output.data.result}}' }} }}
      transitions:
        t1:
          - to: w1
"""

STATS = """          stats:
            key: '{$self.input.data.group}'
            measures:
              - { measure: count, target: '{$self.input.data.color}' }
              - { measure: sum, target: '{$self.input.data.n}' }
              - { measure: avg, target: '{$self.input.data.n}' }
              - { measure: index, target: '{$self.input.data.color}' }"""


async def work(msg: hotmesh_nb.WorkerMessage) -> dict:
    return {"result": f"done-{msg.data['n']}"}


async def measure(url: str, admin: redis.Redis, args: argparse.Namespace, app: str) -> dict:
    yaml = PLAIN.format(app=app, stats=STATS if app == "withstats" else "")
    hm = await HotMesh.init_async(
        app, connection=url, namespace="bench", workers=[Worker(f"{app}.work", work)]
    )
    await hm.deploy_async(yaml)
    await hm.activate_async("1")

    async def job(n: int) -> None:
        data = {"n": n, "group": f"g{n % 10}", "color": ("red", "blue")[n % 2]}
        out = await hm.pubsub_async(f"{app}.test", data)
        assert out == {"result": f"done-{n}"}, out

    for i in range(args.warmup):
        await job(i)
    seq = await sequential(job, args.seq)
    rate = await throughput(job, args.total, args.concurrency)
    per_job, _ = await commands_per_call(admin, job, args.count, await idle_rate(admin))
    return {"p50": seq["p50"], "rate": rate["per_sec"], "commands": per_job}


def main() -> None:
    parser = size_parser(
        __doc__.splitlines()[0], total=2000, seq=300, warmup=50, count=200, host=False
    )
    args = parser.parse_args()
    results = {}
    with bench_server() as port:
        admin = redis.Redis(port=port, decode_responses=True)
        for app in ("plain", "withstats"):
            results[app] = get_runtime().run(measure(f"redis://127.0.0.1:{port}", admin, args, app))
        hotmesh_nb.shutdown()
    plain, stats = results["plain"], results["withstats"]
    print("\nhello app without and with trigger stats (4 measures), same server\n")
    print("| metric | plain | with stats | ratio |\n|---|---:|---:|---:|")
    for label, key in (
        ("sequential p50 (ms)", "p50"),
        (f"throughput, {args.total} jobs, {args.concurrency} in flight (jobs/s)", "rate"),
        ("Redis commands per job", "commands"),
    ):
        print(
            f"| {label} | {plain[key]:,.2f} | {stats[key]:,.2f} | {stats[key] / plain[key]:.2f}× |"
        )


if __name__ == "__main__":
    main()
