"""The original's remaining MeshData options from the user's side, on the real server:
``exec``'s ``expire``/``signal_in``/``marker`` and its duplicate-id error, ``hook``'s
``search``, the raw ``FT.SEARCH`` form of ``find`` and ``connect``'s ``log_level``."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from md_helpers import describe, load_herd
from waiting import wait_until

import hotmesh_nb
from hotmesh_nb import DuplicateJobError, HotMeshError, JobNotFoundError, MeshData, QueryError


@pytest.fixture
def client(redis_url: str) -> Iterator[redis.Redis]:
    """A plain client to look at what MeshData stored."""
    with redis.Redis.from_url(redis_url, decode_responses=True) as plain:
        yield plain


async def tag(label: str) -> dict[str, str]:
    """A hook function: writes one field of the record it joins."""
    search = MeshData.workflow.search()
    await search.set({"hooked": label})
    return {"hooked": label}


# -- exec: expire, ttl and the duplicate-id error -------------------------------------------


def test_expire_keeps_a_record_without_ttl_and_ttl_wins(md: MeshData, client: redis.Redis) -> None:
    md.connect("animal", describe)
    assert md.exec("animal", ["cat"], id="cat", expire=90) == describe("cat")
    assert 80 < client.ttl(md.mint_key("animal", "animal-cat")) <= 90
    md.exec("animal", ["dog"], id="dog", ttl="30 seconds", expire=90)  # ttl wins, as the original
    assert 20 < client.ttl(md.mint_key("animal", "animal-dog")) <= 30
    md.exec("animal", ["owl"], id="owl", expire="infinity")
    assert client.ttl(md.mint_key("animal", "animal-owl")) == -1  # kept until flushed
    assert md.flush("animal", "owl") is True
    md.exec("animal", ["eel"], id="eel")  # the engine's default: an hour
    assert 3500 < client.ttl(md.mint_key("animal", "animal-eel")) <= 3600
    for bad in (0, -5, "0 seconds"):
        with pytest.raises(ValueError, match="expire must be a positive duration"):
            md.exec("animal", ["yak"], id="yak", expire=bad)
    with pytest.raises(JobNotFoundError):
        md.info("animal", "yak")


def test_an_exec_id_is_a_cache_a_workflow_id_must_be_new(md: MeshData) -> None:
    calls: list[str] = []

    def count(name: str) -> int:
        calls.append(name)
        return len(calls)

    md.connect("counter", count)
    # ``id`` reuses the record while it exists, with or without ttl (as the original).
    assert md.exec("counter", ["a"], id="a") == 1
    assert md.exec("counter", ["b"], id="a") == 1
    assert calls == ["a"]
    # ``workflow_id`` names the record outright: reusing it is the original's error.
    assert md.exec("counter", ["c"], workflow_id="counter-c") == 2
    with pytest.raises(DuplicateJobError, match=r"^Duplicate job: counter-c$") as raised:
        md.exec("counter", ["d"], workflow_id="counter-c")
    assert raised.value.job_id == "counter-c"
    with pytest.raises(DuplicateJobError, match="Duplicate job: counter-a"):
        md.exec("counter", ["e"], workflow_id="counter-a")
    assert calls == ["a", "c"]
    # The result of a record started without an id is read through its workflow handle.
    record = md.exec("counter", ["f"], await_=False)
    assert md.client().workflow.get_handle(record).result() == 3


# -- exec: marker -----------------------------------------------------------------------------


def test_marker_seeds_literal_fields(md: MeshData) -> None:
    md.connect("animal", describe)
    md.exec("animal", ["cat"], id="cat", marker={"-stage": "new", "lives": 9, "-ok": True})
    raw = md.raw("animal", "cat")
    markers = {k: v for k, v in raw.items() if k in ("-stage", "-lives", "-ok")}
    assert markers == {"-stage": '"new"', "-lives": "9", "-ok": "true"}  # stored as JSON
    assert md.all("animal", "cat") == {}  # markers are not searchable fields
    assert md.info("animal", "cat")["data"]["response"] == describe("cat")


@pytest.mark.parametrize(
    ("marker", "error", "message"),
    [
        ({"-proxy-1-": "x"}, ValueError, "is reserved"),
        ({"-signal-in-": False}, ValueError, "is reserved"),
        ({"-md:response": "x"}, ValueError, "is reserved"),
        ({"-": "x"}, ValueError, "non-empty strings"),
        ({"-stage": {"a": 1}}, ValueError, "holds dict"),
        ({"-stage": None}, ValueError, "holds NoneType"),
        (["-stage"], TypeError, "must be a dict"),
    ],
)
def test_marker_refuses_what_would_corrupt_a_record(
    md: MeshData, marker: Any, error: type, message: str
) -> None:
    md.connect("animal", describe)
    with pytest.raises(error, match=message):
        md.exec("animal", ["yak"], id="yak", marker=marker)
    with pytest.raises(JobNotFoundError):
        md.info("animal", "yak")


# -- exec: signal_in ----------------------------------------------------------------------------


def test_signal_in_false_closes_a_record_to_hooks(md: MeshData) -> None:
    load_herd(md)
    md.connect("tag", tag)
    md.exec("animal", ["yak"], id="yak", ttl="1 minute", signal_in=False)
    with pytest.raises(HotMeshError, match="signal_in=False: it takes no hooks"):
        md.hook("animal", "yak", "tag", ["late"])
    for open_record in ("cat", "dog"):  # ttl='infinity' (held) and default signal_in
        md.hook("animal", open_record, "tag", [open_record])
    md.exec("animal", ["emu"], id="emu", ttl="1 minute", signal_in=True)
    md.hook("animal", "emu", "tag", ["emu"])
    wait_until(lambda: md.get("animal", "emu", ["hooked"]) == {"hooked": "emu"})
    wait_until(lambda: md.get("animal", "cat", ["hooked"]) == {"hooked": "cat"})
    with pytest.raises(TypeError, match="signal_in must be True, False or None"):
        md.exec("animal", ["gnu"], id="gnu", signal_in="no")  # type: ignore[arg-type]


def test_infinity_without_signal_in_keeps_a_finished_record(
    md: MeshData, client: redis.Redis
) -> None:
    md.connect("animal", describe)
    md.connect("tag", tag)
    assert md.exec("animal", ["ant"], id="ant", ttl="infinity", signal_in=False) == describe("ant")
    assert md.info("animal", "ant")["metadata"]["js"] == 0  # finished, not held open
    assert client.ttl(md.mint_key("animal", "animal-ant")) == -1  # and kept
    with pytest.raises(HotMeshError, match="takes no hooks"):
        md.hook("animal", "ant", "tag", ["x"])
    assert md.exec("animal", ["other"], id="ant") == describe("ant")  # the cached result
    assert md.flush("animal", "ant") is True
    with pytest.raises(JobNotFoundError):
        md.info("animal", "ant")


# -- hook: search -------------------------------------------------------------------------------


def test_hook_search_sets_the_records_fields(md: MeshData) -> None:
    load_herd(md)
    md.connect("tag", tag)
    md.hook("animal", "cat", "tag", ["a"], search={"data": {"legs": 3, "motto": "hops"}})
    md.hook("animal", "dog", "tag", ["b"], search={"weight": 31})
    assert md.get("animal", "cat", ["legs", "motto"]) == {"legs": "3", "motto": "hops"}
    assert md.get("animal", "dog", ["weight"]) == {"weight": "31"}
    three = [{"field": "legs", "is": "=", "value": 3}]
    assert [r for r, _ in md.find_where("animal", three).records] == ["animal-cat"]
    wait_until(lambda: md.get("animal", "cat", ["hooked"]) == {"hooked": "a"})
    with pytest.raises(ValueError, match="hook's search field 'legs' holds dict"):
        md.hook("animal", "cat", "tag", ["c"], search={"data": {"legs": {"n": 3}}})
    # The original's workflowId option: join a record named outright.
    record = md.exec("animal", ["gnu"], await_=False, ttl="1 minute", search={"name": "gnu"})
    md.hook("animal", "ignored", "tag", ["e"], workflow_id=record, search={"legs": 4})
    assert md.client().workflow.search(record, "legs", "name") == {"legs": "4", "name": "gnu"}
    wait_until(lambda: md.client().workflow.search(record, "hooked") == {"hooked": "e"})
    with pytest.raises(JobNotFoundError):  # no record: nothing is written anywhere
        md.hook("animal", "nobody", "tag", ["d"], search={"name": "ghost"})
    assert md.find_where("animal", "@_name:{ghost}", count=True) == 0


# -- find: the raw FT.SEARCH form ----------------------------------------------------------------


def test_find_raw_form_answers_as_ft_search(md: MeshData) -> None:
    load_herd(md)
    key = md.mint_key("animal", "animal-bird")
    assert md.find("animal", {}, "@_legs:[1 3]", "RETURN", 2, "_name", "legs") == [
        1,
        key,
        ["_name", "bird", "_legs", "2"],
    ]
    # Without the options object too; LIMIT and SORTBY as FT.SEARCH reads them.
    sorted_desc = md.find("animal", "*", "SORTBY", "_weight", "DESC", "RETURN", "1", "_weight")
    assert sorted_desc[0] == 5
    assert sorted_desc[1::2] == [
        md.mint_key("animal", f"animal-{n}") for n in ("dog", "cat", "snake", "bird", "mouse")
    ]
    assert md.find("animal", {}, "*", "SORTBY", "legs", "LIMIT", 0, 2, "NOCONTENT") == [
        5,
        md.mint_key("animal", "animal-snake"),
        key,
    ]
    assert md.find("animal", {"index": "animals"}, "@_name:{cat}", "LIMIT", "0", "0") == [1]
    assert md.find("animal", {}, "@_name:{dog}", "RETURN", 0) == [
        1,
        md.mint_key("animal", "animal-dog"),
    ]
    # No RETURN: every field of the hash, as FT.SEARCH gives it.
    count, found_key, pairs = md.find("animal", {}, "@_name:{cat}")
    assert (count, found_key) == (1, md.mint_key("animal", "animal-cat"))
    assert dict(zip(pairs[::2], pairs[1::2])) == md.raw("animal", "cat")
    # The original's command form, inside this namespace.
    assert md.find("animal", {}, "FT.SEARCH", "animals", "@_name:{cat}", "NOCONTENT") == [
        1,
        found_key,
    ]
    assert md.find("animal", {}, "FT._LIST") == ["animals"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "find needs a query"),
        (("*", "INKEYS", 1, "x"), "does not take 'INKEYS'"),
        (("*", "PARAMS", 2, "a", "b"), "does not take 'PARAMS'"),
        (("*", "RETURN", 2, "_name"), "RETURN 2 names 1 field"),
        (("*", "RETURN", "x", "_name"), "RETURN count must be a whole number"),
        (("*", "LIMIT", 0), "LIMIT needs an offset and a count"),
        (("*", "LIMIT", -1, 5), "at least 0"),
        (("*", "RETURN", 1, "aBa"), "'aBa' is not a searchable field"),
        (("*", "SORTBY", "_color"), "sort by a field of index 'animals'"),
        (("FT.DROPINDEX", "animals"), "find runs FT.SEARCH (and FT._LIST) only"),
        (("FT.CREATE", "x", "ON", "HASH"), "create_search_index()"),
        (("FT.SEARCH", "animals"), "needs an index and a query"),
        ((None,), "the query must be a non-empty string"),
    ],
)
def test_find_raw_form_refuses_what_it_cannot_answer_alike(
    md: MeshData, args: tuple[Any, ...], message: str
) -> None:
    load_herd(md)
    with pytest.raises(QueryError) as raised:
        md.find("animal", {}, *args)
    assert message in str(raised.value)
    assert md.list_search_indexes() == ["animals"]  # nothing was dropped or created


def test_find_raw_form_stays_in_its_namespace(md: MeshData, redis_url: str) -> None:
    load_herd(md)
    other = MeshData(redis_url, namespace=f"{md.namespace}-x")
    with pytest.raises(HotMeshError, match="no search index 'animals'"):
        other.find("animal", {}, "FT.SEARCH", "animals", "*")
    with pytest.raises(QueryError, match="unknown keys \\['where'\\]"):
        md.find("animal", {"where": "x"}, "*")
    hotmesh_nb.shutdown()


# -- connect: log_level ------------------------------------------------------------------------


@pytest.fixture
def package_logger() -> Iterator[logging.Logger]:
    """The package's logger, its level restored afterwards."""
    logger = logging.getLogger("hotmesh_nb")
    level = logger.level
    yield logger
    logger.setLevel(level)


