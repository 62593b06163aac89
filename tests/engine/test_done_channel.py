"""Who hears a completion: the done channel is skipped only when nobody else can wait.

A ``pubsub`` job whose worker lives in the caller's process is settled from the
reply of the step that ends it, and nothing is published on the done channel. A
waiter in another process that comes while the job runs marks the job, and the
completion is published for it again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading

import redis
from waiting import wait_until

import hotmesh_nb
from hotmesh_nb import HotMesh, Worker
from hotmesh_nb.runtime import get_runtime

APP = """
app:
  id: quiet
  version: '1'
  graphs:
    - subscribes: quiet.go
      activities:
        t1:
          type: trigger
        w1:
          type: worker
          topic: quiet.work
          input:
            maps:
              n: '{t1.output.data.n}'
          job:
            maps:
              doubled: '{$self.output.data.doubled}'
      transitions:
        t1:
          - to: w1
"""

LATE_WAITER = """
import json, sys
from hotmesh_nb import HotMesh
from hotmesh_nb.runtime import get_runtime

url, namespace, job_id = sys.argv[1:4]

async def main():
    hm = await HotMesh.init_async("quiet", connection=url, namespace=namespace, engine=False)
    # As a handle's result does: register, then look at the job.
    future = hm.engine.subscriptions.wait(job_id)
    status = await hm.get_status_async(job_id)
    print("waiting" if status > 0 else "ended", flush=True)
    payload = await future
    print(json.dumps(payload["d"]), flush=True)

get_runtime().run(main())
"""


def _start(redis_url: str, namespace: str, callback) -> HotMesh:
    hm = HotMesh.init(
        "quiet",
        connection=redis_url,
        namespace=namespace,
        workers=[Worker("quiet.work", callback)],
    )
    hm.deploy(APP)
    hm.activate("1")
    return hm


def test_a_job_waited_for_where_it_ends_is_not_published(redis_url: str, namespace: str) -> None:
    hm = _start(redis_url, namespace, lambda msg: {"doubled": msg.data["n"] * 2})
    admin = redis.Redis.from_url(redis_url, decode_responses=True)
    listener = admin.pubsub()
    channels = [part.done_channel for part in hm.keys.parts]
    listener.ssubscribe(*channels)
    for _ in channels:
        assert listener.get_message(timeout=10)["type"] == "ssubscribe"
    try:
        for n in range(5):
            assert hm.pubsub("quiet.go", {"n": n}) == {"doubled": 2 * n}
        # A message of our own closes the window: whatever the jobs published came before.
        admin.spublish(channels[0], json.dumps({"k": "sentinel"}))
        seen = []
        while True:
            message = listener.get_message(timeout=10)
            assert message is not None, "the sentinel never came back"
            if message["type"] != "smessage":
                continue
            payload = json.loads(message["data"])
            if payload.get("k") == "sentinel":
                break
            seen.append(payload)
        assert seen == []
    finally:
        listener.close()
        admin.close()
        hotmesh_nb.shutdown()


def test_a_waiter_in_another_process_still_hears_the_completion(
    redis_url: str, namespace: str
) -> None:
    started = threading.Event()
    release = threading.Event()
    job_ids: list[str] = []

    def slow(msg) -> dict:
        job_ids.append(msg.metadata["jid"])
        started.set()
        release.wait(60)
        return {"doubled": msg.data["n"] * 2}

    hm = _start(redis_url, namespace, slow)
    results: list[dict] = []
    caller = threading.Thread(target=lambda: results.append(hm.pubsub("quiet.go", {"n": 21})))
    caller.start()
    waiter = None
    try:
        wait_until(started.is_set)
        job_id = job_ids[0]
        env = dict(os.environ)
        waiter = subprocess.Popen(
            [sys.executable, "-c", LATE_WAITER, redis_url, namespace, job_id],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert waiter.stdout is not None
        assert waiter.stdout.readline().strip() == "waiting"
        admin = redis.Redis.from_url(redis_url, decode_responses=True)
        try:
            wait_until(lambda: admin.hexists(hm.keys.job(job_id), "W"))
        finally:
            admin.close()
        release.set()
        assert json.loads(waiter.stdout.readline()) == {"doubled": 42}
        assert waiter.wait(60) == 0
        caller.join(60)
        assert results == [{"doubled": 42}]
    finally:
        release.set()
        if waiter is not None:
            if waiter.poll() is None:
                waiter.kill()
                waiter.wait()
            if waiter.stdout is not None:
                waiter.stdout.close()
        caller.join(60)
        hotmesh_nb.shutdown()


def test_a_late_waiter_of_a_job_that_just_ended_is_settled_from_its_hash(
    redis_url: str, namespace: str
) -> None:
    job_ids: list[str] = []

    def work(msg) -> dict:
        job_ids.append(msg.metadata["jid"])
        return {"doubled": msg.data["n"] * 2}

    hm = _start(redis_url, namespace, work)
    try:
        # Settled here, from the step's reply: nothing was published for this job.
        assert hm.pubsub("quiet.go", {"n": 4}) == {"doubled": 8}

        async def late() -> dict:
            # No status check of our own: the mark finds the job ended and settles us.
            return await hm.engine.subscriptions.wait(job_ids[0])

        payload = get_runtime().run(late())
        assert payload["d"] == {"doubled": 8}
    finally:
        hotmesh_nb.shutdown()
