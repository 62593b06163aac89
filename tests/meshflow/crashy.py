"""A workflow for the crash test: run as a worker process (``python crashy.py URL NS``)."""

from __future__ import annotations

import os
import sys
import threading
import time

import redis

from hotmesh_nb import EngineConfig, MeshFlow
from hotmesh_nb.meshflow import workflow


def effect(step: int) -> int:
    """Count one effect per step in Redis; the first try of step 2 hangs (to be killed)."""
    client = redis.Redis.from_url(os.environ["CRASHY_URL"], decode_responses=True)
    prefix = os.environ["CRASHY_PREFIX"]
    if step == 2 and client.incr(f"{prefix}:entered:2") == 1:
        time.sleep(60)  # killed here
    client.incr(f"{prefix}:effect:{step}")
    client.close()
    return step


acts = workflow.proxy_activities(activities=[effect])
queued = workflow.proxy_activities(activities=[effect], local=False)


async def crashy(steps: int) -> list[int]:
    """Each effect runs locally, inside the replay (the worker has it)."""
    return [await acts.effect(i) for i in range(1, steps + 1)]


async def crashy_queued(steps: int) -> list[int]:
    """Each effect goes through the activity topic."""
    return [await queued.effect(i) for i in range(1, steps + 1)]


def serve(url: str, namespace: str, reclaim_after: float) -> None:
    """Serve ``crashy`` and ``crashy_queued`` on the ``crash`` task queue."""
    for fn in (crashy, crashy_queued):
        MeshFlow.Worker.create(
            connection=url,
            namespace=namespace,
            task_queue="crash",
            workflow=fn,
            config=EngineConfig(block_ms=500, reclaim_after=reclaim_after),
        )


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2], 60.0)
    print("ready", flush=True)
    threading.Event().wait()
