"""Shared helpers of the search tests (a unique module name: no conftest clash)."""

from __future__ import annotations

import pytest

from hotmesh_nb import server

needs_module = pytest.mark.skipif(
    not server.search_modules(),
    reason="the search module is not installed (pip install 'hotmesh-nb[search]')",
)
"""Marks tests of the native index (they run wherever the ``[search]`` extra is installed)."""
