"""Every Lua script of the package, called with crafted arguments against the real server.

One table per script: a row is a situation (the state before), the call, the reply and
the state after, so every outcome code and branch has a row. ``step.lua`` has its own
file (tests/engine/test_step_script.py).

Each call runs as an ACL user that may touch only the keys the call passes in ``KEYS``
(cluster, ACL and Dragonfly rules): a script that reached any other key would be
refused with ``NOPERM``. Values inside messages stay opaque strings: a big integer in a
job's data comes out digit for digit.
"""

from __future__ import annotations

import importlib
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ResponseError

from hotmesh_nb import _lua as scripts
from hotmesh_nb._lua import LuaScript, assemble
from hotmesh_nb.engine import _scripts as engine_scripts
from hotmesh_nb.engine._protocol import WIRE_VERSION
from hotmesh_nb.engine._scripts import FIRE, INTERRUPT, RENEW, TRIM
from hotmesh_nb.keys import Keys, glob_escape
from hotmesh_nb.runtime import get_runtime

BIG = "12345678901234567890123"
"""An integer a double cannot hold: it must come out of every script as written."""


class Lab:
    """The server as one test sees it: an admin client for the situation and the checks,
    and :meth:`call`, which runs a script as a user limited to the keys it declares."""

    def __init__(self, url: str, namespace: str) -> None:
        self.url = url
        self.keys = Keys(namespace, "scripts", 1)
        self.admin = aioredis.Redis.from_url(url, decode_responses=True)
        self.users: list[str] = []

    async def user(self, keys: list[str], also: tuple[str, ...] = ()) -> aioredis.Redis:
        """A client of a new user who may run anything but touch only ``keys`` and ``also``."""
        user, password = f"lua-{uuid.uuid4().hex[:10]}", uuid.uuid4().hex
        allowed = [f"~{glob_escape(k)}" for k in (*keys, *also)]
        await self.admin.execute_command(
            "ACL", "SETUSER", user, "on", f">{password}", "+@all", "&*", *allowed
        )
        self.users.append(user)
        return aioredis.Redis.from_url(
            self.url, username=user, password=password, decode_responses=True
        )

    async def call(
        self, script: LuaScript, keys: list[str], args: list[Any], also: tuple[str, ...] = ()
    ) -> Any:
        """``script`` run by a user who may touch ``keys`` (and ``also``) and nothing else."""
        client = await self.user(keys, also)
        try:
            await script.load(client)
            return await script.call(client, keys, args)
        finally:
            await client.aclose()

    async def close(self) -> None:
        for user in self.users:
            await self.admin.execute_command("ACL", "DELUSER", user)
        await self.admin.aclose()


@pytest.fixture
def lab(redis_url: str, namespace: str) -> Callable[[Callable[[Lab], Awaitable[Any]]], Any]:
    """``lab(fn)`` runs ``await fn(Lab)`` on the runtime and returns its result."""

    def run(fn: Callable[[Lab], Awaitable[Any]]) -> Any:
        async def go() -> Any:
            one = Lab(redis_url, namespace)
            try:
                return await fn(one)
            finally:
                await one.close()

        return get_runtime().run(go())

    return run


def test_a_script_reaching_a_key_it_was_not_given_is_refused(lab) -> None:
    """The check every row below relies on: the server refuses the undeclared key."""

    async def go(lab: Lab) -> tuple[Any, str]:
        given, other = lab.keys.job("given"), lab.keys.job("other")
        client = await lab.user([given])
        reach = "redis.call('SET', KEYS[1], 1) return redis.call('SET', ARGV[1], 1)"
        try:
            with pytest.raises(ResponseError, match="No permissions to access a key"):
                await client.eval(reach, 1, given, other)
            return await client.eval(reach, 1, given, given), await lab.admin.get(given)
        finally:
            await client.aclose()

    assert lab(go) == ("OK", "1")


# -- fire: due timers move to the engine stream ----------------------------------------------


