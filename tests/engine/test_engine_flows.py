"""End-to-end YAML flows on a real server: the engine core from the user's side."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from waiting import check_deadline

import hotmesh_nb
from hotmesh_nb import (
    DuplicateJobError,
    HotMesh,
    HotMeshError,
    JobError,
    Response,
    ValidationError,
    Worker,
    WorkerMessage,
)

SEED = """
app:
  id: myfirstapp
  version: '1'
  graphs:
    - subscribes: myfirstapp.test
      activities:
        t1:
          type: trigger
        w1:
          type: worker
          topic: work.do
      transitions:
        t1:
          - to: w1
"""


def test_the_seed_example_returns_empty_data(mesh) -> None:
    seen: list[WorkerMessage] = []

    def work(msg: WorkerMessage) -> dict:
        seen.append(msg)
        return {"metadata": dict(msg.metadata), "data": {}}

    hm = mesh("myfirstapp", SEED, {"work.do": work})
    assert hm.pubsub("myfirstapp.test", {}) == {}
    assert seen[0].metadata["aid"] == "w1" and seen[0].metadata["topic"] == "work.do"


SEQUENCE = """
app:
  id: seq
  version: '1'
  graphs:
    - subscribes: seq.start
      activities:
        t1:
          type: trigger
          job:
            maps:
              input: '{$self.output.data.text}'
        upper:
          type: worker
          topic: seq.upper
          input:
            maps:
              text: '{t1.output.data.text}'
        count:
          type: worker
          topic: seq.count
          input:
            maps:
              text: '{upper.output.data.text}'
              suffix:
                '@pipe':
                  - ['{t1.output.data.text}', '!']
                  - ['{@string.concat}']
          job:
            maps:
              shout: '{upper.output.data.text}'
              length: '{$self.output.data.length}'
              excited: '{$self.output.data.suffix}'
      transitions:
        t1:
          - to: upper
        upper:
          - to: count
"""


def test_a_sequence_of_workers_with_mapped_data(mesh) -> None:
    def upper(msg: WorkerMessage) -> dict:
        return {"text": msg.data["text"].upper()}

    async def count(msg: WorkerMessage) -> dict:
        await asyncio.sleep(0)
        return {"length": len(msg.data["text"]), "suffix": msg.data["suffix"]}

    hm = mesh("seq", SEQUENCE, {"seq.upper": upper, "seq.count": count})
    out = hm.pubsub("seq.start", {"text": "hello"})
    assert out == {"input": "hello", "shout": "HELLO", "length": 5, "excited": "hello!"}


FAN = """
app:
  id: fan
  version: '1'
  graphs:
    - subscribes: fan.go
      expire: 120
      activities:
        t1:
          type: trigger
        a:
          type: worker
          topic: fan.work
          input: { maps: { n: 1 } }
          job: { maps: { a: '{$self.output.data.n}' } }
        b:
          type: worker
          topic: fan.work
          input: { maps: { n: 2 } }
          job: { maps: { b: '{$self.output.data.n}' } }
        c:
          type: worker
          topic: fan.work
          input: { maps: { n: 3 } }
          job: { maps: { c: '{$self.output.data.n}' } }
        anchor:
          type: hook
          job: { maps: { anchored: true } }
      transitions:
        t1:
          - to: a
          - to: b
          - to: anchor
        anchor:
          - to: c
"""


def test_parallel_fan_out_and_fan_in(mesh) -> None:
    order: list[int] = []
    lock = threading.Lock()

    def work(msg: WorkerMessage) -> dict:
        time.sleep(0.02 * (4 - msg.data["n"]))  # finish in reverse order
        with lock:
            order.append(msg.data["n"])
        return {"n": msg.data["n"] * 10}

    hm = mesh("fan", FAN, {"fan.work": work})
    out = hm.pubsub("fan.go", {})
    assert out == {"a": 10, "b": 20, "c": 30, "anchored": True}
    assert sorted(order) == [1, 2, 3]


CONDITIONS = """
app:
  id: cond
  version: '1'
  graphs:
    - subscribes: cond.go
      activities:
        t1:
          type: trigger
        check:
          type: worker
          topic: cond.check
          input: { maps: { n: '{t1.output.data.n}' } }
        big:
          type: hook
          job: { maps: { route: big } }
        small:
          type: hook
          job: { maps: { route: small } }
        either:
          type: hook
          job: { maps: { either: true } }
        rejected:
          type: hook
          job: { maps: { route: rejected, reason: '{check.output.metadata.err}' } }
      transitions:
        t1:
          - to: check
        check:
          - to: big
            conditions:
              gate: and
              match:
                - expected: true
                  actual:
                    '@pipe':
                      - ['{check.output.data.n}', 10]
                      - ['{@conditional.greater_than}']
                - expected: true
                  actual: '{check.output.data.ok}'
          - to: small
            conditions:
              match:
                - expected: true
                  actual:
                    '@pipe':
                      - ['{check.output.data.n}', 10]
                      - ['{@conditional.less_than_or_equal}']
          - to: either
            conditions:
              gate: or
              match:
                - expected: 1
                  actual: '{check.output.data.n}'
                - expected: 50
                  actual: '{check.output.data.n}'
          - to: rejected
            conditions:
              code: [422, 409]
