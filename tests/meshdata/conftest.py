"""Fixtures for MeshData tests: a MeshData in a namespace of its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from md_helpers import ANIMALS, CONFIG

import hotmesh_nb
from hotmesh_nb import MeshData


@pytest.fixture
def md(redis_url: str, namespace: str) -> Iterator[MeshData]:
    """A MeshData with the ``animals`` index in a fresh namespace."""
    yield MeshData(redis_url, search=ANIMALS, namespace=namespace, config=CONFIG)
    hotmesh_nb.shutdown()