@dataclass
class FireRow:
    what: str
    timers: dict[str, int]
    """member → due time (ms)"""
    now: int
    batch: int
    reply: list[int]
    moved: list[str]
    """members on the engine stream afterwards, in order"""
    left: list[str]
    together: int = 0
    """timers due within this many ms after ``now`` fire with a due one"""


FIRE_ROWS = [
    FireRow("nothing is scheduled", {}, 1000, 10, [0, -1], [], []),
    FireRow("nothing is due yet: the next due time", {"a": 2000}, 1000, 10, [0, 2000], [], ["a"]),
    FireRow(
        "every timer is due (due now counts)",
        {"a": 500, "b": 1000},
        1000,
        10,
        [2, -1],
        ["a", "b"],
        [],
    ),
    FireRow(
        "the due ones move, the rest wait", {"a": 500, "b": 1500}, 1000, 10, [1, 1500], ["a"], ["b"]
    ),
    FireRow(
        "more due than a batch: the oldest move first",
        {"c": 300, "a": 100, "b": 200},
        1000,
        2,
        [2, 300],
        ["a", "b"],
        ["c"],
    ),
    FireRow(
        "the ones due just after a due one fire with it, in due order",
        {"c": 1200, "b": 1050, "a": 990},
        1000,
        10,
        [2, 1200],
        ["a", "b"],
        ["c"],
        together=100,
    ),
    FireRow(
        "none is due yet: the window pulls nothing forward",
        {"b": 1050, "a": 1001},
        1000,
        10,
        [0, 1001],
        [],
        ["a", "b"],
        together=100,
    ),
    FireRow(
        "a timer's message is moved byte for byte",
        {f'{{"n":{BIG},"s":"x\\u00e9"}}': 10},
        1000,
        10,
        [1, -1],
        [f'{{"n":{BIG},"s":"x\\u00e9"}}'],
        [],
    ),
]


@pytest.mark.parametrize("row", FIRE_ROWS, ids=[r.what for r in FIRE_ROWS])
def test_fire(lab, row: FireRow) -> None:
    async def go(lab: Lab) -> tuple[Any, list[str], list[str]]:
        timers, stream = lab.keys.part(0).timers, lab.keys.part(0).engine_stream
        if row.timers:
            await lab.admin.zadd(timers, row.timers)
        reply = await lab.call(FIRE, [timers, stream], [row.now, row.batch, row.together])
        moved = [fields["m"] for _, fields in await lab.admin.xrange(stream)]
        return reply, moved, await lab.admin.zrange(timers, 0, -1)

    reply, moved, left = lab(go)
    assert reply == row.reply
    assert moved == row.moved
    assert left == row.left


# -- renew: a consumer extends (or hands back) its claims ------------------------------------


@dataclass
class RenewRow:
    what: str
    consumer: str
    idle_ms: int
    messages: list[str]
    """m1 (c1's, long idle), m2 (c1's, acknowledged), m3 (c2's), or a raw id"""
    reply: int
    owners: dict[str, str] = field(default_factory=lambda: {"m1": "c1", "m3": "c2"})
    """pending message → its consumer afterwards (m2 never comes back)"""
    fresh: tuple[str, ...] = ()
    """messages whose idle time was reset (below the long idle m1 started with)"""
    handed_back: tuple[str, ...] = ()
    """messages whose idle time is now at least ``idle_ms``"""


LONG_IDLE = 10_000_000
"""m1's idle time before each call: far above anything a renewal sets."""

RENEW_ROWS = [
    RenewRow("its own message is renewed", "c1", 0, ["m1"], 1, fresh=("m1",)),
    RenewRow(
        "handing a message back makes it reclaimable",
        "c2",
        600_000,
        ["m3"],
        1,
        handed_back=("m3",),
    ),
    RenewRow("another consumer's message is left alone", "c1", 0, ["m3"], 0),
    RenewRow("an acknowledged message is not claimed back", "c1", 0, ["m2"], 0),
    RenewRow("an id that was never delivered", "c1", 0, ["1-1"], 0),
    RenewRow("in a mixed batch only its own count", "c1", 0, ["m1", "m2", "m3"], 1, fresh=("m1",)),
    RenewRow("nothing to renew", "c1", 0, [], 0),
]


