"""Local activities: a worker that replays a workflow and has the activity runs it inside
the replay. Results, retries, errors and the replay record are those of an activity sent
through the task queue; ``local=False`` (or another task queue) still sends it there."""

from __future__ import annotations

import asyncio
import json

import pytest
import redis

from hotmesh_nb import EngineConfig, RetryPolicy, WorkflowError
from hotmesh_nb.keys import DEFAULT_PARTITIONS, Keys
from hotmesh_nb.meshflow import _activity as activity
from hotmesh_nb.meshflow import workflow
from hotmesh_nb.meshflow._factory import APP_ID
from hotmesh_nb.meshflow.workflow import activity_topic

THROUGH_STREAMS = EngineConfig(block_ms=500, local_dispatch=False)
"""Queued activities through their topic's stream, where they can be counted (by default
the activity worker in this same process takes them directly, see engine/_local.py)."""

CALLS: dict[str, int] = {}


def _count(key: str) -> int:
    CALLS[key] = CALLS.get(key, 0) + 1
    return CALLS[key]


async def lshout(word: str) -> str:
    _count(f"lshout:{word}")
    return word.upper()


def lwhisper(word: str) -> str:
    _count(f"lwhisper:{word}")
    return word.lower()


async def lflaky(label: str) -> str:
    if _count(f"lflaky:{label}") < 3:
        raise ConnectionError(f"{label}: try again")
    return f"{label} at attempt {activity.activity_info().attempt}"


async def ldecline(label: str) -> str:
    raise ValueError(f"{label} refused")


async def lslow(label: str) -> str:
    await asyncio.sleep(0.3)
    _count(f"lslow:{label}")
    return f"{label} slept"


fast_retry = RetryPolicy(initial_interval=0.01, maximum_attempts=3)
local = workflow.proxy_activities(
    activities=[lshout, lwhisper, lflaky, lslow], retry_policy=fast_retry
)
queued = workflow.proxy_activities(activities=[lshout, lwhisper], local=False)
final = workflow.proxy_activities(
    activities=[ldecline, lslow], retry_policy={"maximum_attempts": 1}
)
twice = workflow.proxy_activities(
    activities=[ldecline], retry_policy={"maximum_attempts": 2, "initial_interval": 0.01}
)


async def two_local(word: str) -> list[str]:
    return [await local.lshout(word), await local.lwhisper(word)]


async def two_queued(word: str) -> list[str]:
    return [await queued.lshout(word), await queued.lwhisper(word)]


async def retried(label: str) -> str:
    return await local.lflaky(label)


async def half_failed(label: str) -> list[str]:
    # ldecline fails at once while lslow still runs: lslow's result is recorded all the same.
    return list(await asyncio.gather(final.ldecline(label), final.lslow(label)))


async def exhausted(label: str) -> str:
    return await twice.ldecline(label)


async def mixed(word: str) -> list[str]:
    first = await local.lshout(word)
    await workflow.sleep_for(0.05)
    second = await queued.lwhisper(first)
    pair = await asyncio.gather(local.lshout(second), local.lwhisper(word))
    return [first, second, *pair]


def _admin_and_keys(redis_url: str, namespace: str) -> tuple[redis.Redis, Keys]:
    return redis.Redis.from_url(redis_url, decode_responses=True), Keys(
        namespace, APP_ID, DEFAULT_PARTITIONS
    )


def _queued(admin: redis.Redis, keys: Keys, topic: str) -> int:
    """Messages ever queued on ``topic`` (its stream in every partition)."""
    return sum(admin.xlen(stream) for stream in keys.worker_streams(topic))


def _ledger(admin: redis.Redis, keys: Keys, job_id: str) -> dict[str, dict]:
    fields = admin.hgetall(keys.job(job_id))
    return {k: json.loads(v) for k, v in fields.items() if k.startswith(("-proxy-", "-claim-"))}


def test_a_local_activity_runs_in_the_replay_and_is_recorded_like_a_queued_one(
    flow, redis_url, namespace
) -> None:
    flow(two_local)
    flow(two_queued, config=THROUGH_STREAMS)
    admin, keys = _admin_and_keys(redis_url, namespace)
    word = f"Ada{namespace}"
    for name in ("two_local", "two_queued"):
        handle = flow.client.workflow.start(
            args=[word], task_queue="default", workflow_name=name, workflow_id=f"{name}-1"
        )
        assert handle.result(timeout=30) == [word.upper(), word.lower()]
    local_ledger = _ledger(admin, keys, "two_local-1")
    queued_ledger = _ledger(admin, keys, "two_queued-1")
    # The same history either way: one record per call, its value, its attempt.
    for ledger in (local_ledger, queued_ledger):
        assert [ledger[f"-proxy-{i}-"]["v"] for i in ("1", "2")] == [word.upper(), word.lower()]
        assert [ledger[f"-proxy-{i}-"]["a"] for i in ("1", "2")] == [1, 1]
        assert ledger["-claim-1-"]["n"] == "lshout" and ledger["-claim-2-"]["n"] == "lwhisper"
    # Only the queued workflow sent its activities through the activity topic.
    assert _queued(admin, keys, activity_topic("default", "two_local")) == 0
    assert _queued(admin, keys, activity_topic("default", "two_queued")) == 2
    # A replay of the finished workflow answers from the record: nothing ran again.
    assert CALLS[f"lshout:{word}"] == 2 and CALLS[f"lwhisper:{word}"] == 2
    admin.close()


