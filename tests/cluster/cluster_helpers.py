"""Helpers of the cluster tests (a unique module name: no clash between conftests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from unittest import mock


def cluster_home(home: Path) -> Any:
    """``HOTMESH_HOME`` set to the cluster's home for the duration of the block."""
    return mock.patch.dict(os.environ, {"HOTMESH_HOME": str(home)})


def run_demos(url: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    """Run the four seed demos against ``url`` and check what each prints."""
    out = subprocess.run(
        [sys.executable, "-m", "hotmesh_nb.cli", "demo", "--say", "bonjour"],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ, HOTMESH_REDIS_URL=url),
    )
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "{'reply': 'bonjour, from a Python worker'}" in text  # HotMesh
    assert "the function ran 2 times" in text and "the cron ran 2 times" in text  # MeshCall
    assert "result: '¡Bonjour, HotMesh!'" in text  # MeshFlow
    assert "find_where word = 'mouse' -> 1 record(s)" in text  # MeshData
    return out
