"""Fixtures for MeshFlow tests: a client and workers in a namespace of their own."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import hotmesh_nb
from hotmesh_nb import EngineConfig, MeshFlow

CONFIG = EngineConfig(block_ms=500)


@pytest.fixture
def flow(redis_url: str, namespace: str) -> Iterator[Callable[..., Any]]:
    """``flow(workflow, task_queue='default')`` starts a worker; ``flow.client`` starts runs."""

    def worker(workflow: Any, task_queue: str = "default", **options: Any) -> Any:
        return MeshFlow.Worker.create(
            connection=redis_url,
            namespace=namespace,
            task_queue=task_queue,
            workflow=workflow,
            **{"config": CONFIG, **options},
        )

    worker.client = MeshFlow.Client(connection=redis_url, namespace=namespace, config=CONFIG)  # type: ignore[attr-defined]
    yield worker
    hotmesh_nb.shutdown()
