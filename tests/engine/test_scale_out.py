"""Several processes on one namespace share the work; none of them is special."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
from waiting import check_deadline

from hotmesh_nb import HotMesh

pytestmark = pytest.mark.slow

APP = """
app:
  id: farm
  version: '1'
  graphs:
    - subscribes: farm.go
      activities:
        t1:
          type: trigger
        w:
          type: worker
          topic: farm.work
          input: { maps: { n: '{t1.output.data.n}' } }
          job: { maps: { pid: '{$self.output.data.pid}', n: '{$self.output.data.n}' } }
        after:
          type: hook
          job: { maps: { after: true } }
      transitions:
        t1:
          - to: w
        w:
          - to: after
"""


def test_engines_and_workers_in_several_processes_share_the_work(
    redis_url, namespace, tmp_path
) -> None:
    (tmp_path / "farmworker.py").write_text(
        "import os, time\n"
        "def work(msg):\n"
        "    time.sleep(0.01)\n"
        "    return {'pid': os.getpid(), 'n': msg.data['n']}\n"
    )
    command = [
        sys.executable, "-m", "hotmesh_nb.cli", "worker", "farm", "--engine",
        "--topic", "farm.work=farmworker:work", "--namespace", namespace, "--url", redis_url,
    ]  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    procs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    try:
        for proc in procs:
            assert "serving" in proc.stdout.readline()
        # This process only publishes: no engine consumer, no worker.
        client = HotMesh.init("farm", connection=redis_url, namespace=namespace, engine=False)
        client.deploy(APP)
        client.activate("1")
        ids = [client.pub("farm.go", {"n": n}) for n in range(60)]
        deadline = time.monotonic() + 60
        while any(client.get_status(i) != 0 for i in ids):
            check_deadline(deadline, "jobs did not finish")
            time.sleep(0.05)
        states = [client.get_state(i)["data"] for i in ids]
        assert [s["n"] for s in states] == list(range(60))
        assert all(s["after"] is True for s in states)
        workers_used = {s["pid"] for s in states}
        assert workers_used == {p.pid for p in procs}
        members = client.roll_call()
        engines = [m for m in members if m["role"] == "engine"]
        assert {m["pid"] for m in engines} == {p.pid for p in procs}
        assert all(m["processed"] > 0 for m in members if m["role"] == "worker")
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGINT)
        for proc in procs:
            proc.wait(10)
            proc.stdout.close()
