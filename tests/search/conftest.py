"""Fixtures of the search tests: an embedded server with the search module."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import hotmesh_nb
from hotmesh_nb import server


@pytest.fixture(scope="module")
def search_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An embedded server with the search module, in its own data folder, for one module."""
    previous = os.environ.get("HOTMESH_HOME")
    os.environ["HOTMESH_HOME"] = str(Path(tmp_path_factory.mktemp("searchhome")))
    try:
        yield server.start(search=True).url
    finally:
        hotmesh_nb.shutdown()
        server.stop()
        if previous is None:
            os.environ.pop("HOTMESH_HOME", None)
        else:
            os.environ["HOTMESH_HOME"] = previous
