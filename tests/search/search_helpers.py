"""Shared helpers of the search tests (a unique module name: no conftest clash)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotmesh_nb import server

needs_module = pytest.mark.skipif(
    not server.search_modules(),
    reason="the search module is not installed (pip install 'hotmesh-nb[search]')",
)
"""Marks tests of the native index (they run wherever the ``[search]`` extra is installed)."""


@contextlib.contextmanager
def home(path: Path) -> Iterator[None]:
    """``HOTMESH_HOME`` set to ``path`` for the block (a server of the tests' own there)."""
    previous = os.environ.get("HOTMESH_HOME")
    os.environ["HOTMESH_HOME"] = str(path)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("HOTMESH_HOME", None)
        else:
            os.environ["HOTMESH_HOME"] = previous
