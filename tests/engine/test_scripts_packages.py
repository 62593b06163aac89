"""The Lua scripts of MeshCall, MeshFlow and the fallback search index, called with crafted
arguments against the real server: every outcome code and branch, one row each.

A row names the keys it uses (``job``, ``ledger``, ``list``...), the state before, the
call, the reply and what changed. As in ``test_scripts.py``, each call runs as an ACL
user limited to the keys the call passes in ``KEYS``, and values stay opaque strings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from redis.exceptions import ResponseError
from test_scripts import BIG, Lab

from hotmesh_nb._lua import LuaScript
from hotmesh_nb.meshcall._jobs import DELETE_IF_ENDED
from hotmesh_nb.meshflow._ledger import CLAIM, SEARCH
from hotmesh_nb.runtime import get_runtime
from hotmesh_nb.search._fallback import PRUNE, WRITE


class Z(dict):
    """A sorted set's content (member → score), to tell it from a hash in a row."""


Value = dict[str, str] | set[str] | Z | None
"""A key's content: a hash, a set, a sorted set, or None for no key."""


@dataclass
class Row:
    what: str
    script: LuaScript
    keys: list[str]
    """names of the keys passed in KEYS, in order"""
    args: list[Any]
    reply: Any
    before: dict[str, Value] = field(default_factory=dict)
    changed: dict[str, Value] = field(default_factory=dict)
    """keys whose content differs afterwards (every other key is as before)"""


def _key(lab: Lab, name: str) -> str:
    return (
        lab.keys.job(name) if name in ("job", "ledger") else lab.keys.part(0).search_key("ix", name)
    )


async def _put(lab: Lab, key: str, value: Value) -> None:
    if isinstance(value, Z):
        await lab.admin.zadd(key, dict(value))
    elif isinstance(value, set):
        await lab.admin.sadd(key, *value)
    elif isinstance(value, dict):
        await lab.admin.hset(key, mapping=value)


async def _read(lab: Lab, key: str) -> Value:
    kind = await lab.admin.type(key)
    if kind == "hash":
        return await lab.admin.hgetall(key)
    if kind == "set":
        return set(await lab.admin.smembers(key))
    if kind == "zset":
        return Z(await lab.admin.zrange(key, 0, -1, withscores=True))
    return None


@pytest.fixture
def play(redis_url: str, namespace: str) -> Callable[[Row], tuple[Any, dict, dict]]:
    """``play(row)`` → (reply, state expected afterwards, state found afterwards)."""

    def run(row: Row) -> tuple[Any, dict, dict]:
        async def go(lab: Lab) -> tuple[Any, dict, dict]:
            # Member lists hold full key names: "@name" in a value stands for that key.
            def resolve(value: Value) -> Value:
                if isinstance(value, set):
                    return {_key(lab, v[1:]) if v.startswith("@") else v for v in value}
                return value

            for name, value in row.before.items():
                await _put(lab, _key(lab, name), resolve(value))
            keys = [_key(lab, n) for n in row.keys]
            try:
                reply = await lab.call(row.script, keys, row.args)
            except ResponseError as error:
                reply = ResponseError(str(error).split(" script:")[0])
            names = {*row.before, *row.changed, *row.keys}
            expected = {n: resolve(v) for n, v in {**row.before, **row.changed}.items()}
            found = {n: await _read(lab, _key(lab, n)) for n in names}
            return reply, {n: expected.get(n) for n in names}, found

        async def with_lab() -> tuple[Any, dict, dict]:
            lab = Lab(redis_url, namespace)
            try:
                return await go(lab)
            finally:
                await lab.close()

        return get_runtime().run(with_lab())

    return run


def _check(play: Callable[[Row], tuple[Any, dict, dict]], row: Row) -> None:
    reply, expected, found = play(row)
    if isinstance(row.reply, ResponseError):
        assert isinstance(reply, ResponseError) and str(row.reply) in str(reply)
    else:
        assert reply == row.reply
    assert found == expected


ENDED = {":": "0", "d:n": BIG}

