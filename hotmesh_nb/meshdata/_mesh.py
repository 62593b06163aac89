"""``MeshData.sub``/``pub``/``unsub``: the quorum channel of a namespace's MeshFlow app.

Every engine and worker of the app listens on that channel: roll calls
(``ping``/``pong``), throttles, activations, and whatever ``pub`` sends. A
subscriber sees every message, each with ``entity`` added where a message
names a worker topic (``<entity>-<entity>`` → ``entity``), as the original
does. One listener connection per namespace serves all subscribers of this
process; it is closed when the last one unsubscribes or at shutdown.

Deliberate differences from the original, whose ``mesh.unsub`` leaves the
callback subscribed and whose messages carrying a ``topic`` never reach
``mesh.sub`` subscribers (they go to a per-topic channel): here ``unsub``
stops the callback, and every message goes on the one channel our engines
and workers listen to, so subscribers see it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from .._codec import dumps, loads
from ..hotmesh import HotMesh
from ..runtime import cancel_and_wait, get_runtime

log = logging.getLogger(__name__)

MeshCallback = Callable[[str, dict[str, Any]], Any]
"""``callback(channel, message)``; plain functions run in a thread, ``async def`` on the loop."""

SUBSCRIBE_TIMEOUT = 10.0
"""Seconds to wait for the server to confirm the subscription."""


def with_entity(message: dict[str, Any]) -> dict[str, Any]:
    """``message`` with ``entity`` set from the worker topics it names.

    A MeshData entity's workflows run on topic ``<entity>-<entity>`` and its
    activities on ``<entity>-<entity>-activity``: the entity is the part
    before the first ``-``. Roll-call answers list members, each with its own.
    """
    topic = message.get("topic")
    if isinstance(topic, str) and topic:
        message["entity"] = topic.split("-", 1)[0]
    for member in message.get("members") or ():
        if isinstance(member, dict) and isinstance(member.get("topic"), str) and member["topic"]:
            member["entity"] = member["topic"].split("-", 1)[0]
    return message


class MeshChannel:
    """One listening connection on a quorum channel and the callbacks it feeds."""

    def __init__(self, hm: HotMesh) -> None:
        self.hm = hm
        self.channel = hm.keys.quorum_channel
        self.callbacks: list[MeshCallback] = []
        self._pubsub = hm.connection.client.pubsub()
        self._reader: asyncio.Task[None] | None = None
        self._deliveries: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        """Subscribe and wait for the confirmation: a ``pub`` right after is heard."""
        await self._pubsub.subscribe(self.channel)
        async with asyncio.timeout(SUBSCRIBE_TIMEOUT):
            while True:
                reply = await self._pubsub.get_message(timeout=SUBSCRIBE_TIMEOUT)
                if reply is not None and reply.get("type") == "subscribe":
                    break
        self._reader = asyncio.get_running_loop().create_task(self._read(), name="mesh-sub")

    async def stop(self) -> None:
        """Close the connection; deliveries under way finish."""
        await cancel_and_wait(self._reader)
        if self._deliveries:
            await asyncio.gather(*self._deliveries, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()

    async def _read(self) -> None:
        while True:
            try:
                received = await self._pubsub.get_message(timeout=None)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a dropped connection: redis-py resubscribes on retry
                log.warning("mesh channel %s failed: %s; retrying", self.channel, exc)
                await asyncio.sleep(0.2)
                continue
            if received is None or received.get("type") != "message":
                continue
            for callback in list(self.callbacks):
                try:
                    message = loads(received["data"])  # each callback gets its own copy
                except ValueError:
                    break
                if not isinstance(message, dict):
                    message = {"message": message}
                task = asyncio.get_running_loop().create_task(
                    self._deliver(callback, with_entity(message))
                )
                self._deliveries.add(task)
                task.add_done_callback(self._deliveries.discard)

    async def _deliver(self, callback: MeshCallback, message: dict[str, Any]) -> None:
        try:
            await get_runtime().call_user(callback, self.channel, message)
        except Exception:  # a subscriber's error must not stop the others
            log.exception("mesh subscriber %r failed on %s", callback, message.get("type"))


def _key(hm: HotMesh) -> tuple[str, str, str, str]:
    return ("meshdata-mesh", hm.connection.url, hm.namespace, hm.app_id)


async def subscribe(hm: HotMesh, callback: MeshCallback) -> None:
    """Add ``callback`` (once) to the namespace's listener, starting it if needed."""
    if not callable(callback):
        raise TypeError(f"sub needs a callable callback(channel, message), not {callback!r}")

    async def make() -> MeshChannel:
        channel = MeshChannel(hm)
        await channel.start()
        return channel

    channel: MeshChannel = await get_runtime().service(_key(hm), make)
    if callback not in channel.callbacks:
        channel.callbacks.append(callback)


async def unsubscribe(hm: HotMesh, callback: MeshCallback) -> bool:
    """Remove ``callback``; False when it was not subscribed. The last one closes the listener."""
    runtime = get_runtime()
    channel: MeshChannel | None = runtime.services().get(_key(hm))
    if channel is None or callback not in channel.callbacks:
        return False
    channel.callbacks.remove(callback)
    if not channel.callbacks:
        await runtime.stop_service(_key(hm))
    return True


async def publish(hm: HotMesh, message: dict[str, Any]) -> int:
    """Send ``message`` to every engine, worker and subscriber of the namespace's app.

    Returns how many connections received it (every engine and worker
    process listens, plus each process's subscriber connection).
    """
    if not isinstance(message, dict):
        raise TypeError(f"pub sends a dict message (e.g. {{'type': 'user', ...}}), not {message!r}")
    try:
        text = dumps(message)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"pub message must be JSON values: {exc}") from None
    return int(await hm.connection.client.publish(hm.keys.quorum_channel, text))
