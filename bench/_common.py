"""Shared pieces of the benchmarks: a bench server, the original as a peer, the table.

Both sides run against the same server in the same run: a Valkey from the
embedded server's binary, on a loopback TCP port, with persistence off (as in
``../shared/bench/ts-peer``). The original runs from a copy of that harness
(``npm ci`` once, cached in ``~/.cache/hotmesh-nb/ts-peer``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import redis

from hotmesh_nb import server

PEER_SOURCE = Path(__file__).resolve().parents[2] / "shared" / "bench" / "ts-peer"
PEER_CACHE = Path(os.environ.get("HOTMESH_PEER_DIR", Path.home() / ".cache/hotmesh-nb/ts-peer"))
OWN_PEER_SCRIPTS = Path(__file__).resolve().parent / "peer"
"""Peer scripts of our own (written in the harness's style), copied next to it."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def bench_server() -> Iterator[int]:
    """A throwaway server on 127.0.0.1 (no persistence); yields its port."""
    port = free_port()
    folder = tempfile.mkdtemp(prefix="hotmesh-bench-")
    proc = subprocess.Popen(
        [
            str(server.find_binary()), "--port", str(port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", folder,
        ],
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    client = redis.Redis(port=port)
    for _ in range(500):
        with contextlib.suppress(redis.ConnectionError):
            client.ping()
            break
        time.sleep(0.01)
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(folder, ignore_errors=True)


def percentiles(samples_ms: list[float]) -> dict[str, float]:
    s = sorted(samples_ms)

    def pick(p: float) -> float:
        return s[min(len(s) - 1, max(0, int(-(-p * len(s) // 100)) - 1))]

    return {"p50": pick(50), "p95": pick(95), "p99": pick(99), "mean": sum(s) / len(s)}


def command_stats(client: redis.Redis) -> dict[str, int]:
    info = client.info("commandstats")
    out = {}
    for name, values in info.items():
        cmd = name.removeprefix("cmdstat_")
        if cmd in ("info", "config", "config|resetstat"):
            continue
        out[cmd] = int(values["calls"])
    return out


def ensure_peer() -> Path | None:
    """The original's harness with its node_modules, or None when it cannot be set up.

    Our own peer scripts (``bench/peer/*.mjs``) are copied next to the harness
    every time, so an edited script is the one that runs.
    """
    if (PEER_CACHE / "node_modules" / "@hotmeshio" / "hotmesh").is_dir():
        _copy_own_scripts()
        return PEER_CACHE
    if not PEER_SOURCE.is_dir() or shutil.which("npm") is None:
        return None
    PEER_CACHE.mkdir(parents=True, exist_ok=True)
    for item in PEER_SOURCE.iterdir():
        if item.is_file():
            shutil.copy(item, PEER_CACHE / item.name)
            (PEER_CACHE / item.name).chmod(0o644)
    print("installing the original (npm ci) once ...", file=sys.stderr)
    done = subprocess.run(["npm", "ci", "--silent"], cwd=PEER_CACHE, capture_output=True)
    if done.returncode != 0:
        print(done.stderr.decode()[-2000:], file=sys.stderr)
        return None
    _copy_own_scripts()
    return PEER_CACHE


def _copy_own_scripts() -> None:
    for script in OWN_PEER_SCRIPTS.glob("*.mjs"):
        shutil.copy(script, PEER_CACHE / script.name)


def run_peer(script: str, port: int, env: dict[str, str] | None = None) -> dict[str, Any] | None:
    """Run one of the original's benchmark scripts; its JSON result line, or None."""
    folder = ensure_peer()
    if folder is None:
        print("the original could not be installed; its column stays empty", file=sys.stderr)
        return None
    done = subprocess.run(
        ["node", script],
        cwd=folder,
        env={**os.environ, "REDIS_PORT": str(port), **(env or {})},
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        print(done.stderr[-2000:], file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def table(rows: list[tuple[str, Any, Any, str]]) -> str:
    """Rows of (metric, ours, original, better) → a Markdown table with ratios."""
    lines = [
        "| metric | hotmesh_nb | original 0.3.32 | ratio (ours/original) |",
        "|---|---:|---:|---:|",
    ]
    for metric, ours, theirs, better in rows:
        ratio = "—"
        if isinstance(ours, (int, float)) and isinstance(theirs, (int, float)) and theirs:
            value = ours / theirs
            ratio = f"{value:.2f}× ({'higher' if better == 'high' else 'lower'} is better)"
        lines.append(f"| {metric} | {_fmt(ours)} | {_fmt(theirs)} | {ratio} |")
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


Call = Callable[[int], Awaitable[Any]]
"""One benchmarked operation, given a distinct number; it checks its own answer."""


async def sequential(fn: Call, count: int, start: int = 0) -> dict[str, float]:
    """Latency percentiles (ms) of ``count`` calls made one after another."""
    latencies = []
    for i in range(start, start + count):
        began = time.perf_counter()
        await fn(i)
        latencies.append((time.perf_counter() - began) * 1000)
    return percentiles(latencies)


async def throughput(fn: Call, total: int, concurrency: int, start: int = 0) -> dict[str, float]:
    """Operations per second with ``concurrency`` in flight, and client CPU per operation."""
    counter = iter(range(start, start + total))

    async def lane() -> None:
        for i in counter:
            await fn(i)

    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    began = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    elapsed = time.perf_counter() - began
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu_ms = (cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime) * 1000
    return {"per_sec": total / elapsed, "cpu_ms": cpu_ms / total}


async def idle_rate(admin: redis.Redis, seconds: float = 3.0) -> float:
    """Commands per second the mesh sends while idle (blocking reads, the scout)."""
    admin.config_resetstat()
    await asyncio.sleep(seconds)
    return sum(command_stats(admin).values()) / seconds


async def commands_per_call(
    admin: redis.Redis, fn: Call, count: int, idle: float, start: int = 0
) -> tuple[float, dict[str, float]]:
    """Redis commands per call net of idle traffic, and the most frequent ones."""
    admin.config_resetstat()
    began = time.perf_counter()
    for i in range(start, start + count):
        await fn(i)
    elapsed = time.perf_counter() - began
    stats = command_stats(admin)
    top = sorted(stats.items(), key=lambda kv: -kv[1])[:10]
    per_call = (sum(stats.values()) - idle * elapsed) / count
    return per_call, {name: round(calls / count, 2) for name, calls in top}


def peer_env(args: Any, **extra: Any) -> dict[str, str]:
    """The original's harness settings matching our run's sizes."""
    env = {
        "SEQ": args.seq,
        "TOTAL": args.total,
        "CONC": args.concurrency,
        "WARMUP": args.warmup,
        "COUNT_K": args.count,
        **extra,
    }
    return {k: str(v) for k, v in env.items()}


def size_parser(
    description: str, *, total: int, seq: int, warmup: int, count: int
) -> argparse.ArgumentParser:
    """The options every benchmark takes (sizes, ``--no-peer``), with its defaults."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--total", type=int, default=total)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--seq", type=int, default=seq)
    parser.add_argument("--warmup", type=int, default=warmup)
    parser.add_argument("--count", type=int, default=count)
    parser.add_argument("--no-peer", action="store_true", help="skip the original")
    return parser


def run_both(
    measure: Callable[[str, redis.Redis, Any], Awaitable[dict[str, Any]]],
    args: Any,
    peer_script: str,
    env: dict[str, str],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Measure ours, then the original, against one fresh server; ``(ours, theirs)``."""
    import hotmesh_nb
    from hotmesh_nb.runtime import get_runtime

    with bench_server() as port:
        admin = redis.Redis(port=port, decode_responses=True)
        ours = get_runtime().run(measure(f"redis://127.0.0.1:{port}", admin, args))
        hotmesh_nb.shutdown()
        admin.flushall()
        peer = None if args.no_peer else run_peer(peer_script, port, env)
    return ours, peer or {}
