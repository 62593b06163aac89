"""hotmesh_nb: HotMesh for Python and Jupyter.

Durable workflows and a function mesh on Redis: YAML graphs run by stateless
engines and workers (HotMesh), functions callable over the mesh (MeshCall),
Temporal-style workflows (MeshFlow) and a searchable data layer (MeshData),
with a notebook layer on top. Everything public is importable from here.
"""

import importlib as _importlib
import typing as _typing

from .connection import Connection, connect, connect_async
from .engine._config import EngineConfig
from .engine._worker_service import Response, WorkerMessage
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
from .runtime import shutdown, shutdown_async

# The layers above the engine load on first use: a worker that only needs HotMesh
# pays for nothing else (see bench/import_time.py). Name → module that defines it.
_LAZY = {
    "ActivityTimeoutError": ".meshflow._activity",
    "FatalError": ".meshflow",
    "MeshCall": ".meshcall",
    "MeshCallError": ".meshcall._meshcall_errors",
    "MeshData": ".meshdata",
    "MeshFlow": ".meshflow",
    "QueryError": ".search._search_query",
    "RetryPolicy": ".meshflow",
    "SearchOptions": ".search",
    "WorkflowHandle": ".meshflow",
    "acl_rules": ".acl",
    "dashboard": ".notebook",
    "load_ipython_extension": ".notebook",
    "server": ".server",
    "unload_ipython_extension": ".notebook",
}

if _typing.TYPE_CHECKING:
    from . import server
    from .acl import acl_rules
    from .meshcall import MeshCall
    from .meshcall._meshcall_errors import MeshCallError
    from .meshdata import MeshData
    from .meshflow import FatalError, MeshFlow, RetryPolicy, WorkflowHandle
    from .meshflow._activity import ActivityTimeoutError
    from .notebook import dashboard, load_ipython_extension, unload_ipython_extension
    from .search import SearchOptions
    from .search._search_query import QueryError


def __getattr__(name: str) -> _typing.Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'hotmesh_nb' has no attribute {name!r}")
    module = _importlib.import_module(module_name, __name__)
    value = module if name == "server" else getattr(module, name)
    globals()[name] = value  # loaded once: later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


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
