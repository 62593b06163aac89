"""MeshFlow: Temporal-style durable workflows in plain async Python, replayed from Redis.

>>> from hotmesh_nb import MeshFlow, RetryPolicy          # doctest: +SKIP
>>> from hotmesh_nb.meshflow import workflow              # doctest: +SKIP
>>> acts = workflow.proxy_activities(activities=[greet])  # doctest: +SKIP
>>> async def example(name):                              # doctest: +SKIP
...     return await acts.greet(name)
>>> MeshFlow.Worker.create(task_queue="default", workflow=example)        # doctest: +SKIP
>>> handle = MeshFlow.Client().workflow.start(                           # doctest: +SKIP
...     args=["HotMesh"], task_queue="default", workflow_name="example")
>>> handle.result()                                       # doctest: +SKIP

Workflows run on the engine as jobs of the app ``meshflow`` (see
:mod:`.factory`): every workflow can be graphed, exported and searched like
any job. The replay rules are in :mod:`.workflow`.
"""

from __future__ import annotations

from ..runtime import shutdown, shutdown_async
from . import _activity as activity
from . import workflow
from ._activity import ActivityInfo, ActivityTimeoutError, activity_info, heartbeat
from ._client import Client, WorkflowClient
from ._flow_worker import MeshFlowWorker
from ._handle import WorkflowHandle
from ._meshflow_errors import FatalError, Suspended
from ._policy import RetryPolicy


class MeshFlow:
    """The MeshFlow entry points, named as in the original: ``MeshFlow.Client``,
    ``MeshFlow.Worker.create``, ``MeshFlow.workflow``."""

    Client = Client
    Worker = MeshFlowWorker
    workflow = workflow
    RetryPolicy = RetryPolicy
    FatalError = FatalError
    shutdown = staticmethod(shutdown)
    shutdown_async = staticmethod(shutdown_async)


__all__ = [
    "ActivityInfo",
    "ActivityTimeoutError",
    "Client",
    "FatalError",
    "MeshFlow",
    "MeshFlowWorker",
    "RetryPolicy",
    "Suspended",
    "WorkflowClient",
    "WorkflowHandle",
    "activity",
    "activity_info",
    "heartbeat",
    "workflow",
]
