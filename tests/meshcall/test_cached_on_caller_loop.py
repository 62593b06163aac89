"""A cached answer awaited on the caller's own loop is read there, not via the runtime."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator

import pytest
import redis
from waiting import wait_until

import hotmesh_nb
from hotmesh_nb import MeshCall
from hotmesh_nb import _caller_reads as caller_reads
from hotmesh_nb.runtime import get_runtime

HANG_GUARD = 20.0
"""Seconds before a call that should not need the runtime is declared hung."""


@pytest.fixture
def admin(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    yield client
    client.close()


def caller_connections(admin: redis.Redis) -> int:
    return sum(1 for c in admin.client_list() if c.get("name") == caller_reads.CLIENT_NAME)


class Counter:
    def __init__(self) -> None:
        self.calls: list[int] = []

    def __call__(self, n: int) -> dict:
        self.calls.append(n)
        return {"n": n}


def test_a_cached_answer_is_read_on_the_callers_loop_while_the_runtime_is_busy(
    ns: str, admin: redis.Redis
) -> None:
    fn = Counter()
    MeshCall.connect("user", fn, namespace=ns)
    hold = threading.Event()

    async def main() -> tuple[dict, dict, list]:
        first = await MeshCall.exec_async("user", [1], id="u1", ttl="1 hour", namespace=ns)
        # The runtime's thread is held: only a read from this loop can answer now.
        get_runtime().loop.call_soon_threadsafe(hold.wait, HANG_GUARD)
        try:
            again = await asyncio.wait_for(
                MeshCall.exec_async("user", [2], id="u1", ttl="1 hour", namespace=ns),
                HANG_GUARD,
            )
            many = await asyncio.wait_for(
                asyncio.gather(
                    *(
                        MeshCall.exec_async("user", [3], id="u1", ttl="1 hour", namespace=ns)
                        for _ in range(20)
                    )
                ),
                HANG_GUARD,
            )
        finally:
            hold.set()
        return first, again, many

    first, again, many = asyncio.run(main())
    assert first == again == {"n": 1}
    assert many == [{"n": 1}] * 20
    assert fn.calls == [1]


def test_the_loops_connection_is_closed_when_its_loop_ends(ns: str, admin: redis.Redis) -> None:
    MeshCall.connect("user", Counter(), namespace=ns)
    MeshCall.exec("user", [1], id="u1", ttl="1 hour", namespace=ns)  # the runtime's route
    assert caller_connections(admin) == 0

    async def main() -> int:
        for _ in range(3):
            await MeshCall.exec_async("user", [1], id="u1", ttl="1 hour", namespace=ns)
        return caller_connections(admin)

    assert asyncio.run(main()) == 1  # one per loop and server, however many reads
    wait_until(lambda: caller_connections(admin) == 0)


def test_shutdown_closes_the_connection_of_a_loop_that_goes_on(ns: str, admin: redis.Redis) -> None:
    MeshCall.connect("user", Counter(), namespace=ns)
    MeshCall.exec("user", [1], id="u1", ttl="1 hour", namespace=ns)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        answer = asyncio.run_coroutine_threadsafe(
            MeshCall.exec_async("user", [1], id="u1", ttl="1 hour", namespace=ns), loop
        ).result(HANG_GUARD)
        assert answer == {"n": 1}
        assert caller_connections(admin) == 1
        hotmesh_nb.shutdown()
        wait_until(lambda: caller_connections(admin) == 0)
        # The loop goes on calling: a fresh runtime, then a fresh connection of the loop.
        MeshCall.connect("user", Counter(), namespace=ns)
        for _ in range(2):
            answer = asyncio.run_coroutine_threadsafe(
                MeshCall.exec_async("user", [2], id="u1", ttl="1 hour", namespace=ns), loop
            ).result(HANG_GUARD)
            assert answer == {"n": 1}
        assert caller_connections(admin) == 1
        hotmesh_nb.shutdown()
        wait_until(lambda: caller_connections(admin) == 0)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(HANG_GUARD)
        loop.close()


def test_misses_and_running_calls_go_to_the_runtime(ns: str) -> None:
    fn = Counter()
    MeshCall.connect("user", fn, namespace=ns)

    async def main() -> list:
        return [
            await MeshCall.exec_async("user", [1], id="new", ttl="1 hour", namespace=ns),
            await MeshCall.exec_async("user", [2], id="new", ttl="1 hour", namespace=ns),
            await MeshCall.exec_async(
                "user", [3], id="new", ttl="1 hour", flush=True, namespace=ns
            ),
            await MeshCall.exec_async("user", [4], namespace=ns),
        ]

    assert asyncio.run(main()) == [{"n": 1}, {"n": 1}, {"n": 3}, {"n": 4}]
    assert fn.calls == [1, 3, 4]


def test_bad_arguments_fail_alike_when_the_answer_is_cached(ns: str) -> None:
    MeshCall.connect("user", Counter(), namespace=ns)

    async def main() -> None:
        await MeshCall.exec_async("user", [1], id="u1", ttl="1 hour", namespace=ns)
        with pytest.raises(TypeError, match="list of arguments"):
            await MeshCall.exec_async("user", "1", id="u1", ttl="1 hour", namespace=ns)
        with pytest.raises(ValueError, match="ttl must be positive"):
            await MeshCall.exec_async("user", [1], id="u1", ttl=-5, namespace=ns)

    asyncio.run(main())


def test_a_failed_read_falls_back_to_the_runtime_and_cools_the_loop_off(
    ns: str, admin: redis.Redis, caller_read_failures: list[str]
) -> None:
    fn = Counter()
    MeshCall.connect("user", fn, namespace=ns)
    MeshCall.exec("user", [1], id="u1", ttl="1 hour", namespace=ns)
    limit = admin.config_get("maxclients")["maxclients"]

    async def main() -> list:
        answers = [await MeshCall.exec_async("user", [1], id="u1", ttl="1 hour", namespace=ns)]
        # This loop's connection drops, and the server takes no new one: the runtime's
        # open connections still answer.
        for client in admin.client_list():
            if client.get("name") == caller_reads.CLIENT_NAME:
                admin.client_kill_filter(_id=client["id"])
        admin.config_set("maxclients", len(admin.client_list()))
        try:
            answers.append(
                await MeshCall.exec_async("user", [1], id="u1", ttl="1 hour", namespace=ns)
            )
            # Cooling off: the next call takes the runtime's route without trying.
            answers.append(
                await MeshCall.exec_async("user", [1], id="u1", ttl="1 hour", namespace=ns)
            )
            answers.append(caller_connections(admin))
        finally:
            admin.config_set("maxclients", limit)
        return answers

    assert asyncio.run(main()) == [{"n": 1}, {"n": 1}, {"n": 1}, 0]
    assert fn.calls == [1]
    assert len(caller_read_failures) == 1  # the third call did not try this loop's connection again
