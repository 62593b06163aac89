"""Tab completion for ``%hotmesh`` lines, through IPython's matcher API (v2).

After ``%hotmesh`` the matcher offers subcommands; after a subcommand its
options (read from the usage line), apps, topics, job statuses and the job
ids the session started. It suppresses IPython's other matchers on those
lines, so Python keywords and file names do not mix in. Apps and topics come
from the server and are cached for a few seconds, so a Tab costs at most one
short read.
"""

from __future__ import annotations

import re
import shlex
import time
from typing import TYPE_CHECKING, Any

from IPython.core.completer import (
    CompletionContext,
    SimpleCompletion,
    SimpleMatcherResult,
    context_matcher,
)

from ._frames import JOB_STATUSES

if TYPE_CHECKING:
    from ._magics import HotMeshMagics

CACHE_SECONDS = 5.0
"""How long the apps and topics read from the server are reused."""

_OPTION = re.compile(r"--[a-z][a-z-]*")
_APP_ARGS = {"graph", "jobs", "workers", "dashboard", "stop", "activate"}
_TOPIC_ARGS = {"pub", "run"}
_VALUE_OPTIONS = {"--app": "app", "--status": "status", "--job": "job", "--namespace": None}


class Completer:
    """Completions of one magics instance (its session knows the server and the jobs)."""

    def __init__(self, magics: HotMeshMagics) -> None:
        self.magics = magics
        self._cached: tuple[float, list[Any]] | None = None

    def _apps(self) -> list[Any]:
        now = time.monotonic()
        if self._cached is None or now - self._cached[0] > CACHE_SECONDS:
            try:
                apps = self.magics.session.server_apps()
            except Exception:  # completion never raises; an unreachable server offers nothing
                apps = []
            self._cached = (now, apps)
        return self._cached[1]

    def candidates(self, before: str) -> list[str] | None:
        """What may follow ``before`` (the line up to the cursor); None: not our line."""
        from ._magics import SUBCOMMANDS

        stripped = before.lstrip()
        cell = stripped.startswith("%%hotmesh")
        if not (stripped.startswith("%hotmesh") or cell):
            return None
        try:
            words = shlex.split(stripped)
        except ValueError:  # an open quote: complete nothing rather than guess
            return []
        if before.endswith((" ", "\t")):
            words.append("")
        if len(words) <= 1:
            return []
        if cell:
            return ["deploy"] if len(words) == 2 else ["--activate"]
        if len(words) == 2:
            return [*SUBCOMMANDS, "--debug"]
        sub = SUBCOMMANDS.get(words[1])
        if sub is None:
            return []
        previous = words[-2]
        if previous in _VALUE_OPTIONS:
            return self._values(_VALUE_OPTIONS[previous])
        options = [o for o in _OPTION.findall(sub.usage) if o not in words[2:-1]]
        positional = [w for w in words[2:-1] if not w.startswith("-")]
        values: list[str] = []
        if not positional or words[1] == "dashboard":
            if words[1] in _APP_ARGS:
                values = self._values("app")
            elif words[1] in _TOPIC_ARGS:
                values = self._values("topic")
            elif words[1] == "job":
                values = self._values("job")
        return [*values, *options]

    def _values(self, kind: str | None) -> list[str]:
        if kind == "app":
            return [info.app for info in self._apps()]
        if kind == "topic":
            return list(dict.fromkeys(t for info in self._apps() for t in info.topics))
        if kind == "status":
            return list(JOB_STATUSES)
        if kind == "job":
            return list(reversed(self.magics.session.recent_jobs))
        return []


def matcher_for(magics: HotMeshMagics) -> Any:
    """An IPython v2 matcher completing ``%hotmesh`` lines for ``magics``."""
    completer = Completer(magics)

    @context_matcher(identifier="hotmesh_nb")
    def hotmesh_matcher(context: CompletionContext) -> SimpleMatcherResult:
        found = completer.candidates(context.text_until_cursor)
        if found is None:
            return {"completions": [], "suppress": False}
        token = context.token
        chosen = [c for c in dict.fromkeys(found) if c.startswith(token)]
        return {
            "completions": [SimpleCompletion(text=c, type="hotmesh") for c in chosen],
            "suppress": True,
        }

    return hotmesh_matcher


def install(shell: Any, magics: HotMeshMagics) -> None:
    """Add the matcher to ``shell``'s completer (once; a reload replaces it)."""
    matchers = shell.Completer.custom_matchers
    matchers[:] = [m for m in matchers if getattr(m, "matcher_identifier", "") != "hotmesh_nb"]
    matchers.append(matcher_for(magics))


def uninstall(shell: Any) -> None:
    """Remove the matcher."""
    matchers = shell.Completer.custom_matchers
    matchers[:] = [m for m in matchers if getattr(m, "matcher_identifier", "") != "hotmesh_nb"]