"""


def test_conditional_transitions_on_codes_and_match_rules(mesh) -> None:
    def check(msg: WorkerMessage) -> Response | dict:
        n = msg.data["n"]
        if n < 0:
            return Response({"message": "negative"}, code=422)
        return {"n": n, "ok": True}

    hm = mesh("cond", CONDITIONS, {"cond.check": check})
    assert hm.pubsub("cond.go", {"n": 50}) == {"route": "big", "either": True}
    assert hm.pubsub("cond.go", {"n": 3}) == {"route": "small"}
    assert hm.pubsub("cond.go", {"n": 1}) == {"route": "small", "either": True}
    # As the original: an error leg keeps its message and code in output.metadata.err.
    rejected = hm.pubsub("cond.go", {"n": -1})
    assert rejected == {"route": "rejected", "reason": '{"message":"negative","code":422}'}


RETRY = """
app:
  id: retry
  version: '1'
  graphs:
    - subscribes: retry.go
      activities:
        t1:
          type: trigger
        flaky:
          type: worker
          topic: retry.flaky
          retry:
            '500': [3]
          input: { maps: { fail_times: '{t1.output.data.fail_times}' } }
          job: { maps: { attempts: '{$self.output.data.attempts}' } }
      transitions:
        t1:
          - to: flaky
"""


def test_worker_retries_then_succeeds(mesh) -> None:
    calls: dict[str, int] = {}

    def flaky(msg: WorkerMessage) -> dict:
        jid = msg.metadata["jid"]
        calls[jid] = calls.get(jid, 0) + 1
        if calls[jid] <= msg.data["fail_times"]:
            raise RuntimeError(f"boom {calls[jid]}")
        return {"attempts": calls[jid]}

    hm = mesh("retry", RETRY, {"retry.flaky": flaky})
    assert hm.pubsub("retry.go", {"fail_times": 2}) == {"attempts": 3}


def test_retries_exhausted_fail_the_job_with_its_code(mesh) -> None:
    calls: list[int] = []

    def flaky(msg: WorkerMessage) -> dict:
        calls.append(msg.metadata["try"])
        raise RuntimeError("always broken")

    hm = mesh("retry", RETRY, {"retry.flaky": flaky})
    with pytest.raises(JobError) as caught:
        hm.pubsub("retry.go", {"fail_times": 99})
    assert caught.value.code == 500
    assert "always broken" in caught.value.message
    assert caught.value.error_type == "RuntimeError"
    assert "raise RuntimeError" in (caught.value.stack or "")
    assert caught.value.job_id
    assert calls == [0, 1, 2, 3]  # the first call and three retries
    state = hm.get_state(caught.value.job_id)
    assert "always broken" in state["metadata"]["err"]


DUP = """
app:
  id: dup
  version: '1'
  graphs:
    - subscribes: dup.go
      activities:
        t1:
          type: trigger
          stats:
            id: '{$self.input.data.id}'
          job: { maps: { id: '{$self.output.data.id}' } }
"""


def test_duplicate_job_id(mesh) -> None:
    hm = mesh("dup", DUP)
    assert hm.pub("dup.go", {"id": "order-1"}) == "order-1"
    with pytest.raises(DuplicateJobError) as caught:
        hm.pub("dup.go", {"id": "order-1"})
    assert str(caught.value) == "Duplicate job: order-1"  # the original's message
    assert caught.value.job_id == "order-1"
    # A trigger-only job ends at once.
    assert hm.get_status("order-1") == 0
    assert hm.get_state("order-1")["data"] == {"id": "order-1"}


VERSIONED = """
app:
  id: ver
  version: '{v}'
  graphs:
    - subscribes: ver.go
      activities:
        t1:
          type: trigger
        w:
          type: worker
          topic: ver.{topic}
          job: {{ maps: {{ version: '{v}', out: '{{$self.output.data.out}}' }} }}
      transitions:
        t1:
          - to: w
