"""Benchmark: what a worker costs when idle, how fast it starts and how fast it stops.

    python bench/lifecycle.py [--window 10] [--starts 5]

Idle: a ``hotmesh-nb worker`` process (the hello app's worker; once alone,
once with ``--engine``) on a bench server of its own, left alone for a settle
period, then watched for ``--window`` seconds:

- Redis commands per second from ``INFO commandstats`` (delta over the window),
  split with ``MONITOR`` into blocking reads (``XREADGROUP … BLOCK``) and the
  rest, which is named command by command (commands run inside scripts count, as
  in ``INFO commandstats``);
- the process's CPU %, from ``/proc/<pid>/stat`` (user + system, all threads).

Start and stop, each in a fresh Python process (hotmesh_nb already imported:
``bench/import_time.py`` measures the import), the app already deployed:

- ``init`` → first job done: ``HotMesh.init_async`` with the worker, then the
  first ``pubsub_async`` answered (and the same for MeshFlow: worker created,
  first workflow's result);
- shutdown: ``hotmesh_nb.shutdown()`` after that job (in-process), and a
  ``hotmesh-nb worker`` process from SIGTERM to its exit.

It reports; it asserts nothing. The targets of issue 15: 0 commands/s besides
the blocking reads, < 1 % CPU, ≤ 100 ms to the first job, ≤ 0.5 s to stop.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shlex
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import redis
from _common import (
    bench_server,
    command_stats,
    drive,
    hotmesh_worker_argv,
    worker_process,
)

from hotmesh_nb import HotMesh

APP = "bench"
NAMESPACE = "bench"
BLOCKING = {"xread", "xreadgroup", "blpop", "brpop", "blmove", "bzpopmin", "bzpopmax"}
"""Commands that may block; a call counts as a blocking read when it carries BLOCK/a timeout."""


class Monitor:
    """Every command the server runs while it is open (``MONITOR`` on a raw socket)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.sendall(b"MONITOR\r\n")
        self.lines: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        self.sock.settimeout(0.2)
        buffer = b""
        while not self._stop.is_set():
            try:
                chunk = self.sock.recv(65536)
            except TimeoutError:
                continue
            if not chunk:
                return
            buffer += chunk
            *complete, buffer = buffer.split(b"\r\n")
            self.lines += [line.decode(errors="replace") for line in complete]

    def close(self) -> list[str]:
        self._stop.set()
        self._thread.join()
        self.sock.close()
        return [line for line in self.lines if line.startswith("+") and line != "+OK"]


