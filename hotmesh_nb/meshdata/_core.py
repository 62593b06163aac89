"""The MeshData class: functions joined into a searchable, operational data layer.

>>> md = MeshData(search=SearchOptions('users', prefix=['user-'],      # doctest: +SKIP
...               schema={'plan': {'type': 'TAG'}}))
>>> md.connect('user', get_user)                                       # doctest: +SKIP
>>> md.exec('user', ['jsmith'], id='jsmith', ttl='15 minutes')         # doctest: +SKIP
>>> md.find_where('user', [{'field': 'plan', 'is': '=', 'value': 'pro'}])  # doctest: +SKIP

Every record is a MeshFlow workflow in the app ``meshflow`` of the namespace;
its searchable fields are ``_name`` fields of its job hash. Every method has
an ``*_async`` twin.
"""

from __future__ import annotations

import asyncio
import logging
import math
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .._codec import loads
from ..connection import Connection
from ..durations import INFINITY, Duration, to_seconds
from ..engine._config import EngineConfig
from ..errors import DuplicateJobError, HotMeshError, JobNotFoundError
from ..errors import TimeoutError as HotMeshTimeout
from ..hotmesh import HotMesh
from ..keys import DEFAULT_NAMESPACE, DEFAULT_PARTITIONS, Keys
from ..meshflow import Client, MeshFlowWorker
from ..meshflow._factory import APP_ID as MESHFLOW_APP
from ..meshflow._flow_worker import workflow_topic
from ..meshflow._handle import workflow_error
from ..meshflow._policy import RetryPolicy
from ..runtime import blocking, on_runtime, shutdown
from ..search import SearchEngine, SearchOptions, SearchResult, clauses_to_query, shared_engine
from ..search._search_query import QueryError
from . import _mesh as mesh
from . import _rawfind as rawfind
from . import _records as records
from ._entity import RESPONSE_FIELD, entity_workflow, with_call
from ._mesh import MeshCallback
from ._meshdata_workflow import MeshDataWorkflow
from ._options import field_values, index_options, marker_values
from ._options import log_level as options_log_level
from ._ready import ready_waiters
from ._record_ids import check_id, record_id
from ._results import FoundJobs

Clauses = Sequence[dict[str, Any]]
"""``find_where`` clauses: ``[{'field': 'age', 'is': '>=', 'value': 21, 'type'?: ...}]``."""

_INSTANCES: weakref.WeakSet[MeshData] = weakref.WeakSet()


def instances() -> list[MeshData]:
    """Live MeshData objects of this process (``%hotmesh search`` reuses one)."""
    return list(_INSTANCES)


def _keep(value: Duration, what: str) -> int:
    """Seconds to keep a finished record (``0``: until flushed, for ``'infinity'``)."""
    seconds = to_seconds(value)
    if seconds == math.inf:
        return 0
    if not seconds > 0:
        raise ValueError(
            f"{what} must be a positive duration ('15 minutes', 90) or 'infinity', not {value!r}"
        )
    return max(1, math.ceil(seconds))