"""


def test_version_two_activated_while_version_one_jobs_run(mesh) -> None:
    release = threading.Event()

    def slow_v1(msg: WorkerMessage) -> dict:
        release.wait(10)
        return {"out": "v1 work"}

    def v2(msg: WorkerMessage) -> dict:
        return {"out": "v2 work"}

    hm = mesh(
        "ver",
        VERSIONED.format(v="1", topic="one"),
        {"ver.one": slow_v1, "ver.two": v2},
    )
    first = hm.pub("ver.go", {})
    hm.deploy(VERSIONED.format(v="2", topic="two"))
    hm.activate("2")
    assert hm.pubsub("ver.go", {}) == {"version": "2", "out": "v2 work"}
    release.set()
    deadline = time.monotonic() + 10
    while hm.get_status(first) > 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert hm.get_state(first)["data"] == {"version": "1", "out": "v1 work"}
    assert hm.get_state(first)["metadata"]["vrs"] == "1"


def test_pub_returns_at_once_and_jobs_are_readable(mesh) -> None:
    gate = threading.Event()

    def work(msg: WorkerMessage) -> None:
        gate.wait(10)
        return None  # completes with empty data (the original hangs here)

    hm = mesh("myfirstapp", SEED, {"work.do": work})
    job_id = hm.pub("myfirstapp.test", {"x": 1})
    assert hm.get_status(job_id) == 1
    gate.set()
    deadline = time.monotonic() + 10
    while hm.get_status(job_id) != 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    exported = hm.export(job_id)
    assert [e["activity"] for e in exported["timeline"]] == ["t1", "w1"]
    assert all(e["end"] is not None for e in exported["timeline"])
    assert exported["timeline"][1]["code"] == 200
    # The original's export beside the timeline: each activity under its dimension.
    assert exported["dependencies"] == [] and exported["status"] == "0"
    process = exported["process"]
    assert sorted(process) == ["$myfirstapp.test", "0"]
    assert process["$myfirstapp.test"] == hm.get_state(job_id)
    assert process["0"]["t1"]["output"]["metadata"]["dad"] == ",0"
    assert process["0"]["0"]["w1"]["output"]["metadata"]["dad"] == ",0,0"
    hm.scrub(job_id)
    with pytest.raises(hotmesh_nb.JobNotFoundError):
        hm.get_state(job_id)


def test_async_twins_from_a_foreign_loop(mesh) -> None:
    hm = mesh("myfirstapp", SEED, {"work.do": lambda msg: {"ok": True}})

    async def main() -> list[dict]:
        return await asyncio.gather(
            *(hm.pubsub_async("myfirstapp.test", {"i": i}) for i in range(20))
        )

    assert asyncio.run(main()) == [{}] * 20  # no job.maps: the job data stays empty


def test_init_twice_returns_the_running_services(mesh, redis_url, namespace) -> None:
    hm = mesh("myfirstapp", SEED, {"work.do": lambda msg: {"n": 1}})
    again = HotMesh.init(
        "myfirstapp",
        connection=redis_url,
        namespace=namespace,
        workers=[Worker("work.do", lambda msg: {"n": 2})],
    )
    assert again.engine is hm.engine
    assert again.workers[0] is hm.workers[0]
    assert again.workers[0].callback(None) == {"n": 2}


PUBLISHES = """
app:
  id: pubs
  version: '1'
  graphs:
    - subscribes: pubs.go
      publishes: pubs.done
      activities:
        t1:
          type: trigger
          job: { maps: { v: '{$self.output.data.v}' } }
