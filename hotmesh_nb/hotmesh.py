"""The HotMesh facade: deploy YAML apps, run engines and workers, start and inspect jobs.

>>> hm = HotMesh.init("myfirstapp", workers=[Worker("work.do", work)])   # doctest: +SKIP
>>> hm.deploy("myfirstapp.1.yaml"); hm.activate("1")                    # doctest: +SKIP
>>> hm.pubsub("myfirstapp.test", {"name": "Ada"})                       # doctest: +SKIP

Every method has an ``*_async`` twin that can be awaited from any event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from ._ids import parse_compact
from .connection import Connection, connect_async
from .engine import _dead_letters as dead_letters
from .engine import _state as st
from .engine._config import EngineConfig
from .engine._engine import Engine
from .engine._protocol import Reply
from .engine._worker_service import Callback, Response, WorkerMessage, WorkerService, normalise
from .errors import HotMeshError, JobNotFoundError
from .keys import DEFAULT_NAMESPACE, Keys, check_topic
from .model import AppSpec
from .runtime import blocking, get_runtime, on_runtime


@dataclass(frozen=True)
class Worker:
    """A worker to run in this process: ``callback`` serves every message of ``topic``.

    The callback may be ``def`` (runs in a thread) or ``async def`` (runs on the
    runtime loop); it receives a :class:`~hotmesh_nb.WorkerMessage` and returns a
    dict (output data, code 200), ``None`` (empty data) or a
    :class:`~hotmesh_nb.Response` with a status code. An exception becomes an
    error with code 500 (or the exception's ``code`` attribute).
    """

    topic: str
    """The worker topic (the ``topic`` of the YAML ``worker`` activity)."""
    callback: Callback
    """The function to call."""
    guid: str | None = None
    """This worker's id on the mesh (roll calls, throttles, stream consumer name); None:
    a random one. It must be unique among the app's workers of this topic."""

    def __post_init__(self) -> None:
        # An empty topic would name the engine's own stream: the worker would eat
        # the engine's messages.
        check_topic(self.topic, "worker topic")


class HotMesh:
    """A point of presence of one app: an engine and/or workers in this process."""

    def __init__(
        self,
        connection: Connection,
        keys: Keys,
        config: EngineConfig,
        engine: Engine,
        workers: list[WorkerService],
    ) -> None:
        self.connection = connection
        self.keys = keys
        self.config = config
        self.engine = engine
        self.workers = workers

    def __repr__(self) -> str:
        topics = ", ".join(w.topic for w in self.workers) or "none"
        return (
            f"HotMesh(app={self.keys.app!r}, namespace={self.keys.namespace!r}, "
            f"engine={'yes' if self.engine.consume else 'client only'}, workers=[{topics}])"
        )

    def _repr_html_(self) -> str:
        # The notebook card (hotmesh_nb.notebook._cards); loaded only when a notebook asks.
        from .notebook._cards import mesh_card

        return mesh_card(self)

    @property
    def app_id(self) -> str:
        """The app this HotMesh serves."""
        return self.keys.app

    @property
    def namespace(self) -> str:
        """The namespace isolating this app's keys."""
        return self.keys.namespace

    # -- construction ------------------------------------------------------------

    @classmethod
    @on_runtime
    async def init_async(
        cls,
        app_id: str,
        *,
        connection: Connection | str | None = None,
        namespace: str = DEFAULT_NAMESPACE,
        engine: bool = True,
        workers: Sequence[Worker] = (),
        config: EngineConfig | None = None,
    ) -> HotMesh:
        """Start (or find, when this process already runs them) an engine and workers.

        ``engine=False`` makes a worker-only process: it can still start and read
        jobs but does not consume the engine stream. Calling ``init`` again with
        the same app returns the running engine and workers (re-running a
        notebook cell never starts a second one); a worker's callback is
        replaced by the new one.
        """
        conn = connection if isinstance(connection, Connection) else await connect_async(connection)
        keys = Keys(namespace, app_id)
        config = config or EngineConfig()
        runtime = get_runtime()
        base = (conn.url, namespace, app_id)

        async def make_engine() -> Engine:
            service = Engine(conn, keys, config, consume=engine)
            try:
                await service.start()
            except BaseException:
                # A refused start (ACL, outage) must not leave its connections behind.
                await service.stop()
                raise
            return service

        kind = "engine" if engine else "client"
        engine_service = await runtime.service((kind, *base), make_engine)
        # One Keys per running app: the engine learns the app's partitions into it, and
        # the workers start reading once it has (see Keys.on_layout).
        keys = engine_service.keys
        services: list[WorkerService] = []
        for spec in workers:

            async def make_worker(spec: Worker = spec) -> WorkerService:
                service = WorkerService(
                    conn,
                    keys,
                    spec.topic,
                    spec.callback,
                    config,
                    engine_service.quorum.throttles,
                    member=spec.guid,
                )
                await service.start()
                return service

            key = ("worker", *base, spec.topic)
            running = runtime.services().get(key)
            if running is not None and spec.guid is not None and running.guid != spec.guid:
                # Asked for under another id (a re-run cell): the id names the consumer,
                # so the worker restarts under the new one.
                await runtime.stop_service(key)
            service = await runtime.service(key, make_worker)
            service.callback = spec.callback
            services.append(service)
        return cls(conn, keys, config, engine_service, services)

    @classmethod
    def init(cls, app_id: str, **options: Any) -> HotMesh:
        """Blocking twin of :meth:`init_async` (same arguments)."""
        return get_runtime().run(cls.init_async(app_id, **options), name="init")

    # -- deployment --------------------------------------------------------------

    @on_runtime
    async def deploy_async(
        self, source: str | AppSpec, *, partitions: int | None = None
    ) -> AppSpec:
        """Validate, compile and store an app version from a YAML path or text.

        ``partitions`` (or the YAML's ``app.partitions``) sets how many partitions the
        app's jobs spread over, at its first deploy (default
        :data:`~hotmesh_nb.keys.DEFAULT_PARTITIONS`); later versions keep that number,
        and naming another one raises :class:`~hotmesh_nb.errors.DeployError`.
        """
        return await self.engine.deploy(source, partitions=partitions)

    @on_runtime
    async def activate_async(self, version: str | int) -> bool:
        """Make ``version`` active in every engine of the namespace; new jobs use it."""
        await self.engine.activate(str(version))
        return True

    # -- jobs --------------------------------------------------------------------

    @on_runtime
    async def pub_async(
        self,
        topic: str,
        data: dict[str, Any] | None = None,
        *,
        pending: float | None = None,
        search: dict[str, Any] | None = None,
        markers: dict[str, Any] | None = None,
    ) -> str:
        """Start a job and return its id at once.

        ``pending`` seconds creates the job without starting it (it expires after
        that long). ``search`` fields are stored as searchable strings (``_name``),
        ``markers`` literally (``-name``).
        """
        return await self.engine.pub(topic, data, pending=pending, search=search, markers=markers)

    def pub_many(
        self,
        topic: str,
        items: Iterable[dict[str, Any] | None],
        *,
        progress: bool = False,
        **options: Any,
    ) -> list[str]:
        """Start one job per input dict of ``items`` and return their ids, in order.

        ``progress=True`` shows a ``tqdm.auto`` bar (a widget in a notebook);
        ``options`` (``pending``, ``search``, ``markers``) go to every :meth:`pub`.
        """
        from .notebook._bulk import pub_many

        return pub_many(self, topic, items, progress_bar=progress, **options)

    async def pub_many_async(
        self,
        topic: str,
        items: Iterable[dict[str, Any] | None],
        *,
        progress: bool = False,
        **options: Any,
    ) -> list[str]:
        """The awaitable twin of :meth:`pub_many`."""
        from .notebook._bulk import pub_many_async

        return await pub_many_async(self, topic, items, progress_bar=progress, **options)

    @on_runtime
    async def pubsub_async(
        self, topic: str, data: dict[str, Any] | None = None, *, timeout: float | None = None
    ) -> dict[str, Any]:
        """Start a job, wait until it ends and return its data.

        Raises :class:`~hotmesh_nb.JobError` (with ``code``, ``message`` and
        ``job_id``) when the job ends with an error, and
        :class:`~hotmesh_nb.TimeoutError` after ``timeout`` seconds (default
        ``config.pubsub_timeout``) — the job keeps running.
        """
        job = await self.engine.pubsub(topic, data, timeout=timeout)
        return job["data"]

    @on_runtime
    async def add_async(
        self, message: WorkerMessage, data: dict[str, Any] | None = None, code: int = 200
    ) -> None:
        """Answer a worker message later (the original's ``hotMesh.add``).

        A callback may answer ``Response(partial, code=202)``: its activity stays
        open. Keep the :class:`~hotmesh_nb.WorkerMessage` it received and send the
        final answer with ``hm.add(message, data)`` — from any process of the
        mesh, any time while the job runs. ``code`` 202 sends one more partial
        answer; 4xx/5xx answer with an error. Steps apply once, so a repeated
        final answer changes nothing.

        >>> waiting = []                                                 # doctest: +SKIP
        >>> def review(msg):                                             # doctest: +SKIP
        ...     waiting.append(msg)
        ...     return Response({"state": "queued"}, code=202)
        >>> hm.add(waiting.pop(), {"state": "approved"})                 # doctest: +SKIP
        """
        if not message.origin:
            raise HotMeshError(
                "add() needs the WorkerMessage a worker callback received (it carries the "
                "stream message to answer)"
            )
        status, code, body = normalise(Response(data or {}, code=code))
        await self.engine.stepper.resume(Reply.answering(message.origin, status, code, body))

    @on_runtime
    async def sub_async(self, topic: str, callback: Callable[[str, dict], Any]) -> None:
        """Call ``callback(topic, job)`` for every message published on ``topic``."""
        await self.engine.subscriptions.subscribe(
            self.keys.topic_channel(topic), _job_callback(callback)
        )

    @on_runtime
    async def psub_async(self, pattern: str, callback: Callable[[str, dict], Any]) -> None:
        """Like :meth:`sub_async` for every topic matching ``pattern`` (``'done.*'``)."""
        await self.engine.subscriptions.psubscribe(
            self.keys.topic_channel(pattern), _job_callback(callback)
        )

    @on_runtime
    async def unsub_async(self, topic: str) -> None:
        """Stop a :meth:`sub_async` subscription."""
        await self.engine.subscriptions.unsubscribe(self.keys.topic_channel(topic))

    @on_runtime
    async def punsub_async(self, pattern: str) -> None:
        """Stop a :meth:`psub_async` subscription."""
        await self.engine.subscriptions.punsubscribe(self.keys.topic_channel(pattern))

    @on_runtime
    async def get_status_async(self, job_id: str) -> int:
        """The job's status semaphore: > 0 running, 0 done, < 0 pending or interrupted."""
        raw = await self.connection.client.hget(self.keys.job(job_id), st.STATUS)
        if raw is None:
            raise JobNotFoundError(job_id)
        return int(float(raw))

    @on_runtime
    async def get_state_async(self, job_id: str) -> dict[str, Any]:
        """The job as ``{'data': ..., 'metadata': ...}``."""
        return (await self.engine.get_state(job_id)).output()

    @on_runtime
    async def export_async(self, job_id: str) -> dict[str, Any]:
        """The job as the original's ``export`` gives it, with a timeline.

        ``dependencies`` (always ``[]``), ``process`` (each activity's stored state
        under its dimension's indexes, ``process['0']['0']['w1']`` for ``w1`` at
        ``,0,0``, and the job's ``{data, metadata}`` under ``'$<topic>'``) and
        ``status`` (the status semaphore as stored, a string) are the original's;
        ``data`` and ``metadata`` are :meth:`get_state`'s. Each ``timeline`` entry
        has ``activity``, ``type``, ``dimension``, ``start``, ``end`` (datetimes,
        None while open), ``status``, ``code``, ``data`` and ``error`` (a failed
        activity's stored error, else None).
        """
        state = await self.engine.get_state(job_id)
        process: dict[str, Any] = {}
        for aid, dims in state.activities.items():
            for dad, node in dims.items():
                branch = process
                for index in dad.split(",")[1:]:
                    branch = branch.setdefault(index, {})
                branch[aid] = node
        topic = state.metadata.get("tpc")
        process[f"${topic}"] = state.output()
        timeline = []
        for aid, dims in state.activities.items():
            for dad, node in dims.items():
                meta = node.get("output", {}).get("metadata", {})
                end = meta.get("au") if meta.get("done") else None
                timeline.append(
                    {
                        "activity": aid,
                        "type": meta.get("atp"),
                        "dimension": dad,
                        "start": parse_compact(meta.get("ac")),
                        "end": parse_compact(end) if end else None,
                        "status": meta.get("status") or ("done" if meta.get("done") else "open"),
                        "code": meta.get("code"),
                        "data": node.get("output", {}).get("data"),
                        # A failed activity's {message, code} (what the notebook views show),
                        # and the exception's type when a worker raised one.
                        "error": meta.get("err"),
                        "error_type": meta.get("ety"),
                    }
                )
        timeline.sort(key=lambda e: (e["start"] is None, e["start"], e["dimension"]))
        original = {"dependencies": [], "process": process, "status": str(state.status)}
        return {**original, **state.output(), "timeline": timeline}

    @on_runtime
    async def scrub_async(self, job_id: str) -> None:
        """Delete a job's state."""
        await self.connection.client.delete(self.keys.job(job_id))

    @on_runtime
    async def dead_letters_async(self, count: int = 100) -> list[dict[str, Any]]:
        """Messages that exceeded the delivery cap, newest first, with their error.

        Each letter has its own ``id`` (``<partition>:<entry id>``, for
        :meth:`replay_dead_letters` and :meth:`purge_dead_letters`), the ``stream`` and
        ``message_id`` it came from, the ``error`` and the decoded ``message``. Every
        partition's letters are merged.
        """
        return await dead_letters.read(self.connection.client, self.keys, count)

    @on_runtime
    async def wait_until_idle_async(
        self, timeout: float | None = None, settle: float = 0.1
    ) -> None:
        """Wait until this HotMesh's engine and workers have nothing left to do (a burst).

        Idle means: no message in hand, and none undelivered or pending on their
        streams, twice ``settle`` seconds apart (a step may queue the next message).
        Timers that fall due later (durable sleeps) do not count. For scripts and
        tests that run a batch and stop, as arq's burst mode:
        ``hm.wait_until_idle(); hotmesh_nb.shutdown()`` — or ``hotmesh-nb worker --burst``.
        Raises :class:`~hotmesh_nb.TimeoutError` after ``timeout`` seconds.
        """
        from .errors import TimeoutError as HotMeshTimeout

        consumers = self.engine.consumers()
        if not consumers:
            return
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        quiet = 0
        while quiet < 2:
            idle = all([await c.is_idle() for c in consumers])
            quiet = quiet + 1 if idle else 0
            if deadline is not None and loop.time() > deadline:
                raise HotMeshTimeout(
                    f"the mesh of app '{self.keys.app}' was still busy after {timeout} s"
                )
            await asyncio.sleep(settle)

    @on_runtime
    async def unserved_topics_async(self) -> dict[str, int]:
        """Worker topics this process sent work to that no live worker reads → messages waiting.

        Refreshed every couple of seconds while this process publishes; a topic
        past ``EngineConfig.unserved_cap`` refuses new jobs (``UnservedTopicError``).
        """
        return self.engine.backlog.unserved()

    @on_runtime
    async def replay_dead_letters_async(self, ids: list[str] | None = None) -> int:
        """Send dead letters (all, or those ``ids``) back to their streams; returns how many.

        Each message runs again as a new delivery, with a fresh delivery count, and
        its letter is removed. Use it after fixing what made the message fail. A
        letter whose job the dead letter already ended (code 999) runs again but
        cannot change that job's outcome: its activity stays settled (steps apply
        once). Start such a job anew with the same data instead.
        """
        return await dead_letters.replay(self.connection.client, self.keys, ids)

    @on_runtime
    async def purge_dead_letters_async(self, ids: list[str] | None = None) -> int:
        """Delete dead letters (all, or those ``ids``); returns how many were deleted."""
        return await dead_letters.purge(self.connection.client, self.keys, ids)

    @on_runtime
    async def stop_async(self) -> None:
        """Stop this HotMesh's engine and workers."""
        runtime = get_runtime()
        for key, service in runtime.services().items():
            if service is self.engine or service in self.workers:
                await runtime.stop_service(key)

    @on_runtime
    async def hook_async(
        self, topic: str, data: dict[str, Any], *, status: str = "success", code: int = 200
    ) -> str | None:
        """Signal the job whose hook waits on ``topic`` for the value ``data`` resolves to.

        A signal sent before its hook registered is kept and delivered when it
        does. ``status="pending"`` (with ``code=202``, as the original's) keeps the
        hook open for more signals. ``status="error"`` closes the hook without its
        data (``{$self.hook.data}`` is undefined there): ``data`` becomes the hook's
        ``output.metadata.err`` and, when no transition takes ``code``, the job's
        error. The transitions' ``code`` conditions read ``code``. Returns the
        resolved match value (None when no graph listens on ``topic``).
        """
        check_topic(topic, "hook topic")
        return await self.engine.hook(topic, data, status=status, code=code)

    @on_runtime
    async def hook_all_async(
        self,
        topic: str,
        data: dict[str, Any],
        facets: list[str] | None = None,
        key_resolver: dict[str, Any] | None = None,
    ) -> int:
        """Signal every job waiting on ``topic`` (or those indexed under ``facets``).

        ``key_resolver`` is the original's query, ``{'data': {...}, 'range': '1h',
        'end': 'NOW', 'scrub': False}``: only the jobs of the trigger ``stats.key``
        its ``data`` resolves to, indexed under ``facets`` in that window, are
        signalled (the original signals none of them, a defect; see FIDELITY.md).
        Each signal carries ``data`` plus ``id``, the job id. Returns the count.
        ``topic`` is a literal topic, not a pattern: ``'*'`` signals the hook topic ``*``.
        """
        check_topic(topic, "hook topic")
        return await self.engine.hook_all(topic, data, facets, key_resolver)

    @on_runtime
    async def get_stats_async(self, topic: str, query: dict[str, Any]) -> dict[str, Any]:
        """Job counts of a trigger's ``stats`` (the original's ``getStats``, report for
        report).

        ``query`` is ``{'data': {...}, 'range': '1h', 'end': 'NOW', 'sparse': False}``
        (exactly two of ``start``/``end``/``range``, or ``range`` alone): ``data``
        resolves the trigger's ``stats.key``. Returns ``{key, granularity, range?,
        end?, count, measures: [{target, type: 'count', value}], segments?: [{count?,
        time, measures}]}``, ``time`` as ``YYYY-MM-DDTHH:MMZ``; ``sparse=True`` leaves
        ``segments`` out. Like the original's, the report has the ``count`` measures
        only: :meth:`stats_frame` has ``sum``, ``avg`` and ``mdn`` too. See
        :mod:`hotmesh_nb.engine._trigger_stats`.
        """
        return await self.engine.get_stats(topic, query)

    @on_runtime
    async def get_ids_async(
        self, topic: str, query: dict[str, Any], facets: list[str]
    ) -> dict[str, Any]:
        """Ids of the jobs a trigger's ``index`` measures filed under ``facets``
        (the original's ``getIds``, report for report): ``{key, facets, granularity,
        range?, start?, counts: [{facet, count}], segments: [{time, measures: [{type:
        'ids', target, time, count, ids}]}]}``, a segment for every bucket and a
        measure for every facet. No ``facets`` (``[]``) means every ``count`` facet
        :meth:`get_stats` finds."""
        return await self.engine.get_ids(topic, query, facets)

    @on_runtime
    async def stats_frame_async(self, topic: str, query: dict[str, Any]) -> Any:
        """:meth:`get_stats` as a DataFrame: one row per time bucket and measure, of the
        buckets that hold jobs: their count (target ``'jobs'``), then every measure,
        ``sum``, ``avg`` (per job) and ``mdn`` too (the original's report has only the
        ``count`` ones)."""
        rows = await self.engine.measure_rows(topic, query)
        import pandas as pd

        return pd.DataFrame(
            [
                {"time": pd.Timestamp(dt_bucket(bucket)), "target": t, "type": k, "value": v}
                for bucket, t, k, v in rows
            ],
            columns=["time", "target", "type", "value"],
        )

    @on_runtime
    async def ids_frame_async(self, topic: str, query: dict[str, Any], facets: list[str]) -> Any:
        """:meth:`get_ids` as a DataFrame: one row per time bucket, facet and job id."""
        report = await self.engine.get_ids(topic, query, facets)
        import pandas as pd

        rows = [
            {
                "time": pd.Timestamp(dt_bucket(segment["time"])),
                "facet": measure["target"],
                "id": job,
            }
            for segment in report["segments"]
            for measure in segment["measures"]
            for job in measure["ids"]
        ]
        return pd.DataFrame(rows, columns=["time", "facet", "id"])

    @on_runtime
    async def interrupt_async(
        self,
        job_id: str,
        *,
        topic: str | None = None,
        reason: str | None = None,
        throw: bool = True,
        descend: bool = False,
        expire: int | None = None,
        code: int = 410,
    ) -> bool:
        """End a running job at once (``descend``: its child jobs too).

        With ``throw`` (default) the job ends with an error (``code`` 410 and
        ``reason``): ``pubsub`` callers and awaiting parents see it. Returns
        False when the job had already ended.
        """
        return await self.engine.interrupt(
            job_id,
            topic=topic,
            reason=reason,
            throw=throw,
            descend=descend,
            expire=expire,
            code=code,
        )

    @on_runtime
    async def roll_call_async(self, delay: float = 0.5) -> list[dict[str, Any]]:
        """Every engine and worker of the app, in every process, with their counters.

        Each entry has ``member``, ``role``, ``namespace``, ``app``, ``topic``,
        ``stream``, ``stream_depth``, ``host``, ``pid``, ``processed``,
        ``failed``, ``in_flight``, ``reclaimed``, ``dead_lettered`` and
        ``started`` — ready for ``pandas.DataFrame``.
        """
        return await self.engine.quorum.roll_call(delay)

    @on_runtime
    async def throttle_async(
        self, milliseconds: int, *, topic: str | None = None, member: str | None = None
    ) -> None:
        """Wait ``milliseconds`` between reads (-1 pauses, 0 resumes).

        For every engine and worker of the app, one worker ``topic`` or one
        ``member`` (a roll-call id). Throttles for all or a topic persist across
        restarts.
        """
        await self.engine.quorum.throttle(milliseconds, topic=topic, member=member)

    deploy = blocking(deploy_async)
    activate = blocking(activate_async)
    pub = blocking(pub_async)
    pubsub = blocking(pubsub_async)
    sub = blocking(sub_async)
    psub = blocking(psub_async)
    unsub = blocking(unsub_async)
    punsub = blocking(punsub_async)
    get_status = blocking(get_status_async)
    get_state = blocking(get_state_async)
    export = blocking(export_async)
    scrub = blocking(scrub_async)
    dead_letters = blocking(dead_letters_async)
    unserved_topics = blocking(unserved_topics_async)
    wait_until_idle = blocking(wait_until_idle_async)
    replay_dead_letters = blocking(replay_dead_letters_async)
    purge_dead_letters = blocking(purge_dead_letters_async)
    stop = blocking(stop_async)
    add = blocking(add_async)
    hook = blocking(hook_async)
    hook_all = blocking(hook_all_async)
    get_stats = blocking(get_stats_async)
    get_ids = blocking(get_ids_async)
    stats_frame = blocking(stats_frame_async)
    ids_frame = blocking(ids_frame_async)
    interrupt = blocking(interrupt_async)
    roll_call = blocking(roll_call_async)
    throttle = blocking(throttle_async)

    # -- notebook views (hotmesh_nb.notebook) --

    @on_runtime
    async def graph_async(
        self, app_version: str | int | None = None, *, job_id: str | None = None
    ) -> Any:
        """The app as a :class:`~hotmesh_nb.notebook.GraphView` (SVG in a notebook; a text
        DAG without Graphviz).

        ``app_version`` defaults to the active version (else the latest
        deployed). With ``job_id`` each activity is painted done / running /
        error / not reached, with its duration, on the job's version.
        """
        from .notebook import _notebook_api as api

        return await api.graph(self, app_version, job_id)

    @on_runtime
    async def jobs_async(
        self,
        status: str | Sequence[str] | None = None,
        limit: int | None = 1000,
        *,
        styled: bool = False,
    ) -> Any:
        """The app's jobs, newest first, as a ``pandas.DataFrame``.

        Columns: ``id``, ``topic``, ``status`` (running, pending, done, error,
        interrupted), ``created`` and ``updated`` (UTC datetimes), ``duration``
        (timedelta; NaT while running) and ``error``. ``status`` filters,
        ``limit`` keeps the newest rows (None: all). Lists the jobs that still
        have state (finished jobs expire after ``expire`` seconds). ``styled=True``
        returns a pandas ``Styler`` with status colours instead.
        """
        from .notebook import _notebook_api as api

        return await api.jobs(self, status, limit, styled=styled)

    @on_runtime
    async def timeline_async(self, job_id: str) -> Any:
        """A job's activity runs in start order, as a ``pandas.DataFrame``.

        Columns: ``activity``, ``type``, ``dimension``, ``status``, ``code``,
        ``start``, ``end`` (UTC), ``duration`` (timedelta) and ``data``.
        """
        from .notebook import _notebook_api as api

        return await api.timeline(self, job_id)

    @on_runtime
    async def trace_async(self, job_id: str) -> Any:
        """A job's timeline in span shape, as a Gantt-style ``pandas.DataFrame``.

        One row for the job and one per activity run, each with its ``parent``:
        ``span, parent, activity, type, dimension, start, end, duration_ms,
        status, code``. Built from the job's own recorded timings, so it works
        without OpenTelemetry; with it, the same runs are exported as spans
        (see the README's *Tracing* section).
        """
        from .telemetry import trace_frame

        return trace_frame(await self.export_async(job_id))

    @on_runtime
    async def streams_async(self) -> Any:
        """The app's engine and worker streams, as a ``pandas.DataFrame``.

        Columns: ``stream`` (``engine`` or the worker topic), ``role``,
        ``depth`` (XLEN), ``pending`` (delivered, not acknowledged),
        ``consumers``, ``live`` (consumers that read recently), ``lag`` (not yet
        delivered) and ``rate`` (entries added
        per second since the previous call in this process; NaN the first time).
        """
        from .notebook import _notebook_api as api

        return await api.streams(self)

    graph = blocking(graph_async)
    jobs = blocking(jobs_async)
    timeline = blocking(timeline_async)
    trace = blocking(trace_async)
    streams = blocking(streams_async)


def _job_callback(callback: Callable[[str, dict], Any]) -> Callable[[str, dict], Any]:
    """Adapt a raw completion payload to ``callback(topic, {'data', 'metadata'})``."""

    def deliver(channel: str, payload: dict[str, Any]) -> Any:
        meta = dict(payload.get("m") or {})
        if payload.get("err"):
            meta["err"] = payload["err"]
        # The callback gets the graph's ``publishes`` topic (as the original's
        # ``message.topic``), not the per-job channel suffix.
        topic = channel.split(":q:", 1)[-1]
        job_suffix = f".{meta.get('jid')}"
        if topic.endswith(job_suffix):
            topic = topic[: -len(job_suffix)]
        return callback(topic, {"data": payload.get("d") or {}, "metadata": meta})

    return deliver


def dt_bucket(bucket: str) -> Any:
    """A stats bucket (``YYYYMMDDHHmm``, or a report's ``YYYY-MM-DDTHH:MMZ``; UTC; ``0``
    for all time) as a datetime."""
    import datetime as dt

    if bucket == "0":
        return dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    form = "%Y-%m-%dT%H:%MZ" if "T" in bucket else "%Y%m%d%H%M"
    return dt.datetime.strptime(bucket, form).replace(tzinfo=dt.timezone.utc)
