"""Demos run by ``hotmesh-nb demo``: the seed's lifecycle examples, end to end.

Each demo prints what it did. They run against the embedded server unless a
URL is given (``--url`` or ``HOTMESH_REDIS_URL`` / ``REDIS_URL``), in their own
namespace so they never touch an application's data.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from .connection import connect_async, mask_url
from .engine._worker_service import WorkerMessage
from .hotmesh import HotMesh, Worker
from .runtime import get_runtime

NAMESPACE = "demo"

SEED_YAML = """
app:
  id: myfirstapp
  version: '1'
  graphs:
    - subscribes: myfirstapp.test
      activities:
        t1:
          type: trigger
        w1:
          type: worker
          topic: work.do
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


async def _hotmesh(url: str | None, word: str) -> list[str]:
    """The seed's HotMesh demo: a trigger and a linked worker function."""
    conn = await connect_async(url)

    def work(msg: WorkerMessage) -> dict:
        return {"reply": f"{msg.data.get('greeting', 'hello')}, from a Python worker"}

    hm = await HotMesh.init_async(
        "myfirstapp", connection=conn, namespace=NAMESPACE, workers=[Worker("work.do", work)]
    )
    lines = [f"connected to {mask_url(conn.url)} (namespace '{NAMESPACE}')"]
    spec = await hm.deploy_async(SEED_YAML)
    await hm.activate_async(spec.version)
    lines.append(f"deployed and activated {spec.id} version {spec.version}")
    started = time.perf_counter()
    data = await hm.pubsub_async("myfirstapp.test", {"greeting": word})
    elapsed = (time.perf_counter() - started) * 1000
    lines.append(
        f"pubsub('myfirstapp.test', {{'greeting': {word!r}}}) -> {data} in {elapsed:.1f} ms"
    )
    job_id = await hm.pub_async("myfirstapp.test", {"greeting": f"{word} again"})
    while await hm.get_status_async(job_id) > 0:
        await asyncio.sleep(0.01)
    exported = await hm.export_async(job_id)
    lines.append(f"job {job_id}: data {exported['data']}")
    for entry in exported["timeline"]:
        lines.append(
            f"  {entry['activity']:<4} {entry['type']:<8} {entry['status']:<8} "
            f"code {entry['code']}  dimension {entry['dimension']}"
        )
    await hm.stop_async()
    return lines


async def _meshcall(url: str | None, word: str) -> list[str]:
    """The seed's MeshCall demo: a function called over the mesh, cached, and a cron."""
    from .meshcall import MeshCall

    conn = await connect_async(url)
    calls: list[str] = []

    def shout(text: str) -> str:
        calls.append(text)
        return text.upper()

    await MeshCall.connect_async("demo.shout", shout, connection=conn, namespace=NAMESPACE)
    lines = [f"connected function 'demo.shout' on {mask_url(conn.url)}"]
    answer = await MeshCall.exec_async("demo.shout", [word], connection=conn, namespace=NAMESPACE)
    lines.append(f"exec('demo.shout', [{word!r}]) -> {answer!r}")
    key = f"cached-{int(time.time() * 1000)}"
    for attempt in (1, 2):
        answer = await MeshCall.exec_async(
            "demo.shout", [word], id=key, ttl="1 minute", connection=conn, namespace=NAMESPACE
        )
        lines.append(f"exec with id and ttl (call {attempt}) -> {answer!r}")
    lines.append(f"the function ran {len(calls)} times (the second cached call did not run it)")
    ticks: list[float] = []
    done = asyncio.Event()

    def tick() -> None:
        ticks.append(time.time())
        if len(ticks) == 2:
            get_runtime().loop.call_soon_threadsafe(done.set)

    cron_id = f"tick-{int(time.time() * 1000)}"
    started = await MeshCall.cron_async(
        "demo.tick",
        callback=tick,
        id=cron_id,
        interval="1 second",
        max_cycles=2,
        connection=conn,
        namespace=NAMESPACE,
    )
    lines.append(f"cron 'demo.tick' (every second, 2 cycles) started: {started}")
    await asyncio.wait_for(done.wait(), 30)
    lines.append(f"the cron ran {len(ticks)} times")
    return lines


async def _meshflow(url: str | None, word: str) -> list[str]:
    """The seed's MeshFlow demo: an activity that fails half the time, retried to success."""
    from .meshflow import MeshFlow, RetryPolicy, workflow

    conn = await connect_async(url)
    attempts: list[int] = []

    def greet(name: str) -> str:
        attempts.append(1)
        if len(attempts) % 2:  # fails every other call: the retry policy carries it through
            raise RuntimeError("Random error")
        return f"¡{word.capitalize()}, {name}!"

    acts = workflow.proxy_activities(
        activities=[greet],
        retry_policy=RetryPolicy(maximum_attempts=5, initial_interval="0.1 seconds"),
    )

    async def example(name: str) -> str:
        return await acts.greet(name)

    await MeshFlow.Worker.create_async(
        connection=conn, namespace=NAMESPACE, task_queue="demo", workflow=example
    )
    client = MeshFlow.Client(connection=conn, namespace=NAMESPACE)
    workflow_id = f"demo-{int(time.time() * 1000)}"
    handle = await client.workflow.start_async(
        args=["HotMesh"], task_queue="demo", workflow_name="example", workflow_id=workflow_id
    )
    result = await handle.result_async(timeout=30)
    return [
        f"started workflow {workflow_id} on {mask_url(conn.url)}",
        f"result: {result!r} after {len(attempts)} activity attempts",
    ]


async def _meshdata(url: str | None, words: str) -> list[str]:
    """The seed's MeshData demo: ``meshdata cat dog mouse`` — records, then a search."""
    from .meshdata._meshdata_demo import run_demo

    return await run_demo(url, words.split())


DEMOS: dict[str, Callable[[str | None, str], Coroutine[Any, Any, list[str]]]] = {
    "hotmesh": _hotmesh,
    "meshcall": _meshcall,
    "meshflow": _meshflow,
    "meshdata": _meshdata,
}
"""Demo name → coroutine function(url, argument) returning the lines it prints."""


def run_demos(
    names: Sequence[str],
    url: str | None = None,
    argument: str = "howdy",
    words: str = "cat dog mouse",
) -> int:
    """Run the named demos (all by default) and print what each did."""
    chosen = list(names) or list(DEMOS)
    unknown = [n for n in chosen if n not in DEMOS]
    if unknown:
        print(f"unknown demo(s): {', '.join(unknown)}; choose from: {', '.join(DEMOS)}")
        return 2
    runtime = get_runtime()
    for name in chosen:
        print(f"== demo: {name}")
        text = words if name == "meshdata" else argument
        for line in runtime.run(DEMOS[name](url, text), name="demo"):
            print(f"   {line}")
    if url is None and not os.environ.get("HOTMESH_REDIS_URL") and not os.environ.get("REDIS_URL"):
        print(
            "the embedded server keeps running (its data persists); "
            "`hotmesh-nb server stop` stops it"
        )
    return 0
