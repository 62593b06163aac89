"""The notebook layer: magics, graphs, the live dashboard and DataFrames.

``%load_ext hotmesh_nb`` registers ``%hotmesh`` / ``%%hotmesh deploy``;
``HotMesh.graph/jobs/timeline/streams`` return drawable graphs and
DataFrames; :func:`dashboard` shows a live widget view. Importing this
package stays cheap: IPython, ipywidgets and pandas load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._extension import load_ipython_extension, unload_ipython_extension
from ._views import GraphView, JobView, RunResult

if TYPE_CHECKING:
    import pandas as pd
    from pandas.io.formats.style import Styler

    from ..hotmesh import HotMesh
    from ._monitor import Dashboard


def dashboard(*meshes: HotMesh, interval: float = 0.5) -> Dashboard:
    """A live dashboard of ``meshes`` (default: every app this process runs an engine for).

    Show it as the last expression of a cell. It refreshes every ``interval``
    seconds (at least 0.25) from hotmesh_nb's runtime thread - also while other
    cells run or block - until :func:`hotmesh_nb.shutdown`. Asking again for
    the same apps returns the running dashboard.
    """
    from ._monitor import dashboard as start

    return start(*meshes, interval=interval)


def style_status(frame: pd.DataFrame) -> Styler:
    """``frame`` (``hm.jobs()``, ``hm.timeline(id)``) as a pandas ``Styler`` with status colours.

    The colours follow JupyterLab's theme (light or dark) and fall back to
    mid-tones that read on both elsewhere. ``hm.jobs(styled=True)`` is the same.
    """
    from ._frames import style_status as style

    return style(frame)


__all__ = [
    "GraphView",
    "JobView",
    "RunResult",
    "dashboard",
    "load_ipython_extension",
    "style_status",
    "unload_ipython_extension",
]
