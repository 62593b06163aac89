"""Run a traced-looking job in a process where OpenTelemetry cannot be imported.

    python without_otel.py <redis url> <namespace>

As if the ``otel`` extra were not installed: every ``opentelemetry`` import
fails. Runs a job with a worker inside this process, reads its trace frame,
and prints one JSON line: the job's result, the frame's span names and the
``opentelemetry`` modules that got imported (none).
"""

from __future__ import annotations

import importlib.abc
import json
import sys
import time
from typing import Any


class NoOpenTelemetry(importlib.abc.MetaPathFinder):
    """Refuses every ``opentelemetry`` module, like an environment without the extra."""

    def find_spec(self, name: str, path: Any, target: Any = None) -> None:
        if name == "opentelemetry" or name.startswith("opentelemetry."):
            raise ImportError(f"{name} is not installed here")


def main() -> None:
    sys.meta_path.insert(0, NoOpenTelemetry())
    import hotmesh_nb
    from hotmesh_nb import HotMesh, Worker

    url, namespace = sys.argv[1:3]
    app = """
app:
  id: plain
  version: '1'
  graphs:
    - subscribes: plain.start
      activities:
        t1:
          type: trigger
        w1:
          type: worker
          topic: plain.work
          job:
            maps:
              answer: '{$self.output.data.answer}'
      transitions:
        t1:
          - to: w1
"""
    hm = HotMesh.init(
        "plain",
        connection=url,
        namespace=namespace,
        workers=[Worker("plain.work", lambda message: {"answer": 42})],
    )
    hm.deploy(app)
    hm.activate("1")
    result = hm.pubsub("plain.start", {}, timeout=30)
    job_id = hm.pub("plain.start", {})
    deadline = time.monotonic() + 30
    while hm.get_status(job_id) != 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    frame = hm.trace(job_id)
    loaded = sorted(m for m in sys.modules if m.split(".")[0] == "opentelemetry")
    hotmesh_nb.shutdown()
    print(json.dumps({"result": result, "spans": frame["span"].tolist(), "loaded": loaded}))


if __name__ == "__main__":
    main()
