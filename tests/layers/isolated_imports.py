"""Import every module of hotmesh_nb on its own, with the root package stubbed.

``python isolated_imports.py PACKAGE_PARENT`` prints one line per module that fails
and exits 1 if any does. The stub stands in for ``hotmesh_nb/__init__.py`` so that
the order in which ``__init__`` imports things cannot hide an import cycle; our
modules are forgotten before each import (third-party ones stay loaded: they are
not ours to check and reloading them would only cost time).
"""

from __future__ import annotations

import importlib
import sys
import types
from pathlib import Path


def modules(root: Path) -> list[str]:
    names = []
    for path in sorted(root.rglob("*.py")):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if len(parts) > 1:
            names.append(".".join(parts))
    return names


def main() -> int:
    root = Path(sys.argv[1]) / "hotmesh_nb"
    failed = 0
    for name in modules(root):
        for loaded in [m for m in sys.modules if m.split(".")[0] == "hotmesh_nb"]:
            del sys.modules[loaded]
        stub = types.ModuleType("hotmesh_nb")
        stub.__path__ = [str(root)]
        sys.modules["hotmesh_nb"] = stub
        try:
            importlib.import_module(name)
        except Exception as exc:
            failed += 1
            print(f"{name}: {type(exc).__name__}: {exc}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
