"""What a worker process pays to import hotmesh_nb, beside ``import redis, yaml``.

    python bench/import_time.py [--runs 15]

Each import runs in a fresh interpreter (the median of ``--runs``), net of the
interpreter's own start; the table also lists the heavy packages that must not
load with ``import hotmesh_nb`` (the notebook layer loads them when used).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

HEAVY = ("IPython", "ipywidgets", "pandas", "numpy", "graphviz")


def seconds(code: str, runs: int) -> float:
    """Median wall time of ``python -c code`` over ``runs`` fresh interpreters."""
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="interpreters per figure")
    args = parser.parse_args()
    bare = seconds("pass", args.runs)
    base = seconds("import redis, yaml", args.runs) - bare
    ours = seconds("import hotmesh_nb", args.runs) - bare
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            f"import sys, hotmesh_nb; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(f"\nimport cost, median of {args.runs} fresh interpreters\n")
    print("| import | ms | ratio |\n|---|---:|---:|")
    print(f"| redis, yaml | {base * 1000:.0f} | 1.00× |")
    print(f"| hotmesh_nb | {ours * 1000:.0f} | {ours / base:.2f}× |")
    print(f"\nheavy packages loaded by `import hotmesh_nb`: {loaded or 'none'}")


if __name__ == "__main__":
    main()
