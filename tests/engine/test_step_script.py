"""The step script's outcome codes, one crafted call each, against the real server."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

import hotmesh_nb
from hotmesh_nb.engine._protocol import KEY_REF, StepCall, StepOutcome
from hotmesh_nb.engine._scripts import STEP
from hotmesh_nb.keys import Keys


def _args(
    mode: str,
    number: int,
    gid: str = "",
    guard: str = "",
    *,
    done: str = "done",
    ops: tuple[list, ...] = (),
    **fields: str,
) -> list:
    # The script's ARGV for a job at KEYS[1] and the engine stream at KEYS[2]; other keys
    # named by operations follow in the order they first appear.
    call = StepCall(
        "job",
        "stream",
        mode,
        number,
        gid=gid,
        guard=guard,
        done_channel=done,
        expire=60,
        writes=dict(fields),
        ops=list(ops),
    )
    return call.encode()[1]


async def _step(url: str, keys: Keys, job: str, args: list) -> tuple[StepOutcome, int]:
    client = aioredis.Redis.from_url(url, decode_responses=True)
    try:
        reply = await STEP.call(client, [keys.job(job), keys.part(0).engine_stream], args)
    finally:
        await client.aclose()
    return StepOutcome(int(reply[0])), int(reply[1])


# (description, calls before, the call, expected outcome, expected status)
CASES = [
    ("a new job is created", [], _args("create", 2, gid="g1"), StepOutcome.APPLIED, 2),
    ("a job with a random id is created", [], _args("fresh", 2), StepOutcome.APPLIED, 2),
    (
        "the same id again is a duplicate",
        [_args("create", 2, gid="g1")],
        _args("create", 1),
        StepOutcome.DUPLICATE,
        0,
    ),
    ("a step on a missing job finds it gone", [], _args("step", -1, "g1"), StepOutcome.GONE, 0),
    (
        "a step of an older generation is stale",
        [_args("create", 2, gid="g1")],
        _args("step", 0, "g0"),
        StepOutcome.STALE,
        0,
    ),
    (
        "a step whose guard was seen is a duplicate",
        [_args("create", 2), _args("step", 0, guard="g:m1")],
        _args("step", 0, guard="g:m1"),
        StepOutcome.DUPLICATE,
        2,
    ),
    (
        "a step that closes the last thread ends the job",
        [_args("create", 1)],
        _args("step", -1, guard="g:m2"),
        StepOutcome.ENDED,
        0,
    ),
    (
        "a step after the end finds the job inactive",
        [_args("create", 1), _args("step", -1, guard="g:m2")],
        _args("step", 0, guard="g:m3"),
        StepOutcome.INACTIVE,
        0,
    ),
]


@pytest.mark.parametrize(
    ("what", "before", "call", "outcome", "status"), CASES, ids=[c[0] for c in CASES]
)
def test_each_outcome_of_the_step_script(
    redis_url, namespace, what, before, call, outcome, status
) -> None:
    keys = Keys(namespace, "script", 1)

    async def run() -> tuple[StepOutcome, int]:
        client = aioredis.Redis.from_url(redis_url, decode_responses=True)
        try:
            for args in before:
                await _step(redis_url, keys, "job1", args)
                if args[0] == "create" and args[2]:
                    await client.hset(keys.job("job1"), "gid", args[2])
        finally:
            await client.aclose()
        return await _step(redis_url, keys, "job1", call)

    got, got_status = hotmesh_nb.runtime.get_runtime().run(run())
    assert got is outcome
    assert got_status == status


def test_scripts_are_assembled_from_shared_pieces_pasted_once() -> None:
    from hotmesh_nb._lua import _REGISTRY
    from hotmesh_nb.engine._scripts import INTERRUPT, STEP

    for script in (STEP, INTERRUPT):
        assert script.source.startswith("#!lua")
        assert script.source.count("local function announce(") == 1
        assert script.source.count("local function interrupt_job(") == 1
    for script in _REGISTRY:
        assert "-- @include" not in script.source, script.name


@pytest.mark.parametrize("ops", [0, 1], ids=["read with the guard", "read again after ops"])
def test_the_announcement_shows_the_hash_as_it_is_after_the_step(
    redis_url: str, namespace: str, ops: int
) -> None:
    """An ending step without operations reads the hash once, for its guard, and lays its
    own writes over it; with operations the announcement reads the hash again. Either
    way waiters get exactly what a read of the finished job gives."""
    import json

    import redis

    from hotmesh_nb.engine import _state as st

    keys = Keys(namespace, "script", 1)
    channel = keys.part(0).done_channel
    # With an operation that touches another key, the hash is read again.
    link = (["link", KEY_REF + keys.job("other"), "f", "v"],) if ops else ()
    writes = {"d:b": '"new"', "d:c": "3", "ju": "2"}
    ending = _args("step", -1, "g1", "g:end", done=channel, ops=link, **writes)

    async def run() -> list:
        client = aioredis.Redis.from_url(redis_url, decode_responses=True)
        try:
            create = _args("fresh", 1, **{"d:a": "1", "d:b": '"old"', "m": '{"jid":"job1"}'})
            await _step(redis_url, keys, "job1", create)
            await client.hset(keys.job("job1"), "gid", "g1")
            job_keys = [keys.job("job1"), keys.part(0).engine_stream, keys.job("other")]
            return await STEP.call(client, job_keys, ending)
        finally:
            await client.aclose()

    admin = redis.Redis.from_url(redis_url, decode_responses=True)
    listener = admin.pubsub()
    listener.ssubscribe(channel)  # a shard channel (SPUBLISH)
    listener.get_message(timeout=5)  # the subscription's confirmation
    try:
        reply = hotmesh_nb.runtime.get_runtime().run(run())
        assert StepOutcome(int(reply[0])) is StepOutcome.ENDED
        message = listener.get_message(timeout=5)
        announced = json.loads(message["data"])
        expected = st.completion_payload(admin.hgetall(keys.job("job1")))
        assert announced == expected
        assert list(announced["d"]) == ["a", "b", "c"]
        assert announced["d"] == {"a": 1, "b": "new", "c": 3}
    finally:
        listener.close()
        admin.close()
