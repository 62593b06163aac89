"""Decorators for notebooks: ``@meshcall.function(topic)`` and ``@meshcall.cron(topic, ...)``.

They hang off the :mod:`hotmesh_nb.meshcall` module::

    from hotmesh_nb import meshcall

    @meshcall.function("user")
    def user(user_id):
        return {"id": user_id}

    user.exec(42, id="42", ttl="15 minutes")   # through the mesh (cached)
    user(42)                                    # a plain local call

    @meshcall.cron("nightly", interval="1 day")
    def nightly():
        ...

    nightly.interrupt()

Decorating starts the worker at once (re-running the cell swaps in the new
function; the cron itself is not started twice). The decorated object still
calls the function locally. Decorate from notebook cells or scripts, not
from code running on the hotmesh runtime loop (the decorators block).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from ..durations import Duration
from ..hotmesh import HotMesh
from ..keys import DEFAULT_NAMESPACE
from ._calls import DEFAULT_TIMEOUT
from ._instances import ConnectionLike
from ._meshcall_api import MeshCall


class MeshFunction:
    """A function served on the mesh under ``topic``; calling it runs it locally."""

    def __init__(
        self,
        fn: Callable[..., Any],
        topic: str,
        connection: ConnectionLike,
        namespace: str,
        hotmesh: HotMesh,
    ) -> None:
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.topic = topic
        self.connection = connection
        self.namespace = namespace
        self.hotmesh = hotmesh
        """The HotMesh serving the topic (``jobs()``, ``graph()``, ``roll_call()``)."""

    def __repr__(self) -> str:
        return f"<MeshCall function {self.fn.__qualname__} on topic {self.topic!r}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    async def exec_async(
        self,
        *args: Any,
        id: str | None = None,
        ttl: Duration | None = None,
        flush: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Any:
        """:meth:`MeshCall.exec_async` of this topic with ``args`` (any worker may run it)."""
        return await MeshCall.exec_async(
            self.topic,
            list(args),
            id,
            ttl,
            flush,
            timeout=timeout,
            connection=self.connection,
            namespace=self.namespace,
        )

    def exec(
        self,
        *args: Any,
        id: str | None = None,
        ttl: Duration | None = None,
        flush: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Any:
        """:meth:`MeshCall.exec` of this topic with ``args`` (any worker may run it)."""
        return MeshCall.exec(
            self.topic,
            list(args),
            id,
            ttl,
            flush,
            timeout=timeout,
            connection=self.connection,
            namespace=self.namespace,
        )

    async def flush_async(self, id: str) -> bool:
        """:meth:`MeshCall.flush_async` of this topic."""
        return await MeshCall.flush_async(
            self.topic, id, connection=self.connection, namespace=self.namespace
        )

    def flush(self, id: str) -> bool:
        """:meth:`MeshCall.flush` of this topic."""
        return MeshCall.flush(self.topic, id, connection=self.connection, namespace=self.namespace)


class MeshCron(MeshFunction):
    """A function run on a schedule under ``topic``; calling it runs it locally."""

    def __init__(
        self,
        fn: Callable[..., Any],
        topic: str,
        connection: ConnectionLike,
        namespace: str,
        hotmesh: HotMesh,
        cron_id: str,
        started: bool,
    ) -> None:
        super().__init__(fn, topic, connection, namespace, hotmesh)
        self.id = cron_id
        self.started = started
        """True when decorating started the cron, False when it was already running."""

    def __repr__(self) -> str:
        return f"<MeshCall cron {self.fn.__qualname__} on topic {self.topic!r} (id {self.id!r})>"

    async def interrupt_async(self) -> bool:
        """Stop the cron; False when it was not running."""
        return await MeshCall.interrupt_async(
            self.topic, self.id, connection=self.connection, namespace=self.namespace
        )

    def interrupt(self) -> bool:
        """Stop the cron; False when it was not running."""
        return MeshCall.interrupt(
            self.topic, self.id, connection=self.connection, namespace=self.namespace
        )


def function(
    topic: str, *, connection: ConnectionLike = None, namespace: str = DEFAULT_NAMESPACE
) -> Callable[[Callable[..., Any]], MeshFunction]:
    """Serve the decorated function on ``topic`` (see :meth:`MeshCall.connect`)."""

    def decorate(fn: Callable[..., Any]) -> MeshFunction:
        hm = MeshCall.connect(topic, fn, connection, namespace)
        return MeshFunction(fn, topic, connection, namespace, hm)

    return decorate


def cron(
    topic: str,
    *,
    interval: Duration,
    id: str | None = None,
    args: Sequence[Any] | None = None,
    max_cycles: int | None = None,
    delay: Duration | None = None,
    connection: ConnectionLike = None,
    namespace: str = DEFAULT_NAMESPACE,
) -> Callable[[Callable[..., Any]], MeshCron]:
    """Serve the decorated function on ``topic`` and run it on a schedule.

    Arguments as :meth:`MeshCall.cron`; ``id`` defaults to the topic, so
    re-running the cell keeps the one cron (and serves the new function).
    """

    def decorate(fn: Callable[..., Any]) -> MeshCron:
        cron_id = topic if id is None else id
        started = MeshCall.cron(
            topic,
            args,
            fn,
            id=cron_id,
            interval=interval,
            max_cycles=max_cycles,
            delay=delay,
            connection=connection,
            namespace=namespace,
        )
        hm = MeshCall.hotmesh(connection, namespace)
        return MeshCron(fn, topic, connection, namespace, hm, cron_id, started)

    return decorate
