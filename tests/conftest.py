"""Shared fixtures: one real embedded server per test session, a namespace per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import settings

from hotmesh_nb import server

# Property tests draw the same examples on every run, so that the suite (and CI) gives the
# same answer twice; `HOTMESH_HYPOTHESIS_PROFILE=explore` draws new ones to hunt for bugs.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HOTMESH_HYPOTHESIS_PROFILE", "repeatable"))


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of the server the tests use.

    ``HOTMESH_TEST_REDIS_URL`` runs the suite against a server of your own;
    otherwise an embedded server in a private ``HOTMESH_HOME`` serves it.
    """
    external = os.environ.get("HOTMESH_TEST_REDIS_URL")
    if external:
        os.environ["HOTMESH_REDIS_URL"] = external
        yield external
        return
    for var in ("HOTMESH_REDIS_URL", "REDIS_URL"):
        os.environ.pop(var, None)
    os.environ["HOTMESH_HOME"] = str(tmp_path_factory.mktemp("home"))
    info = server.start()
    yield info.url
    import hotmesh_nb

    hotmesh_nb.shutdown()
    server.stop()


@pytest.fixture
def namespace() -> str:
    """A namespace no other test uses."""
    return f"t{uuid.uuid4().hex[:10]}"
