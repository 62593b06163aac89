"""A JupyterLab server for the browser tests."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

from waiting import wait_until

import hotmesh_nb.notebook

ARTEFACTS = Path(__file__).resolve().parents[2] / "test-artefacts" / "browser"
"""Where the screenshots and the server log go (kept after the run, ignored by git)."""
LABEXTENSION = Path(hotmesh_nb.notebook.__file__).parent / "labextension"
"""The prebuilt JupyterLab extension of the code under test (pip installs the same folder
into ``share/jupyter/labextensions/hotmesh-nb``)."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Lab:
    """A JupyterLab server on a private port and token, serving a copy of the tutorials."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = _free_port()
        self.token = secrets.token_hex(16)
        self.log = (ARTEFACTS / "jupyterlab.log").open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                "--allow-root",
                f"--port={self.port}",
                "--ip=127.0.0.1",
                f"--ServerApp.token={self.token}",
                f"--ServerApp.root_dir={root}",
                "--LabApp.news_url=",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            env={
                **os.environ,
                "JUPYTER_CONFIG_DIR": str(root / ".jupyter"),
                # A workspace of its own: no tabs restored from another run.
                "JUPYTERLAB_WORKSPACES_DIR": str(root / ".workspaces"),
                "JUPYTERLAB_SETTINGS_DIR": str(self._settings(root)),
                # First on JupyterLab's search path: the extension of the code under test,
                # not whichever one the environment happens to have installed.
                "JUPYTER_PATH": os.pathsep.join(
                    p for p in (str(self._extensions(root)), os.environ.get("JUPYTER_PATH")) if p
                ),
            },
        )
        wait_until(self.ready, timeout=60)

    @staticmethod
    def _settings(root: Path) -> Path:
        """JupyterLab settings: every cell rendered (no windowing), so all outputs can be
        measured; no news or update checks."""
        folder = root / ".lab-settings"
        tracker = folder / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
        tracker.parent.mkdir(parents=True, exist_ok=True)
        tracker.write_text(json.dumps({"windowingMode": "none"}))
        news = folder / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
        news.parent.mkdir(parents=True, exist_ok=True)
        news.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        return folder

    @staticmethod
    def _extensions(root: Path) -> Path:
        """A Jupyter data folder holding only hotmesh_nb's prebuilt lab extension."""
        folder = root / ".jupyter-data"
        shutil.copytree(LABEXTENSION, folder / "labextensions" / "hotmesh-nb")
        return folder

    def url(self, path: str) -> str:
        """The address of ``path`` (``lab/tree/01-hotmesh.ipynb``) with the token."""
        joiner = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}/{path}{joiner}token={self.token}"

    def ready(self) -> bool:
        """Whether the server answers."""
        if self.process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited; see {ARTEFACTS / 'jupyterlab.log'}")
        try:
            with urllib.request.urlopen(self.url("api/status"), timeout=2) as reply:
                return reply.status == 200
        except OSError:
            return False

    def close(self) -> None:
        """Stop the server (it stops its kernels)."""
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
