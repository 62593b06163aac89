"""A worker process SIGKILLed mid-workflow: the workflow finishes, each effect once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import redis
from waiting import wait_until

import hotmesh_nb
from hotmesh_nb import MeshFlow

HERE = Path(__file__).parent
ROOT = HERE.parent.parent


@pytest.mark.parametrize("workflow_name", ["crashy", "crashy_queued"])
def test_a_killed_worker_does_not_lose_or_repeat_effects(
    redis_url, namespace, workflow_name
) -> None:
    """Killed mid-activity: a local one (run in the replay) or one from the task queue."""
    os.environ["CRASHY_URL"] = redis_url
    os.environ["CRASHY_PREFIX"] = namespace
    admin = redis.Redis.from_url(redis_url, decode_responses=True)
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "crashy.py"), redis_url, namespace],
        stdout=subprocess.PIPE,
        # The package under test first (a checkout may differ from the installed one).
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)])},
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        client = MeshFlow.Client(connection=redis_url, namespace=namespace)
        # A client with no worker: only the subprocess runs workflow code.
        handle = client.workflow.start(args=[3], task_queue="crash", workflow_name=workflow_name)
        wait_until(lambda: admin.get(f"{namespace}:entered:2") == "1", timeout=30)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        import crashy  # the same workflow, served by this process now

        crashy.serve(redis_url, namespace, reclaim_after=1.0)
        assert handle.result(timeout=60) == [1, 2, 3]
        effects = [admin.get(f"{namespace}:effect:{i}") for i in (1, 2, 3)]
        assert effects == ["1", "1", "1"]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
        admin.close()
        hotmesh_nb.shutdown()
