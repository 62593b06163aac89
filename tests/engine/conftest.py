"""Fixtures for end-to-end engine tests: a HotMesh per test in its own namespace."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

import hotmesh_nb
from hotmesh_nb import EngineConfig, HotMesh, Worker


@pytest.fixture
def mesh(redis_url: str, namespace: str) -> Iterator[Callable[..., HotMesh]]:
    """``mesh(app_id, yaml, workers={topic: fn}, version='1', partitions=None, **config)`` → a
    deployed HotMesh."""

    def make(
        app_id: str,
        yaml_text: str | None = None,
        workers: dict[str, Any] | None = None,
        version: str = "1",
        partitions: int | None = None,
        **config: Any,
    ) -> HotMesh:
        hm = HotMesh.init(
            app_id,
            connection=redis_url,
            namespace=namespace,
            workers=[Worker(t, fn) for t, fn in (workers or {}).items()],
            config=EngineConfig(**{"block_ms": 1000, **config}),
        )
        if yaml_text is not None:
            hm.deploy(yaml_text, partitions=partitions)
            hm.activate(version)
        return hm

    yield make
    hotmesh_nb.shutdown()
