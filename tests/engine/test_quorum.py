"""The quorum from the user's side: roll call across processes, throttles, activation."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

import pandas as pd
from waiting import check_deadline, wait_until

from hotmesh_nb import HotMesh, WorkerMessage

APP = """
app:
  id: crew
  version: '1'
  graphs:
    - subscribes: crew.go
      activities:
        t1:
          type: trigger
        w:
          type: worker
          topic: crew.work
          job: { maps: { by: '{$self.output.data.pid}' } }
      transitions:
        t1:
          - to: w
"""


def test_roll_call_sees_a_worker_in_another_process(mesh, redis_url, namespace, tmp_path) -> None:
    (tmp_path / "crewworker.py").write_text(
        "import os\ndef work(msg):\n    return {'pid': os.getpid()}\n"
    )
    hm = mesh("crew", APP)
    proc = subprocess.Popen(
        [
            sys.executable, "-m", "hotmesh_nb.cli", "worker", "crew",
            "--topic", "crew.work=crewworker:work", "--namespace", namespace, "--url", redis_url,
        ],
        env=dict(os.environ, PYTHONPATH=str(tmp_path)),
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        assert "serving" in proc.stdout.readline()
        assert hm.pubsub("crew.go", {}) == {"by": proc.pid}

        def worker_counted() -> bool:
            # The job is announced a moment before the worker counts its message.
            members = hm.roll_call(delay=0.3)
            return any(m["role"] == "worker" and m["processed"] == 1 for m in members)

        wait_until(worker_counted)
        frame = pd.DataFrame(hm.roll_call())
        worker = frame[frame.role == "worker"]
        assert list(worker.pid) == [proc.pid]
        assert worker.iloc[0].topic == "crew.work" and worker.iloc[0].processed == 1
        engine = frame[frame.role == "engine"]
        assert os.getpid() in list(engine.pid)
        assert {"member", "app", "host", "stream_depth", "in_flight"} <= set(frame.columns)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
        proc.stdout.close()


def test_a_throttled_topic_pauses_and_resumes(mesh, redis_url, namespace) -> None:
    calls: list[float] = []

    def work(msg: WorkerMessage) -> dict:
        calls.append(time.monotonic())
        return {"pid": 0}

    hm = mesh("crew", APP, {"crew.work": work})
    hm.throttle(-1, topic="crew.work")
    job_id = hm.pub("crew.go", {})
    time.sleep(0.5)
    assert calls == [] and hm.get_status(job_id) == 1  # paused: the message waits
    # The throttle is stored: a worker started later (another process) pauses too.
    again = HotMesh.init("crew", connection=redis_url, namespace=namespace)
    assert again.engine.quorum.throttles.delay("crew.work", "x") == float("inf")
    hm.throttle(0, topic="crew.work")
    deadline = time.monotonic() + 10
    while hm.get_status(job_id) != 0:
        check_deadline(deadline)
        time.sleep(0.02)
    assert len(calls) == 1


def test_a_throttle_for_everyone_slows_every_consumer(mesh) -> None:
    done = threading.Event()
    hm = mesh("crew", APP, {"crew.work": lambda m: done.set() or {"pid": 1}})
    hm.throttle(-1)
    hm.pub("crew.go", {})
    assert not done.wait(0.4)
    hm.throttle(0)
    assert done.wait(10)
