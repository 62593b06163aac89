"""The MeshFlow client: start workflows and reach running ones."""

from __future__ import annotations

from typing import Any

from .. import telemetry
from .._codec import check_value
from .._ids import fast_guid
from .._replies import text_map, texts_or_none
from ..connection import Connection
from ..durations import Duration, to_seconds
from ..engine._config import EngineConfig
from ..errors import HotMeshError
from ..hotmesh import HotMesh
from ..runtime import blocking, get_runtime, on_runtime
from ..search import shared_engine
from ._factory import EXECUTE, WAIT_SIGNAL
from ._flow_worker import workflow_topic
from ._handle import WorkflowHandle
from ._policy import RetryPolicy
from ._services import open_app


class Client:
    """Start and reach workflows: ``MeshFlow.Client(connection=None, namespace=...)``.

    The first use connects (``connection``: a URL, a
    :class:`~hotmesh_nb.Connection` or None for the default server) and deploys
    the MeshFlow app in ``namespace`` when missing. Workflow methods live on
    ``client.workflow`` (as in Temporal's SDK).
    """

    def __init__(
        self,
        connection: Connection | str | None = None,
        namespace: str | None = None,
        config: EngineConfig | None = None,
    ) -> None:
        self.connection = connection
        self.namespace = namespace
        self.config = config
        self.workflow = WorkflowClient(self)
        self._hm: HotMesh | None = None

    def __repr__(self) -> str:
        return f"MeshFlow.Client(namespace={self.namespace or 'hmsh'!r})"

    @on_runtime
    async def hotmesh_async(self) -> HotMesh:
        """The HotMesh of the MeshFlow app (``hm.jobs()`` lists workflows)."""
        if self._hm is None or self._hm.engine.consumer is None or self._stopped():
            self._hm = await open_app(self.connection, self.namespace, [], self.config)
        return self._hm

    def _stopped(self) -> bool:
        assert self._hm is not None
        runtime = get_runtime()
        return self._hm.engine not in runtime.services().values()

    hotmesh = blocking(hotmesh_async)


SIGNAL_IN = "-signal-in-"
"""Job field recording ``signal_in=False`` (no hook threads may join the workflow)."""


