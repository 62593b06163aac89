"""Fixtures for MeshCall tests: a namespace per test, everything stopped afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import hotmesh_nb


@pytest.fixture
def ns(redis_url: str, namespace: str) -> Iterator[str]:
    """The test's namespace on the test server (the default connection resolves to it)."""
    yield namespace
    hotmesh_nb.shutdown()
