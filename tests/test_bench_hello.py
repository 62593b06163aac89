"""``bench/hello.py`` runs end to end; ``--busy-cores`` leaves no spinner behind,
``--halt-poll-ns`` puts the host's setting back, ``--caller-cpus`` pins hotmesh_nb's
caller and nothing else, and ``--rounds`` reports each figure's median.

A smoke run (speed itself is never asserted): hotmesh_nb with its worker in the
caller's process, small sizes, one core kept awake.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "hello.py"


def _spinners() -> set[str]:
    """Pids of the processes running the benchmark's spinner (read from ``/proc``)."""
    found = set()
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if b"while True: pass" in cmdline.read_bytes():
                found.add(cmdline.parent.name)
        except OSError:  # it ended meanwhile
            continue
    return found


def test_the_hello_benchmark_fills_its_table_with_a_core_kept_busy_and_the_caller_pinned() -> None:
    before = _spinners()
    sizes = ["--total", "200", "--seq", "50", "--warmup", "10", "--count", "20"]
    done = subprocess.run(
        [
            *(sys.executable, str(SCRIPT), *sizes, "--no-peer", "--no-separate"),
            *("--busy-cores", "1", "--caller-cpus", str(min(os.sched_getaffinity(0)))),
            *("--rounds", "2"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    figures = {row.split(" | ")[0].lstrip("| "): row.split(" | ")[2] for row in rows[1:]}
    assert list(figures) == [
        "sequential p50 (ms)",
        "sequential p95 (ms)",
        "throughput, 200 jobs, 50 in flight (jobs/s)",
        "caller-process CPU per job (ms)",
        "Redis commands per job",
    ]
    assert all(value.strip() not in ("", "—") for value in figures.values()), figures
    assert figures["Redis commands per job"].strip() == "8.00"
    assert _spinners() == before  # the spinner was stopped with the run
    host = done.stdout.strip().splitlines()[-1]
    assert host.startswith("Host for this run: 1 core(s) kept busy"), host
    assert f"runtime thread on CPU {min(os.sched_getaffinity(0))} only" in host, host


def test_guest_halt_polling_is_set_for_the_run_and_put_back() -> None:
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import _common
    finally:
        sys.path.remove(str(SCRIPT.parent))
    setting = _common.HALT_POLL
    driver = _common.IDLE_DRIVER
    usable = (
        driver.exists()
        and driver.read_text().strip() == "haltpoll"
        and setting.exists()
        and os.access(setting, os.W_OK)
    )
    if not usable:  # another kind of machine, or not root: a clear refusal
        with pytest.raises(SystemExit, match="--halt-poll-ns: "), _common.guest_halt_polling(1):
            pass
        return
    before = setting.read_text().strip()
    wanted = "200001" if before != "200001" else "200002"
    with _common.guest_halt_polling(int(wanted)):
        assert setting.read_text().strip() == wanted
    assert setting.read_text().strip() == before
    with pytest.raises(RuntimeError), _common.guest_halt_polling(int(wanted)):
        raise RuntimeError("the run failed")
    assert setting.read_text().strip() == before


_PIN_CHECK = """
import asyncio, json, os, sys
import _common
from hotmesh_nb.runtime import get_runtime

every = frozenset(os.sched_getaffinity(0))
one = frozenset({min(every)})

async def runtime_cpus():
    return os.sched_getaffinity(0)

async def where():
    runtime = await asyncio.wrap_future(get_runtime().submit(runtime_cpus()))
    stay = "print('ready', flush=True); import time; time.sleep(60)"
    with _common.worker_process([sys.executable, "-c", stay], ready="ready") as pid:
        worker = os.sched_getaffinity(pid)
    return os.sched_getaffinity(0), runtime, worker

with _common.caller_cpus(one):
    caller, runtime, worker = _common.drive(where())
after = os.sched_getaffinity(0)
try:
    with _common.caller_cpus(frozenset({max(every) + 1})):
        refused = ""
except SystemExit as exc:
    refused = str(exc)
print(json.dumps({
    "one": sorted(one), "every": sorted(every), "caller": sorted(caller),
    "runtime": sorted(runtime), "worker": sorted(worker), "after": sorted(after),
    "refused": refused,
}))
"""


def test_caller_cpus_pin_the_caller_and_its_runtime_thread_only() -> None:
    # In a process of its own: the runtime thread must start under the pin.
    done = subprocess.run(
        [sys.executable, "-c", _PIN_CHECK],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=SCRIPT.parent,
        env={**os.environ, "PYTHONPATH": str(SCRIPT.parent)},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["caller"] == seen["runtime"] == seen["one"]
    assert seen["worker"] == seen["after"] == seen["every"]
    assert seen["refused"].startswith("--caller-cpus: CPU(s) ")


def _bench_common():
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import _common
    finally:
        sys.path.remove(str(SCRIPT.parent))
    return _common


def test_rounds_merge_into_each_figures_median() -> None:
    common = _bench_common()
    rounds = [
        {"seq": {"p50": 0.5}, "per_sec": 100, "top": {"evalsha": 2.0}, "label": "a"},
        {"seq": {"p50": 0.9}, "per_sec": 300, "top": {"evalsha": 2.0, "xack": 1.0}},
        {"seq": {"p50": 0.6}, "per_sec": 200, "top": {"evalsha": 4.0}, "label": "b"},
    ]
    assert common.median_result(rounds) == {
        "seq": {"p50": 0.6},
        "per_sec": 200,
        "top": {"evalsha": 2.0, "xack": 1.0},  # a key some rounds lack: those that have it
        "label": "a",  # not a number: the first round's
    }
    # An error word in any round is not averaged into a figure.
    assert common.median_result([{"x": "not installed"}, {"x": 3}]) == {"x": "not installed"}
    assert common.median_result([True, False, True]) is True  # flags are not numbers


def test_rounds_must_be_at_least_one() -> None:
    common = _bench_common()
    parser = common.size_parser("x", total=1, seq=1, warmup=1, count=1)
    assert parser.parse_args(["--rounds", "3"]).rounds == 3
    assert parser.parse_args([]).rounds == 1
    for bad in ("0", "-2", "two"):
        with pytest.raises(SystemExit):
            parser.parse_args(["--rounds", bad])