@pytest.mark.parametrize("row", RENEW_ROWS, ids=[r.what for r in RENEW_ROWS])
def test_renew(lab, row: RenewRow) -> None:
    group = "WORKER"

    async def go(lab: Lab) -> tuple[Any, dict[str, dict[str, Any]], dict[str, str]]:
        stream = lab.keys.part(0).worker_stream("work")
        await lab.admin.xgroup_create(stream, group, id="0", mkstream=True)
        ids = {name: await lab.admin.xadd(stream, {"m": name}) for name in ("m1", "m2", "m3")}
        await lab.admin.xreadgroup(group, "c1", {stream: ">"}, count=2)
        await lab.admin.xreadgroup(group, "c2", {stream: ">"}, count=1)
        await lab.admin.xack(stream, group, ids["m2"])
        # m1 looks held for a long time (XCLAIM by its own consumer, delivery count kept).
        await lab.admin.xclaim(stream, group, "c1", 0, [ids["m1"]], idle=LONG_IDLE, justid=True)
        wanted = [ids.get(m, m) for m in row.messages]
        reply = await lab.call(RENEW, [stream], [group, row.consumer, row.idle_ms, *wanted])
        pending = await lab.admin.xpending_range(stream, group, "-", "+", 10)
        by_name = {v: k for k, v in ids.items()}
        return reply, {by_name[p["message_id"]]: p for p in pending}, ids

    reply, pending, _ = lab(go)
    assert reply == row.reply
    assert {m: p["consumer"] for m, p in pending.items()} == row.owners
    # A renewal never counts as a delivery: a slow but healthy callback is not a failure.
    assert {m: p["times_delivered"] for m, p in pending.items()} == {"m1": 1, "m3": 1}
    for name in row.fresh:
        assert pending[name]["time_since_delivered"] < LONG_IDLE
    for name in row.handed_back:
        assert pending[name]["time_since_delivered"] >= row.idle_ms
    if "m1" not in row.fresh:
        assert pending["m1"]["time_since_delivered"] >= LONG_IDLE


# -- trim: entries every group has delivered and acknowledged go -----------------------------


@dataclass
class TrimRow:
    what: str
    groups: list[tuple[str, int, list[int]]]
    """(group, entries it read, indexes of those it acknowledged); 4 entries in all"""
    reply: int
    left: int
    """entries kept: the last ``left`` of the four"""


TRIM_ROWS = [
    TrimRow("a stream without groups is kept whole", [], 0, 4),
    TrimRow("a group that read nothing keeps everything", [("g", 0, [])], 0, 4),
    TrimRow("read and unacknowledged entries stay", [("g", 2, [])], 0, 4),
    TrimRow("read and acknowledged entries go, undelivered ones stay", [("g", 3, [0, 1, 2])], 3, 1),
    TrimRow("the first pending entry stops the trim", [("g", 3, [0, 2])], 1, 3),
    TrimRow("the slowest group decides", [("fast", 4, [0, 1, 2, 3]), ("slow", 2, [0])], 1, 3),
    TrimRow(
        "every group done empties the stream",
        [("a", 4, [0, 1, 2, 3]), ("b", 4, [3, 2, 1, 0])],
        4,
        0,
    ),
]


@pytest.mark.parametrize("row", TRIM_ROWS, ids=[r.what for r in TRIM_ROWS])
def test_trim(lab, row: TrimRow) -> None:
    async def go(lab: Lab) -> tuple[Any, list[str], list[str]]:
        stream = lab.keys.part(0).engine_stream
        ids = [await lab.admin.xadd(stream, {"m": f"e{i}"}) for i in range(4)]
        for group, read, acked in row.groups:
            await lab.admin.xgroup_create(stream, group, id="0")
            if read:
                await lab.admin.xreadgroup(group, "c", {stream: ">"}, count=read)
            if acked:
                await lab.admin.xack(stream, group, *(ids[i] for i in acked))
        reply = await lab.call(TRIM, [stream], [])
        return reply, [i for i, _ in await lab.admin.xrange(stream)], ids

    reply, kept, ids = lab(go)
    assert reply == row.reply
    assert kept == ids[len(ids) - row.left :]


