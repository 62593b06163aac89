"""Benchmark: MeshCall.exec round trips, uncached and cached, beside the original, same server.

    python bench/meshcall.py [--total 2000] [--concurrency 50] [--seq 500] [--no-peer]
    [--no-separate]

Prints sequential latency (p50/p95/p99), throughput with N calls in flight,
client CPU and Redis commands per call (``INFO commandstats``, net of idle
traffic) for an uncached ``exec`` (a ``meshcall.call`` job per call) and a
cached one (``id`` + ``ttl``: an answer read back from its job hash), for
hotmesh_nb and for the original (@hotmeshio/hotmesh 0.3.32, ``MeshCall.exec``
from ``bench/peer/meshcall.mjs``), with ratios. The uncached call is measured
twice: with the function connected in the caller's process, and with it served
by a process of its own (``python bench/meshcall.py --serve-worker URL``), so
that the function's work goes through its stream.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

import redis
from _common import (
    commands_per_call,
    host_settings,
    idle_rate,
    peer_env,
    run_both,
    sequential,
    size_parser,
    table,
    throughput,
    worker_process,
)

import hotmesh_nb
from hotmesh_nb import MeshCall

TOPIC = "bench.echo"

TOPIC_ELSEWHERE = "bench.echo.elsewhere"
"""The function served only by the separate process (the caller connects none for it)."""

READY = "meshcall worker ready"


async def echo(n: int) -> dict:
    return {"echo": n}


async def measure(url: str, admin: redis.Redis, args: argparse.Namespace) -> dict[str, Any]:
    await MeshCall.connect_async(TOPIC, echo, connection=url)
    keys = args.keys

    async def call(n: int) -> None:
        out = await MeshCall.exec_async(TOPIC, [n], connection=url)
        assert out == {"echo": n}, out

    async def cached(n: int) -> None:
        key = n % keys
        out = await MeshCall.exec_async(TOPIC, [key], id=f"c-{key}", ttl="1 hour", connection=url)
        assert out == {"echo": key}, out

    for i in range(args.warmup):
        await call(i)
    out: dict[str, Any] = {}
    for label, fn in (("uncached", call), ("cached", cached)):
        if fn is cached:
            for i in range(keys):
                await cached(i)  # fill the cache
        seq = await sequential(fn, args.seq)
        rate = await throughput(fn, args.total, args.concurrency)
        out[label] = {
            "seq": seq,
            "calls_per_sec": rate["per_sec"],
            "cpu_ms_per_call": rate["cpu_ms"],
        }
    idle = await idle_rate(admin)
    for label, fn in (("uncached", call), ("cached", cached)):
        per_call, top = await commands_per_call(admin, fn, args.count, idle)
        out[label].update(commands=per_call, top=top)
    if not args.no_separate:
        out["separate"] = await measure_separate(url, admin, args)
    return out


async def measure_separate(url: str, admin: redis.Redis, args: argparse.Namespace) -> dict:
    """The uncached call with the function served by a process of its own."""

    async def call(n: int) -> None:
        out = await MeshCall.exec_async(TOPIC_ELSEWHERE, [n], connection=url)
        assert out == {"echo": n}, out

    argv = [sys.executable, __file__, "--serve-worker", url]
    with worker_process(argv, ready=READY):
        for i in range(args.warmup):
            await call(i)
        seq = await sequential(call, args.seq)
        rate = await throughput(call, args.total, args.concurrency)
        idle = await idle_rate(admin)
        per_call, top = await commands_per_call(admin, call, args.count, idle)
    return {
        "seq": seq,
        "calls_per_sec": rate["per_sec"],
        "cpu_ms_per_call": rate["cpu_ms"],
        "commands": per_call,
        "top": top,
    }


def serve_worker(url: str) -> None:
    """The separate process: serve ``TOPIC_ELSEWHERE`` until SIGTERM, then drain."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    MeshCall.connect(TOPIC_ELSEWHERE, echo, connection=url)
    print(READY, flush=True)
    stop.wait()
    hotmesh_nb.shutdown()


def rows_for(label: str, ours: dict[str, Any], theirs: dict[str, Any], args: Any) -> list[tuple]:
    seq_t = theirs.get("sequential", {})
    thr_t = theirs.get("throughput", {})
    return [
        (f"{label}: sequential p50 (ms)", ours["seq"]["p50"], seq_t.get("p50"), "low"),
        (f"{label}: sequential p95 (ms)", ours["seq"]["p95"], seq_t.get("p95"), "low"),
        (f"{label}: sequential p99 (ms)", ours["seq"]["p99"], seq_t.get("p99"), "low"),
        (
            f"{label}: throughput, {args.total} calls, {args.concurrency} in flight (calls/s)",
            ours["calls_per_sec"],
            thr_t.get("callsPerSec"),
            "high",
        ),
        (
            f"{label}: client CPU per call (ms)",
            ours["cpu_ms_per_call"],
            thr_t.get("node_cpu_ms_per_item"),
            "low",
        ),
        (
            f"{label}: Redis commands per call",
            ours["commands"],
            theirs.get("commands_per_call"),
            "low",
        ),
    ]


def build_parser() -> argparse.ArgumentParser:
    parser = size_parser(__doc__.splitlines()[0], total=2000, seq=500, warmup=50, count=200)
    parser.add_argument("--keys", type=int, default=100, help="distinct cached call ids")
    return parser


def collect(args: argparse.Namespace) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(ours, the original's)``, measured one after the other on one fresh server."""
    return run_both(measure, args, "meshcall.mjs", peer_env(args, KEYS_CACHED=args.keys))


def run(args: argparse.Namespace) -> str:
    """Measure ours, then the original, on one server; the printable report."""
    return report(collect(args), args)


def report(results: tuple[dict[str, Any], dict[str, Any]], args: argparse.Namespace) -> str:
    """The table (ours beside the original), then our most frequent Redis commands."""
    ours, theirs = results
    rows = rows_for("uncached", ours["uncached"], theirs.get("uncached", {}), args)
    if "separate" in ours:
        label = "uncached, function in a separate process"
        rows += rows_for(label, ours["separate"], theirs.get("uncached", {}), args)
    rows += rows_for("cached", ours["cached"], theirs.get("cached", {}), args)
    lines = ["", "MeshCall.exec (one echo function), same server, same run", "", table(rows)]
    for label in ("uncached", "separate", "cached"):
        if label in ours:
            lines.append(f"\nhotmesh_nb commands per {label} call: {ours[label]['top']}")
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--serve-worker":
        serve_worker(sys.argv[2])
        return
    args = build_parser().parse_args()
    with host_settings(args) as host:
        print(run(args))
        if host:
            print(host)


if __name__ == "__main__":
    main()
