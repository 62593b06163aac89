"""A real Redis Cluster for one test session: 3 primaries with 1 replica each.

The nodes run the embedded server binary (``hotmesh_nb.server.cluster_start``) under a
``HOTMESH_HOME`` of the test session's own, so a cluster of the user's is never touched.
``HOTMESH_HOME`` points there only while the cluster starts and stops: the rest of the
session keeps its own embedded server.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cluster_helpers import cluster_home

import hotmesh_nb
from hotmesh_nb import server


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "spread: the spread check of issue 14 (each of 3 primaries carries 20-46 % of an "
        "app's commands; fails while one app is one hash tag)",
    )


@pytest.fixture(scope="session")
def cluster_home_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The home of the session's cluster; the cluster is stopped and removed at the end."""
    home = tmp_path_factory.mktemp("clusterhome")
    with cluster_home(home):
        server.cluster_start(primaries=3, replicas=1)
    yield home
    hotmesh_nb.shutdown()
    with cluster_home(home):
        server.cluster_stop(remove=True)


@pytest.fixture(scope="session")
def cluster_url(cluster_home_dir: Path) -> str:
    """``redis://:password@127.0.0.1:port`` of one node of the session's cluster."""
    with cluster_home(cluster_home_dir):
        return server.cluster_url()


@pytest.fixture
def redis_url(cluster_url: str) -> Iterator[str]:
    """Tests of this folder run against the cluster; each ends with a clean runtime."""
    yield cluster_url
    hotmesh_nb.shutdown()
