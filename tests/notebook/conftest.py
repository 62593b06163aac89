"""Fixtures for the notebook layer: a deployed HotMesh per test and a real IPython shell."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from IPython.core.getipython import get_ipython
from IPython.core.interactiveshell import InteractiveShell
from IPython.testing.globalipapp import start_ipython
from nb_apps import SEED

import hotmesh_nb
from hotmesh_nb import EngineConfig, HotMesh, Worker
from hotmesh_nb.notebook._magics import HotMeshMagics


@pytest.fixture
def mesh(redis_url: str, namespace: str) -> Iterator[Callable[..., HotMesh]]:
    """``mesh(yaml, workers={topic: fn})`` → a HotMesh with that app deployed and active."""

    def make(yaml_text: str = SEED, workers: dict[str, Any] | None = None) -> HotMesh:
        from hotmesh_nb.model import load_app

        spec = load_app(yaml_text)
        hm = HotMesh.init(
            spec.id,
            connection=redis_url,
            namespace=namespace,
            workers=[Worker(t, fn) for t, fn in (workers or {}).items()],
            config=EngineConfig(block_ms=1000),
        )
        hm.deploy(spec)
        hm.activate(spec.version)
        return hm

    yield make
    hotmesh_nb.shutdown()


@pytest.fixture
def shell(redis_url: str) -> Iterator[InteractiveShell]:
    """IPython's test shell with ``%load_ext hotmesh_nb`` done afresh (a new session)."""
    start_ipython()  # creates the shared test shell on the first call, None afterwards
    ip = get_ipython()
    assert ip is not None
    # Loaded per test (and unloaded after it), so every test starts with a new session.
    ip.run_line_magic("load_ext", "hotmesh_nb")
    yield ip
    ip.run_line_magic("unload_ext", "hotmesh_nb")
    hotmesh_nb.shutdown()


@pytest.fixture
def magics(shell: InteractiveShell) -> HotMeshMagics:
    """The registered magics instance (its ``session`` is what the cells change)."""
    instance = shell.magics_manager.registry["HotMeshMagics"]
    assert isinstance(instance, HotMeshMagics)
    return instance


class Cells:
    """Run cells in a shell; results and errors come back instead of being printed only."""

    def __init__(self, shell: InteractiveShell) -> None:
        self.shell = shell

    def __call__(self, source: str) -> Any:
        """Run ``source``; return the cell's result, raising what the cell raised."""
        result = self.shell.run_cell(source, store_history=True)
        error = result.error_before_exec or result.error_in_exec
        if error is not None:
            raise error
        return result.result


@pytest.fixture
def cell(shell: InteractiveShell, redis_url: str, namespace: str) -> Cells:
    """Run cells in a shell already connected (``%hotmesh connect``) to the test namespace."""
    cells = Cells(shell)
    shell.user_ns.update(URL=redis_url, NS=namespace)
    cells(f"%hotmesh connect {redis_url} --namespace {namespace}")
    return cells
