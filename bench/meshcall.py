"""Benchmark: MeshCall.exec round trips, uncached and cached, beside the original, same server.

    python bench/meshcall.py [--total 2000] [--concurrency 50] [--seq 500] [--no-peer]

Prints sequential latency (p50/p95/p99), throughput with N calls in flight,
client CPU and Redis commands per call (``INFO commandstats``, net of idle
traffic) for an uncached ``exec`` (a ``meshcall.call`` job per call) and a
cached one (``id`` + ``ttl``: an answer read back from its job hash), for
hotmesh_nb and for the original (@hotmeshio/hotmesh 0.3.32, ``MeshCall.exec``
from ``bench/peer/meshcall.mjs``), with ratios.
"""

from __future__ import annotations

import argparse
from typing import Any

import redis
from _common import (
    commands_per_call,
    idle_rate,
    peer_env,
    run_both,
    sequential,
    size_parser,
    table,
    throughput,
)

from hotmesh_nb import MeshCall

TOPIC = "bench.echo"


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
    return out


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
    rows += rows_for("cached", ours["cached"], theirs.get("cached", {}), args)
    lines = ["", "MeshCall.exec (one echo function), same server, same run", "", table(rows)]
    for label in ("uncached", "cached"):
        lines.append(f"\nhotmesh_nb commands per {label} call: {ours[label]['top']}")
    return "\n".join(lines)


def main() -> None:
    print(run(build_parser().parse_args()))


if __name__ == "__main__":
    main()
