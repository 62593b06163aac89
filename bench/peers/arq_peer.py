"""arq 0.28 running the hello job, for ``bench/hello.py`` (the bench extra).

    python bench/peers/arq_peer.py --port PORT [sizes]      # measure; prints one JSON line
    python bench/peers/arq_peer.py --port PORT --serve      # the worker process

The job is a function returning a greeting, the equivalent of the hello app's
worker. arq is tuned for latency: the worker polls its queue every 1 ms
(``poll_delay``) with ``max_jobs=50``, and the caller polls for the result every
1 ms (``Job.result(poll_delay=...)``). The worker runs in a process of its own,
spawned here; the caller drives the jobs from its own asyncio loop. arq uses
database 1 of the bench server and a queue of its own, so nothing of
hotmesh_nb's is touched. Redis commands per job are counted as for hotmesh_nb:
``INFO commandstats`` over sequential jobs, net of the idle rate (for arq, the
worker's 1 ms queue polls).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

# _common lives in bench/, one level up; this script also runs as a bare file in a venv.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import (
    commands_per_call,
    idle_rate,
    peer_main,
    sequential,
    throughput,
    worker_process,
)

REQUIREMENT = "arq==0.28.*"
QUEUE = "bench:arq"
DATABASE = 1
POLL = 0.001
"""Both polls, in seconds: the worker's queue poll and the caller's result poll."""
MAX_JOBS = 50
READY = "arq worker ready"


async def hello(ctx: dict[str, Any], name: str) -> str:
    """The job: a greeting, like the hello app's worker."""
    return f"Hello, {name}!"


def serve(port: int) -> None:
    """The worker process: serve the queue until SIGTERM (arq drains, then exits)."""
    from arq.connections import RedisSettings
    from arq.worker import Worker

    async def ready(ctx: dict[str, Any]) -> None:
        print(READY, flush=True)

    worker = Worker(
        functions=[hello],
        redis_settings=RedisSettings(host="127.0.0.1", port=port, database=DATABASE),
        queue_name=QUEUE,
        poll_delay=POLL,
        max_jobs=MAX_JOBS,
        on_startup=ready,
        handle_signals=True,
    )
    worker.run()


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    import arq
    import redis
    from arq.connections import RedisSettings, create_pool

    admin = redis.Redis(port=args.port, decode_responses=True)
    pool = await create_pool(
        RedisSettings(host="127.0.0.1", port=args.port, database=DATABASE),
        default_queue_name=QUEUE,
    )
    argv = [sys.executable, __file__, "--port", str(args.port), "--serve"]

    async def job(n: int) -> None:
        handle = await pool.enqueue_job("hello", f"n{n}")
        assert handle is not None
        out = await handle.result(timeout=60, poll_delay=POLL)
        assert out == f"Hello, n{n}!", out

    try:
        with worker_process(argv, ready=READY):
            for i in range(args.warmup):
                await job(i)
            seq = await sequential(job, args.seq)
            rate = await throughput(job, args.total, args.concurrency)
            idle = await idle_rate(admin)
            per_job, top = await commands_per_call(admin, job, args.count, idle)
    finally:
        await pool.aclose()
    return {
        "version": arq.VERSION,
        "seq": seq,
        "per_sec": rate["per_sec"],
        "cpu_ms": rate["cpu_ms"],
        "commands": per_job,
        "idle_commands_per_sec": idle,
        "top": top,
    }


def main() -> None:
    if "--serve" in sys.argv:
        parser = argparse.ArgumentParser(description="the arq worker process")
        parser.add_argument("--port", type=int, required=True)
        parser.add_argument("--serve", action="store_true")
        serve(parser.parse_args().port)
        return
    defaults = {"total": 2000, "seq": 500, "warmup": 50, "count": 200}
    peer_main(__doc__.splitlines()[0], REQUIREMENT, measure, defaults)


if __name__ == "__main__":
    main()
