"""The step script's outcome codes, one crafted call each, against the real server."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

import hotmesh_nb
from hotmesh_nb.engine._protocol import StepOutcome
from hotmesh_nb.engine._scripts import STEP
from hotmesh_nb.keys import Keys


def _args(mode: str, number: int, gid: str = "", guard: str = "", **fields: str) -> list:
    pairs = [x for kv in fields.items() for x in kv]
    # done channel, no publishes channel, keep 60 s, no ack, the pairs, no messages,
    # no emit flag, no operations.
    return [mode, number, gid, guard, "done", "", 60, 0, "", "", len(fields), *pairs, 0, "", 0]


async def _step(url: str, keys: Keys, job: str, args: list) -> tuple[StepOutcome, int]:
    client = aioredis.Redis.from_url(url, decode_responses=True)
    try:
        reply = await STEP.call(client, [keys.job(job), keys.engine_stream], args)
    finally:
        await client.aclose()
    return StepOutcome(int(reply[0])), int(reply[1])


# (description, calls before, the call, expected outcome, expected status)
CASES = [
    ("a new job is created", [], _args("create", 2, gid="g1"), StepOutcome.APPLIED, 2),
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
    keys = Keys(namespace, "script")

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
    from hotmesh_nb.engine._scripts import _REGISTRY, INTERRUPT, STEP

    for script in (STEP, INTERRUPT):
        assert script.source.startswith("#!lua")
        assert script.source.count("local function announce(") == 1
        assert script.source.count("local function interrupt_job(") == 1
    for script in _REGISTRY:
        assert "-- @include" not in script.source, script.name