def test_trim_and_renew_may_run_on_a_full_server() -> None:
    # Both only free memory or touch metadata: a server at maxmemory must still run them,
    # or a full server could never drain. Every other script is checked before it writes.
    assert TRIM.source.startswith("#!lua flags=allow-oom\n")
    assert RENEW.source.startswith("#!lua flags=allow-oom\n")
    for script in (FIRE, INTERRUPT):
        assert script.source.startswith("#!lua\n")


# -- interrupt (interrupt_job and announce): end a job at once --------------------------------

NOW = "20261203095100.123"
STOP = '{"code":410,"message":"stop","job_id":"j1"}'
PARENT = '{"k":"result","j":"parent-1","a":"child","d":",0,0"}'


@dataclass
class InterruptRow:
    what: str
    job: dict[str, str] | None
    """the job hash before (None: no such job)"""
    reply: list[int]
    error: str = ""
    publishes: bool = False
    expire: int = 60
    announced: dict[str, Any] | None = None
    """the payload on the done channel (and on the publishes channel when given)"""
    parent: dict[str, Any] | None = None
    """the message the awaiting parent receives on the engine stream"""
    after: dict[str, str] | None = None
    """fields of the job hash afterwards (None: as before)"""
    ttl: str = "none"
    """'none' (no expiry), 'expiring', or 'gone'"""
    facet: bool = False
    """the job joined a facet set (with another job): does it leave it?"""


RUNNING = {":": "2", "m": '{"jid":"j1","tpc":"go"}', "d:x": "1", "d:n": BIG, "gid": "g1"}
ANNOUNCED_QUIETLY = {
    "k": "done",
    "s": 2 - 1_000_000_000,
    "m": {"jid": "j1", "tpc": "go"},
    "ju": NOW,
    "err": None,
    "ed": None,
    "d": {"x": 1, "n": int(BIG)},
}