def classify(lines: list[str]) -> tuple[int, collections.Counter[str]]:
    """``(blocking reads, other commands by name and origin)`` from MONITOR lines.

    A line reads ``+<time> [<db> <client or 'lua'>] "CMD" "arg" …``; a command run
    by a script is named ``script:<cmd>``.
    """
    blocking = 0
    others: collections.Counter[str] = collections.Counter()
    for line in lines:
        origin, _, rest = line.partition("] ")
        try:
            words = [w.lower() for w in shlex.split(rest)]
        except ValueError:
            continue
        if not words:
            continue
        name = words[0]
        if name in ("info", "config", "monitor"):
            continue
        if name in BLOCKING and ("block" in words or name.startswith("b")):
            blocking += 1
            continue
        others[f"script:{name}" if origin.endswith(" lua") else name] += 1
    return blocking, others


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process, all its threads (``/proc/<pid>/stat``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    # After the command name: field 14 (utime) and 15 (stime) are the 12th and 13th here.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def watch_idle(port: int, pid: int, window: float) -> dict[str, Any]:
    """Commands/s (blocking reads apart) and CPU % of process ``pid`` over ``window`` s."""
    admin = redis.Redis(port=port, decode_responses=True)
    admin.config_resetstat()
    monitor = Monitor(port)
    cpu0, began = cpu_seconds(pid), time.perf_counter()
    time.sleep(window)
    cpu1, elapsed = cpu_seconds(pid), time.perf_counter() - began
    lines = monitor.close()
    stats = command_stats(admin)
    stats.pop("monitor", None)
    blocking, others = classify(lines)
    return {
        "commands_per_sec": sum(stats.values()) / elapsed,
        "blocking_reads_per_sec": blocking / elapsed,
        "other_per_sec": sum(others.values()) / elapsed,
        "others": {name: round(n / elapsed, 2) for name, n in others.most_common()},
        "cpu_percent": (cpu1 - cpu0) / elapsed * 100,
    }


async def deploy(url: str) -> None:
    from hello import APP_YAML

    hm = await HotMesh.init_async(APP, connection=url, namespace=NAMESPACE, workers=[])
    await hm.deploy_async(APP_YAML)
    await hm.activate_async("1")


def idle_rows(url: str, port: int, args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    out = {}
    for label, engine in (("worker", False), ("worker + engine", True)):
        argv = hotmesh_worker_argv(APP, url, NAMESPACE, {"work.do": "hello:work"}, engine=engine)
        with worker_process(argv, ready="serving app") as pid:
            time.sleep(args.settle)
            out[label] = watch_idle(port, pid, args.window)
            stopping = time.perf_counter()
        # worker_process sent SIGTERM and waited for the exit on leaving the block.
        out[label]["sigterm_to_exit_s"] = time.perf_counter() - stopping
    return out


CHILD = """
import asyncio, json, sys, time
sys.path.insert(0, {bench!r})
import hotmesh_nb
from hotmesh_nb import HotMesh, MeshFlow, Worker

async def main():
    if {kind!r} == "hello":
        from hello import work
        began = time.perf_counter()
        hm = await HotMesh.init_async(
            "bench", connection={url!r}, namespace="bench", workers=[Worker("work.do", work)]
        )
        out = await hm.pubsub_async("bench.test", {{"n": 1}})
        assert out == {{"result": "done-1"}}, out
    else:
        from meshflow import bench_flow
        began = time.perf_counter()
        await MeshFlow.Worker.create_async(
            connection={url!r}, namespace="flow", task_queue="bench", workflow=bench_flow
        )
        client = MeshFlow.Client(connection={url!r}, namespace="flow")
        handle = await client.workflow.start_async(
            args=["x"], task_queue="bench", workflow_name="bench_flow"
        )
        assert await handle.result_async(timeout=60) == "Hello, x! Goodbye!"
    return time.perf_counter() - began

first = asyncio.run(main())
stopping = time.perf_counter()
hotmesh_nb.shutdown()
print(json.dumps({{"first_ms": first * 1000, "shutdown_s": time.perf_counter() - stopping}}))
"""


def start_stop(url: str, kind: str, starts: int) -> dict[str, float]:
    """Medians over ``starts`` fresh processes: init → first job (ms), shutdown() (s)."""
    code = CHILD.format(bench=str(Path(__file__).resolve().parent), url=url, kind=kind)
    firsts, stops = [], []
    for _ in range(starts):
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            raise RuntimeError(f"the {kind} start/stop child failed:\n{done.stderr[-3000:]}")
        result = json.loads(done.stdout.strip().splitlines()[-1])
        firsts.append(result["first_ms"])
        stops.append(result["shutdown_s"])
    return {
        "first_ms": statistics.median(firsts),
        "first_ms_min": min(firsts),
        "shutdown_s": statistics.median(stops),
    }


def run(args: argparse.Namespace) -> str:
    """Measure against one fresh server; the printable report."""
    return report(collect(args), args)


def collect(args: argparse.Namespace) -> dict[str, Any]:
    """``{"idle": {label: figures}, "hello": start/stop, "meshflow": start/stop}``."""
    with bench_server() as port:
        url = f"redis://127.0.0.1:{port}"
        drive(deploy(url))
        return {
            "idle": idle_rows(url, port, args),
            "hello": start_stop(url, "hello", args.starts),
            "meshflow": start_stop(url, "meshflow", args.starts),
        }


def report(results: dict[str, Any], args: argparse.Namespace) -> str:
    """Two tables: the idle worker, and start / stop."""
    idle, hello, flow = results["idle"], results["hello"], results["meshflow"]
    lines = [
        "",
        f"Lifecycle: an idle `hotmesh-nb worker` over {args.window:g} s (after "
        f"{args.settle:g} s to settle); start and stop, medians of {args.starts} fresh processes",
        "",
        "| measure | target | worker | worker + engine |",
        "|---|---|---:|---:|",
    ]
    w, e = idle["worker"], idle["worker + engine"]
    for label, target, key, fmt in (
        ("idle: Redis commands/s, all", "–", "commands_per_sec", "{:.2f}"),
        ("idle: blocking reads/s (XREADGROUP … BLOCK)", "–", "blocking_reads_per_sec", "{:.2f}"),
        ("idle: other commands/s", "0", "other_per_sec", "{:.2f}"),
        ("idle: CPU %", "< 1 %", "cpu_percent", "{:.2f}"),
        ("`hotmesh-nb worker`: SIGTERM → exit (s)", "≤ 0.5", "sigterm_to_exit_s", "{:.2f}"),
    ):
        lines.append(f"| {label} | {target} | {fmt.format(w[key])} | {fmt.format(e[key])} |")
    lines += [
        "",
        "| measure | target | hello app | MeshFlow (2 activities) |",
        "|---|---|---:|---:|",
        f"| `init` → first job done (ms), median | ≤ 100 | {hello['first_ms']:.0f} "
        f"| {flow['first_ms']:.0f} |",
        f"| `init` → first job done (ms), best | ≤ 100 | {hello['first_ms_min']:.0f} "
        f"| {flow['first_ms_min']:.0f} |",
        f"| `hotmesh_nb.shutdown()` after it (ms), median | ≤ 500 "
        f"| {hello['shutdown_s'] * 1000:.1f} | {flow['shutdown_s'] * 1000:.1f} |",
        "",
    ]
    for label, result in idle.items():
        lines.append(f"idle {label}, other commands/s: {result['others'] or 'none'}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # 10 s: a consumer's blocking read lasts 5 s (EngineConfig.block_ms), so each shows twice.
    parser.add_argument("--window", type=float, default=10.0, help="idle seconds watched")
    parser.add_argument("--settle", type=float, default=2.0, help="idle seconds before")
    parser.add_argument("--starts", type=int, default=5, help="fresh processes per start")
    return parser


def main() -> None:
    print(run(build_parser().parse_args()))


if __name__ == "__main__":
    main()
