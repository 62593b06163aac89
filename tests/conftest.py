"""Shared fixtures: one real embedded server per test session, a namespace per test."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import settings

from hotmesh_nb import Connection, server

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


@pytest.fixture
def caller_read_failures(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The server URLs of the reads from a caller's own loop that failed during the test
    (``hotmesh_nb._caller_reads``: each failure sends that loop to the runtime a while)."""
    from hotmesh_nb import _caller_reads

    failures: list[str] = []
    failed = _caller_reads.failed

    async def counted(connection: Connection) -> None:
        failures.append(connection.url)
        await failed(connection)

    monkeypatch.setattr(_caller_reads, "failed", counted)
    return failures


@pytest.fixture(scope="module")
def search_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An embedded server with the search module, in a home of its own, for one test module.

    The ``search`` extra is part of the test environment (the README's test command
    installs it), so a missing module is a failure, not a skip.
    """
    assert server.search_modules(), "the search module is missing: pip install 'hotmesh-nb[search]'"
    previous = os.environ.get("HOTMESH_HOME")
    os.environ["HOTMESH_HOME"] = str(tmp_path_factory.mktemp("searchhome"))
    try:
        yield server.start(search=True).url
    finally:
        import hotmesh_nb

        hotmesh_nb.shutdown()
        server.stop()
        if previous is None:
            os.environ.pop("HOTMESH_HOME", None)
        else:
            os.environ["HOTMESH_HOME"] = previous
