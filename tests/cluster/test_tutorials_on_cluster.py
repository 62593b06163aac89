"""The five tutorial notebooks, run from top to bottom against the local cluster.

The notebooks find their server through ``HOTMESH_REDIS_URL`` (none is named in them),
so pointing it at a cluster node runs every flow of the tutorials — YAML apps and
workers, MeshCall, MeshFlow, MeshData and the operations notebook — on the cluster. A
cell that raises fails the test; the outputs themselves are compared by the nbval run
of the single-node suite.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
import redis
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.mark.parametrize("name", sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")))
def test_the_tutorial_runs_on_the_cluster(redis_url: str, name: str) -> None:
    admin = redis.RedisCluster.from_url(redis_url, decode_responses=True)
    before = sum(1 for _ in admin.scan_iter(match="{tutorial-*", count=1000))
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["HOTMESH_REDIS_URL"] = redis_url
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute(env=env)
    # The tutorial's keys (its namespaces start with 'tutorial-') are on the cluster.
    after = sum(1 for _ in admin.scan_iter(match="{tutorial-*", count=1000))
    admin.close()
    assert after > before
