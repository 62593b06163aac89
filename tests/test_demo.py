"""``hotmesh-nb demo``: the README's first command, as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys


def test_the_demo_runs_against_the_configured_server(redis_url: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "hotmesh_nb.cli", "demo", "--say", "bonjour"],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, HOTMESH_REDIS_URL=redis_url),
    )
    assert out.returncode == 0, out.stderr
    assert "== demo: hotmesh" in out.stdout
    assert "{'reply': 'bonjour, from a Python worker'}" in out.stdout
    assert "w1   worker   success  code 200" in out.stdout
    assert "the function ran 2 times" in out.stdout
    assert "the cron ran 2 times" in out.stdout
    assert "result: '¡Bonjour, HotMesh!' after 2 activity attempts" in out.stdout
    assert "== demo: meshdata" in out.stdout and "mouse" in out.stdout


def test_an_unknown_demo_names_the_known_ones(redis_url: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "hotmesh_nb.cli", "demo", "nope"],
        capture_output=True,
        text=True,
        timeout=120,
        env=dict(os.environ, HOTMESH_REDIS_URL=redis_url),
    )
    assert out.returncode == 2 and "hotmesh" in out.stdout
