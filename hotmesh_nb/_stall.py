"""Naming the code that blocks the runtime loop, while it blocks it.

Every job of a process moves on one event loop, the runtime's. An ``async def``
worker callback, MeshCall function or activity that calls something blocking
(``time.sleep``, a synchronous HTTP client, a long computation) without awaiting
stops every job of the process until it returns. A watch thread notices: every
half second it asks the loop to answer, and when an answer is late by more than
``HOTMESH_STALL_WARNING`` seconds (default 1; ``0`` turns the watch off) it logs a
warning naming the function the loop is running, its file and line, once per
stall, and one line when the loop is free again. A MeshFlow workflow step that
held the loop is also named after the step, by its workflow id
(``meshflow/_runner.py``).

The watch reads the loop thread's current frame (``sys._current_frames``); it
never runs anything on the loop beyond its answer, which costs the loop two
wake-ups a second when idle.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import sysconfig
import threading
import time
from pathlib import Path
from types import FrameType

log = logging.getLogger("hotmesh_nb.runtime")

ENV = "HOTMESH_STALL_WARNING"
"""Environment variable: seconds the loop may be held before a warning (0: no watch)."""

DEFAULT_SECONDS = 1.0
"""Seconds the runtime loop may be held before the watch warns."""

_OURS = (
    str(Path(__file__).parent),
    sysconfig.get_paths()["stdlib"],
)
"""Folders whose frames are the machinery, not the code to name (hotmesh_nb, the stdlib)."""


def threshold() -> float:
    """Seconds from ``HOTMESH_STALL_WARNING`` (read at each check; a bad value: default)."""
    try:
        return max(float(os.environ.get(ENV, DEFAULT_SECONDS)), 0.0)
    except ValueError:
        return DEFAULT_SECONDS


def culprit(frame: FrameType | None) -> str | None:
    """``function (file:line)`` of the innermost frame that is neither hotmesh_nb's nor
    the standard library's (the user's code, or a library it called); None when the
    loop thread runs only those (it then waits for the GIL, held by another thread)."""
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_OURS) and not filename.startswith("<frozen"):
            return f"{frame.f_code.co_qualname} ({filename}:{frame.f_lineno})"
        frame = frame.f_back
    return None


class StallWatch:
    """Watch one loop (run by ``thread``) from a daemon thread of its own."""

    def __init__(self, loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
        self.loop = loop
        self.thread = thread
        self._stop = threading.Event()
        self._asked_at: float | None = None
        """When the pending question was posted (None: answered)."""
        self._warned = False
        self._watcher = threading.Thread(target=self._run, name="hotmesh-stall-watch", daemon=True)

    def start(self) -> None:
        """Start watching (nothing when ``HOTMESH_STALL_WARNING`` is 0)."""
        if threshold() > 0:
            self._watcher.start()

    def stop(self, timeout: float = 1.0) -> None:
        """Stop watching; returns once the watch thread ended (it wakes at once), so that
        a shutdown leaves no thread of ours behind."""
        self._stop.set()
        if self._watcher.is_alive() and self._watcher is not threading.current_thread():
            self._watcher.join(timeout)

    def _run(self) -> None:
        limit = threshold()
        # Two questions per threshold (at most a second apart), so a stall is seen in time.
        while not self._stop.wait(min(limit, DEFAULT_SECONDS) / 2 if limit > 0 else 1.0):
            limit = threshold()
            if limit <= 0 or self.loop.is_closed():
                continue
            asked = self._asked_at
            now = time.monotonic()
            if asked is None:
                self._asked_at = now
                try:
                    self.loop.call_soon_threadsafe(self._answer, now)
                except RuntimeError:  # the loop closed meanwhile
                    return
            elif not self._warned and now - asked > limit:
                self._warned = True
                name = culprit(sys._current_frames().get(self.thread.ident or 0))
                if name is None:
                    log.warning(
                        "the hotmesh runtime loop has not run for %.1f s: every job of this "
                        "process waits. Its thread runs none of your code, so another thread "
                        "holds the interpreter (a long computation that keeps the GIL)",
                        now - asked,
                    )
                else:
                    log.warning(
                        "the hotmesh runtime loop has been held for %.1f s by %s: every job "
                        "of this process waits. Await instead of blocking, or make it a plain "
                        "def (run in a thread) or `await asyncio.to_thread(...)`",
                        now - asked,
                        name,
                    )

    def _answer(self, asked: float) -> None:
        if self._warned:
            log.warning(
                "the hotmesh runtime loop is free again after %.1f s", time.monotonic() - asked
            )
        self._warned = False
        self._asked_at = None