DELETE_ROWS = [
    Row("no such job", DELETE_IF_ENDED, ["job"], [":"], -1),
    Row(
        "a running call is never cut short", DELETE_IF_ENDED, ["job"], [":"], 0, {"job": {":": "1"}}
    ),
    Row(
        "an ended call is deleted",
        DELETE_IF_ENDED,
        ["job"],
        [":"],
        1,
        {"job": ENDED},
        {"job": None},
    ),
    Row(
        "an interrupted call is deleted",
        DELETE_IF_ENDED,
        ["job"],
        [":"],
        1,
        {"job": {":": "-999999999"}},
        {"job": None},
    ),
    Row(
        "a hash without a status is no job",
        DELETE_IF_ENDED,
        ["job"],
        [":"],
        -1,
        {"job": {"x": "1"}},
    ),
]

MINE = '{"g":"run-1","d":' + BIG + "}"
THEIRS = '{"g":"run-2"}'
CLAIM_ROWS = [
    Row("no such workflow: nothing is claimed", CLAIM, ["job"], ["run-1", "0", "-1", MINE], []),
    Row(
        "an ended workflow: nothing is claimed",
        CLAIM,
        ["job"],
        ["run-1", "0", "-1", MINE],
        [],
        {"job": {":": "0"}},
    ),
    Row(
        "free items are ours, stored as written",
        CLAIM,
        ["job"],
        ["run-1", "0", "-1", MINE, "-2", MINE],
        [0, 1, 1],
        {"job": {":": "1"}},
        {"job": {":": "1", "-1": MINE, "-2": MINE}},
    ),
    Row(
        "an item claimed by another run is theirs, one claimed by us stays ours",
        CLAIM,
        ["job"],
        ["run-1", "0", "-1", MINE, "-2", MINE],
        [0, 0, 1],
        {"job": {":": "1", "-1": THEIRS, "-2": MINE}},
    ),
    Row(
        "our own claim is rewritten (a local activity's attempt count)",
        CLAIM,
        ["job"],
        ["run-1", "0", "-1", MINE],
        [0, 1],
        {"job": {":": "1", "-1": '{"g":"run-1"}'}},
        {"job": {":": "1", "-1": MINE}},
    ),
    Row(
        "an item that is not a JSON record is nobody's to take",
        CLAIM,
        ["job"],
        ["run-1", "0", "-1", MINE, "-2", MINE],
        [0, 0, 0],
        {"job": {":": "1", "-1": "not json", "-2": "5"}},
    ),
    Row(
        "a local result is claimed and recorded, then the items are claimed",
        CLAIM,
        ["job"],
        ["run-1", "1", "-c1", MINE, "-r1", BIG, "-end", MINE],
        [0, 1],
        {"job": {":": "1"}},
        {"job": {":": "1", "-c1": MINE, "-r1": BIG, "-end": MINE}},
    ),
    Row(
        "a local result whose index is another run's: stale, nothing is claimed or written",
        CLAIM,
        ["job"],
        ["run-1", "1", "-c1", MINE, "-r1", BIG, "-end", MINE],
        [1, 0],
        {"job": {":": "1", "-c1": THEIRS}},
    ),
    Row(
        "the first recorded result stays",
        CLAIM,
        ["job"],
        ["run-1", "1", "-c1", MINE, "-r1", "second"],
        [0],
        {"job": {":": "1", "-c1": MINE, "-r1": "first"}},
    ),
]

