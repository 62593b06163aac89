"""The outbox under SIGKILL: effects that cross partitions are neither lost nor doubled.

A process serving an app with ``relay=True`` (the cluster's path: every effect on
another partition is an ``apply`` message, or a message handled there and acknowledged
after its step) is SIGKILLed while 60 parents start children in other partitions and
signals reach hooks in other partitions. Another process takes over. Every parent ends
with its child's sum and its own signal, exactly one child each, and no signal is kept
twice (a doubled delivery of a signal whose waiter was gone would stay queued).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import redis
from waiting import wait_until

import hotmesh_nb

HERE = Path(__file__).parent
ROOT = HERE.parent.parent
PARENTS = 60


def _spawn(url: str, namespace: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "outbox_role.py"), url, namespace],
        stdout=subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)])},
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def _kill(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    if proc.stdout is not None:
        proc.stdout.close()


def test_a_process_killed_amid_relayed_effects_loses_and_doubles_nothing(
    redis_url, namespace
) -> None:
    import outbox_role

    admin = redis.Redis.from_url(redis_url, decode_responses=True)
    doomed = _spawn(redis_url, namespace)
    try:
        # This process only starts jobs and sends signals: no engine, no worker.
        caller = hotmesh_nb.HotMesh.init(
            "relay", connection=redis_url, namespace=namespace, engine=False
        )
        wait_until(lambda: caller.keys.known)
        ids = [f"parent-{n}" for n in range(PARENTS)]
        for n, job_id in enumerate(ids):
            caller.pub("relay.parent", {"id": job_id, "n": n})
            if n % 3 == 0:  # some signals come before their hook registered (kept early)
                caller.hook("relay.signal", {"id": job_id, "answer": f"a-{n}"})
        # Killed while parents still wait for their children, then twice more, each time
        # a moment after a new process started working through what was left.
        unfinished = sum(caller.get_status(i) != 0 for i in ids)
        _kill(doomed)
        assert unfinished > 0
        for _ in range(2):
            doomed = _spawn(redis_url, namespace)
            time.sleep(0.4)
            _kill(doomed)
        keys = caller.keys
        taker = outbox_role.serve(redis_url, namespace)
        assert taker.keys.count == 8
        for n, job_id in enumerate(ids):
            if n % 3:
                wait_until(lambda job_id=job_id: caller.get_status(job_id) == 1, timeout=30)
                caller.hook("relay.signal", {"id": job_id, "answer": f"a-{n}"})
        wait_until(lambda: all(caller.get_status(i) == 0 for i in ids), timeout=60)
        for n, job_id in enumerate(ids):
            state = caller.get_state(job_id)
            assert state["data"] == {"sum": n + 1000, "answer": f"a-{n}"}, job_id
            children = [f for f in admin.hkeys(keys.job(job_id)) if f.startswith("c:")]
            assert len(children) == 1, (job_id, children)
        # The effects did travel as outbox batches (each leaves its marker)...
        assert sum(len(admin.keys(f"{p.prefix}:r:*")) for p in keys.parts) > 0
        # ... and no signal was kept twice: every early-signal list was consumed.
        early = [k for p in keys.parts for k in admin.keys(f"{p.prefix}:e:*")]
        assert early == []
    finally:
        _kill(doomed)
        admin.close()
        hotmesh_nb.shutdown()
