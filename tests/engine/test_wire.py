"""The batcher's own connection: redis-py's replies, and a connection that fails is made again.

Also what a lost socket looks like on either loop (the runtime's is uvloop when installed)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
import redis.asyncio as aioredis
import uvloop
from redis import exceptions as redis_errors

from hotmesh_nb._lua import is_noscript
from hotmesh_nb.connection import Connection
from hotmesh_nb.engine._batcher import Batcher
from hotmesh_nb.engine._outage import explain, is_transient
from hotmesh_nb.engine._wire import Lane
from hotmesh_nb.errors import ConnectError

LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": uvloop.new_event_loop,
}


@pytest.fixture(params=sorted(LOOPS))
def run(request: pytest.FixtureRequest) -> Callable[[Coroutine[Any, Any, Any]], Any]:
    """Runs a coroutine on a fresh loop of either kind (the runtime uses uvloop when it can)."""

    def runner(coro: Coroutine[Any, Any, Any]) -> Any:
        loop = LOOPS[request.param]()
        try:
            return loop.run_until_complete(coro)
        finally:
            loop.close()

    return runner


def _lane(redis_url: str, **options: Any) -> tuple[aioredis.Redis, Lane]:
    client = aioredis.Redis.from_url(redis_url, decode_responses=True, **options)
    lane = Lane.of(client)
    assert lane is not None
    return client, lane


def _key() -> str:
    return f"wire:{uuid.uuid4().hex[:10]}"


def test_replies_are_the_ones_redis_py_gives(redis_url, run) -> None:
    async def main() -> tuple[list[Any], list[Any]]:
        client = aioredis.Redis.from_url(redis_url, decode_responses=True)
        batcher = Batcher(client)
        assert batcher._lane is not None
        h, z, x, n, s = _key(), _key(), _key(), _key(), _key()
        await client.hset(h, mapping={"a": "1", "b": "é"})
        await client.zadd(z, {"m1": 1.5, "m2": 2})
        await client.xadd(x, {"f": "v"}, id="1-1")
        await client.set(n, "2")
        await client.xgroup_create(x, "g", id="0")
        await client.xreadgroup("g", "c", {x: ">"})  # delivered: read "0" sees it again
        sha = await client.script_load("return {1, 'two', {3, KEYS[1]}, redis.status_reply('OK')}")
        commands: list[Callable[[Any], Any]] = [
            lambda p: p.hgetall(h),
            lambda p: p.zrange(z, 0, -1, withscores=True),
            lambda p: p.xrange(x),
            lambda p: p.zscore(z, "m1"),
            lambda p: p.evalsha(sha, 1, s),
            lambda p: p.exists(h, z, s),
            lambda p: p.ping(),
            lambda p: p.get(s),
            lambda p: p.type(z),
            lambda p: p.xreadgroup("g", "c", {x: "0"}, count=5),
        ]
        through_lane = await asyncio.gather(*(batcher.submit(c) for c in commands))
        direct = []
        for c in commands:
            pipe = client.pipeline(transaction=False)
            c(pipe)
            direct += await pipe.execute()
        await batcher.close()
        await client.aclose()
        return through_lane, direct

    through_lane, direct = run(main())
    assert through_lane == direct
    assert through_lane[0] == {"a": "1", "b": "é"}
    assert through_lane[1] == [("m1", 1.5), ("m2", 2.0)]


def test_error_replies_keep_redis_pys_classes(redis_url, run) -> None:
    async def main() -> list[Any]:
        client, lane = _lane(redis_url)
        k = _key()
        await client.set(k, "text")
        replies = await lane.send(
            [(("EVALSHA", "0" * 40, 0), {}), (("LPUSH", k, "x"), {}), (("GET", k), {})]
        )
        await lane.close()
        await client.aclose()
        return replies

    noscript, wrongtype, value = run(main())
    assert isinstance(noscript, redis_errors.NoScriptError) and is_noscript(noscript)
    assert type(wrongtype) is redis_errors.ResponseError and "WRONGTYPE" in str(wrongtype)
    assert value == "text"


def test_a_killed_connection_is_made_again_and_nothing_is_lost(redis_url, run) -> None:
    async def main() -> tuple[Any, int]:
        client = aioredis.Redis.from_url(redis_url, decode_responses=True)
        batcher = Batcher(client)
        k = _key()
        await batcher.submit(lambda p: p.incr(k))
        name = f"lane-{uuid.uuid4().hex[:6]}"
        await batcher.submit(lambda p: p.client_setname(name))
        (lane_id,) = [c["id"] for c in await client.client_list() if c["name"] == name]
        assert await client.client_kill_filter(_id=lane_id) == 1
        after = await batcher.submit(lambda p: p.incr(k))
        names = [c["name"] for c in await client.client_list()]
        await batcher.close()
        await client.aclose()
        return after, names.count(name)

    after, old_lanes = run(main())
    assert after == 2  # the second INCR ran exactly once, on a new connection
    assert old_lanes == 0


def test_a_reply_beyond_the_socket_timeout_drops_the_connection(redis_url, run) -> None:
    async def main() -> tuple[BaseException | None, Any]:
        client, lane = _lane(redis_url, socket_timeout=0.2)
        k = _key()
        error: BaseException | None = None
        try:
            await lane.send([(("BLPOP", k, 2), {})])
        except redis_errors.TimeoutError as exc:
            error = exc
        # The late BLPOP reply must never answer a later command: the socket is gone.
        await client.rpush(k, "late")
        replies = await lane.send([(("LRANGE", k, 0, -1), {})])
        await lane.close()
        await client.aclose()
        return error, replies

    error, replies = run(main())
    assert isinstance(error, redis_errors.TimeoutError)
    assert replies == [["late"]]


def test_a_cancelled_flush_leaves_no_reply_for_the_next(redis_url, run) -> None:
    async def main() -> list[Any]:
        client, lane = _lane(redis_url)
        k = _key()
        waiting = asyncio.ensure_future(lane.send([(("BLPOP", k, 5), {})]))
        await asyncio.sleep(0.05)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await client.rpush(k, "kept")
        replies = await lane.send([(("LRANGE", k, 0, -1), {}), (("PING",), {})])
        await lane.close()
        await client.aclose()
        return replies

    assert run(main()) == [["kept"], True]


def test_bytes_replies_and_resp3_take_redis_pys_path(redis_url) -> None:
    assert not Lane.takes([(("DUMP", "k"), {"NEVER_DECODE": []})])
    assert Lane.takes([(("GET", "k"), {})])
    resp3 = aioredis.Redis.from_url(redis_url, protocol=3)
    assert Lane.of(resp3) is None


def test_a_command_on_a_socket_the_loop_closed_is_a_lost_connection(redis_url, run) -> None:
    # uvloop raises RuntimeError at a write to a socket it closed (asyncio's loop drops
    # the write and the read fails). Our clients' connections turn it into redis-py's
    # ConnectionError, which the batcher, the consumers, pub/sub and redis-py's cluster
    # client all wait out; a caller that will not wait gets a clear ConnectError.
    async def main() -> BaseException:
        client = Connection(redis_url).client
        conn = await client.connection_pool.get_connection()
        conn._writer.transport.close()
        await asyncio.sleep(0.01)
        try:
            await conn.send_command("PING")
            await conn.read_response()
        except Exception as exc:
            return exc
        finally:
            await client.connection_pool.release(conn)
            await client.aclose()
        raise AssertionError("a command on a closed socket answered")

    error = run(main())
    assert isinstance(error, redis_errors.ConnectionError), repr(error)
    assert is_transient(error)
    assert isinstance(explain(error), ConnectError)


def test_flushes_out_together_get_their_own_replies_in_order(redis_url, run) -> None:
    k = _key()

    async def main() -> tuple[list[list[Any]], Any]:
        client, lane = _lane(redis_url)
        # The first holds the connection's answers back; the others are written behind it.
        blocked = asyncio.ensure_future(lane.send([(("BLPOP", k, 2), {})]))
        await asyncio.sleep(0.05)
        behind = [
            asyncio.ensure_future(lane.send([(("ECHO", f"{n}-{m}"), {}) for m in range(n + 1)]))
            for n in range(3)
        ]
        await asyncio.sleep(0.05)
        assert not any(trip.done() for trip in behind)
        await client.rpush(k, "go")
        replies = await asyncio.gather(*behind)
        first = await blocked
        await lane.close()
        await client.aclose()
        return replies, first

    replies, first = run(main())
    assert first == [(k, "go")]
    assert replies == [["0-0"], ["1-0", "1-1"], ["2-0", "2-1", "2-2"]]


def test_a_lost_connection_fails_every_flush_out_on_it(redis_url, run) -> None:
    async def main() -> tuple[list[BaseException | list[Any]], list[Any]]:
        client, lane = _lane(redis_url)
        name = f"lane-{uuid.uuid4().hex[:6]}"
        await lane.send([(("CLIENT SETNAME", name), {})])
        k = _key()
        out = [asyncio.ensure_future(lane.send([(("BLPOP", k, 5), {})])) for _ in range(3)]
        await asyncio.sleep(0.05)
        (lane_id,) = [c["id"] for c in await client.client_list() if c["name"] == name]
        await client.client_kill_filter(_id=lane_id)
        outcomes = await asyncio.gather(*out, return_exceptions=True)
        after = await lane.send([(("PING",), {})])
        await lane.close()
        await client.aclose()
        return outcomes, after

    outcomes, after = run(main())
    assert all(isinstance(o, redis_errors.ConnectionError) for o in outcomes), outcomes
    assert after == [True]


class _CountingLane(Lane):
    """A batcher's lane that remembers how many commands each write sent, and how many
    flushes of the batcher were out at that moment."""

    def __init__(self, client: aioredis.Redis, batcher: Batcher) -> None:
        super().__init__(client)
        self.batcher = batcher
        self.sizes: list[int] = []
        self.most_out = 0

    def _count(self, commands: list[tuple[Any, Any]], joining: int) -> None:
        self.sizes.append(len(commands))
        self.most_out = max(self.most_out, len(self.batcher._flushing) + joining)

    def start(self, commands: list[tuple[Any, Any]]) -> asyncio.Future[list[Any]] | None:
        written = super().start(commands)
        if written is not None:  # written at once: the flush joins the batcher's once written
            self._count(commands, 1)
        return written

    async def send(self, commands: list[tuple[Any, Any]]) -> list[Any]:
        self._count(commands, 0)  # from a flush's task, already counted as out
        return await super().send(commands)


def test_a_long_queue_goes_out_in_overlapping_flushes(redis_url, run) -> None:
    async def main() -> tuple[list[Any], list[int], int]:
        client = aioredis.Redis.from_url(redis_url, decode_responses=True)
        batcher = Batcher(client)
        lane = batcher._lane = _CountingLane(client, batcher)
        k = _key()
        # 100 submitters in one loop pass: the first 16 need not wait for the other 84.
        replies = await asyncio.gather(*(batcher.submit(lambda p: p.incr(k)) for _ in range(100)))
        await batcher.close()
        await client.aclose()
        return replies, lane.sizes, lane.most_out

    replies, sizes, most_out = run(main())
    assert sorted(replies) == list(range(1, 101))  # each ran once
    assert sum(sizes) == 100
    assert sizes[0] == 16
    assert max(sizes) <= 100 - 16 and len(sizes) >= 2
    assert 1 < most_out <= 4


def test_a_flush_that_breaks_fails_its_submitters_instead_of_leaving_them_waiting(
    redis_url, run
) -> None:
    async def main() -> tuple[BaseException | None, Any]:
        client = aioredis.Redis.from_url(redis_url, decode_responses=True)
        batcher = Batcher(client)

        def broken(pipe: Any) -> None:
            raise ValueError("a command function with a bug")

        error: BaseException | None = None
        try:
            await asyncio.wait_for(batcher.submit(broken), 5)
        except ValueError as exc:
            error = exc
        after = await batcher.submit(lambda p: p.ping())
        await batcher.close()
        await client.aclose()
        return error, after

    error, after = run(main())
    assert isinstance(error, ValueError)
    assert after is True


def test_drain_waits_for_every_flush_out(redis_url, run) -> None:
    async def main() -> tuple[int, Any]:
        client = aioredis.Redis.from_url(redis_url, decode_responses=True)
        batcher = Batcher(client)
        k = _key()
        submitted = [asyncio.ensure_future(batcher.submit(lambda p: p.incr(k))) for _ in range(40)]
        await asyncio.sleep(0)  # the submits queue; the first flushes go out
        out = len(batcher._flushing)
        await batcher.drain()
        assert not batcher._flushing
        count = await client.get(k)
        await asyncio.gather(*submitted)
        await batcher.close()
        await client.aclose()
        return out, count

    out, count = run(main())
    assert out >= 1
    assert count == "40"


def _counting_tasks(loop: asyncio.AbstractEventLoop) -> dict[str, int]:
    """Count the tasks ``loop`` makes from now on, by coroutine name."""
    made: dict[str, int] = {}

    def factory(loop: asyncio.AbstractEventLoop, coro: Any, **options: Any) -> asyncio.Task[Any]:
        made[coro.__qualname__] = made.get(coro.__qualname__, 0) + 1
        return asyncio.Task(coro, loop=loop, **options)

    loop.set_task_factory(factory)
    return made


def test_once_connected_a_flush_is_written_at_once_and_settled_without_a_task(
    redis_url, run
) -> None:
    async def main() -> tuple[list[Any], dict[str, int], int]:
        client = aioredis.Redis.from_url(redis_url, decode_responses=True)
        batcher = Batcher(client)
        lane = batcher._lane = _CountingLane(client, batcher)
        k = _key()
        await batcher.submit(lambda p: p.ping())  # the lane connects (in a flush's task)
        made = _counting_tasks(asyncio.get_running_loop())
        replies = [await batcher.submit(lambda p: p.incr(k)) for _ in range(20)]
        # A full flush starts inside ``submit``: it is on the wire before submit returns.
        before = len(lane.sizes)
        many = [batcher.submit(lambda p: p.incr(k)) for _ in range(16)]
        written_at_once = len(lane.sizes) - before
        replies += await asyncio.gather(*many)
        await batcher.close()
        await client.aclose()
        return replies, made, written_at_once

    replies, made, written_at_once = run(main())
    assert replies == list(range(1, 37))
    assert made.get("Batcher._flush_batch", 0) == 0, made
    assert written_at_once == 1


def test_a_flush_written_at_once_whose_connection_drops_is_sent_again_and_runs_once(
    redis_url, run
) -> None:
    async def main() -> tuple[Any, str | None, dict[str, int]]:
        client = aioredis.Redis.from_url(redis_url, decode_responses=True)
        admin = aioredis.Redis.from_url(redis_url, decode_responses=True)
        name = f"lane-{uuid.uuid4().hex[:6]}"
        batcher = Batcher(client)
        k = _key()
        await batcher.submit(lambda p: p.client_setname(name))  # connected, and named
        (lane_id,) = [c["id"] for c in await admin.client_list() if c["name"] == name]
        made = _counting_tasks(asyncio.get_running_loop())
        # Writes wait on the server, so the INCR is written but not run when the
        # connection is killed: it must go out again, on a new connection, once.
        await admin.client_pause(300, all=False)
        reply = asyncio.ensure_future(batcher.submit(lambda p: p.incr(k)))
        await asyncio.sleep(0.05)
        await admin.client_kill_filter(_id=lane_id)
        value = await asyncio.wait_for(reply, 10)
        count = await admin.get(k)
        await batcher.close()
        await client.aclose()
        await admin.aclose()
        return value, count, made

    value, count, made = run(main())
    assert value == 1
    assert count == "1"
    assert made.get("Batcher._flush_batch") == 1, made  # the rest of that flush, in a task


def test_a_lane_closed_while_it_connects_leaves_no_connection_open(redis_url, run) -> None:
    # A worker stopped right after it started: its read loop's lane was still connecting.
    async def main() -> tuple[bool, bool]:
        client, lane = _lane(redis_url)
        sending = asyncio.ensure_future(lane.send([(("PING",), {})]))
        await asyncio.sleep(0)  # the lane's connection is being made
        connecting = lane._opening is not None
        sending.cancel()
        await lane.close()
        with pytest.raises(asyncio.CancelledError):
            await sending
        for _ in range(100):  # the connection is made meanwhile
            if lane._opening is None:
                break
            await asyncio.sleep(0.01)
        await asyncio.sleep(0.01)
        left_open = lane._wire is not None and not lane._wire._transport.is_closing()
        await client.aclose()
        return connecting, left_open

    assert run(main()) == (True, False)