"""


def test_publishes_topic_reaches_psub_subscribers(mesh) -> None:
    hm = mesh("pubs", PUBLISHES)
    got: list[tuple[str, dict]] = []
    done = threading.Event()

    def on_job(topic: str, job: dict) -> None:
        got.append((topic, job))
        done.set()

    hm.psub("pubs.done.*", on_job)
    job_id = hm.pub("pubs.go", {"v": 7})
    assert done.wait(10)
    topic, job = got[0]
    assert topic == "pubs.done"  # the graph's publishes topic, as the original passes it
    assert job["data"] == {"v": 7} and job["metadata"]["jid"] == job_id


@pytest.mark.parametrize(
    ("yaml_text", "reason"),
    [
        ("app:\n  id: bad\n  version: '1'\n  graphs:\n    - subscribes: x\n", "activities"),
        (
            "app:\n  id: bad\n  version: '1'\n  graphs:\n    - subscribes: x\n"
            "      activities:\n        t1:\n          type: trigger\n        w:\n"
            "          type: wrker\n",
            "wrker",
        ),
        (
            "app:\n  id: bad\n  version: '1'\n  graphs:\n    - subscribes: x\n"
            "      activities:\n        t1:\n          type: trigger\n"
            "      transitions:\n        t1:\n          - to: nowhere\n",
            "nowhere",
        ),
        (
            "app:\n  id: bad\n  version: '1'\n  graphs:\n    - subscribes: x\n"
            "      activities:\n        w:\n          type: worker\n          topic: a\n",
            "trigger",
        ),
        ("app:\n  id: bad\n  version: '1'\n  graphs: [\n", "line"),
    ],
)
def test_invalid_yaml_is_rejected_with_its_reason(mesh, yaml_text: str, reason: str) -> None:
    hm = mesh("bad")
    with pytest.raises(ValidationError, match=reason):
        hm.deploy(yaml_text)


def test_deploying_another_apps_yaml_is_refused(mesh) -> None:
    hm = mesh("other")
    with pytest.raises(hotmesh_nb.DeployError, match="myfirstapp"):
        hm.deploy(SEED)


def test_publishing_to_an_unknown_topic_names_the_known_ones(mesh) -> None:
    hm = mesh("myfirstapp", SEED, {"work.do": lambda m: {}})
    with pytest.raises(hotmesh_nb.HotMeshError, match=r"myfirstapp\.test"):
        hm.pub("nope", {})


JOIN = """
app:
  id: join
  version: '1'
  graphs:
    - subscribes: join.go
      activities:
        t1:
          type: trigger
        left:
          type: worker
          topic: join.work
          input: { maps: { side: left } }
          job: { maps: { left: '{$self.output.data.side}' } }
        right:
          type: worker
          topic: join.work
          input: { maps: { side: right } }
          job: { maps: { right: '{$self.output.data.side}' } }
        both:
          type: hook
          job: { maps: { joined: true } }
      transitions:
        t1:
          - to: left
          - to: right
        left:
          - to: both
        right:
          - to: both
"""


def test_an_activity_reached_from_two_parents_runs_once_and_the_job_ends(mesh) -> None:
    # The original runs such a join once and never completes the job; ours completes it.
    hm = mesh("join", JOIN, {"join.work": lambda m: {"side": m.data["side"]}})
    out = hm.pubsub("join.go", {})
    assert out == {"left": "left", "right": "right", "joined": True}
    job_id = hm.pub("join.go", {})
    deadline = time.monotonic() + 10
    while hm.get_status(job_id) != 0:
        check_deadline(deadline)
        time.sleep(0.02)
    both = [e for e in hm.export(job_id)["timeline"] if e["activity"] == "both"]
    assert len(both) == 1


NULL_MAP = """
app:
  id: nullmap
  version: '1'
  graphs:
    - subscribes: nullmap.go
      activities:
        t1:
          type: trigger
          job:
            maps:
              kept: '{$self.output.data.x}'
              empty: null
"""


def test_a_null_map_value_fails_the_job_naming_the_rule(mesh) -> None:
    # The original's mapper throws on a null map value; here the job fails with the path.
    hm = mesh("nullmap", NULL_MAP)
    with pytest.raises(HotMeshError) as caught:
        hm.pubsub("nullmap.go", {"x": 1}, timeout=10)
    assert "job.maps.empty" in str(caught.value)


def test_deploy_names_each_unconditional_edge_out_of_a_worker(mesh, caplog) -> None:
    import logging

    with caplog.at_level(logging.INFO, logger="hotmesh_nb"):
        mesh("seq", SEQUENCE)
    hints = [r.getMessage() for r in caplog.records if "no conditions" in r.getMessage()]
    assert len(hints) == 1 and "'upper' to 'count'" in hints[0]
    assert all(r.levelno == logging.INFO for r in caplog.records if "no conditions" in r.msg)
