"""A process of the local dispatch kill test: ``python local_role.py URL NAMESPACE JOBS``.

It serves the ``local`` app (engine and worker in one process, so the work of the jobs
it starts goes straight to its own worker, under leases), starts ``JOBS`` jobs whose
callback notes that it began and then hangs, prints ``ready`` and waits to be killed.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from typing import Any

import redis

from hotmesh_nb import EngineConfig, HotMesh, Worker

APP = """
app:
  id: local
  version: '1'
  graphs:
    - subscribes: local.go
      activities:
        t1:
          type: trigger
        w1:
          type: worker
          topic: local.work
          input: { maps: { n: '{t1.output.data.n}' } }
          job: { maps: { doubled: '{$self.output.data.doubled}' } }
      transitions:
        t1:
          - to: w1
"""


def serve(url: str, namespace: str, callback: Any, **config: Any) -> HotMesh:
    """Serve the app here, with ``callback`` as the worker of ``local.work``."""
    hm = HotMesh.init(
        "local",
        connection=url,
        namespace=namespace,
        workers=[Worker("local.work", callback)],
        config=EngineConfig(**{"block_ms": 500, **config}),
    )
    hm.deploy(APP)
    hm.activate("1")
    return hm


def main() -> None:
    url, namespace, jobs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    admin = redis.Redis.from_url(url)

    async def hang(message: Any) -> dict[str, Any]:
        admin.sadd(f"{namespace}:entered", message.metadata["jid"])
        await asyncio.sleep(600)
        return {"doubled": 0}

    hm = serve(url, namespace, hang)
    for n in range(jobs):
        hm.pub("local.go", {"n": n})
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