INTERRUPT_ROWS = [
    InterruptRow("a missing job", None, [-1, 0], ttl="gone"),
    InterruptRow("a job that had ended", {":": "0", "d:x": "1"}, [0, 0]),
    InterruptRow("a job interrupted before", {":": str(1 - 1_000_000_000)}, [0, 1 - 1_000_000_000]),
    InterruptRow(
        "a running job ends quietly and expires",
        RUNNING,
        [1, 2 - 1_000_000_000],
        announced=ANNOUNCED_QUIETLY,
        after={**RUNNING, ":": str(2 - 1_000_000_000), "ju": NOW},
        ttl="expiring",
    ),
    InterruptRow(
        "an error is recorded and announced",
        RUNNING,
        [1, 2 - 1_000_000_000],
        error=STOP,
        announced={**ANNOUNCED_QUIETLY, "err": json.loads(STOP)},
        after={**RUNNING, ":": str(2 - 1_000_000_000), "ju": NOW, "err": STOP},
        ttl="expiring",
    ),
    InterruptRow(
        "expire 0 keeps the ended job",
        RUNNING,
        [1, 2 - 1_000_000_000],
        expire=0,
        announced=ANNOUNCED_QUIETLY,
        after={**RUNNING, ":": str(2 - 1_000_000_000), "ju": NOW},
    ),
    InterruptRow(
        "the graph's publishes channel hears it too",
        RUNNING,
        [1, 2 - 1_000_000_000],
        publishes=True,
        announced=ANNOUNCED_QUIETLY,
        after={**RUNNING, ":": str(2 - 1_000_000_000), "ju": NOW},
        ttl="expiring",
    ),
    InterruptRow(
        "an error detail is announced as stored",
        {**RUNNING, "ed": '{"stack":"at x"}'},
        [1, 2 - 1_000_000_000],
        error=STOP,
        announced={**ANNOUNCED_QUIETLY, "err": json.loads(STOP), "ed": {"stack": "at x"}},
        after={
            **RUNNING,
            "ed": '{"stack":"at x"}',
            ":": str(2 - 1_000_000_000),
            "ju": NOW,
            "err": STOP,
        },
        ttl="expiring",
    ),
    InterruptRow(
        "an awaiting parent receives the error and its code",
        {**RUNNING, "p": PARENT},
        [1, 2 - 1_000_000_000],
        error=STOP,
        announced={**ANNOUNCED_QUIETLY, "err": json.loads(STOP)},
        parent={**json.loads(PARENT), "status": "error", "code": 410, "data": json.loads(STOP)},
        after={**RUNNING, "p": PARENT, ":": str(2 - 1_000_000_000), "ju": NOW, "err": STOP},
        ttl="expiring",
    ),
    InterruptRow(
        "an error without a code reaches the parent as 500",
        {**RUNNING, "p": PARENT},
        [1, 2 - 1_000_000_000],
        error='{"message":"stop"}',
        announced={**ANNOUNCED_QUIETLY, "err": {"message": "stop"}},
        parent={**json.loads(PARENT), "status": "error", "code": 500, "data": {"message": "stop"}},
        after={
            **RUNNING,
            "p": PARENT,
            ":": str(2 - 1_000_000_000),
            "ju": NOW,
            "err": '{"message":"stop"}',
        },
        ttl="expiring",
    ),
    InterruptRow(
        "a quiet interrupt hands the parent success and the data",
        {**RUNNING, "p": PARENT},
        [1, 2 - 1_000_000_000],
        announced=ANNOUNCED_QUIETLY,
        parent={
            **json.loads(PARENT),
            "status": "success",
            "code": 200,
            "data": {"x": 1, "n": int(BIG)},
        },
        after={**RUNNING, "p": PARENT, ":": str(2 - 1_000_000_000), "ju": NOW},
        ttl="expiring",
    ),
    InterruptRow(
        "the ended job leaves the facet sets it joined",
        RUNNING,
        [1, 2 - 1_000_000_000],
        announced=ANNOUNCED_QUIETLY,
        after={**RUNNING, ":": str(2 - 1_000_000_000), "ju": NOW},
        ttl="expiring",
        facet=True,
    ),
]


@pytest.mark.parametrize("row", INTERRUPT_ROWS, ids=[r.what for r in INTERRUPT_ROWS])
def test_interrupt(lab, row: InterruptRow) -> None:
    async def go(lab: Lab) -> dict[str, Any]:
        keys = lab.keys
        job, stream, facet = (
            keys.job("j1"),
            keys.part(0).engine_stream,
            keys.part(0).facet("color:red"),
        )
        done = keys.part_of("j1").done_channel  # a shard channel (SPUBLISH)
        publishes = keys.topic_channel("go.done", "j1")
        before = dict(row.job or {})
        if row.facet:
            before[f"f:{facet}"] = "j1"
            await lab.admin.sadd(facet, "j1", "j2")
        if before:
            await lab.admin.hset(job, mapping=before)
        listener = lab.admin.pubsub()
        await listener.ssubscribe(done)
        await listener.subscribe(publishes)
        for _ in range(2):
            await listener.get_message(timeout=5)  # the subscribe confirmations
        reply = await lab.call(
            INTERRUPT,
            [job, stream],
            [row.error, done, publishes if row.publishes else "", row.expire, NOW],
        )
        # What the script published arrives before a marker published after it.
        await lab.admin.spublish(done, "marker")
        heard: list[tuple[str, str]] = []
        while not heard or heard[-1][1] != "marker":
            message = await listener.get_message(timeout=5)
            if message is not None:
                heard.append((message["channel"], message["data"]))
        await listener.aclose()
        return {
            "reply": reply,
            "heard": heard[:-1],
            "hash": await lab.admin.hgetall(job),
            "before": before,
            "ttl": await lab.admin.ttl(job),
            "stream": [f["m"] for _, f in await lab.admin.xrange(stream)],
            "facet": await lab.admin.smembers(facet),
            "set": facet,
            "channels": (done, publishes),
        }

    got = lab(go)
    done, publishes = got["channels"]
    assert got["reply"] == row.reply
    if row.announced is None:
        assert got["heard"] == []
    else:
        channels = [done, publishes] if row.publishes else [done]
        assert [c for c, _ in got["heard"]] == channels
        for _, payload in got["heard"]:
            assert json.loads(payload) == row.announced
            assert BIG in payload  # as written, not as a double
    stream = [json.loads(m) for m in got["stream"]]
    if row.facet:
        # The ended job asks an engine to take it out of its facet set: the script touches
        # no key it was not given (the set is named only in the job's hash).
        unindex = stream.pop()
        assert unindex == {
            "k": "unindex",
            "w": WIRE_VERSION,
            "g": "",
            "j": "j1",
            "facets": [got["set"]],
        }
    assert stream == ([] if row.parent is None else [row.parent])
    if row.after is None:
        assert got["hash"] == got["before"]
    else:
        # The job remembers the facet set it joined (the field stays; the set forgets it).
        remembered = {k: v for k, v in got["before"].items() if k.startswith("f:")}
        assert got["hash"] == {**row.after, **remembered}
    assert got["facet"] == ({"j1", "j2"} if row.facet else set())  # until an engine applies it
    ttl = got["ttl"]
    expiry = {"none": ttl == -1, "expiring": 0 < ttl <= row.expire, "gone": ttl == -2}
    assert expiry[row.ttl], (row.ttl, ttl)


