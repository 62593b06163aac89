"""A process of the outbox kill test: ``python outbox_role.py URL NAMESPACE``.

It serves the ``relay`` app (engine and workers) with ``EngineConfig(relay=True)``:
every effect on another partition goes through the outbox, as on a cluster. It prints
``ready`` once it serves, then runs until it is killed.
"""

from __future__ import annotations

import sys
import threading
import time

from hotmesh_nb import EngineConfig, HotMesh, Worker

APP = """
app:
  id: relay
  version: '1'
  graphs:
    - subscribes: relay.parent
      activities:
        p1:
          type: trigger
          stats:
            id: '{$self.input.data.id}'
        child:
          type: await
          topic: relay.child
          input: { maps: { n: '{p1.output.data.n}' } }
          job: { maps: { sum: '{$self.output.data.sum}' } }
        hold:
          type: hook
          job: { maps: { answer: '{$self.hook.data.answer}' } }
      transitions:
        p1:
          - to: child
        child:
          - to: hold
      hooks:
        relay.signal:
          - to: hold
            conditions:
              match:
                - expected: '{p1.output.data.id}'
                  actual: '{$self.hook.data.id}'
    - subscribes: relay.child
      activities:
        c1:
          type: trigger
        add:
          type: worker
          topic: relay.add
          input: { maps: { n: '{c1.output.data.n}' } }
          job: { maps: { sum: '{$self.output.data.sum}' } }
      transitions:
        c1:
          - to: add
"""

CONFIG = EngineConfig(block_ms=1000, reclaim_after=1.0, relay=True)


def add(message) -> dict:
    time.sleep(0.01)  # keeps children in flight when the process is killed
    return {"sum": message.data["n"] + 1000}


def serve(url: str, namespace: str) -> HotMesh:
    hm = HotMesh.init(
        "relay",
        connection=url,
        namespace=namespace,
        workers=[Worker("relay.add", add)],
        config=CONFIG,
    )
    hm.deploy(APP, partitions=8)
    hm.activate("1")
    return hm


if __name__ == "__main__":
    serve(sys.argv[1], sys.argv[2])
    print("ready", flush=True)
    threading.Event().wait()
