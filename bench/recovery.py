"""Soak: how fast a running mesh recovers when its server dies or forgets its scripts.

    python bench/recovery.py [--rounds 5] [--jobs 200]

An engine and a worker run in this process against a persistent embedded server
of their own (AOF, in a temporary ``HOTMESH_HOME``), with jobs flowing all the
time. Each round either SIGKILLs the server and starts it again from its AOF, or
sends ``SCRIPT FLUSH``. The table shows, per kind of fault, the seconds from the
server being usable again to the first job completed end to end, and checks that
every job published before the fault completed (nothing lost). The goal is
recovery within 2 s of the server being back.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import redis

import hotmesh_nb
from hotmesh_nb import EngineConfig, HotMesh, Worker
from hotmesh_nb.errors import HotMeshError

APP = """
app:
  id: soak
  version: '1'
  graphs:
    - subscribes: soak.go
      activities:
        t1:
          type: trigger
        w:
          type: worker
          topic: soak.work
          input: { maps: { n: '{t1.output.data.n}' } }
          job: { maps: { n: '{$self.output.data.n}' } }
      transitions:
        t1:
          - to: w
"""


async def work(msg: hotmesh_nb.WorkerMessage) -> dict:
    await asyncio.sleep(0.01)
    return {"n": msg.data["n"]}


def cli(home: str, *args: str) -> str:
    env = dict(os.environ, HOTMESH_HOME=home)
    command = [sys.executable, "-m", "hotmesh_nb.cli", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout


async def first_job_after(hm: HotMesh, since: float) -> float:
    """Seconds from ``since`` until one job completes end to end."""
    while True:
        try:
            await hm.pubsub_async("soak.go", {"n": -1}, timeout=10)
            return time.monotonic() - since
        except HotMeshError:
            await asyncio.sleep(0.01)


async def round_(hm: HotMesh, home: str, url: str, fault: str, jobs: int) -> tuple[float, bool]:
    ids = [await hm.pub_async("soak.go", {"n": n}) for n in range(jobs)]
    admin = redis.Redis.from_url(url)
    if fault == "kill":
        pid = int(hotmesh_nb.server.describe()["pid"])
        os.kill(pid, signal.SIGKILL)
        await asyncio.sleep(0.5)
        await asyncio.to_thread(cli, home, "server", "start")
    else:
        admin.script_flush()
    while True:  # the server is usable again from here
        try:
            admin.ping()
            break
        except redis.ConnectionError:
            await asyncio.sleep(0.005)
    back = time.monotonic()
    recovery = await first_job_after(hm, back)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        statuses = [await hm.get_status_async(i) for i in ids]
        if all(s == 0 for s in statuses):
            return recovery, True
        await asyncio.sleep(0.1)
    return recovery, False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds per kind of fault")
    parser.add_argument("--jobs", type=int, default=200, help="jobs in flight at each fault")
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="hotmesh-soak-")
    os.environ["HOTMESH_HOME"] = home
    for var in ("HOTMESH_REDIS_URL", "REDIS_URL"):
        os.environ.pop(var, None)
    url = hotmesh_nb.server.start().url
    hm = HotMesh.init(
        "soak",
        connection=url,
        namespace="soak",
        workers=[Worker("soak.work", work)],
        config=EngineConfig(block_ms=1000, reclaim_after=5.0),
    )
    hm.deploy(APP)
    hm.activate("1")
    runtime = hotmesh_nb.runtime.get_runtime()
    results: dict[str, list[float]] = {"kill": [], "flush": []}
    lost = 0
    try:
        for _ in range(args.rounds):
            for fault in results:
                recovery, complete = runtime.run(round_(hm, home, url, fault, args.jobs))
                results[fault].append(recovery)
                lost += not complete
    finally:
        hotmesh_nb.shutdown()
        hotmesh_nb.server.stop()
    print(f"\nrecovery after a fault ({args.rounds} rounds, {args.jobs} jobs in flight each)\n")
    print("| fault | min s | median s | max s |\n|---|---:|---:|---:|")
    names = {"kill": "server SIGKILL + AOF restart", "flush": "SCRIPT FLUSH"}
    for fault, times in results.items():
        print(
            f"| {names[fault]} | {min(times):.3f} | {statistics.median(times):.3f} | "
            f"{max(times):.3f} |"
        )
    print(f"\nrounds with a job lost: {lost}")


if __name__ == "__main__":
    main()