SEARCH_ROWS = [
    Row(
        "set: the fields created are counted and the count is kept",
        SEARCH,
        ["ledger", "job"],
        ["-s1", "set", "a", "1", "b", BIG],
        "1",
        {"ledger": {":": "1"}, "job": {":": "1", "a": "0"}},
        {"ledger": {":": "1", "-s1": "1"}, "job": {":": "1", "a": "1", "b": BIG}},
    ),
    Row(
        "a replay gets the kept result and writes nothing",
        SEARCH,
        ["ledger", "job"],
        ["-s1", "set", "a", "2"],
        "1",
        {"ledger": {":": "1", "-s1": "1"}, "job": {":": "1", "a": "1"}},
    ),
    Row(
        "del: the fields removed are counted",
        SEARCH,
        ["ledger", "job"],
        ["-s2", "del", "a", "gone"],
        "1",
        {"ledger": {":": "1"}, "job": {":": "1", "a": "1"}},
        {"ledger": {":": "1", "-s2": "1"}, "job": {":": "1"}},
    ),
    Row(
        "incr: from nothing",
        SEARCH,
        ["ledger", "job"],
        ["-s3", "incr", "n", "2.5"],
        "2.5",
        {"ledger": {":": "1"}, "job": {":": "1"}},
        {"ledger": {":": "1", "-s3": "2.5"}, "job": {":": "1", "n": "2.5"}},
    ),
    Row(
        "mult: a value times the amount",
        SEARCH,
        ["ledger", "job"],
        ["-s4", "mult", "n", "4"],
        "10",
        {"ledger": {":": "1"}, "job": {":": "1", "n": "2.5"}},
        {"ledger": {":": "1", "-s4": "10"}, "job": {":": "1", "n": "10"}},
    ),
    Row(
        "mult: a missing value counts as 0",
        SEARCH,
        ["ledger", "job"],
        ["-s5", "mult", "n", "4"],
        "0",
        {"ledger": {":": "1"}, "job": {":": "1"}},
        {"ledger": {":": "1", "-s5": "0"}, "job": {":": "1", "n": "0"}},
    ),
    Row(
        "an unknown operation is an error and writes nothing",
        SEARCH,
        ["ledger", "job"],
        ["-s6", "drop", "n"],
        ResponseError("unknown search operation drop"),
        {"ledger": {":": "1"}, "job": {":": "1"}},
    ),
]

PRUNE_ROWS = [
    Row(
        "a record whose job exists is kept",
        PRUNE,
        ["job", "r", "all", "t", "n"],
        ["rec"],
        0,
        {"job": {"_c": "red"}, "r": {"@t", "@n"}, "all": {"rec"}, "t": {"rec"}, "n": Z(rec=1.0)},
    ),
    Row(
        "a gone record leaves every structure its member list names",
        PRUNE,
        ["job", "r", "all", "t", "n"],
        ["rec"],
        1,
        {"r": {"@t", "@n"}, "all": {"rec", "other"}, "t": {"rec", "other"}, "n": Z(rec=1.0)},
        {"r": None, "all": {"other"}, "t": {"other"}, "n": None},
    ),
    Row(
        "a member list naming a structure not passed: read it again",
        PRUNE,
        ["job", "r", "all", "t"],
        ["rec"],
        -1,
        {"r": {"@t", "@n"}, "all": {"rec"}, "t": {"rec"}, "n": Z(rec=1.0)},
    ),
]


