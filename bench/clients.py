"""Benchmark: which client for the hot path, on the command shape of a step, same server.

    python bench/clients.py [--total 20000] [--concurrency 50] [--seq 5000] [--no-peer]

Each client sends the same small script (``EVALSHA``: one ``HSET`` of a job-like
hash, a number back) from a plain asyncio loop of its own (``asyncio.run``):

- redis-py with hiredis, one command per call (its pool gives each call in
  flight a connection of its own);
- hotmesh_nb's batcher, as the engine sends its steps: calls in flight together
  share one pipelined write on the batcher's own connection (``engine/_wire.py``);
- valkey-glide 2.6, whose Rust core multiplexes every call on one connection
  (``bench/peers/glide_peer.py``, run with the interpreter that has the bench extra).

Prints one table: sequential p50/p95 (µs), throughput with N calls in flight and
client CPU per call (µs), with ratios to redis-py.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import redis.asyncio as aioredis
from _common import bench_server, run_python_peer, sequential, size_parser, throughput

from hotmesh_nb.engine._batcher import Batcher

SCRIPT = "redis.call('HSET', KEYS[1], 'f', ARGV[1]) return 1"
"""What a step's script does at the least: write a job's hash, answer a number."""
KEYS = 1000


async def _measure(call: Any, args: argparse.Namespace) -> dict[str, Any]:
    await throughput(call, args.warmup, args.concurrency)
    return {
        "seq": await sequential(call, args.seq),
        "tput": await throughput(call, args.total, args.concurrency),
    }


async def measure_redis_py(url: str, args: argparse.Namespace) -> dict[str, Any]:
    client = aioredis.Redis.from_url(url, max_connections=args.concurrency)
    sha = await client.script_load(SCRIPT)

    async def call(i: int) -> None:
        await client.evalsha(sha, 1, f"bench:clients:{i % KEYS}", i)

    try:
        return await _measure(call, args)
    finally:
        await client.aclose()


async def measure_batcher(url: str, args: argparse.Namespace) -> dict[str, Any]:
    client = aioredis.Redis.from_url(url)
    sha = await client.script_load(SCRIPT)
    batcher = Batcher(client, name="bench")

    async def call(i: int) -> None:
        await batcher.submit(lambda pipe: pipe.evalsha(sha, 1, f"bench:clients:{i % KEYS}", i))

    try:
        return await _measure(call, args)
    finally:
        await batcher.close()
        await client.aclose()


def _us(result: dict[str, Any], *path: str) -> float | None:
    value: Any = result
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return float(value) * 1000


def table(results: dict[str, dict[str, Any]], concurrency: int) -> str:
    names = list(results)
    rows = [
        ("sequential p50 (µs)", "lower", lambda r: _us(r, "seq", "p50")),
        ("sequential p95 (µs)", "lower", lambda r: _us(r, "seq", "p95")),
        (
            f"throughput, {concurrency} in flight (calls/s)",
            "higher",
            lambda r: r.get("tput", {}).get("per_sec"),
        ),
        ("client CPU per call (µs)", "lower", lambda r: _us(r, "tput", "cpu_ms")),
    ]
    head = ["measure", "better", *names, *(f"{n} ÷ redis-py" for n in names[1:])]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * 2 + "---:|" * (len(head) - 2)]
    for label, better, get in rows:
        values = [get(results[n]) for n in names]
        cells = [label, better, *(_cell(v, results[n]) for v, n in zip(values, names))]
        base = values[0]
        cells += [f"{v / base:.2f}×" if v and base else "—" for v in values[1:]]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(value: float | None, result: dict[str, Any]) -> str:
    if value is None:
        return str(result.get("error", "—"))
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def main() -> None:
    parser = size_parser(
        "Benchmark: the hot path's client choices on a step-shaped script, same server.",
        total=20000,
        seq=5000,
        warmup=2000,
        count=0,
        host=False,
    )
    args = parser.parse_args()
    with bench_server() as port:
        url = f"redis://127.0.0.1:{port}"
        results = {
            "redis-py": asyncio.run(measure_redis_py(url, args)),
            "hotmesh_nb batcher": asyncio.run(measure_batcher(url, args)),
        }
        if args.no_peer:
            results["valkey-glide 2.6"] = {"error": "skipped"}
        else:
            results["valkey-glide 2.6"] = run_python_peer("glide_peer.py", port, args)
    print(f"{args.total} calls with {args.concurrency} in flight; {args.seq} sequential\n")
    print(table(results, args.concurrency))


if __name__ == "__main__":
    main()
