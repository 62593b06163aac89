"""Partitions: an app's jobs spread over P partitions, and effects that cross them.

On a cluster a script touches one slot, so a step whose effects reach another
partition (a hook waiting there, another job it links or interrupts) writes them as
an ``apply`` message to its own stream: an outbox, applied once in the other
partition. ``EngineConfig(relay=True)`` takes that path on one server too, so these
tests show it here; ``tests/cluster`` runs the same flows on a real cluster.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import redis

import hotmesh_nb
from hotmesh_nb import DeployError, EngineConfig, HotMesh, Worker
from hotmesh_nb.engine._protocol import KEY_REF, Apply
from hotmesh_nb.keys import DEFAULT_PARTITIONS, Keys, slot_of
from tests.engine.test_engine_types import AWAIT, INTERRUPTS, WAITER, _adder
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[2]

HELLO = """
app:
  id: spread
  version: '{version}'
  {partitions}
  graphs:
    - subscribes: spread.go
      activities:
        t1:
          type: trigger
        w1:
          type: worker
          topic: spread.work
          job: {{ maps: {{ out: '{{$self.output.data.out}}' }} }}
      transitions:
        t1:
          - to: w1
"""


def _hello(version: str = "1", partitions: int | None = None) -> str:
    line = f"partitions: {partitions}" if partitions is not None else ""
    return HELLO.format(version=version, partitions=line)


@pytest.fixture
def admin(redis_url: str) -> redis.Redis:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


def _init(redis_url: str, namespace: str, app: str, workers=(), **config) -> HotMesh:
    return HotMesh.init(
        app,
        connection=redis_url,
        namespace=namespace,
        workers=list(workers),
        config=EngineConfig(**{"block_ms": 1000, **config}),
    )


def test_partition_tags_spread_evenly_over_the_slot_space() -> None:
    # Whatever the names, partition i lands in the i-th of P equal slot ranges.
    for namespace, app in [("hmsh", "hello"), ("a", "b"), ("tenant-7", "orders-2024")]:
        for count in (2, 3, 16, 64):
            keys = Keys(namespace, app, count)
            for part in keys.parts:
                slot = slot_of(part.prefix[1:-1])
                assert part.index * 16384 // count <= slot < (part.index + 1) * 16384 // count
                assert part.prefix.startswith("{" + namespace + ":")  # one ACL pattern
    # One partition is the app's own tag: the layout of apps deployed before partitions.
    assert Keys("hmsh", "hello", 1).job("j") == "{hmsh:hello}:j:j"


def test_the_first_deploy_fixes_the_partitions(redis_url, namespace, admin) -> None:
    hm = _init(redis_url, namespace, "spread", [Worker("spread.work", lambda m: {"out": 1})])
    hm.deploy(_hello())
    assert hm.keys.count == DEFAULT_PARTITIONS
    assert admin.hget(Keys(namespace, "spread").app_record, "partitions") == "16"
    hm.deploy(_hello("2"))  # naming none keeps them
    hm.deploy(_hello("3", 16))  # naming the same number is fine
    with pytest.raises(DeployError, match="has 16 partitions, fixed when it was first deployed"):
        hm.deploy(_hello("4", 4))
    with pytest.raises(DeployError, match="has 16 partitions"):
        hm.deploy(_hello("5"), partitions=8)


def test_partitions_come_from_the_yaml_or_the_deploy_call(redis_url, namespace) -> None:
    yaml_set = _init(redis_url, namespace, "spread")
    yaml_set.deploy(_hello(partitions=5))
    assert yaml_set.keys.count == 5
    other = _init(redis_url, f"{namespace}b", "spread")
    other.deploy(_hello(), partitions=3)
    assert other.keys.count == 3
    with pytest.raises(hotmesh_nb.errors.ValidationError, match=r"app\.partitions.*1 to 1024"):
        other.deploy(_hello(partitions=0))
    with pytest.raises(ValueError, match="invalid partitions"):
        _init(redis_url, f"{namespace}c", "spread").deploy(_hello(), partitions=-2)


def test_jobs_spread_over_the_partitions_and_all_complete(redis_url, namespace, admin) -> None:
    # Through the streams (not handed to the worker in this process), to see them carry it.
    worker = Worker("spread.work", lambda m: {"out": 2})
    hm = _init(redis_url, namespace, "spread", [worker], local_dispatch=False)
    hm.deploy(_hello(partitions=8))
    hm.activate("1")
    ids = [hm.pub("spread.go", {}) for _ in range(120)]
    wait_until(lambda: all(hm.get_status(i) == 0 for i in ids), timeout=30)
    used = {hm.keys.part_of(i).index for i in ids}
    assert len(used) == 8
    for job_id in ids[:10]:
        assert admin.exists(hm.keys.part_of(job_id).job(job_id))
    # Each partition's worker stream carried its own jobs' work.
    assert all(admin.xlen(s) > 0 for s in hm.keys.worker_streams("spread.work"))


def test_a_process_started_before_the_deploy_learns_the_partitions(redis_url, namespace) -> None:
    # A process up before the app exists reads nothing until another process deploys
    # and activates it; the activation tells it the partitions, and it serves them all.
    early = _init(redis_url, namespace, "spread", [Worker("spread.work", lambda m: {"out": 3})])
    assert not early.keys.known
    deploy = (
        "import sys, hotmesh_nb\n"
        "hm = hotmesh_nb.HotMesh.init('spread', connection=sys.argv[1], namespace=sys.argv[2],"
        " engine=False)\n"
        "hm.deploy(sys.argv[3]); hm.activate('1'); hotmesh_nb.shutdown()\n"
    )
    subprocess.run(
        [sys.executable, "-c", deploy, redis_url, namespace, _hello(partitions=4)],
        check=True,
        timeout=60,
        cwd=ROOT,
    )
    wait_until(lambda: early.keys.known)
    assert early.keys.count == 4
    assert early.pubsub("spread.go", {}, timeout=20) == {"out": 3}


def test_an_app_deployed_before_partitions_keeps_its_one_partition(
    redis_url, namespace, admin
) -> None:
    # Its record has no 'partitions': it runs on the app's own tag, as it always did.
    admin.hset(Keys(namespace, "spread").app_record, mapping={"id": "spread"})
    hm = _init(redis_url, namespace, "spread", [Worker("spread.work", lambda m: {"out": 4})])
    assert hm.keys.count == 1
    hm.deploy(_hello())
    hm.activate("1")
    job_id = hm.pub("spread.go", {})
    wait_until(lambda: hm.get_status(job_id) == 0)
    assert admin.exists(f"{{{namespace}:spread}}:j:{job_id}")
    with pytest.raises(DeployError, match="has 1 partitions"):
        hm.deploy(_hello("2", 16))


# -- the outbox: effects on other partitions as messages --------------------------------


def _markers(admin: redis.Redis, keys: Keys) -> int:
    """Relayed operation batches applied so far (each leaves its marker)."""
    return sum(len(admin.keys(f"{p.prefix}:r:*")) for p in keys.parts)


def test_relayed_parent_and_child_complete(redis_url, namespace, admin) -> None:
    hm = _init(redis_url, namespace, "parent", [Worker("child.add", _adder)], relay=True)
    hm.deploy(AWAIT, partitions=16)
    hm.activate("1")
    results = [hm.pubsub("parent.go", {"n": n, "wait": True}) for n in range(12)]
    assert results == [{"child_sum": n + 100} for n in range(12)]
    # Children live in other partitions than their parents: each linked its parent
    # through a relayed batch.
    assert _markers(admin, hm.keys) > 0


def test_relayed_signals_reach_hooks_in_other_partitions(redis_url, namespace, admin) -> None:
    hm = _init(redis_url, namespace, "waiter", [Worker("waiter.prep", lambda m: {})], relay=True)
    hm.deploy(WAITER, partitions=16)
    hm.activate("1")
    ids = [f"w-{n}" for n in range(50)]
    for n, job_id in enumerate(ids):
        hm.pub("waiter.go", {"id": job_id, "group": "blue" if n % 2 else "red"})
    wait_until(lambda: all(hm.get_status(i) == 1 for i in ids), timeout=30)
    # Every waiter registered in its hook's partition, mostly not its job's.
    waiters = sum(len(admin.keys(f"{p.prefix}:h:*")) for p in hm.keys.parts)
    wait_until(lambda: sum(len(admin.keys(f"{p.prefix}:h:*")) for p in hm.keys.parts) == 50)
    assert waiters <= 50
    assert hm.hook("waiter.signal", {"id": "w-0", "answer": "one"}) is not None
    wait_until(lambda: hm.get_status("w-0") == 0)
    assert hm.get_state("w-0")["data"]["answer"] == "one"
    assert hm.hook_all("waiter.signal", {"answer": "blue"}, ["group:blue"]) == 25
    assert hm.hook_all("waiter.signal", {"answer": "rest"}) == 24
    wait_until(lambda: all(hm.get_status(i) == 0 for i in ids), timeout=30)
    answers = [hm.get_state(i)["data"]["answer"] for i in ids[1:]]
    assert answers == ["blue" if n % 2 else "rest" for n in range(1, 50)]
    assert _markers(admin, hm.keys) > 0


def test_relayed_interrupt_with_descend_stops_the_child(redis_url, namespace) -> None:
    release = threading.Event()
    worker = Worker("stop.slow", lambda m: release.wait(20) and {})
    hm = _init(redis_url, namespace, "stop", [worker], relay=True)
    hm.deploy(INTERRUPTS, partitions=16)
    hm.activate("1")
    for n in range(6):
        hm.pub("stop.parent", {"id": f"boss-{n}"})
    for n in range(6):
        assert hm.pubsub("stop.other", {"target": f"boss-{n}"}) == {"killed": f"boss-{n}"}
        wait_until(lambda n=n: hm.get_status(f"boss-{n}") < 0)
    release.set()


def test_a_relayed_batch_is_applied_once_however_often_it_arrives(
    redis_url, namespace, admin
) -> None:
    # A process killed between forwarding a batch and acknowledging it: the batch
    # arrives twice. Its marker, set in the same script as its operations, stops the
    # second. The operation here (a signal nobody waits for yet) would otherwise be kept
    # twice.
    hm = _init(redis_url, namespace, "waiter", [Worker("waiter.prep", lambda m: {})], relay=True)
    hm.deploy(WAITER, partitions=4)
    hm.activate("1")
    keys = hm.keys
    part = keys.hook_part("waiter.signal", "late")
    early = part.early_signals("waiter.signal", "late")
    signal = [
        "signal",
        KEY_REF + part.hook_waiter("waiter.signal", "late"),
        KEY_REF + early,
        "0",
        '"status":"success","code":200,"rg":"r1"',
        '{"answer":"late"}',
    ]
    batch = Apply(guid="relay-1", partition=part.index, ops=[signal])
    source = keys.part((part.index + 1) % keys.count).engine_stream
    for _ in range(3):
        admin.xadd(source, {"m": json.dumps(batch.to_wire())})
    wait_until(lambda: admin.exists(part.applied("relay-1")) == 1)
    wait_until(lambda: not _pending(admin, source))
    assert admin.llen(early) == 1


def _pending(admin: redis.Redis, stream: str) -> int:
    info = admin.xpending(stream, "ENGINE")
    return int(info["pending"]) + int(_lag(admin, stream))


def _lag(admin: redis.Redis, stream: str) -> int:
    group = next(g for g in admin.xinfo_groups(stream) if g["name"] == "ENGINE")
    return int(group.get("lag") or 0)