def test_log_level_sets_the_mesh_loggers_level(
    md: MeshData, package_logger: logging.Logger
) -> None:
    md.connect("animal", describe, log_level="debug")
    assert package_logger.level == logging.DEBUG
    engine_logger = logging.getLogger("hotmesh_nb.engine._engine")
    assert engine_logger.getEffectiveLevel() == logging.DEBUG
    md.connect("animal", describe, log_level="warn")  # the original's name for WARNING
    assert package_logger.level == logging.WARNING
    md.connect("animal", describe, log_level="silent")
    assert not engine_logger.isEnabledFor(logging.CRITICAL)
    md.connect("animal", describe, log_level=logging.INFO)
    assert package_logger.level == logging.INFO
    with pytest.raises(ValueError, match="log_level must be a logging level"):
        md.connect("animal", describe, log_level="loud")
    assert package_logger.level == logging.INFO
    assert md.exec("animal", ["cat"]) == describe("cat")


# -- connect: guid ------------------------------------------------------------------------------


def _members(md: MeshData) -> dict[str, str]:
    return {m["member"]: m["topic"] for m in md.roll_call(0.3) if m.get("role") == "worker"}


def test_guid_names_the_entitys_workers_on_the_mesh(md: MeshData) -> None:
    served = md.connect("animal", describe, guid="animals-1")
    members = _members(md)
    assert members["animals-1"] == "animal-animal"
    assert members["animals-1XA"] == "animal-animal-activity"  # the original's suffix
    md.throttle(-1, member="animals-1")  # a member is reached by its guid
    (worker,) = [w for w in served.hotmesh.workers if w.guid == "animals-1"]
    wait_until(lambda: worker.throttles.delay(worker.topic, worker.guid) == float("inf"))
    md.throttle(0, member="animals-1")
    wait_until(lambda: worker.throttles.delay(worker.topic, worker.guid) == 0)
    assert md.exec("animal", ["cat"]) == describe("cat")
    # A re-run cell with another guid restarts the worker under it.
    md.connect("animal", describe, guid="animals-2")
    members = _members(md)
    assert "animals-2" in members and "animals-1" not in members
    assert md.exec("animal", ["dog"]) == describe("dog")
    with pytest.raises(ValueError, match="guid must be a non-empty string"):
        md.connect("animal", describe, guid=" ")
