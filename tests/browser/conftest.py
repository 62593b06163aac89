"""JupyterLab in a real browser: Debian's chromium driven by playwright's Python API.

No browser can be downloaded here (``playwright install`` fetches one), so the
tests use the system chromium through ``executable_path``. The session fixture
:func:`chromium_path` installs Debian's ``chromium`` with apt-get when it is
missing and this runs as root (as on CI); elsewhere install it yourself
(``apt-get install chromium``) or point ``HOTMESH_CHROMIUM`` at a Chromium binary.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from jlab import ARTEFACTS, Lab

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def _find_chromium() -> str | None:
    override = os.environ.get("HOTMESH_CHROMIUM")
    if override:
        return override
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The system Chromium, installed from Debian's packages when missing (as root)."""
    found = _find_chromium()
    if found is None and shutil.which("apt-get") and os.geteuid() == 0:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, timeout=600)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "chromium"], check=True, env=env, timeout=900
        )
        found = _find_chromium()
    if found is None:
        pytest.fail(
            "no Chromium found: install Debian's chromium (apt-get install chromium) or set "
            "HOTMESH_CHROMIUM to a Chromium binary"
        )
    return found


@pytest.fixture(scope="module")
def lab(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """JupyterLab over a copy of the tutorials; kernels use the test server (environment)."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    root = tmp_path_factory.mktemp("lab")
    for notebook in NOTEBOOKS.glob("*.ipynb"):
        shutil.copy(notebook, root / notebook.name)
    server = Lab(root)
    yield server
    server.close()


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[object]:
    """A headless Chromium page of 1400 x 1000 pixels."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        chromium = driver.chromium.launch(
            executable_path=chromium_path, headless=True, args=["--no-sandbox"]
        )
        page = chromium.new_page(viewport={"width": 1400, "height": 1000})
        yield page
        chromium.close()
