"""The HotMesh that runs MeshCall for one connection and namespace in this process.

Found once per process and namespace (a lookup in the runtime's service
registry afterwards), so a call costs no setup. The first one deploys and
activates the MeshCall app when the namespace lacks it. An engine comes with
the worker that plans scheduled crons (``meshcall.plan``).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass

from ..connection import Connection
from ..hotmesh import HotMesh, Worker
from ..runtime import get_runtime
from ._crons import plan_callback
from ._meshcall_app import APP_ID, PLAN_TOPIC, ensure_deployed

ConnectionLike = Connection | str | None
"""A :class:`~hotmesh_nb.Connection`, a server URL, or None (the default server)."""


@dataclass
class _Registered:
    """The registry entry (a runtime service: shutdown forgets it)."""

    hm: HotMesh

    async def stop(self) -> None:
        # The engine and workers are services of their own; the runtime stops them.
        return None


def _key(role: str, connection: ConnectionLike, namespace: str) -> Hashable:
    where = connection.url if isinstance(connection, Connection) else connection
    return ("meshcall", role, where, namespace)


def running(connection: ConnectionLike, namespace: str) -> HotMesh | None:
    """The namespace's MeshCall engine when it runs in this process (one lookup: every
    call asks, so the one that finds it creates no coroutine)."""
    registered = get_runtime().running(_key("engine", connection, namespace))
    return None if registered is None else registered.hm  # type: ignore[no-any-return]


async def mesh(connection: ConnectionLike, namespace: str, *, engine: bool = True) -> HotMesh:
    """The MeshCall HotMesh (an engine, or a client when ``engine`` is False)."""
    runtime = get_runtime()
    hm = running(connection, namespace)
    if hm is not None:
        return hm

    async def make() -> _Registered:
        hm = await HotMesh.init_async(
            APP_ID, connection=connection, namespace=namespace, engine=engine
        )
        await ensure_deployed(hm)
        if engine:
            # Every engine also plans scheduled crons: a cron expression's next run is
            # computed by this worker (croniter) between two runs.
            await HotMesh.init_async(
                APP_ID,
                connection=connection,
                namespace=namespace,
                workers=[Worker(PLAN_TOPIC, plan_callback)],
            )
        return _Registered(hm)

    # A process that runs an engine already needs no second, client-only one (above).
    role = "engine" if engine else "client"
    registered = await runtime.service(_key(role, connection, namespace), make)
    return registered.hm


async def serve(connection: ConnectionLike, namespace: str, worker: Worker) -> HotMesh:
    """Start (or re-point, when it runs) ``worker`` next to an engine of the namespace."""
    await mesh(connection, namespace)
    return await HotMesh.init_async(
        APP_ID, connection=connection, namespace=namespace, workers=[worker]
    )


def _is_meshcall(key: Hashable) -> bool:
    """Whether a runtime service belongs to MeshCall (its registry, engines and workers)."""
    if not isinstance(key, tuple) or not key:
        return False
    if key[0] == "meshcall":
        return True
    # HotMesh services are keyed (role, url, namespace, app id[, topic]).
    return key[0] in ("engine", "client", "worker") and len(key) >= 4 and key[3] == APP_ID


async def stop_all() -> int:
    """Stop every MeshCall engine and worker of this process; how many services stopped.

    Workers stop first, so no call is taken after its engine left. Services of
    other apps (MeshFlow, MeshData, YAML apps) keep running.
    """
    runtime = get_runtime()
    order = {"worker": 0, "engine": 1, "client": 1}
    keys = sorted(
        (k for k in runtime.services() if _is_meshcall(k)),
        key=lambda k: order.get(k[0], 2),  # type: ignore[index]
    )
    for key in keys:
        await runtime.stop_service(key)
    return len(keys)
