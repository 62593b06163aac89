"""hotmesh_nb: HotMesh for Python and Jupyter.

Durable workflows and a function mesh on Redis: YAML graphs run by stateless
engines and workers (HotMesh), functions callable over the mesh (MeshCall),
Temporal-style workflows (MeshFlow) and a searchable data layer (MeshData),
with a notebook layer on top. Everything public is importable from here.
"""

from . import server
from .acl import acl_rules
from .connection import Connection, connect, connect_async
from .engine.config import EngineConfig
from .engine.worker import Response, WorkerMessage
from .errors import (
    CallbackExit,
    ConnectError,
    DeployError,
    DuplicateJobError,
    HotMeshError,
    JobError,
    JobNotFoundError,
    MappingError,
    NonDeterminismError,
    PayloadError,
    PermissionDeniedError,
    ServerError,
    ServerFullError,
    TimeoutError,
    UnservedTopicError,
    ValidationError,
    WorkflowError,
)
from .hotmesh import HotMesh, Worker
from .meshcall import MeshCall
from .meshcall.errors import MeshCallError
from .meshdata import MeshData
from .meshflow import FatalError, MeshFlow, RetryPolicy, WorkflowHandle
from .meshflow.activity import ActivityTimeoutError
from .notebook import dashboard, load_ipython_extension, unload_ipython_extension
from .runtime import shutdown, shutdown_async
from .search import SearchOptions
from .search.query import QueryError

__version__ = "0.1.0"

__all__ = [
    "ActivityTimeoutError",
    "CallbackExit",
    "ConnectError",
    "Connection",
    "DeployError",
    "DuplicateJobError",
    "EngineConfig",
    "FatalError",
    "HotMesh",
    "HotMeshError",
    "JobError",
    "JobNotFoundError",
    "MappingError",
    "MeshCall",
    "MeshCallError",
    "MeshData",
    "MeshFlow",
    "NonDeterminismError",
    "PayloadError",
    "PermissionDeniedError",
    "QueryError",
    "Response",
    "RetryPolicy",
    "SearchOptions",
    "ServerError",
    "ServerFullError",
    "TimeoutError",
    "UnservedTopicError",
    "ValidationError",
    "Worker",
    "WorkerMessage",
    "WorkflowError",
    "WorkflowHandle",
    "__version__",
    "acl_rules",
    "connect",
    "connect_async",
    "dashboard",
    "load_ipython_extension",
    "server",
    "shutdown",
    "shutdown_async",
    "unload_ipython_extension",
]