# -- announce by itself: the kinds only step.lua sends ('emit', and 'done' kept open) ----------


def _announce_driver(tmp_path: Path, call: str) -> str:
    """A two-line script that includes ``announce`` and runs ``call`` once."""
    engine_lua = Path(engine_scripts.__file__).with_name("lua")
    (tmp_path / "announce.lua").write_text((engine_lua / "announce.lua").read_text())
    (tmp_path / "drive.lua").write_text(f"-- @include announce\n{call}\nreturn 1\n")
    return assemble(tmp_path, "drive")


def test_two_emits_in_one_millisecond_reach_the_parent_as_two(lab, tmp_path: Path) -> None:
    # A parent guards against a redelivered emit by its 'rg': emits of different steps
    # at the same update time must differ, and the same step's emit, sent again, not.
    source = _announce_driver(
        tmp_path, "announce(KEYS[1], KEYS[2], 'emit', 2, ARGV[1], ARGV[2], nil, nil, ARGV[3])"
    )

    async def go(lab: Lab) -> list[str]:
        keys = lab.keys
        job, stream = keys.job("j1"), keys.part(0).engine_stream
        done = keys.part_of("j1").done_channel
        publishes = keys.topic_channel("go.done", "j1")
        await lab.admin.hset(job, mapping={**RUNNING, "p": PARENT, "ju": NOW})
        client = await lab.user([job, stream])
        try:
            for step in ("-entered-a,0", "-entered-b,0", "-entered-a,0"):
                await client.eval(source, 2, job, stream, done, publishes, step)
        finally:
            await client.aclose()
        return [json.loads(f["m"])["rg"] for _, f in await lab.admin.xrange(stream)]

    first, second, again = lab(go)
    assert NOW in first and NOW in second
    assert first != second
    assert again == first


