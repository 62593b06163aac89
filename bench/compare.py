"""Every comparison in one run: hello, MeshFlow, MeshCall and the lifecycle, then a summary.

    python bench/compare.py [--quick] [--no-peer] [--rounds N] [--peers-python PYTHON] [--out FILE]

Runs ``hello.py`` (beside the original and arq), ``meshflow.py`` (beside the
original and DBOS), ``meshcall.py`` (beside the original) and ``lifecycle.py``
one after the other, each on a fresh bench server, prints their tables, then
one summary table: each target of issue 15 beside the figure measured here.
``--quick`` divides every size by 5 (a smoke run: the figures are noisier).
Each benchmark measures its columns 3 times in turn (``--rounds``) and prints the
median of each figure: on a shared machine whose speed drifts within minutes, one
round of each could put a fast phase on one side of a ratio and a slow one on the other.
``--out`` also writes the whole report to a file.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hello
import lifecycle
import meshcall
import meshflow
from _common import column, positive_int

SIZES = ("total", "seq", "warmup", "count")


def _args(parser: argparse.ArgumentParser, opts: argparse.Namespace) -> argparse.Namespace:
    """A benchmark's own defaults, shrunk by ``--quick``, with the shared options."""
    args = parser.parse_args([])
    if opts.quick:
        for name in SIZES:
            if hasattr(args, name):
                setattr(args, name, max(10, getattr(args, name) // 5))
    for name in ("no_peer", "peers_python"):
        if hasattr(args, name):
            setattr(args, name, getattr(opts, name))
    if hasattr(args, "rounds"):
        args.rounds = opts.rounds
    return args


def _ratio(ours: Any, theirs: Any) -> str:
    if isinstance(ours, (int, float)) and isinstance(theirs, (int, float)) and theirs:
        return f"{ours / theirs:.1f}×"
    return "—"


def _num(value: Any, fmt: str = "{:,.2f}") -> str:
    return fmt.format(value) if isinstance(value, (int, float)) else str(value or "—")


def summary(
    hl: dict[str, dict[str, Any]],
    mf: dict[str, dict[str, Any]],
    mc: tuple[dict[str, Any], dict[str, Any]],
    lc: dict[str, Any],
) -> str:
    """Issue 15's table of targets, with the figures of this run (same proc / separate proc)."""

    def both(results: dict[str, dict[str, Any]], fn: Callable[[dict[str, Any]], str]) -> str:
        same = fn(results.get("same", {}))
        if "separate" not in results:
            return same
        return f"{same} / {fn(results['separate'])}"

    def vs(results: dict[str, dict[str, Any]], other: str) -> Callable[[dict[str, Any]], str]:
        theirs = column(results.get(other, {}), "per_sec")
        return lambda r: _ratio(r.get("per_sec"), theirs)

    def seq(r: dict[str, Any]) -> str:
        return _num(column(r, "seq.p50"))

    def commands(r: dict[str, Any]) -> str:
        return _num(r.get("commands"), "{:.1f}")

    ours, theirs = mc
    original_calls = theirs.get("uncached", {}).get("throughput", {}).get("callsPerSec")
    mc_ratio = _ratio(ours["uncached"]["calls_per_sec"], original_calls)
    if "separate" in ours:
        mc_ratio += " / " + _ratio(ours["separate"]["calls_per_sec"], original_calls)
    idle = lc["idle"]["worker + engine"]
    rows = [
        ("hello throughput, 50 in flight, vs original", "≥ 9×", both(hl, vs(hl, "original"))),
        ("hello throughput, 50 in flight, vs arq (1 ms polls)", "≥ 2.5×", both(hl, vs(hl, "peer"))),
        ("hello sequential p50 (ms)", "≤ 0.5", both(hl, seq)),
        ("hello Redis commands per job", "≤ 8", both(hl, commands)),
        ("MeshFlow throughput vs original", "≥ 15×", both(mf, vs(mf, "original"))),
        ("MeshFlow throughput vs DBOS (SQLite)", "≥ 3.5×", both(mf, vs(mf, "peer"))),
        ("MeshFlow sequential p50 (ms)", "≤ 3", both(mf, seq)),
        ("MeshFlow Redis commands per workflow", "≤ 30", both(mf, commands)),
        ("MeshCall exec (uncached) throughput vs original", "≥ 10×", mc_ratio),
        (
            "idle worker + engine: commands/s besides blocking reads",
            "0",
            f"{idle['other_per_sec']:.1f}",
        ),
        ("idle worker + engine: CPU %", "< 1", f"{idle['cpu_percent']:.2f}"),
        (
            "`init` → first job done (ms), hello / MeshFlow",
            "≤ 100",
            f"{lc['hello']['first_ms']:.0f} / {lc['meshflow']['first_ms']:.0f}",
        ),
        (
            "shutdown: `shutdown()` (ms) / `hotmesh-nb worker` SIGTERM → exit (s)",
            "≤ 0.5 s",
            f"{lc['hello']['shutdown_s'] * 1000:.1f} ms / {idle['sigterm_to_exit_s']:.2f} s",
        ),
    ]
    lines = [
        "",
        "Summary: issue 15's targets (figures: worker in the same process / in a separate one)",
        "",
        "| measure | target | this run |",
        "|---|---|---:|",
    ]
    lines += [f"| {m} | {t} | {v} |" for m, t, v in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="every size ÷ 5 (a smoke run)")
    parser.add_argument("--no-peer", action="store_true", help="skip the original, arq, DBOS")
    parser.add_argument(
        "--rounds",
        type=positive_int,
        default=None,
        metavar="N",
        help="measure every column N times in turn, each figure the median of its N "
        "(default 3; 1 with --quick)",
    )
    parser.add_argument(
        "--peers-python",
        default=os.environ.get("HOTMESH_BENCH_PYTHON", sys.executable),
        metavar="PYTHON",
        help="the interpreter that has the bench extra (default: $HOTMESH_BENCH_PYTHON, "
        "else this one)",
    )
    parser.add_argument("--out", type=Path, help="also write the report to this file")
    opts = parser.parse_args()
    if opts.rounds is None:
        opts.rounds = 1 if opts.quick else 3
    began = time.perf_counter()
    load = os.getloadavg()[0]
    parts = [
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
        f"load average {load:.1f} at the start; Python {platform.python_version()}; "
        f"{opts.rounds} round(s) per column, medians"
    ]
    print(parts[0], flush=True)

    hello_args = _args(hello.build_parser(), opts)
    hl = hello.collect(hello_args)
    parts.append(hello.report(hl, hello_args))
    print(parts[-1], flush=True)

    flow_args = _args(meshflow.build_parser(), opts)
    mf = meshflow.collect(flow_args)
    parts.append(meshflow.report(mf, flow_args))
    print(parts[-1], flush=True)

    call_args = _args(meshcall.build_parser(), opts)
    mc = meshcall.collect(call_args)
    parts.append(meshcall.report(mc, call_args))
    print(parts[-1], flush=True)

    life_args = lifecycle.build_parser().parse_args(["--starts", "3"] if opts.quick else [])
    lc = lifecycle.collect(life_args)
    parts.append(lifecycle.report(lc, life_args))
    print(parts[-1], flush=True)

    parts.append(summary(hl, mf, mc, lc))
    print(parts[-1])
    print(f"\n(all of it in {time.perf_counter() - began:.0f} s)")
    if opts.out:
        opts.out.write_text("\n".join(parts) + "\n")


if __name__ == "__main__":
    main()