class MeshData:
    """An operational data layer of connected functions (entities) and their records.

    ``connection``: a URL, a :class:`~hotmesh_nb.Connection` or None (the
    environment's server or the embedded one). ``search``: the default search
    index (:class:`~hotmesh_nb.SearchOptions` or a dict with ``index``,
    ``prefix`` and ``schema``). ``namespace`` isolates everything (default
    ``hmsh``, as MeshFlow); most methods take ``namespace=`` to reach another.
    """

    workflow = MeshDataWorkflow
    """Workflow-side helpers for entity functions (``MeshData.workflow.sleep_for`` …)."""
    proxy_activities = staticmethod(MeshDataWorkflow.proxy_activities)
    """Durable activities for entity functions (see ``MeshFlow.workflow.proxy_activities``)."""
    shutdown = staticmethod(shutdown)
    """Stop every engine, worker and subscription of this process (``hotmesh_nb.shutdown``)."""

    def __init__(
        self,
        connection: Connection | str | None = None,
        search: SearchOptions | dict[str, Any] | None = None,
        namespace: str | None = None,
        config: EngineConfig | None = None,
    ) -> None:
        self.connection = connection
        self.search = index_options(search)
        self.namespace = namespace or DEFAULT_NAMESPACE
        self.config = config
        self._clients: dict[str, Client] = {}
        self._entities: dict[tuple[str, str], tuple[str, SearchOptions | None]] = {}
        _INSTANCES.add(self)

    def __repr__(self) -> str:
        index = self.search.index if self.search else None
        entities = sorted({e for _, e in self._entities}) or "none"
        return f"MeshData(namespace={self.namespace!r}, index={index!r}, entities={entities})"

    # -- plumbing ------------------------------------------------------------------

    def _ns(self, namespace: str | None) -> str:
        return namespace or self.namespace

    def client(self, namespace: str | None = None) -> Client:
        """The MeshFlow client of ``namespace`` (records are its workflows)."""
        ns = self._ns(namespace)
        client = self._clients.get(ns)
        if client is None:
            client = self._clients[ns] = Client(self.connection, ns, self.config)
        return client

    @on_runtime
    async def hotmesh_async(self, namespace: str | None = None) -> HotMesh:
        """The HotMesh of the MeshFlow app of ``namespace`` (graphs, jobs, dashboards)."""
        return await self.client(namespace).hotmesh_async()

    async def _engine(self, namespace: str | None) -> tuple[HotMesh, SearchEngine]:
        hm = await self.hotmesh_async(namespace)
        return hm, shared_engine(hm.connection.client, hm.keys)

    def _task_queue(self, entity: str, namespace: str | None) -> str:
        known = self._entities.get((self._ns(namespace), entity))
        return known[0] if known else entity

    async def _options(
        self, engine: SearchEngine, entity: str, index: str | None, namespace: str | None
    ) -> SearchOptions:
        """The index to search for ``entity``: named, the entity's, the default, or the
        stored index covering ``<entity>-`` records."""
        if index is not None:
            for options in (self.search, *(s for _, s in self._entities.values())):
                if options is not None and options.index == index:
                    return options
            return await engine.index(index)
        known = self._entities.get((self._ns(namespace), entity))
        if known and known[1] is not None:
            return known[1]
        if self.search is not None:
            return self.search
        for options in await engine.fallback.definitions():
            if options.covers(f"{entity}-"):
                return options
        raise HotMeshError(
            f"no search index covers entity '{entity}' in namespace '{self._ns(namespace)}': "
            "pass search=SearchOptions(...) to MeshData or connect(), or call "
            "create_search_index()"
        )

    # -- entities --------------------------------------------------------------------

    @on_runtime
    async def connect_async(
        self,
        entity: str,
        target: Callable[..., Any],
        *,
        task_queue: str | None = None,
        namespace: str | None = None,
        search: SearchOptions | dict[str, Any] | None = None,
        log_level: str | int | None = None,
        guid: str | None = None,
    ) -> MeshFlowWorker:
        """Serve ``target`` as ``entity`` from this process (any function; async or not).

        Records of the entity are MeshFlow workflows on ``task_queue`` (default:
        the entity name). ``search`` (default: the MeshData's) is the entity's
        index; it is created when missing. Re-running it (a notebook cell)
        switches the entity to the new function.

        ``log_level`` (the original's ``logLevel``: ``'debug'``, ``'info'``,
        ``'warn'``, ``'error'``, ``'silent'``, or a :mod:`logging` level) sets
        the level of the ``hotmesh_nb`` logger, which every engine and worker of
        this process logs to (Python loggers are per process, not per worker).

        ``guid`` names this process's worker of the entity on the mesh — its
        roll-call ``member``, what ``throttle(member=...)`` targets, its stream
        consumer — and ``<guid>XA`` its activity worker, as the original names
        its two runners (default: random ids). Give each process its own.
        Re-running ``connect`` with another ``guid`` restarts the worker under it.
        """
        if guid is not None and (not isinstance(guid, str) or not guid or guid != guid.strip()):
            raise ValueError(f"guid must be a non-empty string without edge spaces, not {guid!r}")
        if log_level is not None:
            logging.getLogger("hotmesh_nb").setLevel(options_log_level(log_level))
        ns = self._ns(namespace)
        options = index_options(search) or self.search
        queue = task_queue or entity
        worker = await MeshFlowWorker.create_async(
            task_queue=queue,
            workflow={entity: entity_workflow(entity, target)},
            connection=self.connection,
            namespace=ns,
            config=self.config,
            guid=guid,
        )
        self._entities[(ns, entity)] = (queue, index_options(search))
        if options is not None:
            _, engine = await self._engine(ns)
            await engine.create_index(options)
        return worker

    @on_runtime
    async def exec_async(
        self,
        entity: str,
        args: list[Any] | tuple[Any, ...] = (),
        *,
        id: str | None = None,
        ttl: Duration | None = None,
        expire: Duration | None = None,
        await_: bool = True,
        search: dict[str, Any] | None = None,
        marker: dict[str, Any] | None = None,
        signal_in: bool | None = None,
        prefix: str | None = None,
        workflow_id: str | None = None,
        task_queue: str | None = None,
        namespace: str | None = None,
        config: RetryPolicy | dict[str, Any] | None = None,
        pending: Duration | None = None,
        timeout: float | None = None,
        workflow_trace: str | None = None,
        workflow_span: str | None = None,
    ) -> Any:
        """Call ``entity(*args)`` somewhere on the mesh and return its result.

        With ``id`` the record is ``<entity>-<id>`` (``prefix`` replaces the
        entity there) and is reused: while it exists, ``exec`` returns its
        result (waiting if it still runs) instead of running the function
        again. ``ttl`` (``'15 minutes'``, seconds …) keeps the finished record
        that long — a cache. ``ttl='infinity'`` keeps the record alive as a
        durable workflow (hookable, signalable) until :meth:`flush`; ``exec``
        returns as soon as the function's result is recorded. Without ``ttl``,
        ``expire`` keeps the finished record that long (``'infinity'``: until
        flushed; default: the engine's ``default_expire``, one hour); a
        ``ttl`` wins over ``expire``, as in the original.

        ``search`` seeds searchable fields — ``{'name': 'cat'}`` or the
        original's ``{'data': {'name': 'cat'}}``; values must be text, numbers
        or booleans. ``marker`` seeds literal ``-name`` fields (``{'-stage':
        'new'}``; :meth:`raw` shows them). ``signal_in=False`` closes the record
        to :meth:`hook` threads (with ``ttl='infinity'`` the record then simply
        stays, finished, until flushed); ``True`` or None leave it open while it
        exists. ``workflow_id`` names the record outright: as in the original it
        must be new (:class:`~hotmesh_nb.DuplicateJobError`, ``Duplicate job:
        <id>``, while its record exists) — use ``id`` for a cached call.
        ``await_=False`` returns the record id at once. ``config`` is the
        function's :class:`~hotmesh_nb.meshflow.RetryPolicy` (default: no retry).
        ``workflow_trace`` and ``workflow_span`` (W3C trace and span ids in hex,
        the original's ``workflowTrace``/``workflowSpan``) make the record's
        workflow continue that span: they are kept in its metadata and its
        OpenTelemetry spans are children of that span.
        """
        ns = self._ns(namespace)
        seed = field_values(search, "exec's search")
        markers = marker_values(marker)
        if signal_in is not None and not isinstance(signal_in, bool):
            raise TypeError(f"signal_in must be True, False or None, not {signal_in!r}")
        hm = await self.hotmesh_async(ns)
        cached = record_id(prefix or entity, id) if id is not None else None
        record = check_id(workflow_id, "workflow_id") if workflow_id is not None else None
        record = record or cached or record_id(prefix or entity)
        forever = ttl is not None and to_seconds(ttl) == math.inf
        hold = forever and signal_in is not False
        keep = _keep(ttl, "ttl") if ttl is not None else None
        if keep is None and expire is not None:
            keep = _keep(expire, "expire")
        if cached is not None:
            try:
                await hm.get_status_async(cached)
            except JobNotFoundError:
                pass
            else:
                return await self._result(hm, ns, cached, timeout) if await_ else cached
        try:
            await self.client(ns).workflow.start_async(
                args=with_call(args, "exec", ttl=INFINITY if hold else None, id=record),
                task_queue=task_queue or self._task_queue(entity, ns),
                workflow_name=entity,
                workflow_id=record,
                search=seed,
                marker=markers,
                expire=None if hold else keep,
                signal_in=signal_in,
                pending=pending,
                config=config,
                workflow_trace=workflow_trace,
                workflow_span=workflow_span,
            )
        except DuplicateJobError:
            if record != cached:
                raise
            # Another caller started this cached record a moment ago: share its result.
        if not await_:
            return record
        return await self._result(hm, ns, record, timeout)

    async def _result(self, hm: HotMesh, ns: str, record: str, timeout: float | None) -> Any:
        """The record's result: recorded (held records), or when its workflow ends."""
        # Plain futures only (no task to cancel): cancelling a task in the middle of a
        # Redis command can leave it waiting on its connection.
        finished = hm.engine.subscriptions.wait(record)
        waiters = ready_waiters(hm)
        ready = await waiters.future(record)
        key = hm.keys.job(record)
        try:
            held = await hm.connection.client.hget(key, RESPONSE_FIELD)
            if held is not None:
                return loads(held)
            status = await hm.get_status_async(record)
            if status == 0 or status < -1:  # ended (or interrupted) already
                return await self.client(ns).workflow.get_handle(record).result_async()
            futures: set[asyncio.Future[Any]] = {finished, ready}
            done, _ = await asyncio.wait(
                futures, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
            )
            if finished in done:
                payload = finished.result()
                data = payload.get("d") or {}
                if payload.get("err"):
                    raise workflow_error(record, payload["err"], data)
                return data.get("response")
            if ready in done:
                held = await hm.connection.client.hget(key, RESPONSE_FIELD)
                if held is not None:
                    return loads(held)
            raise HotMeshTimeout(
                f"record '{record}' has no result within {timeout} s; it keeps running "
                f"(is an entity worker connected?)"
            )
        finally:
            waiters.forget(record, ready)
            hm.engine.subscriptions.forget(record, finished)
            for future in (finished, ready):
                if not future.done():
                    future.cancel()

    @on_runtime
    async def hook_async(
        self,
        entity: str,
        id: str,
        hook_entity: str,
        hook_args: list[Any] | tuple[Any, ...] = (),
        *,
        search: dict[str, Any] | None = None,
        prefix: str | None = None,
        task_queue: str | None = None,
        namespace: str | None = None,
        hook_id: str | None = None,
        workflow_id: str | None = None,
        config: RetryPolicy | dict[str, Any] | None = None,
    ) -> str:
        """Run the connected ``hook_entity(*hook_args)`` as a thread of record
        ``<entity>-<id>``; its ``search()`` reads and writes that record's fields.
        Returns the hook thread's id.

        ``search`` also sets searchable fields of the record once the hook is
        started — ``{'name': 'cat'}`` or the original's ``{'data': {...}}``, as
        :meth:`exec` takes it (search indexes follow). Nothing is written when
        the hook is refused (no such record, or one started with
        ``signal_in=False``). ``workflow_id`` joins that record instead of
        ``<entity>-<id>`` (the original's ``workflowId`` option). ``config`` is
        the hook function's :class:`~hotmesh_nb.meshflow.RetryPolicy` (the
        original's ``config``: ``maximumAttempts``, ``backoffCoefficient``,
        ``maximumInterval``; default: no retry).
        """
        ns = self._ns(namespace)
        values = field_values(search, "hook's search")
        if workflow_id is not None:
            record = check_id(workflow_id, "workflow_id")
        else:
            record = record_id(prefix or entity, id)
        thread = await self.client(ns).workflow.hook_async(
            workflow_id=record,
            workflow_name=hook_entity,
            task_queue=task_queue or self._task_queue(hook_entity, ns),
            args=with_call(hook_args, "hook"),
            hook_id=hook_id,
            config=config,
        )
        if values:
            hm, engine = await self._engine(ns)
            await records.set_fields(hm, engine, record, values)
        return thread

    @on_runtime
    async def signal_async(
        self, signal_id: str, data: Any = None, *, namespace: str | None = None
    ) -> None:
        """Resolve ``MeshData.workflow.wait_for(signal_id)`` in whichever record waits."""
        await self.client(namespace).workflow.signal_async(signal_id, data)

    # -- record fields ------------------------------------------------------------------

    @on_runtime
    async def get_async(
        self,
        entity: str,
        id: str,
        fields: Sequence[str] | None = None,
        *,
        prefix: str | None = None,
        namespace: str | None = None,
    ) -> dict[str, str | None]:
        """Searchable fields of a record (``fields``, else the schema's, else all)."""
        hm = await self.hotmesh_async(namespace)
        record = record_id(prefix or entity, id)
        if fields is None:
            known = self._entities.get((self._ns(namespace), entity))
            options = (known[1] if known else None) or self.search
            if options is None:
                found: dict[str, str | None] = dict(await records.all_fields(hm, record))
                return found
            fields = list(options.schema)
        return await records.get_fields(hm, record, list(fields))

    @on_runtime
    async def all_async(
        self, entity: str, id: str, *, prefix: str | None = None, namespace: str | None = None
    ) -> dict[str, str]:
        """Every searchable field of a record (names without the ``_``)."""
        hm = await self.hotmesh_async(namespace)
        return await records.all_fields(hm, record_id(prefix or entity, id))

    @on_runtime
    async def raw_async(
        self, entity: str, id: str, *, prefix: str | None = None, namespace: str | None = None
    ) -> dict[str, str]:
        """The record's whole job hash, as stored (engine fields included)."""
        hm = await self.hotmesh_async(namespace)
        return await records.raw(hm, record_id(prefix or entity, id))

    @on_runtime
    async def set_async(
        self,
        entity: str,
        id: str,
        fields: dict[str, Any] | None = None,
        *,
        prefix: str | None = None,
        namespace: str | None = None,
        **more: Any,
    ) -> int:
        """Set searchable fields (``fields`` and keyword arguments); returns how many were
        new. Search indexes follow.

        ``fields`` is ``{'name': 'cat'}``, or in the original's shapes ``{'data':
        {...}}`` or ``{'search': {'data': {...}}}``; values must be text, numbers or
        booleans.
        """
        values = {
            **(field_values(fields, "set's fields", nested=True) or {}),
            **(field_values(more, "set's keyword fields") or {}),
        }
        hm, engine = await self._engine(namespace)
        return await records.set_fields(hm, engine, record_id(prefix or entity, id), values)

    @on_runtime
    async def incr_async(
        self,
        entity: str,
        id: str,
        field: str,
        amount: float = 1,
        *,
        prefix: str | None = None,
        namespace: str | None = None,
    ) -> float:
        """Add ``amount`` to a numeric field (atomically); returns the new value."""
        hm, engine = await self._engine(namespace)
        return await records.incr_field(hm, engine, record_id(prefix or entity, id), field, amount)

    @on_runtime
    async def delete_async(
        self,
        entity: str,
        id: str,
        *fields: str,
        prefix: str | None = None,
        namespace: str | None = None,
    ) -> int:
        """Delete searchable fields; returns how many existed."""
        hm, engine = await self._engine(namespace)
        return await records.delete_fields(hm, engine, record_id(prefix or entity, id), fields)

    # -- record lifecycle ------------------------------------------------------------------

    @on_runtime
    async def info_async(
        self, entity: str, id: str, *, prefix: str | None = None, namespace: str | None = None
    ) -> dict[str, Any]:
        """The record's job state (``data``, ``metadata``, …); raises
        :class:`~hotmesh_nb.JobNotFoundError` when it does not exist."""
        hm = await self.hotmesh_async(namespace)
        return await hm.get_state_async(record_id(prefix or entity, id))

    @on_runtime
    async def export_async(
        self, entity: str, id: str, *, prefix: str | None = None, namespace: str | None = None
    ) -> dict[str, Any]:
        """The record's workflow with a timeline of its durable calls."""
        handle = self.client(namespace).workflow.get_handle(record_id(prefix or entity, id))
        return await handle.export_async()

    @on_runtime
    async def flush_async(
        self, entity: str, id: str, *, prefix: str | None = None, namespace: str | None = None
    ) -> bool:
        """Remove a record now: out of the search indexes, its workflow (and children)
        interrupted quietly, its data deleted. False when there was no such record."""
        hm, engine = await self._engine(namespace)
        return await records.flush(hm, engine, record_id(prefix or entity, id))

    @on_runtime
    async def interrupt_async(
        self,
        entity: str,
        id: str,
        *,
        reason: str | None = None,
        throw: bool = True,
        descend: bool = False,
        prefix: str | None = None,
        namespace: str | None = None,
    ) -> bool:
        """Stop a running record (errors are swallowed: False when it was not running)."""
        hm = await self.hotmesh_async(namespace)
        try:
            return await hm.interrupt_async(
                record_id(prefix or entity, id), reason=reason, throw=throw, descend=descend
            )
        except HotMeshError:
            return False

    # -- finding records ---------------------------------------------------------------------

    @on_runtime
    async def find_jobs_async(
        self,
        match: str = "*",
        *,
        limit: int = 1000,
        batch: int = 100,
        cursor: int = 0,
        namespace: str | None = None,
        as_frame: bool = False,
    ) -> Any:
        """Records whose id matches the glob ``match`` (``'user-*'``), with their searchable
        fields: a :class:`FoundJobs` (``.to_frame()``; ``.cursor`` continues the scan)."""
        hm = await self.hotmesh_async(namespace)
        found = await records.scan(hm, match, limit=limit, batch=batch, cursor=cursor)
        found.options = self.search
        return found.to_frame() if as_frame else found

    @on_runtime
    async def find_async(
        self,
        entity: str,
        query: str | Mapping[str, Any] = "*",
        *args: Any,
        index: str | None = None,
        return_fields: list[str] | None = None,
        offset: int = 0,
        limit: int = 10,
        sort_by: str | None = None,
        ascending: bool = True,
        namespace: str | None = None,
        as_frame: bool = False,
    ) -> Any:
        """Run a search query (RediSearch syntax; the fallback reads the subset documented
        in :mod:`hotmesh_nb.search._search_query`) on the entity's index.

        Also the original's raw form: ``find(entity, {'index': ...}, query,
        *ft_search_args)`` or ``find(entity, query, *ft_search_args)`` — e.g.
        ``find('animal', {}, '@_legs:[4 +inf]', 'RETURN', 1, '_name', 'LIMIT', 0,
        5)`` — answers as ``FT.SEARCH`` does, ``[count, key, [field, value, ...],
        ...]``, on the native index and the fallback alike. It takes ``RETURN``,
        ``LIMIT``, ``SORTBY`` and ``NOCONTENT`` (see
        :mod:`hotmesh_nb.meshdata._rawfind`); anything else is refused with
        :class:`~hotmesh_nb.QueryError`.
        """
        if isinstance(query, Mapping) or args:
            return await self._find_raw(entity, query, list(args), index, namespace)
        _, engine = await self._engine(namespace)
        options = await self._options(engine, entity, index, namespace)
        fields = list(options.schema) if return_fields is None else return_fields
        result = await engine.search(
            options.index,
            query,
            return_fields=fields,
            offset=offset,
            limit=limit,
            sort_by=sort_by,
            ascending=ascending,
        )
        result.options = options
        return result.to_frame() if as_frame else result

    async def _find_raw(
        self,
        entity: str,
        head: str | Mapping[str, Any],
        args: list[Any],
        index: str | None,
        namespace: str | None,
    ) -> list[Any]:
        """The raw form of :meth:`find` (the original's ``find(entity, options, ...args)``)."""
        if isinstance(head, Mapping):
            named, ns_named = rawfind.options_of(head)
            index = index or named
            namespace = namespace or ns_named
        else:
            args = [head, *args]
        call = rawfind.parse(args, index)
        hm, engine = await self._engine(namespace)
        if call.list_indexes:
            return await engine.list_indexes()
        options = await self._options(engine, entity, call.index, namespace)
        sort_by = None
        if call.sort_by is not None:
            sort_by, _ = rawfind.field_of(call.sort_by, options, "SORTBY")
            if sort_by not in options.schema:
                raise QueryError(
                    f"SORTBY {call.sort_by!r}: sort by a field of index '{options.index}'s "
                    f"schema ({', '.join(options.schema) or 'none'})"
                )
        returns = None
        if call.returns is not None:
            returns = [rawfind.field_of(n, options, "RETURN")[1] for n in call.returns]
        found = await engine.search(
            options.index,
            call.query,
            return_fields=[],
            offset=call.offset,
            limit=call.limit,
            sort_by=sort_by,
            ascending=call.ascending,
        )
        keys = [hm.keys.job(record) for record, _ in found.records]
        reply: list[Any] = [found.count]
        if call.no_content or returns == []:  # RETURN 0 answers as NOCONTENT does
            return reply + keys
        client = hm.connection.client
        pipe = client.pipeline(transaction=False)
        for key in keys:
            if returns is None:
                pipe.hgetall(key)
            else:
                pipe.hmget(key, returns)
        values = await pipe.execute() if keys else []
        for key, got in zip(keys, values):
            if returns is None:
                pairs = [item for name in sorted(got) for item in (name, got[name])]
            else:  # as FT.SEARCH: a field the hash lacks is left out
                pairs = [x for n, v in zip(returns, got) if v is not None for x in (n, v)]
            reply += [key, pairs]
        return reply

    @on_runtime
    async def find_where_async(
        self,
        entity: str,
        query: Clauses | str = (),
        *,
        index: str | None = None,
        return_fields: list[str] | None = None,
        offset: int = 0,
        limit: int = 10,
        count: bool = False,
        sort_by: str | None = None,
        ascending: bool = True,
        namespace: str | None = None,
        as_frame: bool = False,
    ) -> Any:
        """Records matching every clause ``{'field', 'is', 'value', 'type'?}``.

        ``is``: ``=``/``==`` (TAG, TEXT or NUMERIC), ``<``/``<=``/``>``/``>=``
        (NUMERIC; bounds are inclusive, as in the original) and ``[]`` with
        ``value=(low, high)``. The type comes from the index schema (else the
        clause's ``type``, else TEXT). A string ``query`` is used as is.
        Returns a :class:`~hotmesh_nb.search.SearchResult` (``count``,
        ``records``, ``query``; ``.to_frame()``), a DataFrame with
        ``as_frame=True``, or just the number of matches with ``count=True``.
        """
        _, engine = await self._engine(namespace)
        options = await self._options(engine, entity, index, namespace)
        text = query if isinstance(query, str) else clauses_to_query(list(query), options)
        if count:
            result = await engine.search(options.index, text, return_fields=[], limit=0)
            return result.count
        return await self.find_async(
            entity,
            text or "*",
            index=options.index,
            return_fields=return_fields,
            offset=offset,
            limit=limit,
            sort_by=sort_by,
            ascending=ascending,
            namespace=namespace,
            as_frame=as_frame,
        )

    @on_runtime
    async def create_search_index_async(
        self,
        entity: str | None = None,
        search: SearchOptions | dict[str, Any] | None = None,
        *,
        namespace: str | None = None,
    ) -> bool:
        """Create an index (``search``, else the entity's, else the default); records
        that exist are indexed. False when it existed."""
        _, engine = await self._engine(namespace)
        options = index_options(search)
        if options is None and entity is not None:
            known = self._entities.get((self._ns(namespace), entity))
            options = known[1] if known else None
        options = options or self.search
        if options is None:
            raise HotMeshError("create_search_index needs search=SearchOptions(...)")
        return await engine.create_index(options)

    @on_runtime
    async def list_search_indexes_async(self, *, namespace: str | None = None) -> list[str]:
        """The namespace's search index names."""
        _, engine = await self._engine(namespace)
        return await engine.list_indexes()

    # -- the mesh ------------------------------------------------------------------------

    @on_runtime
    async def roll_call_async(
        self, delay: float = 0.5, *, namespace: str | None = None
    ) -> list[dict[str, Any]]:
        """Every engine and worker of the namespace's MeshFlow app, in every process."""
        hm = await self.hotmesh_async(namespace)
        return await hm.roll_call_async(delay)

    @on_runtime
    async def throttle_async(
        self,
        milliseconds: int,
        *,
        entity: str | None = None,
        topic: str | None = None,
        member: str | None = None,
        namespace: str | None = None,
    ) -> None:
        """Wait ``milliseconds`` between reads (-1 pauses, 0 resumes): everywhere, for one
        ``entity``'s workers, a worker ``topic`` or one roll-call ``member``."""
        hm = await self.hotmesh_async(namespace)
        if entity is not None:
            topic = workflow_topic(self._task_queue(entity, namespace), entity)
        await hm.throttle_async(milliseconds, topic=topic, member=member)

    @on_runtime
    async def sub_async(self, callback: MeshCallback, *, namespace: str | None = None) -> None:
        """Call ``callback(channel, message)`` for every message of the namespace's mesh.

        The mesh is the quorum channel every engine and worker of the
        namespace's MeshFlow app listens to: roll calls (``ping``/``pong``),
        throttles, activations and what :meth:`pub` sends. Messages naming a
        worker topic carry ``entity`` (``'user'`` for ``'user-user'``); roll-call
        answers list members, each with its ``entity``. Plain functions run in
        a thread, ``async def`` on the runtime loop. Subscribing the same
        callback twice changes nothing.
        """
        hm = await self.hotmesh_async(namespace)
        await mesh.subscribe(hm, callback)

    @on_runtime
    async def pub_async(self, message: dict[str, Any], *, namespace: str | None = None) -> int:
        """Send ``message`` (a dict, e.g. ``{'type': 'user', 'topic': 'user-user', ...}``) to
        every engine, worker and :meth:`sub` subscriber of the namespace; returns how many
        connections received it.

        Engines act on the message types they know (``{'type': 'throttle',
        'throttle': 100, 'topic': ...}`` throttles, as :meth:`throttle` does)
        and ignore the others.
        """
        hm = await self.hotmesh_async(namespace)
        return await mesh.publish(hm, message)

    @on_runtime
    async def unsub_async(self, callback: MeshCallback, *, namespace: str | None = None) -> bool:
        """Stop calling ``callback``; False when it was not subscribed (in that namespace)."""
        hm = await self.hotmesh_async(namespace)
        return await mesh.unsubscribe(hm, callback)

    @staticmethod
    def mint_guid(entity: str, id: str | None = None) -> str:
        """The record id of ``entity``'s record ``id``: ``<entity>-<id>``, or ``<entity>``
        followed by a random guid (no dash) when ``id`` is None (the original's
        ``mintGuid``). Raises ``ValueError`` for ids holding ``:``, ``$`` or spaces."""
        return record_id(entity, id)

    def mint_key(self, entity: str, workflow_id: str, namespace: str | None = None) -> str:
        """The Redis key of the job hash of record ``workflow_id`` (the original's ``mintKey``).

        As in the original, ``workflow_id`` is the whole record id (see
        :meth:`mint_guid`) and ``entity`` does not change the key; it is taken
        so calls written for the original read the same. No I/O.
        """
        check_id(entity, "entity")
        return _meshflow_keys(self._ns(namespace)).job(check_id(workflow_id))

    @on_runtime
    async def generate_search_query_async(
        self,
        entity: str,
        query: Clauses | str = (),
        *,
        index: str | None = None,
        namespace: str | None = None,
    ) -> str:
        """The search query :meth:`find_where` runs for ``query`` (the original's
        ``generateSearchQuery``): ``'@_legs:[4 +inf] @_name:{cat}'``, ``'*'`` when empty."""
        _, engine = await self._engine(namespace)
        options = await self._options(engine, entity, index, namespace)
        text = query if isinstance(query, str) else clauses_to_query(list(query), options)
        return text or "*"

    connect = blocking(connect_async)
    hotmesh = blocking(hotmesh_async)
    get_hotmesh = hotmesh
    """The original's name (``getHotMesh``) for :meth:`hotmesh`."""
    get_hotmesh_async = hotmesh_async
    get_client = client
    """The original's name (``getClient``) for :meth:`client`."""
    exec = blocking(exec_async)
    hook = blocking(hook_async)
    signal = blocking(signal_async)
    get = blocking(get_async)
    all = blocking(all_async)
    raw = blocking(raw_async)
    set = blocking(set_async)
    incr = blocking(incr_async)
    delete = blocking(delete_async)
    info = blocking(info_async)
    export = blocking(export_async)
    flush = blocking(flush_async)
    interrupt = blocking(interrupt_async)
    find_jobs = blocking(find_jobs_async)
    find = blocking(find_async)
    find_where = blocking(find_where_async)
    create_search_index = blocking(create_search_index_async)
    list_search_indexes = blocking(list_search_indexes_async)
    roll_call = blocking(roll_call_async)
    throttle = blocking(throttle_async)
    sub = blocking(sub_async)
    pub = blocking(pub_async)
    unsub = blocking(unsub_async)
    generate_search_query = blocking(generate_search_query_async)


__all__ = ["Clauses", "FoundJobs", "MeshData", "SearchResult", "instances"]


def _meshflow_keys(namespace: str) -> Keys:
    """The MeshFlow app's keys in ``namespace``: those of its running engine in this
    process (which read its partitions from the server), else those of a MeshFlow app
    deployed with the default number of partitions (what MeshFlow deploys)."""
    from ..runtime import get_runtime

    for key, service in get_runtime().services().items():
        if (
            isinstance(key, tuple)
            and key[0] in ("engine", "client")
            and key[2:4] == (namespace, MESHFLOW_APP)
            and service.keys.known
        ):
            keys: Keys = service.keys
            return keys
    return Keys(namespace, MESHFLOW_APP, DEFAULT_PARTITIONS)
