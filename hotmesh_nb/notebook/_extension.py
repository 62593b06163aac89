"""``%load_ext hotmesh_nb``: register (and unregister) the ``%hotmesh`` magics."""

from __future__ import annotations

from typing import Any


def load_ipython_extension(ipython: Any) -> None:
    """Register the ``%hotmesh`` and ``%%hotmesh`` magics in ``ipython`` (once per shell), and
    show library errors as short blocks (full traceback: ``%tb`` / ``%hotmesh --debug``)."""
    from ..meshdata._magic import register as register_search
    from . import _completion as completion
    from . import _tracebacks as tracebacks
    from ._magics import HotMeshMagics

    # `%hotmesh search` belongs to MeshData; it joins the magic here, when the notebook
    # layer loads, so that importing hotmesh_nb never pulls in IPython.
    register_search()
    # An instance, not the class: it keeps the session (server, namespace, apps).
    magics = HotMeshMagics(ipython)
    ipython.register_magics(magics)
    tracebacks.install(ipython)
    completion.install(ipython, magics)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the magics; engines, workers and dashboards keep running (see ``shutdown``)."""
    from . import _completion as completion
    from . import _tracebacks as tracebacks
    from ._magics import HotMeshMagics

    tracebacks.uninstall(ipython)
    completion.uninstall(ipython)
    manager = ipython.magics_manager
    for kind in ("line", "cell"):
        manager.magics[kind].pop("hotmesh", None)
    manager.registry.pop(HotMeshMagics.__name__, None)
