"""The prebuilt JupyterLab extension: committed in step with its source, installed by the wheel.

The extension (``labextension/``, YAML highlighting of ``%%hotmesh deploy``
cells) is built with npm at development time into
``hotmesh_nb/notebook/labextension``; the wheel's shared data puts that folder
into ``share/jupyter/labextensions/hotmesh-nb``, so ``pip install`` needs no
node. ``tests/browser/test_highlighting.py`` shows it working in JupyterLab.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import hotmesh_nb.notebook

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "labextension"
BUILT = Path(hotmesh_nb.notebook.__file__).parent / "labextension"
SHARE = "share/jupyter/labextensions/hotmesh-nb/"
REBUILD = "rebuild it: cd labextension && npm install && npm run build"


def test_the_built_extension_matches_its_source() -> None:
    source = json.loads((SOURCE / "package.json").read_text())
    built = json.loads((BUILT / "package.json").read_text())
    for field in ("name", "version", "dependencies"):
        assert built[field] == source[field], f"{field} differs from the source; {REBUILD}"
    assert (BUILT / built["jupyterlab"]["_build"]["load"]).is_file(), REBUILD
    # The minifier keeps regular expressions and strings verbatim: the built code carries
    # the source's pattern of a deploy cell and its plugin id.
    code = (SOURCE / "src" / "index.js").read_text()
    pattern = re.search(r"const DEPLOY_CELL = (/.+/);", code)
    assert pattern is not None
    chunks = "".join(p.read_text() for p in (BUILT / "static").glob("*.js"))
    assert pattern.group(1) in chunks, f"the built extension is older than its source; {REBUILD}"
    assert "hotmesh-nb:deploy-yaml" in chunks


def test_the_wheel_installs_the_extension_for_jupyterlab(tmp_path: Path) -> None:
    built = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from hatchling.build import build_wheel; print(build_wheel(sys.argv[1]))",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    wheel = tmp_path / built.stdout.strip().splitlines()[-1]
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        data = [n.split(".data/data/", 1)[1] for n in names if ".data/data/" in n]
        manifest = json.loads(
            archive.read(next(n for n in names if n.endswith(SHARE + "package.json")))
        )
    load = manifest["jupyterlab"]["_build"]["load"]
    assert SHARE + load in data, data
    assert SHARE + "install.json" in data, data
    expected = {SHARE + str(p.relative_to(BUILT)) for p in BUILT.rglob("*") if p.is_file()}
    assert expected <= set(data), sorted(expected - set(data))
    # No node: the wheel carries built files only, never the extension's sources or modules.
    assert not any("node_modules" in n or n.startswith("labextension/") for n in names)
