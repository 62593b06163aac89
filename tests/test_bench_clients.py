"""``bench/clients.py`` runs end to end and fills every figure of its table.

A smoke run (speed itself is never asserted): redis-py and hotmesh_nb's batcher on
the benchmark's own throwaway server, with small sizes; the valkey-glide column needs
the bench extra and is skipped here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "clients.py"


def test_the_client_benchmark_fills_its_table() -> None:
    sizes = ["--total", "400", "--seq", "100", "--warmup", "50", "--concurrency", "10"]
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *sizes, "--no-peer"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    head, *figures = rows
    assert head.split(" | ")[2:5] == ["redis-py", "hotmesh_nb batcher", "valkey-glide 2.6"]
    assert [row.split(" | ")[0].lstrip("| ") for row in figures] == [
        "sequential p50 (µs)",
        "sequential p95 (µs)",
        "throughput, 10 in flight (calls/s)",
        "client CPU per call (µs)",
    ]
    for row in figures:
        cells = row.split(" | ")
        for cell in cells[2:4]:
            float(cell.replace(",", ""))  # a figure, not a dash
        assert cells[4] == "skipped", row
        assert cells[5].endswith("×"), row  # the batcher's ratio to redis-py
