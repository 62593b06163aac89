"""DBOS 3.4 running a two-step workflow on SQLite, for ``bench/meshflow.py`` (the bench extra).

    python bench/peers/dbos_peer.py --port PORT [sizes]     # prints one JSON line

The workflow is the MeshFlow benchmark's equivalent: two steps, a greeting and
a farewell built on it, each checkpointed by DBOS. DBOS is a library: its
workflows run in the caller's process, on the caller's asyncio loop
(``DBOS.start_workflow_async``, then ``handle.get_result()``), with the system
database in a SQLite file of a temporary folder. ``--port`` is accepted like
every peer's but unused: DBOS does not use the Redis server, so it has no
Redis commands per workflow.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

# _common lives in bench/, one level up; this script also runs as a bare file in a venv.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import peer_main, sequential, throughput

REQUIREMENT = "dbos==3.4.*"


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    from importlib.metadata import version

    from dbos import DBOS, DBOSConfig

    @DBOS.step()
    async def greet(name: str) -> str:
        return f"Hello, {name}!"

    @DBOS.step()
    async def farewell(greeting: str) -> str:
        return f"{greeting} Goodbye!"

    @DBOS.workflow()
    async def bench_flow(name: str) -> str:
        return await farewell(await greet(name))

    async def run_one(n: int) -> None:
        handle = await DBOS.start_workflow_async(bench_flow, f"n{n}")
        out = await handle.get_result()
        assert out == f"Hello, n{n}! Goodbye!", out

    with tempfile.TemporaryDirectory(prefix="dbos-bench-") as folder:
        config: DBOSConfig = {
            "name": "hotmesh-bench",
            "system_database_url": f"sqlite:///{folder}/dbos.sqlite",
            "log_level": "WARNING",
        }
        DBOS(config=config)
        # Launched inside the running loop, DBOS adopts it: the workflows run on this loop.
        DBOS.launch()
        logging.getLogger("dbos").setLevel(logging.WARNING)
        try:
            offset = 0
            for i in range(args.warmup):
                await run_one(i)
            offset += args.warmup
            seq = await sequential(run_one, args.seq, offset)
            offset += args.seq
            rate = await throughput(run_one, args.total, args.concurrency, offset)
        finally:
            DBOS.destroy()
    return {
        "version": version("dbos"),
        "seq": seq,
        "per_sec": rate["per_sec"],
        "cpu_ms": rate["cpu_ms"],
        "commands": "n/a",
    }


def main() -> None:
    defaults = {"total": 1000, "seq": 200, "warmup": 20, "count": 100}
    peer_main(__doc__.splitlines()[0], REQUIREMENT, measure, defaults)


if __name__ == "__main__":
    main()
