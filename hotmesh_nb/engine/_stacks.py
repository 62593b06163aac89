"""Whether a worker shares its callbacks' tracebacks with the mesh.

A traceback names files, paths and lines of code. By default it travels with the
error (in the job's ``metadata.err``, to the caller's ``JobError``), as in the
original, because in a notebook or a team's own mesh it is the fastest way to a
fix. A worker serving callers it does not trust sets
``EngineConfig(share_tracebacks=False)``: callers then get the error's type and
message only, and the traceback goes to this process's log instead.
"""

from __future__ import annotations

import contextvars
import logging
import traceback
from types import TracebackType

log = logging.getLogger(__name__)

_sharing: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "hotmesh_share_tracebacks", default=True
)


def share_tracebacks(share: bool) -> contextvars.Token[bool]:
    """Set the rule for the callback about to run (its task and thread inherit it)."""
    return _sharing.set(share)


def reset(token: contextvars.Token[bool]) -> None:
    """Restore the rule in force before :func:`share_tracebacks`."""
    _sharing.reset(token)


def remote_stack(exc: BaseException, tb: TracebackType | None = None) -> str:
    """The traceback to send with ``exc``: in full, or ``''`` (logged here) when not shared."""
    text = "".join(traceback.format_exception(type(exc), exc, tb or exc.__traceback__))
    if _sharing.get():
        return text
    log.warning("callback failed (traceback kept local, share_tracebacks=False):\n%s", text)
    return ""
