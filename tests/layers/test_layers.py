"""Layers point downward: no import cycles, and `import hotmesh_nb` stays light."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import hotmesh_nb

PACKAGE_PARENT = Path(hotmesh_nb.__file__).resolve().parents[1]
HEAVY = ("IPython", "ipywidgets", "pandas", "numpy", "graphviz")


def test_every_module_imports_alone_without_the_root_init() -> None:
    done = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("isolated_imports.py")), str(PACKAGE_PARENT)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_importing_the_package_loads_no_notebook_or_dataframe_library() -> None:
    code = f"import sys, hotmesh_nb; print([m for m in {HEAVY!r} if m in sys.modules])"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
