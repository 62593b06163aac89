"""Chaos: the server dies (SIGKILL, restart from its AOF) and forgets its scripts
(``SCRIPT FLUSH``) while 1,000 jobs and 100 workflows are in flight in three other
processes. Every process recovers unaided; every job and workflow completes once.

The suite runs one round of each fault. For a soak, run more by hand:
``HOTMESH_CHAOS_ROUNDS=20 python -m pytest tests/chaos -p no:cacheprovider``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from waiting import check_deadline

from hotmesh_nb import HotMesh

pytestmark = pytest.mark.slow

ROLES = Path(__file__).with_name("mesh_roles.py")
ROUNDS = int(os.environ.get("HOTMESH_CHAOS_ROUNDS", "1"))


def _cli(home: Path, *args: str) -> str:
    env = dict(os.environ, HOTMESH_HOME=str(home))
    out = subprocess.run(
        [sys.executable, "-m", "hotmesh_nb.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return out.stdout


def _spawn(role: str, url: str, namespace: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(ROLES), role, url, namespace, *extra],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)),
    )


def _expect(proc: subprocess.Popen[str], line: str) -> None:
    got = proc.stdout.readline().strip()
    assert got == line, f"expected {line!r} from the process, got {got!r}"


def _finish(caller: subprocess.Popen[str]) -> dict:
    out, _ = caller.communicate(timeout=300)
    assert caller.returncode == 0, out
    return json.loads(out.strip().splitlines()[-1])


def test_every_process_rides_out_a_server_kill_and_a_script_flush(tmp_path, namespace) -> None:
    home = tmp_path / "home"
    _cli(home, "server", "start")
    url = _cli(home, "server", "url").strip()
    procs: list[subprocess.Popen[str]] = []
    try:
        engine = _spawn("engine", url, namespace)
        procs.append(engine)
        _expect(engine, "ready")
        worker = _spawn("worker", url, namespace)
        procs.append(worker)
        _expect(worker, "ready")

        for round_ in range(ROUNDS):
            # SIGKILL the server mid-flight, restart it from its AOF.
            caller = _spawn("caller", url, namespace, str(2 * round_ + 1))
            procs.append(caller)
            _expect(caller, "waiting")
            pid = json.loads(_cli(home, "server", "status"))["pid"]
            os.kill(pid, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while _alive(pid):
                check_deadline(deadline, "the server did not die")
                time.sleep(0.05)
            time.sleep(1.0)  # an outage every process notices
            _cli(home, "server", "start")
            summary = _finish(caller)
            assert summary == {"jobs": 1000, "flows": 100, "wrong": []}

            # The server forgets every script while jobs run.
            caller = _spawn("caller", url, namespace, str(2 * round_ + 2))
            procs.append(caller)
            _expect(caller, "waiting")
            redis.Redis.from_url(url).script_flush()
            summary = _finish(caller)
            assert summary == {"jobs": 1000, "flows": 100, "wrong": []}

        # Nothing was dead-lettered, and the engine and worker are the same processes.
        assert engine.poll() is None and worker.poll() is None
        hm = HotMesh.init("chaos", connection=url, namespace=namespace, engine=False)
        assert hm.dead_letters() == []
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        import hotmesh_nb

        hotmesh_nb.shutdown()
        _cli(home, "server", "stop")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead for our purpose (the server is detached, so rarely ours to reap).
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False
