"""Serve a MeshCall topic from its own process until killed (used by the tests).

    python serve_topic.py <namespace> <topic>

The function answers ``{'pid': <this process>, 'args': [...]}``. The server URL
comes from ``HOTMESH_REDIS_URL``. Prints ``ready`` once the worker runs.
"""

from __future__ import annotations

import os
import sys
import threading

from hotmesh_nb import MeshCall


def describe(*args: object) -> dict:
    return {"pid": os.getpid(), "args": list(args)}


def main() -> None:
    namespace, topic = sys.argv[1], sys.argv[2]
    MeshCall.connect(topic, describe, namespace=namespace)
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