def _write(
    *,
    clear: int = 0,
    lists: tuple[tuple[int, ...], ...] = ((2,),),
    checks: tuple[str, ...] = (),
    sets: tuple[str, ...] = (),
    dels: tuple[str, ...] = (),
    changes: tuple[Any, ...] = (),
    indexes: tuple[tuple[Any, ...], ...] = ((4, "_c"),),
    ledger: tuple[Any, ...] = (),
) -> list[Any]:
    """ix_write's arguments; KEYS are job, r (member list), t (tag set), all, n, ledger."""
    args: list[Any] = [1, *ledger] if ledger else [0]
    args += [clear, len(lists)]
    for list_index, *named in lists:
        args += [list_index, len(named), *named]
    args += [len(checks) // 2, *checks, len(sets) // 2, *sets, len(dels), *dels]
    args += [len(changes), *(x for change in changes for x in change)]
    args += [len(indexes)]
    for all_index, *held in indexes:
        args += [all_index, len(held), *held]
    return [*args, "rec"]


WRITE_KEYS = ["job", "r", "t", "all", "n", "ledger"]
WRITE_ROWS = [
    Row(
        "fields, index entries, member list and index set are written together",
        WRITE,
        WRITE_KEYS,
        _write(sets=("_c", "red", "_n", "7"), changes=(("sadd", 3, 2), ("zadd", 5, 2, "7.0"))),
        1,
        changed={
            "job": {"_c": "red", "_n": "7"},
            "t": {"rec"},
            "n": Z(rec=7.0),
            "r": {"@t", "@n"},
            "all": {"rec"},
        },
    ),
    Row(
        "a field that changed meanwhile: nothing is written",
        WRITE,
        WRITE_KEYS,
        _write(checks=("_c", "blue"), sets=("_c", "green"), changes=(("sadd", 3, 2),)),
        0,
        {"job": {"_c": "red"}},
    ),
    Row(
        "a field that appeared meanwhile ('' = absent): nothing is written",
        WRITE,
        WRITE_KEYS,
        _write(checks=("_c", ""), sets=("_c", "green")),
        0,
        {"job": {"_c": "red"}},
    ),
    Row(
        "removing the last field takes the record out of the index",
        WRITE,
        WRITE_KEYS,
        _write(checks=("_c", "red"), dels=("_c",), changes=(("srem", 3, 2), ("zrem", 5, 2))),
        1,
        {
            "job": {"_c": "red", "x": "1"},
            "t": {"rec", "other"},
            "n": Z(rec=1.0, other=2.0),
            "r": {"@t", "@n"},
            "all": {"rec", "other"},
        },
        {"job": {"x": "1"}, "t": {"other"}, "n": Z(other=2.0), "r": None, "all": {"other"}},
    ),
    Row(
        "a write made once: the stored ledger value returns, nothing is written",
        WRITE,
        WRITE_KEYS,
        _write(ledger=(6, "-w1", "mine"), sets=("_c", "red")),
        [2, "earlier"],
        {"ledger": {"-w1": "earlier"}},
    ),
    Row(
        "a write made once: written, and the ledger value stored with it",
        WRITE,
        WRITE_KEYS,
        _write(ledger=(6, "-w1", BIG), sets=("_c", "red"), changes=(("sadd", 3, 2),)),
        1,
        {"ledger": {":": "1"}},
        {
            "ledger": {":": "1", "-w1": BIG},
            "job": {"_c": "red"},
            "t": {"rec"},
            "r": {"@t"},
            "all": {"rec"},
        },
    ),
    Row(
        "clearing always (a re-index) drops the entries the member list names",
        WRITE,
        WRITE_KEYS,
        _write(clear=2, lists=((2, 3, 5),), changes=(("sadd", 3, 2),)),
        1,
        {"job": {"_c": "red"}, "t": {"rec", "other"}, "n": Z(rec=1.0), "r": {"@t", "@n"}},
        {"t": {"rec", "other"}, "n": None, "r": {"@t"}, "all": {"rec"}},
    ),
    Row(
        "clearing while the job hash is absent drops what an expired record left",
        WRITE,
        WRITE_KEYS,
        _write(clear=1, lists=((2, 5),), sets=("_c", "red"), changes=(("sadd", 3, 2),)),
        1,
        {"n": Z(rec=1.0), "r": {"@n"}},
        {"job": {"_c": "red"}, "n": None, "t": {"rec"}, "r": {"@t"}, "all": {"rec"}},
    ),
    Row(
        "clearing only while absent: a live record keeps its entries",
        WRITE,
        WRITE_KEYS,
        _write(clear=1, lists=((2, 5),), sets=("_c", "red")),
        1,
        {"job": {"_n": "1"}, "n": Z(rec=1.0), "r": {"@n"}},
        {"job": {"_n": "1", "_c": "red"}, "all": {"rec"}},
    ),
    Row(
        "a member list naming a structure not passed: read the lists and call again",
        WRITE,
        WRITE_KEYS,
        _write(clear=2, lists=((2, 3),), sets=("_c", "red")),
        3,
        {"t": {"rec"}, "n": Z(rec=1.0), "r": {"@t", "@n"}},
    ),
    Row(
        "an unknown index change is an error",
        WRITE,
        WRITE_KEYS,
        _write(changes=(("move", 3, 2),)),
        ResponseError("unknown index change move"),
    ),
]

ROWS = DELETE_ROWS + CLAIM_ROWS + SEARCH_ROWS + PRUNE_ROWS + WRITE_ROWS


@pytest.mark.parametrize("row", ROWS, ids=[f"{r.script.name}: {r.what}" for r in ROWS])
def test_each_branch(play, row: Row) -> None:
    _check(play, row)
