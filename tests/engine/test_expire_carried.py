"""An ``expire`` that reads only the trigger is resolved when the work is queued.

Its value cannot change while the worker runs, so the work message carries it and the
answer's step does not read the job for it (MeshCall's per-call ``expire`` is such a
rule). A rule that reads what may change is still resolved when the activity ends.
"""

from __future__ import annotations

import redis

APP = """
app:
  id: keep
  version: '1'
  graphs:
    - subscribes: keep.go
      expire: '{t1.output.data.keep}'
      activities:
        t1:
          type: trigger
        w1:
          type: worker
          topic: keep.work
          job: { maps: { out: '{$self.output.data.out}' } }
      transitions:
        t1:
          - to: w1
    - subscribes: keep.late
      activities:
        t2:
          type: trigger
        w2:
          type: worker
          topic: keep.work
          expire: '{$self.output.data.keep}'
          job: { maps: { out: '{$self.output.data.out}' } }
      transitions:
        t2:
          - to: w2
"""


def _work(message) -> dict:
    return {"out": message.data.get("n", 0), "keep": 300}


def _hmgets(admin: redis.Redis) -> int:
    stats = admin.info("commandstats")
    return int(stats.get("cmdstat_hmget", {}).get("calls", 0))


def test_the_triggers_expire_travels_with_the_work(mesh, redis_url) -> None:
    hm = mesh("keep", APP, {"keep.work": _work})
    app = hm.engine.stepper.apps["1"]
    assert app.expire_at_start("w1") and not app.expire_at_start("w2")
    assert not app.needs_state("w1")
    admin = redis.Redis.from_url(redis_url, decode_responses=True)
    hm.pubsub("keep.go", {"keep": 120})  # warm: the app is loaded
    before = _hmgets(admin)
    for _ in range(10):
        assert hm.pubsub("keep.go", {"keep": 120}) == {"out": 0}
    assert _hmgets(admin) == before  # no step read the job for its expire
    job_id = hm.pub("keep.go", {"keep": 120})
    hm.wait_until_idle(timeout=10)
    assert 100 < admin.ttl(hm.keys.job(job_id)) <= 120


def test_an_expire_that_reads_the_answer_is_resolved_when_the_activity_ends(
    mesh, redis_url
) -> None:
    hm = mesh("keep", APP, {"keep.work": _work})
    admin = redis.Redis.from_url(redis_url, decode_responses=True)
    job_id = hm.pub("keep.late", {"n": 1})
    hm.wait_until_idle(timeout=10)
    assert hm.get_state(job_id)["data"] == {"out": 0}
    assert 280 < admin.ttl(hm.keys.job(job_id)) <= 300
