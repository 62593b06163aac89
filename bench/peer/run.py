"""Run one of our peer scripts on the original against a throwaway server.

    python bench/peer/run.py interrupt_race.mjs        # env vars pass through

The original runs under ``NODE_ENV=test`` (as its own test suite does: 1-second
timer slots) with ``HMSH_BLOCK_TIME_MS=1000`` (a 2-second stop instead of 20).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import _common


def main() -> int:
    script = sys.argv[1]
    folder = _common.ensure_peer()
    if folder is None:
        print("the original could not be installed (npm)", file=sys.stderr)
        return 1
    with _common.bench_server() as port:
        env = {
            **os.environ,
            "REDIS_PORT": str(port),
            "HMSH_BLOCK_TIME_MS": "1000",
            "NODE_ENV": os.environ.get("NODE_ENV", "test"),
        }
        done = subprocess.run(
            ["node", script], cwd=folder, env=env, capture_output=True, text=True, timeout=600
        )
    print(done.stdout.strip().splitlines()[-1] if done.stdout.strip() else "")
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