class WorkflowClient:
    """``client.workflow``: start, find, signal and hook workflows."""

    def __init__(self, client: Client) -> None:
        self.client = client

    @on_runtime
    async def start_async(
        self,
        *,
        args: list[Any] | tuple[Any, ...] = (),
        task_queue: str,
        workflow_name: str,
        workflow_id: str | None = None,
        search: dict[str, Any] | None = None,
        expire: Duration | None = None,
        signal_in: bool | None = None,
        pending: Duration | None = None,
        config: RetryPolicy | dict[str, Any] | None = None,
        marker: dict[str, Any] | None = None,
        workflow_trace: str | None = None,
        workflow_span: str | None = None,
    ) -> WorkflowHandle:
        """Start ``workflow_name`` on ``task_queue`` with ``args``; returns its handle.

        ``workflow_id`` (default: a random id) must be new:
        :class:`~hotmesh_nb.DuplicateJobError` otherwise. ``search`` seeds
        searchable fields; ``expire`` keeps the finished workflow that long
        (default: the engine's ``default_expire``, one hour); ``pending``
        creates it unstarted for that long; ``config`` is the workflow
        function's :class:`RetryPolicy` (default: no retry). ``signal_in=False``
        closes the workflow to hook threads; otherwise hooks may join it while its
        job exists — running, or finished and kept for ``expire`` (the original's
        ``signalIn: true``). ``marker`` seeds literal ``-name`` fields (the
        original's ``marker``). ``workflow_trace`` and ``workflow_span`` (the
        original's ``workflowTrace``/``workflowSpan``: W3C trace and span ids, in
        hex) make the workflow continue that span: they are kept in the
        workflow's metadata, and its OpenTelemetry spans are children of it.
        """
        hm = await self.client.hotmesh_async()
        check_value(list(args), "args", hm.config.max_payload)
        data: dict[str, Any] = {
            "topic": workflow_topic(task_queue, workflow_name),
            "name": workflow_name,
            "taskQueue": task_queue,
            "args": list(args),
        }
        # The id is known before the job exists, so the handle listens for the end first
        # and its result() needs no status read (see WorkflowHandle.result_async).
        data["workflowId"] = str(workflow_id) if workflow_id is not None else fast_guid()
        policy = RetryPolicy.coerce(config)
        if policy is not None:
            data["policy"] = policy.to_dict()
        if expire is not None:
            data["expire"] = int(to_seconds(expire))
        seconds = None if pending is None else to_seconds(pending)
        markers = {**(marker or {}), **({SIGNAL_IN: False} if signal_in is False else {})}
        carrier = telemetry.parent_carrier(workflow_trace, workflow_span)
        subscriptions = hm.engine.subscriptions
        ending = subscriptions.wait(data["workflowId"])
        try:
            job_id = await hm.engine.pub(
                EXECUTE,
                data,
                search=search,
                pending=seconds,
                markers=markers or None,
                context={telemetry.METADATA_KEY: carrier} if carrier else None,
            )
        except BaseException:
            subscriptions.forget(data["workflowId"], ending)
            raise
        if search:
            # The seeded fields were written with the job: index them where a fallback
            # search index covers the workflow id.
            await shared_engine(hm.connection.client, hm.keys).reindex(job_id)
        return WorkflowHandle(
            self.client, job_id, task_queue, workflow_name, ending=(subscriptions, ending)
        )

    def get_handle(
        self,
        workflow_id: str,
        task_queue: str | None = None,
        workflow_name: str | None = None,
    ) -> WorkflowHandle:
        """A handle on an existing workflow (no I/O)."""
        return WorkflowHandle(self.client, workflow_id, task_queue, workflow_name)

    @on_runtime
    async def signal_async(self, signal_id: str, data: Any = None) -> None:
        """Resolve ``wait_for(signal_id)`` in whichever workflow waits (or will wait) for it."""
        hm = await self.client.hotmesh_async()
        check_value(data, "data", hm.config.max_payload, where=f"signal '{signal_id}'")
        await hm.engine.hook(WAIT_SIGNAL, {"id": str(signal_id), "data": data})

    @on_runtime
    async def hook_async(
        self,
        *,
        workflow_id: str,
        workflow_name: str,
        task_queue: str,
        args: list[Any] | tuple[Any, ...] = (),
        hook_id: str | None = None,
        config: RetryPolicy | dict[str, Any] | None = None,
    ) -> str:
        """Run ``workflow_name(*args)`` as a hook thread of workflow ``workflow_id``.

        The thread is a workflow job of its own whose ``search()`` works on the
        target workflow's fields. ``config`` is the hook function's
        :class:`RetryPolicy`, as ``start``'s (default: no retry). Returns the
        thread's id.
        """
        hm = await self.client.hotmesh_async()
        await hm.get_status_async(workflow_id)  # JobNotFoundError when there is no such workflow
        if await hm.connection.client.hget(hm.keys.job(workflow_id), SIGNAL_IN) == "false":
            raise HotMeshError(
                f"workflow '{workflow_id}' was started with signal_in=False: it takes no hooks"
            )
        check_value(list(args), "args", hm.config.max_payload)
        data: dict[str, Any] = {
            "topic": workflow_topic(task_queue, workflow_name),
            "name": workflow_name,
            "taskQueue": task_queue,
            "args": list(args),
            "target": workflow_id,
        }
        if hook_id is not None:
            data["workflowId"] = hook_id
        policy = RetryPolicy.coerce(config)
        if policy is not None:
            data["policy"] = policy.to_dict()
        return await hm.engine.pub(EXECUTE, data)

    @on_runtime
    async def search_async(self, workflow_id: str, *fields: str) -> dict[str, str | None]:
        """A workflow's searchable fields (all, or the ``fields`` named)."""
        hm = await self.client.hotmesh_async()
        key = hm.keys.job(workflow_id)
        if fields:
            names = [f if f.startswith("_") else f"_{f}" for f in fields]
            values = texts_or_none(await hm.connection.client.hmget(key, names))
            return dict(zip(fields, values, strict=True))
        raw = text_map(await hm.connection.client.hgetall(key))
        return {k[1:]: v for k, v in sorted(raw.items()) if k.startswith("_")}

    start = blocking(start_async)
    signal = blocking(signal_async)
    hook = blocking(hook_async)
    search = blocking(search_async)
