"""What each ACL role runs: ``python acl_roles.py PART URL NAMESPACE``.

A part is one process of a real deployment, connected as the ACL user of its role:
``admin`` deploys and activates the hello app; ``engine`` and ``worker`` serve it (they
print ``ready`` and run until killed); ``client`` publishes a job and waits for it;
``meshcall-worker`` / ``meshcall-client``, ``meshflow-worker`` / ``meshflow-client`` and
``meshdata-worker`` / ``meshdata-client`` do the same for the other modules. A client part
prints one JSON line with what it got.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from typing import Any

from hotmesh_nb import (
    EngineConfig,
    HotMesh,
    MeshCall,
    MeshData,
    MeshFlow,
    SearchOptions,
    Worker,
)
from hotmesh_nb.meshflow import workflow

APP = """
app:
  id: hello
  version: '1'
  graphs:
    - subscribes: hello.say
      activities:
        t1:
          type: trigger
        w1:
          type: worker
          topic: hello.work
          input:
            maps:
              greeting: '{t1.output.data.greeting}'
          job:
            maps:
              reply: '{$self.output.data.reply}'
      transitions:
        t1:
          - to: w1
"""
CONFIG = EngineConfig(block_ms=500)
WORDS = SearchOptions(
    "words",
    prefix=["word-"],
    schema={"word": {"type": "TAG"}, "letters": {"type": "NUMERIC"}},
)


def work(msg: Any) -> dict[str, str]:
    """The hello app's worker."""
    return {"reply": f"{msg.data['greeting']}, from a worker"}


def shout(text: str) -> str:
    """The MeshCall function."""
    return text.upper()


def greet(name: str) -> str:
    """The MeshFlow activity."""
    return f"Hello, {name}!"


acts = workflow.proxy_activities(activities=[greet])


async def hello_flow(name: str) -> str:
    """The MeshFlow workflow: an activity, a durable sleep (a timer) and a signal (a hook)."""
    hello = await acts.greet(name)
    await workflow.sleep_for(0.2)
    word = await workflow.wait_for("acl-go")
    return f"{hello} {word}"


def describe(word: str) -> dict[str, Any]:
    """The MeshData entity function."""
    return {"word": word, "letters": len(word)}


def admin(url: str, ns: str) -> dict[str, Any]:
    """Deploy and activate the hello app."""
    hm = HotMesh.init("hello", connection=url, namespace=ns, engine=False, config=CONFIG)
    spec = hm.deploy(APP)
    hm.activate(spec.version)
    return {"deployed": spec.version}


def engine(url: str, ns: str) -> None:
    """Run the hello app's engine."""
    HotMesh.init("hello", connection=url, namespace=ns, config=CONFIG)


def worker(url: str, ns: str) -> None:
    """Serve the hello app's worker topic."""
    HotMesh.init(
        "hello",
        connection=url,
        namespace=ns,
        engine=False,
        workers=[Worker("hello.work", work)],
        config=CONFIG,
    )


def client(url: str, ns: str) -> dict[str, Any]:
    """Publish a hello job, wait for it, and read it back."""
    hm = HotMesh.init("hello", connection=url, namespace=ns, engine=False, config=CONFIG)
    answer = hm.pubsub("hello.say", {"greeting": "howdy"}, timeout=60)
    job_id = hm.pub("hello.say", {"greeting": "again"})
    status = hm.get_status(job_id)
    return {"answer": answer, "job": job_id, "status_known": status is not None}


def meshcall_worker(url: str, ns: str) -> None:
    """Serve a MeshCall function."""
    MeshCall.connect("shout", shout, connection=url, namespace=ns)


def meshcall_client(url: str, ns: str) -> dict[str, Any]:
    """Call the function, fresh and cached."""
    fresh = MeshCall.exec("shout", ["hi"], connection=url, namespace=ns)
    cached = MeshCall.exec("shout", ["ho"], id="ho", ttl="1 minute", connection=url, namespace=ns)
    # Awaited on a loop of its own, the cached answer is read from that loop.
    again = asyncio.run(
        MeshCall.exec_async("shout", ["ha"], id="ho", ttl="1 minute", connection=url, namespace=ns)
    )
    return {"fresh": fresh, "cached": cached, "again": again}


def meshflow_worker(url: str, ns: str) -> None:
    """Serve the workflow and its activity."""
    MeshFlow.Worker.create(
        connection=url, namespace=ns, task_queue="acl", workflow=hello_flow, config=CONFIG
    )


def meshflow_client(url: str, ns: str) -> dict[str, Any]:
    """Start a workflow and wait for its result."""
    client = MeshFlow.Client(connection=url, namespace=ns)
    handle = client.workflow.start(
        args=["Ada"], task_queue="acl", workflow_name="hello_flow", workflow_id="acl-1"
    )
    client.workflow.signal("acl-go", "go")
    return {"result": handle.result(timeout=60)}


def _meshdata(url: str, ns: str) -> MeshData:
    return MeshData(url, search=WORDS, namespace=ns, config=CONFIG)


def meshdata_worker(url: str, ns: str) -> None:
    """Serve the entity function."""
    _meshdata(url, ns).connect("word", describe)


def meshdata_client(url: str, ns: str) -> dict[str, Any]:
    """Write records and search them."""
    md = _meshdata(url, ns)
    for word in ("cat", "mouse"):
        md.exec("word", [word], id=word, ttl="infinity", search=describe(word))
    found = md.find_where("word", [{"field": "letters", "is": ">=", "value": 4}])
    return {"found": sorted(str(r) for r in found.to_frame().index), "get": md.get("word", "cat")}


SERVERS = {
    "engine": engine,
    "worker": worker,
    "meshcall-worker": meshcall_worker,
    "meshflow-worker": meshflow_worker,
    "meshdata-worker": meshdata_worker,
}
"""Parts that run until killed."""

CALLERS = {
    "admin": admin,
    "client": client,
    "meshcall-client": meshcall_client,
    "meshflow-client": meshflow_client,
    "meshdata-client": meshdata_client,
}
"""Parts that do their work and print a JSON line."""


if __name__ == "__main__":
    part, url, ns = sys.argv[1:4]
    if part in SERVERS:
        SERVERS[part](url, ns)
        print("ready", flush=True)
        threading.Event().wait()
    else:
        print(json.dumps(CALLERS[part](url, ns), default=str), flush=True)
