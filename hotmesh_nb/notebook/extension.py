"""``%load_ext hotmesh_nb``: register (and unregister) the ``%hotmesh`` magics."""

from __future__ import annotations

from typing import Any


def load_ipython_extension(ipython: Any) -> None:
    """Register the ``%hotmesh`` and ``%%hotmesh`` magics in ``ipython`` (once per shell)."""
    from .magics import HotMeshMagics

    # An instance, not the class: it keeps the session (server, namespace, apps).
    ipython.register_magics(HotMeshMagics(ipython))


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the magics; engines, workers and dashboards keep running (see ``shutdown``)."""
    from .magics import HotMeshMagics

    manager = ipython.magics_manager
    for kind in ("line", "cell"):
        manager.magics[kind].pop("hotmesh", None)
    manager.registry.pop(HotMeshMagics.__name__, None)
