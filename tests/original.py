"""The original HotMesh 0.3.32, installed once for the differential tests (Node and npm
are on every machine here; ``HOTMESH_ORIGINAL`` points at an install of your own)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

PACKAGE_DIR = Path(__file__).parent / "mapping" / "node"
"""``package.json`` and ``package-lock.json`` pinning the original (and its ioredis)."""
ORIGINAL_DIR = Path(
    os.environ.get("HOTMESH_ORIGINAL", Path.home() / ".cache" / "hotmesh-nb" / "mapping-original")
)


def install_original() -> Path:
    """The folder holding ``node_modules/@hotmeshio/hotmesh`` (``npm ci`` the first time)."""
    if not (ORIGINAL_DIR / "node_modules" / "@hotmeshio" / "hotmesh").is_dir():
        ORIGINAL_DIR.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(PACKAGE_DIR / name, ORIGINAL_DIR / name)
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--silent"],
            cwd=ORIGINAL_DIR,
            check=True,
            capture_output=True,
            timeout=300,
        )
    return ORIGINAL_DIR
