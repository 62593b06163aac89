"""The timer scout: idle at no cost, woken by timers of any process, through outages."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from waiting import check_deadline, wait_until

import hotmesh_nb
from hotmesh_nb import EngineConfig, HotMesh
from hotmesh_nb.engine._consumer import TRIM_INTERVAL
from hotmesh_nb.engine._scout import Scout

SLEEPER = """
app:
  id: sleeper
  version: '1'
  graphs:
    - subscribes: sleeper.go
      activities:
        t1:
          type: trigger
        nap:
          type: hook
          sleep: '{t1.output.data.seconds}'
          job: { maps: { woke: true } }
      transitions:
        t1:
          - to: nap
"""

BLOCKING = {"xread", "xreadgroup"}
"""The blocking reads an idle engine may send (its stream consumer's and its scout's)."""


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


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A server of this test alone (its command counts are the test's; it may be killed)."""
    home = tmp_path / "home"
    _cli(home, "server", "start")
    try:
        yield home, _cli(home, "server", "url").strip()
    finally:
        hotmesh_nb.shutdown()
        _cli(home, "server", "stop")


def _scout(hm: HotMesh) -> Scout:
    assert hm.engine.scout is not None, "an engine that consumes runs a scout"
    return hm.engine.scout


def _idle(scout: Scout) -> bool:
    """The scout watches its wake streams, has no timer left to fire, and waits."""
    watchers = 1 if not scout.split else len(scout._next_due)
    return scout.watching == watchers and all(due is None for due in scout._next_due)


def _command_counts(client: redis.Redis) -> dict[str, int]:
    return {
        name.removeprefix("cmdstat_"): stats["calls"]
        for name, stats in client.info("commandstats").items()
    }


def test_an_idle_engine_sends_nothing_but_blocking_reads(own_server, namespace) -> None:
    _, url = own_server
    # reclaim_after=0: the stream consumer's reclaim loop (a look every reclaim_after / 2)
    # is not the scout's; this test watches the scout.
    hm = HotMesh.init(
        "sleeper",
        connection=url,
        namespace=namespace,
        config=EngineConfig(block_ms=1000, reclaim_after=0),
    )
    hm.deploy(SLEEPER)
    hm.activate("1")
    # A timer comes and goes first, so the scout has fired once and has nothing left.
    assert hm.pubsub("sleeper.go", {"seconds": 1}, timeout=20) == {"woke": True}
    scout = _scout(hm)
    wait_until(lambda: _idle(scout))
    # The stream consumer trims what it acknowledged once, within its trim interval.
    time.sleep(2 * TRIM_INTERVAL)
    looks = scout.looks
    admin = redis.Redis.from_url(url, decode_responses=True)
    before = _command_counts(admin)
    time.sleep(3.0)  # the window watched, not a speed claim
    after = _command_counts(admin)
    admin.close()
    sent = {
        name: after[name] - before.get(name, 0)
        for name in after
        if after[name] != before.get(name, 0) and name not in BLOCKING | {"info"}
    }
    assert sent == {}
    assert scout.looks == looks


def test_a_timer_set_by_another_process_wakes_an_idle_scout(mesh, redis_url, namespace) -> None:
    hm = mesh("sleeper", SLEEPER)
    scout = _scout(hm)
    wait_until(lambda: _idle(scout))
    # Process A has no engine (so no scout): it starts the job, whose sleep timer it
    # sets in its own step, and exits. Only this process's engine can fire the timer,
    # and it has no timer of its own to wake it: the wake stream must.
    starter = (
        "import sys, hotmesh_nb\n"
        "from hotmesh_nb import HotMesh\n"
        "hm = HotMesh.init('sleeper', connection=sys.argv[1], namespace=sys.argv[2], "
        "engine=False)\n"
        "print(hm.pub('sleeper.go', {'seconds': 1}))\n"
        "hotmesh_nb.shutdown()\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", starter, redis_url, namespace],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)),
    )
    job_id = out.stdout.strip().splitlines()[-1]
    wait_until(lambda: hm.get_status(job_id) == 0)
    assert hm.get_state(job_id)["data"] == {"woke": True}
    assert scout.fired == 1


def test_many_timers_due_together_fire_once_each_with_several_engines(
    mesh, redis_url, namespace
) -> None:
    hm = mesh("sleeper", SLEEPER)
    # Two more engines in their own processes: every scout wakes for the same timers.
    others = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys, time, hotmesh_nb\n"
                "from hotmesh_nb import HotMesh\n"
                "hm = HotMesh.init('sleeper', connection=sys.argv[1], namespace=sys.argv[2])\n"
                "print('ready', flush=True)\n"
                "sys.stdin.read()\n"
                "scout = hm.engine.scout\n"
                "print(scout.fired, scout.looks, flush=True)\n"
                "hotmesh_nb.shutdown()\n",
                redis_url,
                namespace,
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)),
        )
        for _ in range(2)
    ]
    try:
        for proc in others:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready"
        job_ids = [hm.pub("sleeper.go", {"seconds": 1}) for _ in range(20)]
        for job_id in job_ids:
            wait_until(lambda job_id=job_id: hm.get_status(job_id) == 0)
        assert all(hm.get_state(j)["data"] == {"woke": True} for j in job_ids)
        # Each timer was fired once, by whichever scout came first.
        fired = [_scout(hm).fired]
        for proc in others:
            assert proc.stdin is not None and proc.stdout is not None
            proc.stdin.close()
            fired.append(int(proc.stdout.readline().split()[0]))
        assert sum(fired) == len(job_ids)
    finally:
        for proc in others:
            if proc.stdin is not None and not proc.stdin.closed:
                proc.stdin.close()
            proc.wait(timeout=30)
            if proc.stdout is not None:
                proc.stdout.close()


def test_a_timer_fires_after_the_server_was_killed_and_restarted(own_server, namespace) -> None:
    home, url = own_server
    hm = HotMesh.init("sleeper", connection=url, namespace=namespace)
    hm.deploy(SLEEPER)
    hm.activate("1")
    scout = _scout(hm)
    wait_until(lambda: _idle(scout))
    job_id = hm.pub("sleeper.go", {"seconds": 3})
    time.sleep(1.2)  # the server's AOF (fsync every second) holds the timer
    pid = json.loads(_cli(home, "server", "status"))["pid"]
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and _state(pid) != "Z":
        check_deadline(deadline, "the server did not die")
        time.sleep(0.05)
    time.sleep(2.5)  # the timer falls due while the server is away
    _cli(home, "server", "start")
    wait_until(lambda: hm.get_status(job_id) == 0, timeout=30)
    assert hm.get_state(job_id)["data"] == {"woke": True}
    # The scout still watches: a timer set after the outage fires too.
    assert hm.pubsub("sleeper.go", {"seconds": 1}, timeout=20) == {"woke": True}


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2]
    except OSError:
        return "Z"
