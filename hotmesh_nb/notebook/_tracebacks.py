"""Short errors in notebooks: a library exception shows as one block of at most 10 lines.

``%load_ext hotmesh_nb`` installs :func:`show_short` as IPython's custom
exception handler for the :class:`~hotmesh_nb.errors.HotMeshError` tree. A
failing cell then shows what went wrong, why, and what to do, instead of a
long traceback through the runtime thread and ``concurrent.futures`` whose
message sits at the very bottom. The full traceback stays one command away:
``%tb`` (IPython's) or ``%hotmesh --debug``, which adds a worker's remote
traceback.
"""

from __future__ import annotations

import re
import sys
import textwrap
import traceback
from types import TracebackType
from typing import Any

from ..errors import (
    ConnectError,
    DeployError,
    DuplicateJobError,
    HotMeshError,
    JobError,
    JobNotFoundError,
    ServerError,
    TimeoutError,
    ValidationError,
)

MAX_LINES = 10
"""Most lines of the short block (a longer message is cut, with a pointer to --debug)."""
WIDTH = 100
"""Most characters per line of the short block."""

_RED, _BOLD, _RESET = "\x1b[31m", "\x1b[1m", "\x1b[0m"
_REMOTE = re.compile(r"\n\s*\n\s*Remote traceback:.*", re.DOTALL)
_FOOTER = "full traceback: %tb   remote traceback and details: %hotmesh --debug"


class WaitInterrupted(HotMeshError):
    """An interrupt stopped a notebook from waiting for a job; the job keeps running."""

    def __init__(self, job_id: str | None, topic: str) -> None:
        self.job_id = job_id
        self.topic = topic
        if job_id:
            text = (
                f"stopped waiting for job '{job_id}' on '{topic}'; the job is still running. "
                f"Follow it with %hotmesh job {job_id} (or hm.export('{job_id}'))"
            )
        else:
            text = f"interrupted before the job on '{topic}' was started; nothing is running"
        super().__init__(text)


def hint_for(exc: BaseException) -> str | None:
    """What to do about ``exc``: one sentence per kind of library error."""
    if isinstance(exc, WaitInterrupted):
        return None  # its message already says what to do
    if isinstance(exc, JobNotFoundError):
        return "check the id: %hotmesh jobs lists the jobs kept; finished jobs expire"
    if isinstance(exc, (ConnectError, ServerError)):
        return (
            "start the server or fix the URL (%hotmesh connect URL); "
            "with no URL the embedded server is started"
        )
    if isinstance(exc, TimeoutError):
        return (
            "the job keeps running: follow it with %hotmesh job ID; is a worker running for "
            "each of its topics? (%hotmesh workers)"
        )
    if isinstance(exc, JobError):
        job = f" {exc.job_id}" if exc.job_id else " ID"
        return f"see where it failed: %hotmesh job{job} (painted graph, errors by activity)"
    if isinstance(exc, ValidationError):
        return "fix the YAML at the line named, then deploy again"
    if isinstance(exc, DuplicateJobError):
        return "choose another id, or scrub the old job first"
    if isinstance(exc, DeployError):
        return "deploy the app first (%%hotmesh deploy), then activate a version"
    return None


def _message(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return _REMOTE.sub("", text).strip()


def short_lines(exc: BaseException, hint: str | None = None) -> list[str]:
    """The block for ``exc``: ``Type: message`` (what and why), an optional note, what to do
    and where the details are: at most 10 lines of at most 100 characters."""
    name = type(exc).__name__
    if isinstance(exc, JobError) and exc.error_type:
        name += f" (worker raised {exc.error_type})"
    body: list[str] = []
    for index, paragraph in enumerate(_message(exc).splitlines() or [""]):
        prefix = f"{name}: " if index == 0 else "  "
        body.extend(
            textwrap.wrap(prefix + paragraph, WIDTH, subsequent_indent="  ", break_on_hyphens=False)
            or [prefix.rstrip()]
        )
    extra = [
        f"  note: {line}" if i == 0 else f"        {line}"
        for i, line in enumerate(textwrap.wrap(hint or "", WIDTH - 8))
    ]
    what = hint_for(exc)
    if what:
        extra.extend(
            f"  what to do: {line}" if i == 0 else f"              {line}"
            for i, line in enumerate(textwrap.wrap(what, WIDTH - 14))
        )
    room = MAX_LINES - 1 - len(extra)
    if len(body) > room:
        body = [*body[: room - 1], "  ... (the rest: %hotmesh --debug)"]
    return [*body, *extra, _FOOTER]


class LastError:
    """The last library error a cell raised (for ``%hotmesh --debug``)."""

    value: BaseException | None = None
    traceback: TracebackType | None = None


def show_short(
    shell: Any,
    etype: type[BaseException],
    value: BaseException,
    tb: TracebackType | None,
    tb_offset: int | None = None,
) -> list[str]:
    """IPython custom exception handler: display the short block of a library error."""
    # %tb and post-mortem debugging read these; IPython sets them only on its own path.
    sys.last_type, sys.last_value, sys.last_traceback = etype, value, tb
    if sys.version_info >= (3, 12):
        sys.last_exc = value
    LastError.value, LastError.traceback = value, tb
    lines = short_lines(value, getattr(value, "hotmesh_hint", None))
    stb = [f"{_RED}{_BOLD}{lines[0]}{_RESET}", *lines[1:]]
    # IPython 8 ignores what a handler returns: the handler displays the block itself.
    shell._showtraceback(etype, value, ["\n".join(stb)])
    return []


def full_text() -> str:
    """The last library error in full: its traceback and any remote traceback."""
    value, tb = LastError.value, LastError.traceback
    if value is None:
        return "no hotmesh error yet in this session"
    lines = traceback.format_exception(type(value), value, tb)
    stack = getattr(value, "stack", None)
    if stack and "Remote traceback" not in "".join(lines):
        lines.append("\nRemote traceback (where the worker ran):\n" + stack.rstrip() + "\n")
    return "".join(lines)


def install(shell: Any) -> None:
    """Show library errors as short blocks in ``shell`` (``%load_ext hotmesh_nb`` does this)."""
    shell.set_custom_exc((HotMeshError,), show_short)


def uninstall(shell: Any) -> None:
    """Restore IPython's own tracebacks, if ours is the handler installed."""
    if HotMeshError in getattr(shell, "custom_exceptions", ()):
        shell.set_custom_exc((), None)
