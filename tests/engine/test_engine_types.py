"""Every activity type end to end: await, hooks (sleep and signals), signal, cycle, interrupt."""

from __future__ import annotations

import threading
import time

import pytest
from waiting import wait_until

import hotmesh_nb
from hotmesh_nb import HotMesh, JobError, Response, WorkerMessage

AWAIT = """
app:
  id: parent
  version: '1'
  graphs:
    - subscribes: parent.go
      activities:
        t1:
          type: trigger
        a1:
          type: await
          topic: child.go
          await: '{t1.output.data.wait}'
          input: { maps: { n: '{t1.output.data.n}' } }
          job:
            maps:
              child_sum: '{$self.output.data.sum}'
              child_id: '{$self.output.data.job_id}'
      transitions:
        t1:
          - to: a1
    - subscribes: child.go
      activities:
        c1:
          type: trigger
        add:
          type: worker
          topic: child.add
          input: { maps: { n: '{c1.output.data.n}' } }
          job: { maps: { sum: '{$self.output.data.sum}' } }
      transitions:
        c1:
          - to: add
"""


def _adder(msg: WorkerMessage) -> Response | dict:
    if msg.data["n"] < 0:
        return Response({"message": "negative numbers are not allowed"}, code=422)
    return {"sum": msg.data["n"] + 100}


def test_await_continues_with_the_childs_data(mesh) -> None:
    hm = mesh("parent", AWAIT, {"child.add": _adder})
    assert hm.pubsub("parent.go", {"n": 5, "wait": True}) == {"child_sum": 105}


def test_await_false_returns_the_child_job_id_at_once(mesh) -> None:
    hm = mesh("parent", AWAIT, {"child.add": _adder})
    out = hm.pubsub("parent.go", {"n": 1, "wait": False})
    child = out["child_id"]
    wait_until(lambda: hm.get_status(child) == 0)
    assert hm.get_state(child)["data"] == {"sum": 101}
    assert hm.get_state(child)["metadata"]["pj"]


def test_a_childs_error_reaches_the_parent_with_its_code(mesh) -> None:
    hm = mesh("parent", AWAIT, {"child.add": _adder})
    with pytest.raises(JobError) as caught:
        hm.pubsub("parent.go", {"n": -1, "wait": True})
    assert caught.value.code == 422


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


def test_a_sleeping_hook_wakes_on_its_timer(mesh) -> None:
    hm = mesh("sleeper", SLEEPER)
    assert hm.pubsub("sleeper.go", {"seconds": 1}, timeout=10) == {"woke": True}


def test_a_timer_job_completes_after_every_process_restarted(mesh, redis_url, namespace) -> None:
    hm = mesh("sleeper", SLEEPER)
    job_id = hm.pub("sleeper.go", {"seconds": 1})
    hotmesh_nb.shutdown()  # every engine of the namespace is gone while the job sleeps
    time.sleep(1.5)
    again = HotMesh.init("sleeper", connection=redis_url, namespace=namespace)
    wait_until(lambda: again.get_status(job_id) == 0)
    assert again.get_state(job_id)["data"] == {"woke": True}


WAITER = """
app:
  id: waiter
  version: '1'
  graphs:
    - subscribes: waiter.go
      expire: 60
      activities:
        t1:
          type: trigger
          stats:
            id: '{$self.input.data.id}'
            key: waiters
            measures:
              - measure: index
                target: '{t1.output.data.group}'
        prep:
          type: worker
          topic: waiter.prep
          input: { maps: { id: '{t1.output.data.id}' } }
        wait:
          type: hook
          job:
            maps:
              answer: '{$self.hook.data.answer}'
      transitions:
        t1:
          - to: prep
        prep:
          - to: wait
      hooks:
        waiter.signal:
          - to: wait
            conditions:
              match:
                - expected: '{t1.output.data.id}'
                  actual: '{$self.hook.data.id}'
"""


