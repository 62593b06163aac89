"""Shared helpers of the search tests (a unique module name: no conftest clash)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from hotmesh_nb import server

needs_module = pytest.mark.skipif(
    not server.search_modules(),
    reason="the search module is not installed (pip install 'hotmesh-nb[search]')",
)
"""Marks tests of the native index (they run wherever the ``[search]`` extra is installed)."""


def home(path: Path) -> Any:
    """``HOTMESH_HOME`` set to ``path`` for the block (a server of the tests' own there)."""
    return mock.patch.dict(os.environ, {"HOTMESH_HOME": str(path)})
