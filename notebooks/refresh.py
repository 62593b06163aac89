"""Re-run the tutorials and commit outputs a reader can trust.

    python notebooks/refresh.py            # every tutorial
    python notebooks/refresh.py 05         # the ones whose name starts with 05

Each notebook runs top to bottom in a fresh kernel against an embedded server
in a throw-away ``HOTMESH_HOME``. The outputs are then cleaned (:func:`clean`):
machine paths become ``<path>``, and a live widget (the dashboard) keeps only
its static HTML snapshot, so a reopened notebook never shows "model not found".
``tests/notebook/test_tutorials.py`` checks the committed files for both.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

HERE = Path(__file__).resolve().parent
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
MACHINE_PATH = re.compile(r"(?:/(?:work|tmp|root|home|Users|private|var)/)[^\s'\"<>()\\]*")
"""Absolute paths of the machine that ran the notebook (server sockets, home folders)."""
IGNORE_TAG = "nbval-ignore-output"
"""nbval's tag for an output that differs on every run (the dashboard's snapshot)."""


def _clean_text(text: str) -> str:
    return MACHINE_PATH.sub("<path>", text)


def _clean_value(value: Any) -> Any:
    if isinstance(value, str):
        return _clean_text(value)
    if isinstance(value, list):
        return [_clean_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _clean_value(v) for k, v in value.items()}
    return value


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove machine paths and widget views (keeping their HTML snapshot) from outputs."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            data = output.get("data")
            if data is not None and WIDGET_VIEW in data:
                del data[WIDGET_VIEW]
                tags = cell.metadata.setdefault("tags", [])
                if IGNORE_TAG not in tags:
                    tags.append(IGNORE_TAG)
            for key in ("data", "text"):
                if key in output:
                    output[key] = _clean_value(output[key])
    return nb


def refresh(path: Path) -> None:
    """Execute the notebook at ``path`` and write it back, cleaned."""
    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="hotmesh-tutorial-") as home:
        env = {**os.environ, "HOTMESH_HOME": home}
        env.pop("HOTMESH_REDIS_URL", None)
        env.pop("REDIS_URL", None)
        old = dict(os.environ)
        os.environ.update(env)  # the kernel inherits this process's environment
        try:
            NotebookClient(
                nb,
                timeout=120,
                kernel_name="python3",
                record_timing=False,  # no timestamps in the committed cells
                resources={"metadata": {"path": HERE}},
            ).execute()
        finally:
            os.environ.clear()
            os.environ.update(old)
            from hotmesh_nb import server

            os.environ["HOTMESH_HOME"] = home
            try:
                server.stop()
            finally:
                os.environ.clear()
                os.environ.update(old)
    nbformat.write(clean(nb), path)
    print(f"refreshed {path.name}")


def main(prefixes: list[str]) -> None:
    """Refresh the tutorials whose names start with one of ``prefixes`` (all without any)."""
    for path in sorted(HERE.glob("*.ipynb")):
        if not prefixes or any(path.name.startswith(p) for p in prefixes):
            refresh(path)


if __name__ == "__main__":
    main(sys.argv[1:])