def test_a_signal_resumes_the_matching_job(mesh) -> None:
    hm = mesh("waiter", WAITER, {"waiter.prep": lambda m: {}})
    hm.pub("waiter.go", {"id": "w-1", "group": "g"})
    hm.pub("waiter.go", {"id": "w-2", "group": "g"})
    wait_until(lambda: hm.get_status("w-1") == 1 and hm.get_status("w-2") == 1)
    time.sleep(0.2)  # let both hooks register
    assert hm.hook("waiter.signal", {"id": "w-2", "answer": 42}) == "w-2"
    wait_until(lambda: hm.get_status("w-2") == 0)
    assert hm.get_state("w-2")["data"] == {"answer": 42}
    assert hm.get_status("w-1") == 1


def test_a_signal_sent_before_the_hook_registered_is_kept(mesh) -> None:
    release = threading.Event()

    def prep(msg: WorkerMessage) -> dict:
        release.wait(10)
        return {}

    hm = mesh("waiter", WAITER, {"waiter.prep": prep})
    hm.pub("waiter.go", {"id": "early", "group": "g"})
    hm.hook("waiter.signal", {"id": "early", "answer": "first!"})  # the hook is not there yet
    release.set()
    wait_until(lambda: hm.get_status("early") == 0)
    assert hm.get_state("early")["data"] == {"answer": "first!"}


def test_hook_all_reaches_several_jobs(mesh) -> None:
    hm = mesh("waiter", WAITER, {"waiter.prep": lambda m: {}})
    for n in range(3):
        hm.pub("waiter.go", {"id": f"all-{n}", "group": "blue" if n < 2 else "red"})
    wait_until(lambda: all(hm.get_status(f"all-{n}") == 1 for n in range(3)))
    time.sleep(0.2)
    assert hm.hook_all("waiter.signal", {"answer": "blue"}, ["group:blue"]) == 2
    wait_until(lambda: hm.get_status("all-0") == 0 and hm.get_status("all-1") == 0)
    assert hm.get_status("all-2") == 1
    assert hm.hook_all("waiter.signal", {"answer": "rest"}) == 1
    wait_until(lambda: hm.get_status("all-2") == 0)
    assert [hm.get_state(f"all-{n}")["data"]["answer"] for n in range(3)] == [
        "blue",
        "blue",
        "rest",
    ]
    # Ended jobs left their facet sets: the sets do not grow with every job ever run.
    client = hm.connection.client
    sets = [p.facet(f"group:{c}") for p in hm.keys.parts for c in ("blue", "red")]
    wait_until(lambda: sum(hotmesh_nb.runtime.get_runtime().run(_sizes(client, sets))) == 0)


async def _sizes(client, keys: list[str]) -> list[int]:
    return [await client.scard(key) for key in keys]


SIGNALS = """
app:
  id: sig
  version: '1'
  graphs:
    - subscribes: sig.wait
      activities:
        t1:
          type: trigger
          stats:
            id: '{$self.input.data.id}'
            measures:
              - measure: index
                target: '{t1.output.data.parent}'
        held:
          type: hook
          job: { maps: { got: '{$self.hook.data.value}' } }
      transitions:
        t1:
          - to: held
      hooks:
        sig.resume:
          - to: held
            conditions:
              match:
                - expected: '{t1.output.data.id}'
                  actual: '{$self.hook.data.id}'
    - subscribes: sig.one
      activities:
        s1:
          type: trigger
        send:
          type: signal
          subtype: one
          topic: sig.resume
          signal:
            maps:
              id: '{s1.output.data.target}'
              value: one
          job: { maps: { sent: true } }
      transitions:
        s1:
          - to: send
    - subscribes: sig.all
      activities:
        a1:
          type: trigger
        sendall:
          type: signal
          subtype: all
          topic: sig.resume
          key_name: parent
          key_value: '{a1.output.data.parent}'
          signal:
            maps:
              value: all
      transitions:
        a1:
          - to: sendall
"""


