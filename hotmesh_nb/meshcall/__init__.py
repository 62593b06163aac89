"""MeshCall: Python functions callable from anywhere on the mesh, cached, or run as crons.

* :class:`MeshCall` — static methods ``connect``, ``exec``, ``flush``,
  ``cron``, ``interrupt``, ``hotmesh`` and ``shutdown``, each with an
  ``*_async`` twin.
* :func:`function` and :func:`cron` — decorators for notebooks, on this
  module: ``@meshcall.function("user")``, ``@meshcall.cron("nightly",
  interval="1 day")``.
* :class:`MeshCallError` — a function raised remotely (type, message,
  traceback).

Calls and crons are jobs of a YAML app (``meshcall``) deployed on the
engine in each namespace; see :mod:`hotmesh_nb.meshcall._meshcall_app`.
"""

from ._decorators import MeshCron, MeshFunction, cron, function
from ._meshcall_api import MeshCall
from ._meshcall_errors import MeshCallError

__all__ = ["MeshCall", "MeshCallError", "MeshCron", "MeshFunction", "cron", "function"]
