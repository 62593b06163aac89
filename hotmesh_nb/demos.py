"""Demos run by ``hotmesh-nb demo``: each proves a piece of the stack end to end."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Sequence

from .connection import connect_async, mask_url
from .runtime import get_runtime


async def _stream_roundtrip(url: str | None) -> list[str]:
    """Round-trip a message through a stream and a consumer group on the runtime."""
    conn = await connect_async(url)
    client = conn.client
    stream = f"{{hmsh-demo:{uuid.uuid4().hex[:8]}}}:x:demo"
    lines = [f"connected to {mask_url(conn.url)}"]
    await client.xgroup_create(stream, "WORKER", id="0", mkstream=True)
    started = time.perf_counter()
    msg_id = await client.xadd(stream, {"data": '{"hello":"mesh"}'})
    reply = await client.xreadgroup("WORKER", f"demo-{os.getpid()}", {stream: ">"}, count=1)
    entries = reply[stream] if isinstance(reply, dict) else reply[0][1]
    got_id, fields = entries[0]
    await client.xack(stream, "WORKER", got_id)
    elapsed = (time.perf_counter() - started) * 1000
    await client.delete(stream)
    lines.append(f"stream round trip: sent {msg_id}, read {got_id} {fields} in {elapsed:.2f} ms")
    return lines


DEMOS: dict[str, Callable[[str | None], object]] = {"stream": _stream_roundtrip}


def run_demos(names: Sequence[str], url: str | None = None) -> int:
    """Run the named demos (all by default) and print what each did."""
    chosen = list(names) or list(DEMOS)
    unknown = [n for n in chosen if n not in DEMOS]
    if unknown:
        print(f"unknown demo(s): {', '.join(unknown)}; choose from: {', '.join(DEMOS)}")
        return 2
    runtime = get_runtime()
    for name in chosen:
        print(f"== demo: {name}")
        for line in runtime.run(DEMOS[name](url), name="demo"):  # type: ignore[arg-type]
            print(f"   {line}")
    return 0