def test_signal_activity_one_and_all(mesh) -> None:
    hm = mesh("sig", SIGNALS)
    for job_id, parent in (("x1", "p"), ("x2", "p"), ("x3", "q")):
        hm.pub("sig.wait", {"id": job_id, "parent": parent})
    assert hm.pubsub("sig.one", {"target": "x3"}) == {"sent": True}
    wait_until(lambda: hm.get_status("x3") == 0)
    assert hm.get_state("x3")["data"] == {"got": "one"}
    hm.pubsub("sig.all", {"parent": "p"})
    wait_until(lambda: hm.get_status("x1") == 0 and hm.get_status("x2") == 0)
    assert hm.get_state("x1")["data"] == {"got": "all"}
    assert hm.get_state("x2")["data"] == {"got": "all"}


CYCLE = """
app:
  id: loop
  version: '1'
  graphs:
    - subscribes: loop.go
      activities:
        t1:
          type: trigger
          job: { maps: { count: 0 } }
        pivot:
          type: hook
          cycle: true
          output: { maps: { count: '{$job.data.count}' } }
          job: { maps: { count: '{$self.output.data.count}' } }
        again:
          type: cycle
          ancestor: pivot
          input:
            maps:
              count:
                '@pipe':
                  - ['{$job.data.count}', 1]
                  - ['{@math.add}']
        done:
          type: hook
          job: { maps: { finished: true } }
      transitions:
        t1:
          - to: pivot
        pivot:
          - to: again
            conditions:
              match:
                - expected: true
                  actual:
                    '@pipe':
                      - ['{pivot.output.data.count}', '{t1.output.data.times}']
                      - ['{@conditional.less_than}']
          - to: done
            conditions:
              match:
                - expected: false
                  actual:
                    '@pipe':
                      - ['{pivot.output.data.count}', '{t1.output.data.times}']
                      - ['{@conditional.less_than}']
"""


@pytest.mark.parametrize("times", [1, 5])
def test_cycle_carries_job_data_across_iterations(mesh, times: int) -> None:
    hm = mesh("loop", CYCLE)
    assert hm.pubsub("loop.go", {"times": times}) == {"count": times, "finished": True}


def test_an_activitys_rules_see_job_data_from_before_its_own_job_maps(mesh) -> None:
    # As the original (checked side by side): the pivot's transition conditions read
    # $job.data as it was when the pivot began, so this loop runs one extra time.
    stale = CYCLE.replace("'{pivot.output.data.count}', '{t1", "'{$job.data.count}', '{t1")
    hm = mesh("loop", stale)
    assert hm.pubsub("loop.go", {"times": 3}) == {"count": 4, "finished": True}


def test_a_long_cycle_finishes_with_a_bounded_job(mesh) -> None:
    hm = mesh("loop", CYCLE)
    job_id = hm.pub("loop.go", {"times": 500})
    wait_until(lambda: hm.get_status(job_id) == 0, timeout=120)
    assert hm.get_state(job_id)["data"] == {"count": 500, "finished": True}
    # Old iterations are pruned: the job keeps the last ones, not all 500.
    fields = _fields(hm, job_id)
    assert len(fields) < 150
    assert len([e for e in hm.export(job_id)["timeline"] if e["activity"] == "pivot"]) <= 21


INTERRUPTS = """
app:
  id: stop
  version: '1'
  graphs:
    - subscribes: stop.self
      activities:
        t1:
          type: trigger
        halt:
          type: interrupt
          reason: stopped on purpose
          throw: '{t1.output.data.throw}'
          job: { maps: { before: true } }
        never:
          type: hook
          job: { maps: { never: true } }
      transitions:
        t1:
          - to: halt
        halt:
          - to: never
    - subscribes: stop.other
      activities:
        o1:
          type: trigger
        kill:
          type: interrupt
          target: '{o1.output.data.target}'
          topic: stop.parent
          job: { maps: { killed: '{o1.output.data.target}' } }
      transitions:
        o1:
          - to: kill
    - subscribes: stop.parent
      activities:
        p1:
          type: trigger
          stats:
            id: '{$self.input.data.id}'
        child:
          type: await
          topic: stop.child
          input: { maps: { id: '{p1.output.data.id}' } }
      transitions:
        p1:
          - to: child
    - subscribes: stop.child
      activities:
        c1:
          type: trigger
        slow:
          type: worker
          topic: stop.slow
      transitions:
        c1:
          - to: slow
"""