def test_a_local_activity_retries_by_its_policy_and_counts_attempts(
    flow, redis_url, namespace
) -> None:
    flow(retried)
    admin, keys = _admin_and_keys(redis_url, namespace)
    label = f"lflaky-{namespace}"
    handle = flow.client.workflow.start(
        args=[label], task_queue="default", workflow_name="retried", workflow_id="retried-1"
    )
    assert handle.result(timeout=30) == f"{label} at attempt 3"
    ledger = _ledger(admin, keys, "retried-1")
    assert ledger["-proxy-1-"]["a"] == 3
    # The claim counts attempts (each failed one as it fails: a crash does not reset them).
    assert ledger["-claim-1-"]["a"] == 3
    timeline = handle.export()["timeline"]
    assert [(row["name"], row["value"]) for row in timeline] == [
        ("lflaky", f"{label} at attempt 3")
    ]
    admin.close()


def test_a_local_activity_that_exhausts_its_retries_fails_the_workflow(flow) -> None:
    flow(exhausted)
    handle = flow.client.workflow.start(args=["x"], task_queue="default", workflow_name="exhausted")
    with pytest.raises(WorkflowError) as caught:
        handle.result(timeout=30)
    assert caught.value.error_type == "ValueError" and "x refused" in str(caught.value)


def test_a_gathered_local_activity_is_recorded_even_when_its_sibling_fails_first(
    flow, redis_url, namespace
) -> None:
    flow(half_failed)
    admin, keys = _admin_and_keys(redis_url, namespace)
    label = f"half-{namespace}"
    handle = flow.client.workflow.start(
        args=[label], task_queue="default", workflow_name="half_failed", workflow_id="half-1"
    )
    with pytest.raises(WorkflowError) as caught:
        handle.result(timeout=30)
    assert "refused" in str(caught.value)
    ledger = _ledger(admin, keys, "half-1")
    assert ledger["-proxy-1.1-"]["e"]["type"] == "ValueError"
    assert ledger["-proxy-2.1-"]["v"] == f"{label} slept"
    assert CALLS[f"lslow:{label}"] == 1
    admin.close()


def test_local_and_queued_activities_mix_with_timers_and_gathers(
    flow, redis_url, namespace
) -> None:
    flow(mixed, config=THROUGH_STREAMS)
    admin, keys = _admin_and_keys(redis_url, namespace)
    word = f"Mix{namespace}"
    handle = flow.client.workflow.start(
        args=[word], task_queue="default", workflow_name="mixed", workflow_id="mixed-1"
    )
    up, low = word.upper(), word.lower()
    assert handle.result(timeout=30) == [up, low, up, low]
    # Only the queued call went through the activity topic; each activity ran once.
    assert _queued(admin, keys, activity_topic("default", "mixed")) == 1
    runs = [f"lshout:{word}", f"lwhisper:{up}", f"lshout:{low}", f"lwhisper:{word}"]
    assert [CALLS[key] for key in runs] == [1, 1, 1, 1]
    admin.close()


CONTEST: dict[str, str] = {}


def lcontested(label: str) -> str:
    """Another run records this call first while it runs here (a duplicate delivery)."""
    _count(f"lcontested:{label}")
    admin = redis.Redis.from_url(CONTEST["url"], decode_responses=True)
    key = Keys(CONTEST["namespace"], APP_ID, DEFAULT_PARTITIONS).job(
        activity.activity_info().workflow_id
    )
    claim = {"t": "proxy", "n": "lcontested", "g": "another-run"}
    admin.hset(key, "-claim-1-", json.dumps(claim))
    admin.hset(key, "-proxy-1-", json.dumps({"n": "lcontested", "a": 1, "v": f"{label} theirs"}))
    admin.close()
    return f"{label} mine"


contest = workflow.proxy_activities(activities=[lcontested, lshout])


async def contended(label: str) -> str:
    return await contest.lshout(await contest.lcontested(label))


def test_a_run_whose_local_result_lost_to_another_run_replays_on_the_recorded_one(
    flow, redis_url, namespace
) -> None:
    CONTEST.update(url=redis_url, namespace=namespace)
    flow(contended)
    admin, keys = _admin_and_keys(redis_url, namespace)
    handle = flow.client.workflow.start(
        args=["x"], task_queue="default", workflow_name="contended", workflow_id="contended-1"
    )
    # The run that ran it locally stops before its next step and replays on the record.
    assert handle.result(timeout=30) == "X THEIRS"
    ledger = _ledger(admin, keys, "contended-1")
    assert ledger["-proxy-1-"]["v"] == "x theirs" and ledger["-claim-1-"]["g"] == "another-run"
    assert CALLS["lcontested:x"] == 1 and CALLS.get("lshout:x mine") is None
    admin.close()
