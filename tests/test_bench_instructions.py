"""``bench/instructions.py`` counts what one call costs (a smoke run; no figure is judged).

The workload it traces runs on its own; the count itself needs valgrind, which this
machine's image has (the project does not install it: it is a measuring tool).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench"
SCRIPT = BENCH / "instructions.py"


def test_the_traced_workloads_run_to_the_end() -> None:
    for what, in_flight in (("hello", "50"), ("meshcall", "50"), ("hello", "1")):
        argv = [sys.executable, str(SCRIPT), "--workload", what, "--run", "60"]
        done = subprocess.run(
            [*argv, "--in-flight", in_flight],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=BENCH,
        )
        assert done.returncode == 0, done.stderr[-3000:]


def test_the_count_is_a_table_of_instructions_per_call() -> None:
    argv = [sys.executable, str(SCRIPT), "--calls", "100", "--base", "20", "--what", "hello"]
    argv += ["--in-flight", "50", "1"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, cwd=BENCH)
    if shutil.which("valgrind") is None:
        # Without the tool the benchmark says what it needs, and stops.
        assert done.returncode != 0 and "needs valgrind" in done.stderr
        return
    assert done.returncode == 0, done.stderr[-3000:]
    head, rule, *rows = done.stdout.strip().splitlines()
    assert head.startswith("| workload | ") and rule.startswith("|---|")
    names = []
    for row in rows:
        name, count = row.strip("| ").split(" | ")
        names.append(name)
        # A hello job runs the trigger, the worker and two steps: hundreds of thousands.
        assert 100_000 < float(count.replace(",", "")) < 50_000_000
    assert names == [
        "hello, 50 in flight: instructions per call",
        "hello, 1 in flight: instructions per call",
    ]