def test_self_interrupt_throws_410_or_ends_quietly(mesh) -> None:
    hm = mesh("stop", INTERRUPTS)
    with pytest.raises(JobError) as caught:
        hm.pubsub("stop.self", {"throw": True})
    assert caught.value.code == 410
    assert "stopped on purpose" in caught.value.message
    assert hm.pubsub("stop.self", {"throw": False}) == {"before": True}


def test_interrupt_with_descend_stops_the_child(mesh) -> None:
    release = threading.Event()
    hm = mesh("stop", INTERRUPTS, {"stop.slow": lambda m: release.wait(20) and {}})
    hm.pub("stop.parent", {"id": "boss"})
    wait_until(lambda: any(f.startswith("c:") for f in _fields(hm, "boss")))
    child = next(f[2:] for f in _fields(hm, "boss") if f.startswith("c:"))
    assert hm.get_status(child) == 1
    assert hm.interrupt("boss", descend=True, reason="enough") is True
    assert hm.get_status("boss") < 0
    wait_until(lambda: hm.get_status(child) < 0)
    assert "enough" in hm.get_state(child)["metadata"]["err"]
    assert hm.interrupt("boss") is False  # already ended
    release.set()


def test_an_interrupt_activity_stops_another_job(mesh) -> None:
    release = threading.Event()
    hm = mesh("stop", INTERRUPTS, {"stop.slow": lambda m: release.wait(20) and {}})
    hm.pub("stop.parent", {"id": "victim"})
    wait_until(lambda: hm.get_status("victim") == 1)
    assert hm.pubsub("stop.other", {"target": "victim"}) == {"killed": "victim"}
    assert hm.get_status("victim") < 0
    assert '"code":410' in hm.get_state("victim")["metadata"]["err"]
    # Interrupting a job that already ended changes nothing and the interrupter goes on
    # (the original stalls it: a deliberate difference, see FIDELITY.md).
    assert hm.pubsub("stop.other", {"target": "victim"}) == {"killed": "victim"}
    assert '"code":410' in hm.get_state("victim")["metadata"]["err"]
    release.set()


def _fields(hm: HotMesh, job_id: str) -> list[str]:
    import redis

    client = redis.Redis.from_url(hm.connection.url, decode_responses=True)
    return client.hkeys(hm.keys.job(job_id))


PENDING = """
app:
  id: later
  version: '1'
  graphs:
    - subscribes: later.go
      activities:
        t1:
          type: trigger
          job: { maps: { started: true } }
        w:
          type: worker
          topic: later.work
      transitions:
        t1:
          - to: w
"""


def test_a_pending_job_waits_unstarted(mesh) -> None:
    calls: list[str] = []
    hm = mesh("later", PENDING, {"later.work": lambda m: calls.append(m.metadata["jid"])})
    job_id = hm.pub("later.go", {"x": 1}, pending=30)
    assert hm.get_status(job_id) == -1
    time.sleep(0.3)
    assert calls == []


EMITTER = """
app:
  id: emitter
  version: '1'
  graphs:
    - subscribes: emitter.go
      publishes: emitter.out
      activities:
        t1:
          type: trigger
          emit: true
          job: { maps: { stage: started } }
        w:
          type: worker
          topic: emitter.work
          job: { maps: { stage: finished } }
      transitions:
        t1:
          - to: w
"""


def test_emit_sends_interim_data_to_subscribers(mesh) -> None:
    release = threading.Event()
    hm = mesh("emitter", EMITTER, {"emitter.work": lambda m: release.wait(10) and {}})
    seen: list[dict] = []
    hm.psub("emitter.out.*", lambda topic, job: seen.append(job["data"]))
    job_id = hm.pub("emitter.go", {})
    wait_until(lambda: len(seen) == 1)
    assert seen[0] == {"stage": "started"}
    release.set()
    wait_until(lambda: len(seen) == 2)
    assert seen[1] == {"stage": "finished"}
    assert hm.get_state(job_id)["data"] == {"stage": "finished"}


