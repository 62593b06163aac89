"""The processes of the chaos test: ``python mesh_roles.py ROLE URL NAMESPACE [ROUND]``.

``engine`` deploys the app and runs its engine; ``worker`` serves the app's worker topic
and a MeshFlow workflow with two activities; ``caller`` starts 1,000 jobs and 100
workflows, waits for every result and prints a JSON summary.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading

from hotmesh_nb import EngineConfig, HotMesh, MeshFlow, Worker
from hotmesh_nb.meshflow import workflow

APP = """
app:
  id: chaos
  version: '1'
  graphs:
    - subscribes: chaos.go
      activities:
        t1:
          type: trigger
        w:
          type: worker
          topic: chaos.work
          input: { maps: { n: '{t1.output.data.n}' } }
          job: { maps: { n: '{$self.output.data.n}', twice: '{$self.output.data.twice}' } }
      transitions:
        t1:
          - to: w
"""
JOBS = 1000
FLOWS = 100
CONFIG = EngineConfig(block_ms=1000, reclaim_after=5.0, delivery_cap=3)


async def work(msg):
    await asyncio.sleep(0.3)  # keeps jobs in flight while the server goes away
    return {"n": msg.data["n"], "twice": msg.data["n"] * 2}


async def double(n: int) -> int:
    await asyncio.sleep(0.1)
    return n * 2


async def add_one(n: int) -> int:
    await asyncio.sleep(0.1)
    return n + 1


acts = workflow.proxy_activities(activities=[double, add_one])


async def chaosflow(n: int) -> int:
    return await acts.add_one(await acts.double(n))


def engine(url: str, namespace: str) -> None:
    hm = HotMesh.init("chaos", connection=url, namespace=namespace, config=CONFIG)
    hm.deploy(APP)
    hm.activate("1")


def worker(url: str, namespace: str) -> None:
    HotMesh.init(
        "chaos",
        connection=url,
        namespace=namespace,
        engine=False,
        workers=[Worker("chaos.work", work)],
        config=CONFIG,
    )
    MeshFlow.Worker.create(
        connection=url, namespace=namespace, task_queue="chaos", workflow=chaosflow, config=CONFIG
    )


async def call(url: str, namespace: str, round_: int) -> dict:
    hm = await HotMesh.init_async(
        "chaos", connection=url, namespace=namespace, engine=False, config=CONFIG
    )
    client = MeshFlow.Client(connection=url, namespace=namespace)
    base = round_ * 100_000
    jobs = [hm.pubsub_async("chaos.go", {"n": base + n}, timeout=300) for n in range(JOBS)]
    handles = [
        await client.workflow.start_async(
            args=[base + n],
            task_queue="chaos",
            workflow_name="chaosflow",
            workflow_id=f"flow-{round_}-{n}",
        )
        for n in range(FLOWS)
    ]
    job_tasks = [asyncio.ensure_future(job) for job in jobs]
    flow_tasks = [asyncio.ensure_future(h.result_async(timeout=300)) for h in handles]
    await asyncio.sleep(1.0)  # every job is published and every waiter registered
    print("waiting", flush=True)
    results = await asyncio.gather(*job_tasks, return_exceptions=True)
    flows = await asyncio.gather(*flow_tasks, return_exceptions=True)
    wrong_jobs = [
        repr(r)
        for n, r in enumerate(results)
        if not isinstance(r, dict) or r != {"n": base + n, "twice": (base + n) * 2}
    ]
    wrong_flows = [repr(r) for n, r in enumerate(flows) if r != (base + n) * 2 + 1]
    return {"jobs": len(results), "flows": len(flows), "wrong": wrong_jobs + wrong_flows}


if __name__ == "__main__":
    role, url, namespace = sys.argv[1:4]
    if role == "caller":
        from hotmesh_nb.runtime import get_runtime

        summary = get_runtime().run(call(url, namespace, int(sys.argv[4])))
        print(json.dumps(summary), flush=True)
    else:
        {"engine": engine, "worker": worker}[role](url, namespace)
        print("ready", flush=True)
        threading.Event().wait()
