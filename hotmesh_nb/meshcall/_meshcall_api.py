"""``MeshCall``: any Python function callable from anywhere on the mesh, cached or on a schedule.

Everything runs as jobs of the MeshCall app (``meshcall.call`` and
``meshcall.cron``), deployed on first use in each namespace, so calls and
crons show up in ``MeshCall.hotmesh().jobs()``, graphs and dashboards like
the jobs of any other app.

>>> MeshCall.connect("user", lambda user_id: {"id": user_id})          # doctest: +SKIP
>>> MeshCall.exec("user", [42])                                        # doctest: +SKIP
{'id': 42}
>>> MeshCall.exec("user", [42], id="42", ttl="15 minutes")             # doctest: +SKIP
>>> MeshCall.cron("nightly", callback=report, interval="0 3 * * *")    # doctest: +SKIP
True

Every method has an ``*_async`` twin that can be awaited from any event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from ..durations import Duration
from ..hotmesh import HotMesh, Worker
from ..keys import DEFAULT_NAMESPACE
from ..runtime import blocking, on_runtime
from . import _calls as calls
from . import _crons as crons
from . import _instances as instances
from ._adapter import worker_callback
from ._instances import ConnectionLike
from ._meshcall_app import PLAN_TOPIC, ensure_worker_group


def _check_topic(topic: str) -> None:
    """Refuse a topic no function can serve: empty, or MeshCall's own planner's."""
    if not isinstance(topic, str) or not topic:
        raise ValueError(f"a MeshCall topic must be a non-empty string, not {topic!r}")
    if topic == PLAN_TOPIC:
        raise ValueError(
            f"the topic '{PLAN_TOPIC}' is reserved: MeshCall plans scheduled crons on it; "
            "choose another name for your function"
        )


class MeshCall:
    """Connect functions to the mesh, call them (with a cache) and run them as crons.

    All methods are static: the HotMesh engines and workers behind them are
    found per connection and namespace (the namespace's MeshCall app is
    ``{<namespace>:meshcall}``). Topics name functions; ``id`` values are
    scoped by topic.
    """

    @staticmethod
    @on_runtime
    async def connect_async(
        topic: str,
        callback: Callable[..., Any],
        connection: ConnectionLike = None,
        namespace: str = DEFAULT_NAMESPACE,
    ) -> HotMesh:
        """Serve ``topic`` with ``callback`` in this process; returns the HotMesh running it.

        Each call runs ``callback(*args)`` (``async def`` on the runtime loop,
        plain ``def`` in a thread) and answers with its return value, which
        must be a JSON value. Connecting a topic again (re-running a notebook
        cell) replaces the callback of the running worker. Any number of
        processes may serve the same topic: each call goes to one of them.
        """
        _check_topic(topic)
        worker = Worker(topic, worker_callback(topic, callback))
        return await instances.serve(connection, namespace, worker)

    @staticmethod
    async def exec_async(
        topic: str,
        args: Sequence[Any] = (),
        id: str | None = None,
        ttl: Duration | None = None,
        flush: bool = False,
        *,
        timeout: float = calls.DEFAULT_TIMEOUT,
        connection: ConnectionLike = None,
        namespace: str = DEFAULT_NAMESPACE,
    ) -> Any:
        """Call ``topic``'s function with ``args`` (a list) and return what it returned.

        With ``id`` the call is the job ``call:<topic>:<id>`` and its answer is
        cached in that job's Redis hash for ``ttl`` after it completed
        (``'15 minutes'``, ``'2 weeks'``, seconds, ``'infinity'`` until
        flushed; without ``ttl``, 1 s): a later call with the same topic and
        id returns it without running the function, and a call that finds it
        still running waits for it. ``flush=True`` drops the cached answer
        first and runs the function again. Without ``id`` nothing is cached
        (the job is kept for ``ttl``, or 1 s).

        Raises :class:`~hotmesh_nb.meshcall.MeshCallError` (with
        ``error_type``, ``message`` and ``remote_traceback``) when the
        function raised, and :class:`~hotmesh_nb.TimeoutError` naming the
        topic when no answer came within ``timeout`` seconds.

        Awaited on another event loop than the runtime's, a cached answer is
        read from that loop (one ``HMGET`` over a connection of its own, see
        ``_caller_reads``) rather than through the runtime's thread; anything
        else goes to the runtime.
        """
        if id is not None and not flush:
            hm = instances.running(connection, namespace)
            if hm is not None:
                answer = await calls.cached_here(hm, topic, args, call_id=id, ttl=ttl)
                if answer is not calls.MISS:
                    return answer
        return await _exec(topic, args, id, ttl, flush, timeout, connection, namespace)

    @staticmethod
    @on_runtime
    async def flush_async(
        topic: str,
        id: str,
        *,
        connection: ConnectionLike = None,
        namespace: str = DEFAULT_NAMESPACE,
    ) -> bool:
        """Drop the cached answer of call ``id`` of ``topic``; True when there was one."""
        hm = await instances.mesh(connection, namespace)
        return await calls.flush(hm, topic, id)

    @staticmethod
    @on_runtime
    async def cron_async(
        topic: str,
        args: Sequence[Any] | None = None,
        callback: Callable[..., Any] | None = None,
        *,
        interval: Duration,
        id: str | None = None,
        max_cycles: int | None = None,
        delay: Duration | None = None,
        connection: ConnectionLike = None,
        namespace: str = DEFAULT_NAMESPACE,
    ) -> bool:
        """Run ``topic``'s function with ``args`` on a schedule; False when that cron runs already.

        ``interval`` is a duration (``'1 day'``, seconds; at least 1 s): the
        first run is at once (or after ``delay``) and each next one
        ``interval`` after the previous run ended. Or it is a cron expression
        (UTC), read by croniter: 5 fields (``'0 3 * * *'``), or 6 with a
        seconds field first (``'*/10 * * * * *'``, as the original's cron
        parser reads it); ranges, lists, steps, month and weekday names,
        ``L``, ``W``, ``#`` and the aliases ``@hourly``, ``@daily``,
        ``@weekly``, ``@monthly``, ``@yearly``. Runs follow the schedule:
        the first waits for it (``delay`` does not apply), and a run that
        overran later points skips them. An expression that cannot be read
        raises ``ValueError`` naming it. The cron ends after ``max_cycles``
        runs (default 100 000) or :meth:`interrupt`; a run that raises is
        recorded and the schedule goes on.

        The cron is idempotent by ``id`` (default: the topic): while one with
        the same topic and id runs, this returns False and changes nothing.
        With ``callback`` this process also serves the topic (as
        :meth:`connect`); without, it only schedules and a worker elsewhere
        serves it.
        """
        _check_topic(topic)
        timing = crons.schedule(interval, delay, max_cycles)
        if callback is not None:
            await MeshCall.connect_async(topic, callback, connection, namespace)
            hm = await instances.mesh(connection, namespace)
        else:
            hm = await instances.mesh(connection, namespace, engine=False)
            await ensure_worker_group(hm, topic)
        return await crons.start(hm, topic, topic if id is None else id, args, timing)

    @staticmethod
    @on_runtime
    async def interrupt_async(
        topic: str,
        id: str | None = None,
        *,
        connection: ConnectionLike = None,
        namespace: str = DEFAULT_NAMESPACE,
    ) -> bool:
        """Stop the cron ``id`` (default: the topic) of ``topic``; False when it was not running."""
        hm = await instances.mesh(connection, namespace, engine=False)
        return await crons.interrupt(hm, topic, topic if id is None else id)

    @staticmethod
    @on_runtime
    async def hotmesh_async(
        connection: ConnectionLike = None,
        namespace: str = DEFAULT_NAMESPACE,
        *,
        readonly: bool = False,
    ) -> HotMesh:
        """The HotMesh of the namespace's MeshCall app: its ``jobs()``, ``graph()``, ``export()``.

        Call jobs are ``call:<topic>:<id>`` (random ids for uncached calls),
        crons ``cron:<topic>:<id>``. ``readonly=True`` (the original's
        ``getInstance(..., {readonly: true})``) gives a client that reads and
        starts jobs without running an engine, unless this process runs one.
        """
        return await instances.mesh(connection, namespace, engine=not readonly)

    @staticmethod
    @on_runtime
    async def shutdown_async() -> None:
        """Stop every MeshCall engine and worker of this process (all namespaces).

        Functions stop being served here; crons and cached answers live on in
        Redis and go on wherever another process serves them. Other apps of
        this process (MeshFlow, MeshData, YAML apps) keep running;
        :func:`hotmesh_nb.shutdown` stops everything.
        """
        await instances.stop_all()

    # mypy types a static method inside its class body as the plain function; at this
    # point it is the staticmethod object, and ``__func__`` is that function.
    connect = staticmethod(blocking(connect_async.__func__))  # type: ignore[attr-defined]
    exec = staticmethod(blocking(exec_async.__func__))  # type: ignore[attr-defined]
    flush = staticmethod(blocking(flush_async.__func__))  # type: ignore[attr-defined]
    cron = staticmethod(blocking(cron_async.__func__))  # type: ignore[attr-defined]
    interrupt = staticmethod(blocking(interrupt_async.__func__))  # type: ignore[attr-defined]
    hotmesh = staticmethod(blocking(hotmesh_async.__func__))  # type: ignore[attr-defined]
    shutdown = staticmethod(blocking(shutdown_async.__func__))  # type: ignore[attr-defined]


@on_runtime
async def _exec(
    topic: str,
    args: Sequence[Any],
    id: str | None,
    ttl: Duration | None,
    flush: bool,
    timeout: float,
    connection: ConnectionLike,
    namespace: str,
) -> Any:
    """``exec_async`` on the runtime loop: the call, its cache lookup and its wait."""
    hm = instances.running(connection, namespace) or await instances.mesh(connection, namespace)
    return await calls.call(hm, topic, args, call_id=id, ttl=ttl, flush=flush, timeout=timeout)