@pytest.mark.parametrize("kind", ["done", "emit"])
def test_announce_through_a_minimal_includer(lab, tmp_path: Path, kind: str) -> None:
    # step.lua announces 'emit' (a job that goes on) and 'done' for a job that stays
    # open ('persist'); interrupt.lua only 'done'. A two-line includer reaches both.
    source = _announce_driver(
        tmp_path, "announce(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4])"
    )

    async def go(lab: Lab) -> dict[str, Any]:
        keys = lab.keys
        job, stream, facet = (
            keys.job("j1"),
            keys.part(0).engine_stream,
            keys.part(0).facet("color:red"),
        )
        done = keys.part_of("j1").done_channel  # a shard channel (SPUBLISH)
        publishes = keys.topic_channel("go.done", "j1")
        await lab.admin.hset(job, mapping={**RUNNING, "p": PARENT, "ju": NOW, f"f:{facet}": "j1"})
        await lab.admin.sadd(facet, "j1")
        listener = lab.admin.pubsub()
        await listener.ssubscribe(done)
        await listener.subscribe(publishes)
        for _ in range(2):
            await listener.get_message(timeout=5)
        client = await lab.user([job, stream])
        try:
            await client.eval(source, 2, job, stream, kind, 2, done, publishes)
        finally:
            await client.aclose()
        heard = []
        while len(heard) < 2:
            message = await listener.get_message(timeout=5)
            if message is not None:
                heard.append((message["channel"], json.loads(message["data"])))
        await listener.aclose()
        return {
            "heard": heard,
            "channels": [done, publishes],
            "stream": [json.loads(f["m"]) for _, f in await lab.admin.xrange(stream)],
            "facet": await lab.admin.smembers(facet),
            "set": facet,
        }

    got = lab(go)
    payload = {**ANNOUNCED_QUIETLY, "k": kind, "s": 2}
    assert got["heard"] == [(c, payload) for c in got["channels"]]
    if kind == "done":
        unindex = got["stream"].pop()
        assert unindex == {
            "k": "unindex",
            "w": WIRE_VERSION,
            "g": "",
            "j": "j1",
            "facets": [got["set"]],
        }
    [parent] = got["stream"]
    if kind == "emit":
        # The parent hears a pending outcome (code 202) with the data so far; its 'rg'
        # names this announcement (the parent's guard against a redelivered one).
        rg = parent.pop("rg")
        assert isinstance(rg, str) and NOW in rg
        assert parent == {
            **json.loads(PARENT),
            "status": "pending",
            "code": 202,
            "data": payload["d"],
        }
        assert got["facet"] == {"j1"}  # a job that goes on stays findable
    else:
        assert parent == {
            **json.loads(PARENT),
            "status": "success",
            "code": 200,
            "data": payload["d"],
        }
        assert got["facet"] == {"j1"}  # until an engine applies the unindex message


# -- the include mechanism -------------------------------------------------------------------


def test_every_script_compiles_on_the_server(lab) -> None:
    async def go(lab: Lab) -> list[bool]:
        await scripts.load_all(lab.admin)
        return await lab.admin.script_exists(*(s.sha for s in scripts._REGISTRY))

    for module in ("meshcall._jobs", "meshflow._ledger", "search._fallback"):
        importlib.import_module(f"hotmesh_nb.{module}")  # registers that package's scripts

    names = {s.name for s in scripts._REGISTRY}
    assert {"step", "trim", "interrupt", "fire", "renew", "ix_write", "claim"} <= names
    assert all(lab(go))


def _folder(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / f"{name}.lua").write_text(text)
    return tmp_path


def test_a_piece_included_twice_is_pasted_once_where_first_included(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        {
            "main": "-- @include b\n-- @include a\nreturn a() + b()\n",
            "a": "local function a() return 1 end\n",
            "b": "-- @include a\nlocal function b() return a() end\n",
        },
    )
    assert assemble(folder, "main") == (
        "local function a() return 1 end\nlocal function b() return a() end\nreturn a() + b()\n"
    )


def test_pieces_that_include_each_other_are_pasted_once(tmp_path: Path) -> None:
    folder = _folder(
        tmp_path,
        {
            "main": "-- @include a\nreturn 1\n",
            "a": "-- @include b\nlocal a = 1\n",
            "b": "-- @include a\nlocal b = 2\n",
        },
    )
    assert assemble(folder, "main") == "local b = 2\nlocal a = 1\nreturn 1\n"


def test_a_missing_piece_names_the_script_and_the_line(tmp_path: Path) -> None:
    folder = _folder(tmp_path, {"main": "-- @include nowhere\nreturn 1\n"})
    with pytest.raises(
        FileNotFoundError, match=r"main\.lua includes 'nowhere'.*-- @include nowhere"
    ):
        assemble(folder, "main")
    with pytest.raises(FileNotFoundError, match=r"no Lua script 'absent\.lua'"):
        assemble(folder, "absent")
