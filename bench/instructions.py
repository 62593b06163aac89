"""Benchmark: instructions one call costs (valgrind's callgrind), hello and MeshCall.

    python bench/instructions.py [--calls 2000] [--base 500] [--what hello meshcall]
    [--in-flight 50 1] [--path DIR ...]

Timings on a shared machine move by ±20 % within minutes; instruction counts do not.
For each workload the caller's process runs under ``valgrind --tool=callgrind`` twice,
with ``--base`` and with ``--base`` + ``--calls`` calls (``--in-flight`` at once, 50
unless told, from a plain asyncio loop, after 200 calls to warm up; the embedded server
is a child process and is not traced). The difference divided by ``--calls`` is what
one call costs, start-up left out. Two runs of one build agree within ±0.4 % here.
With 1 in flight the calls go one after the other, as in the sequential latency
benchmarks: nothing is shared between calls then (a flush carries one step), so what
each call costs on its own shows.

``--path DIR`` (repeatable) measures other checkouts too, each with its ``hotmesh_nb``
first on the path, and prints each beside the first with a ratio: a before / after
table for a change. Needs valgrind (Debian: ``apt install valgrind``).

``--workload hello|meshcall --run N [--in-flight K]`` is what runs under valgrind: N calls,
K at once, then exit.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from _common import bench_server, drive, positive_int, throughput

BENCH_DIR = Path(__file__).resolve().parent
WARMUP = 200
CONCURRENCY = 50
_COLLECTED = re.compile(r"Collected : (\d+)")


async def _workload(url: str, what: str, calls: int, in_flight: int) -> None:
    import hello

    from hotmesh_nb import HotMesh, MeshCall, Worker

    if what == "meshcall":

        async def echo(n: int) -> dict:
            return {"echo": n}

        await MeshCall.connect_async("bench.echo", echo, connection=url)

        async def call(n: int) -> None:
            await MeshCall.exec_async("bench.echo", [n], connection=url)

    else:
        hm = await HotMesh.init_async(
            "bench", connection=url, namespace="bench", workers=[Worker("work.do", hello.work)]
        )
        await hm.deploy_async(hello.APP_YAML)
        await hm.activate_async("1")

        async def call(n: int) -> None:
            await hm.pubsub_async("bench.test", {"n": n})

    for i in range(WARMUP):
        await call(i)
    if calls:
        await throughput(call, calls, in_flight, WARMUP)


def run_workload(what: str, calls: int, in_flight: int = CONCURRENCY) -> None:
    """Run ``calls`` calls of ``what``, ``in_flight`` at once, on a throwaway server (the
    traced process)."""
    import hotmesh_nb

    with bench_server() as port:
        drive(_workload(f"redis://127.0.0.1:{port}", what, calls, in_flight))
        # Stop the runtime while the server still runs: no reconnect attempts traced.
        hotmesh_nb.shutdown()


def instructions(path: Path, what: str, calls: int, in_flight: int) -> int:
    """Instructions of one traced run of ``calls`` calls, with ``path`` first on the path."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(path), str(BENCH_DIR)]))
    argv = [
        "valgrind",
        "--tool=callgrind",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        str(BENCH_DIR / "instructions.py"),
        "--workload",
        what,
        "--run",
        str(calls),
        "--in-flight",
        str(in_flight),
    ]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=BENCH_DIR)
    found = _COLLECTED.findall(done.stderr)
    if done.returncode != 0 or not found:
        raise RuntimeError(f"{what} under valgrind failed:\n{done.stderr[-3000:]}")
    return int(found[-1])


def per_call(path: Path, what: str, base: int, calls: int, in_flight: int) -> float:
    """Instructions one call costs: two runs' difference over ``calls`` calls."""
    more = instructions(path, what, base + calls, in_flight)
    return (more - instructions(path, what, base, in_flight)) / calls


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=positive_int, default=2000, help="calls measured")
    parser.add_argument("--base", type=positive_int, default=500, help="calls of the base run")
    parser.add_argument(
        "--what", nargs="+", choices=["hello", "meshcall"], default=["hello", "meshcall"]
    )
    parser.add_argument(
        "--in-flight",
        nargs="+",
        type=positive_int,
        default=[CONCURRENCY],
        help="calls at once (several: a row each; 1 is one call after the other)",
    )
    parser.add_argument(
        "--path",
        action="append",
        type=lambda text: Path(text).resolve(),  # the traced runs start in bench/
        help="a checkout to measure (repeatable; default: this one)",
    )
    parser.add_argument("--workload", choices=["hello", "meshcall"], help=argparse.SUPPRESS)
    parser.add_argument("--run", type=int, default=0, help=argparse.SUPPRESS)
    return parser


def report(args: argparse.Namespace) -> str:
    """Measure every checkout and workload; the printable table."""
    paths = args.path or [BENCH_DIR.parent]
    head = "| workload | " + " | ".join(str(p) for p in paths)
    head += " | " + " | ".join(f"{p.name} ÷ {paths[0].name}" for p in paths[1:])
    lines = [head.rstrip(" |") + " |", "|---|" + "---:|" * (2 * len(paths) - 1)]
    for what in args.what:
        for in_flight in args.in_flight:
            counts = [per_call(p, what, args.base, args.calls, in_flight) for p in paths]
            cells = [f"{c:,.0f}" for c in counts]
            cells += [f"{c / counts[0]:.3f}×" for c in counts[1:]]
            name = f"{what}, {in_flight} in flight: instructions per call"
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    args = build_parser().parse_args()
    if args.workload:
        run_workload(args.workload, args.run, args.in_flight[0])
        return
    if shutil.which("valgrind") is None:
        sys.exit("bench/instructions.py needs valgrind (Debian: apt install valgrind)")
    print(report(args))


if __name__ == "__main__":
    main()