THRESHOLD = """
app:
  id: gate
  version: '1'
  graphs:
    - subscribes: gate.go
      activities:
        t1:
          type: trigger
          stats:
            id: '{$self.input.data.id}'
        hold:
          type: hook
          job: { maps: { held: '{$self.hook.data.v}' } }
        w:
          type: worker
          topic: gate.work
        gate:
          type: hook
          statusThreshold: '{t1.output.data.threshold}'
          job: { maps: { gated: true } }
      transitions:
        t1:
          - to: hold
          - to: w
        w:
          - to: gate
      hooks:
        gate.signal:
          - to: hold
            conditions:
              match:
                - expected: '{t1.output.data.id}'
                  actual: '{$self.hook.data.id}'
"""


def test_status_threshold_closes_a_job_held_open_by_a_hook(mesh) -> None:
    hm = mesh("gate", THRESHOLD, {"gate.work": lambda m: {}})
    # Two threads are open when 'gate' is reached (the waiting hook and this one):
    # a threshold of 2 closes both and ends the job without running 'gate'.
    hm.pub("gate.go", {"id": "g2", "threshold": 2})
    wait_until(lambda: hm.get_status("g2") == 0)
    assert hm.get_state("g2")["data"] == {}
    # A threshold of 1 lets 'gate' run; the job then waits for its hook.
    hm.pub("gate.go", {"id": "g1", "threshold": 1})
    wait_until(lambda: "gated" in hm.get_state("g1")["data"])
    assert hm.get_status("g1") == 1
    hm.hook("gate.signal", {"id": "g1", "v": 7})
    wait_until(lambda: hm.get_status("g1") == 0)
    assert hm.get_state("g1")["data"] == {"gated": True, "held": 7}


EXPIRING = """
app:
  id: brief
  version: '1'
  graphs:
    - subscribes: brief.go
      publishes: brief.done
      expire: '{t1.output.data.keep}'
      activities:
        t1:
          type: trigger
          job: { maps: { kept: '{$self.output.data.keep}' } }
        open:
          type: hook
          persist: '{t1.output.data.persist}'
          job: { maps: { persisted: true } }
        wait:
          type: hook
      transitions:
        t1:
          - to: open
        open:
          - to: wait
      hooks:
        brief.signal:
          - to: wait
            conditions:
              match:
                - expected: '{$job.metadata.jid}'
                  actual: '{$self.hook.data.id}'
"""


def test_a_graphs_expire_rule_removes_the_finished_job(mesh) -> None:
    hm = mesh("brief", EXPIRING)
    job_id = hm.pub("brief.go", {"keep": 1, "persist": False})
    hm.hook("brief.signal", {"id": job_id})
    wait_until(lambda: hm.get_status(job_id) == 0)
    assert hm.get_state(job_id)["data"]["kept"] == 1

    def gone() -> bool:
        try:
            hm.get_state(job_id)
        except hotmesh_nb.JobNotFoundError:
            return True
        return False

    wait_until(gone)


def test_persist_announces_completion_while_the_job_stays_open(mesh) -> None:
    hm = mesh("brief", EXPIRING)
    seen: list[dict] = []
    hm.sub("brief.done", lambda topic, job: seen.append(job))
    hm.psub("brief.done.*", lambda topic, job: seen.append(job))
    job_id = hm.pub("brief.go", {"keep": 60, "persist": True})
    wait_until(lambda: len(seen) >= 1)
    assert seen[0]["data"]["persisted"] is True
    assert hm.get_status(job_id) == 1  # still open: its hook waits for a signal
    hm.unsub("brief.done")
    hm.hook("brief.signal", {"id": job_id})
    wait_until(lambda: hm.get_status(job_id) == 0)
    wait_until(lambda: len(seen) >= 2)
