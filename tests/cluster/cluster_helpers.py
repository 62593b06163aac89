"""Helpers of the cluster tests (a unique module name: no clash between conftests)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def cluster_home(home: Path) -> Iterator[None]:
    """``HOTMESH_HOME`` set to the cluster's home for the duration of the block."""
    previous = os.environ.get("HOTMESH_HOME")
    os.environ["HOTMESH_HOME"] = str(home)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("HOTMESH_HOME", None)
        else:
            os.environ["HOTMESH_HOME"] = previous
