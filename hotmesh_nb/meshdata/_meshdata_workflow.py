"""``MeshData.workflow``: the workflow-side API inside entity functions.

The MeshFlow calls (``sleep_for``, ``wait_for``, ``signal``, ``search`` …)
plus entity-aware versions of the calls that reach other records: the child
or hook thread runs an *entity* (its task queue is the entity's), and the
call options an entity function pops are appended to its arguments.
"""

from __future__ import annotations

from typing import Any

from ..durations import Duration
from ..hotmesh import HotMesh
from ..meshflow import workflow as _wf
from ..meshflow._context import current_run
from ..meshflow._policy import RetryPolicy
from ._entity import with_call
from ._record_ids import record_id


class MeshDataWorkflow:
    """Static helpers for code running inside a connected entity function."""

    sleep_for = staticmethod(_wf.sleep_for)
    wait_for = staticmethod(_wf.wait_for)
    signal = staticmethod(_wf.signal)
    random = staticmethod(_wf.random)
    search = staticmethod(_wf.search)
    enrich = staticmethod(_wf.enrich)
    emit = staticmethod(_wf.emit)
    trace = staticmethod(_wf.trace)
    get_context = staticmethod(_wf.get_context)
    proxy_activities = staticmethod(_wf.proxy_activities)
    # The original's other names for the same calls.
    sleep = staticmethod(_wf.sleep_for)
    wait_for_signal = staticmethod(_wf.wait_for)

    @staticmethod
    def get_hotmesh() -> HotMesh:
        """The HotMesh running this record's workflow (its namespace's MeshFlow app)."""
        return current_run().services.hm

    @staticmethod
    async def exec_child(
        entity: str,
        args: list[Any] | tuple[Any, ...] = (),
        *,
        id: str | None = None,
        expire: Duration | None = None,
        config: dict[str, Any] | RetryPolicy | None = None,
    ) -> Any:
        """Run ``entity`` as a child record (``<entity>-<id>`` when ``id`` is given) and
        return its result."""
        workflow_id = record_id(entity, id) if id is not None else None
        return await _wf.exec_child(
            entity,
            with_call(args, "exec"),
            task_queue=entity,
            workflow_id=workflow_id,
            expire=expire,
            config=config,
        )

    @staticmethod
    async def start_child(
        entity: str,
        args: list[Any] | tuple[Any, ...] = (),
        *,
        id: str | None = None,
        expire: Duration | None = None,
        config: dict[str, Any] | RetryPolicy | None = None,
    ) -> str:
        """Start ``entity`` as a child record without waiting; returns its record id."""
        workflow_id = record_id(entity, id) if id is not None else None
        return await _wf.start_child(
            entity,
            with_call(args, "exec"),
            task_queue=entity,
            workflow_id=workflow_id,
            expire=expire,
            config=config,
        )

    @staticmethod
    async def hook(
        hook_entity: str,
        args: list[Any] | tuple[Any, ...] = (),
        *,
        entity: str | None = None,
        id: str | None = None,
    ) -> str:
        """Run ``hook_entity`` as a hook thread on record ``<entity>-<id>`` (default: this
        record); its ``search()`` works on that record's fields. Returns the thread's id."""
        target = record_id(entity, id) if entity is not None and id is not None else None
        return await _wf.hook(
            hook_entity, with_call(args, "hook"), task_queue=hook_entity, workflow_id=target
        )

    @staticmethod
    async def interrupt(
        entity: str, id: str, *, reason: str | None = None, descend: bool = False
    ) -> bool:
        """Interrupt record ``<entity>-<id>`` (once per workflow)."""
        return await _wf.interrupt(record_id(entity, id), reason=reason, descend=descend)

    execute_child = exec_child
    """The original's other name for :meth:`exec_child`."""
