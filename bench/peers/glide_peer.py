"""valkey-glide 2.6 sending the step-shaped script, for ``bench/clients.py`` (the bench extra).

    python bench/peers/glide_peer.py --port PORT [sizes]      # measure; prints one JSON line

glide's Rust core multiplexes every command of the client on one connection; the
caller awaits each from its own asyncio loop, as ``bench/clients.py`` does with
redis-py and with hotmesh_nb's batcher. The script and the keys are the same.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

# _common lives in bench/, one level up; this script also runs as a bare file in a venv.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _common import peer_main, sequential, throughput

REQUIREMENT = "valkey-glide==2.6.*"
SCRIPT = "redis.call('HSET', KEYS[1], 'f', ARGV[1]) return 1"
"""What a step's script does at the least: write a job's hash, answer a number."""
KEYS = 1000


async def measure(args: argparse.Namespace) -> dict[str, Any]:
    from glide import GlideClient, GlideClientConfiguration, NodeAddress, Script

    config = GlideClientConfiguration([NodeAddress("127.0.0.1", args.port)])
    client = await GlideClient.create(config)
    script = Script(SCRIPT)

    async def call(i: int) -> None:
        await client.invoke_script(script, keys=[f"bench:clients:{i % KEYS}"], args=[str(i)])

    await throughput(call, args.warmup, args.concurrency)
    result = {
        "seq": await sequential(call, args.seq),
        "tput": await throughput(call, args.total, args.concurrency),
    }
    await client.close()
    return result


if __name__ == "__main__":
    peer_main(
        "valkey-glide's round trips for bench/clients.py",
        REQUIREMENT,
        measure,
        {"total": 20000, "seq": 5000, "warmup": 2000, "count": 0},
    )
