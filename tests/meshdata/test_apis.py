"""MeshData's remaining public methods from the user's side: the original's ``search`` shapes,
``sub``/``pub``/``unsub``, ``mint_key``/``mint_guid``, ``generate_search_query`` and the
workflow helpers' other names — each against the real server."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import redis
from md_helpers import CONFIG, SCHEMA, describe, load_herd
from waiting import wait_until

from hotmesh_nb import JobNotFoundError, MeshData, SearchOptions


class Inbox:
    """A ``sub`` callback that keeps what it received."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()

    def __call__(self, channel: str, message: dict[str, Any]) -> None:
        with self.lock:
            self.messages.append((channel, message))

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        with self.lock:
            return [m for _, m in self.messages if m.get("type") == kind]


# -- the search option ------------------------------------------------------------------


def test_exec_reads_the_originals_search_shape(md: MeshData) -> None:
    md.connect("animal", describe)
    md.exec(
        "animal", ["owl"], id="owl", ttl="infinity", search={"data": {"name": "owl", "legs": 2}}
    )
    md.exec("animal", ["ant"], id="ant", ttl="infinity", search={"name": "ant", "legs": 6})
    assert md.get("animal", "owl") == {"name": "owl", "legs": "2", "weight": None, "motto": None}
    raw = md.raw("animal", "owl")
    assert raw["_name"] == "owl" and "_data" not in raw
    assert "[object Object]" not in raw.values()
    found = md.find_where("animal", [{"field": "legs", "is": "<=", "value": 2}])
    assert [rid for rid, _ in found.records] == ["animal-owl"]
    # The index options may come along, as the original's WorkflowSearchOptions do.
    md.exec(
        "animal",
        ["eel"],
        id="eel",
        ttl="infinity",
        search={"index": "animals", "prefix": ["animal-"], "data": {"name": "eel"}},
    )
    assert md.get("animal", "eel", ["name"]) == {"name": "eel"}


def test_set_reads_the_originals_shapes(md: MeshData) -> None:
    load_herd(md)
    assert md.set("animal", "cat", {"search": {"data": {"motto": "purr", "lives": 9}}}) == 1
    assert md.set("animal", "cat", {"data": {"weight": 5}}) == 0
    assert md.set("animal", "cat", {"vet": "Dr. Who"}, legs=4) == 1
    fields = md.all("animal", "cat")
    assert fields["motto"] == "purr" and fields["lives"] == "9"
    assert fields["weight"] == "5" and fields["vet"] == "Dr. Who"


@pytest.mark.parametrize(
    ("search", "message"),
    [
        ({"data": {"name": "x"}, "legs": 2}, "mixes the original's {'data': {...}}"),
        ({"name": {"first": "x"}}, "field 'name' holds dict"),
        ({"tags": ["a", "b"]}, "field 'tags' holds list"),
        ({"name": None}, "field 'name' holds NoneType"),
        ({"weight": float("nan")}, "field 'weight' holds float nan"),
        ({"data": {"name": {"a": 1}}}, "field 'name' holds dict"),
        ({"": "x"}, "field names must be non-empty strings"),
        (["name", "x"], "must be a dict"),
    ],
)
def test_exec_refuses_a_search_it_cannot_read(md: MeshData, search: Any, message: str) -> None:
    md.connect("animal", describe)
    with pytest.raises((ValueError, TypeError)) as raised:
        md.exec("animal", ["yak"], id="yak", ttl="infinity", search=search)
    assert message in str(raised.value)
    assert "{'data': {'field': value" in str(raised.value) or "names" in str(raised.value)
    with pytest.raises(JobNotFoundError):  # nothing was started
        md.info("animal", "yak")


def test_set_refuses_values_it_cannot_store(md: MeshData) -> None:
    load_herd(md)
    with pytest.raises(ValueError, match="field 'owner' holds dict"):
        md.set("animal", "cat", {"owner": {"name": "Ada"}})
    with pytest.raises(ValueError, match="keyword fields field 'toys' holds list"):
        md.set("animal", "cat", toys=["ball"])
    assert "owner" not in md.all("animal", "cat")


def test_index_options_as_the_originals_dict(redis_url: str, namespace: str) -> None:
    original = {"index": "pets", "prefix": ["pet"], "schema": SCHEMA, "data": {}}
    md = MeshData(redis_url, search=original, namespace=namespace, config=CONFIG)
    assert md.search == SearchOptions("pets", ["pet"], SCHEMA)
    md.connect("pet", describe)
    md.exec("pet", ["rex"], id="rex", ttl="infinity", search={"data": {"name": "rex"}})
    found = md.find_where("pet", [{"field": "name", "is": "=", "value": "rex"}])
    assert [rid for rid, _ in found.records] == ["pet-rex"]


@pytest.mark.parametrize(
    ("search", "error", "message"),
    [
        ({"prefix": ["pet"]}, ValueError, "need an 'index' name"),
        ({"index": "pets", "fields": {}}, ValueError, "unknown keys ['fields']"),
        ({"index": "pets", "schema": ["name"]}, TypeError, "'schema' must be a dict"),
        ({"index": "pets", "prefix": 3}, TypeError, "'prefix' must be a string or a list"),
        ("pets", TypeError, "search must be SearchOptions or a dict"),
    ],
)
def test_index_options_it_cannot_read_are_refused(
    redis_url: str, search: Any, error: type, message: str
) -> None:
    with pytest.raises(error) as raised:
        MeshData(redis_url, search=search)
    assert message in str(raised.value)


# -- sub / pub / unsub ------------------------------------------------------------------


def test_sub_sees_published_messages_with_their_entity(md: MeshData) -> None:
    inbox = Inbox()
    md.connect("animal", describe)
    md.sub(inbox)
    md.sub(inbox)  # once is enough
    receivers = md.pub({"type": "user", "topic": "animal-animal", "message": {"hi": 1}})
    assert receivers >= 2  # at least this process's engine and its subscriber
    wait_until(lambda: inbox.of_type("user"))
    ((channel, message),) = inbox.messages
    assert message == {
        "type": "user",
        "topic": "animal-animal",
        "message": {"hi": 1},
        "entity": "animal",
    }
    assert channel.endswith("quorum")


def test_sub_sees_roll_calls_with_each_members_entity(md: MeshData) -> None:
    inbox = Inbox()
    md.connect("animal", describe)
    md.sub(inbox)
    members = md.roll_call(0.5)
    wait_until(lambda: inbox.of_type("ping") and inbox.of_type("pong"))
    answered = [m for pong in inbox.of_type("pong") for m in pong["members"]]
    workers = {m["topic"]: m["entity"] for m in answered if m.get("topic")}
    assert workers == {"animal-animal": "animal", "animal-animal-activity": "animal"}
    assert {m["member"] for m in answered} == {m["member"] for m in members}


def test_engines_answer_a_published_ping(md: MeshData) -> None:
    # Engines and workers act on the quorum messages they know, whoever sent them.
    inbox = Inbox()
    md.connect("animal", describe)
    md.sub(inbox)
    md.pub({"type": "ping", "originator": "notebook-1"})
    wait_until(lambda: any(p["originator"] == "notebook-1" for p in inbox.of_type("pong")))
    (pong,) = [p for p in inbox.of_type("pong") if p["originator"] == "notebook-1"]
    assert "animal-animal" in {m["topic"] for m in pong["members"]}


def test_unsub_stops_the_callback_only(md: MeshData) -> None:
    first, second = Inbox(), Inbox()
    md.sub(first)
    md.sub(second)
    md.pub({"type": "user", "n": 1})
    wait_until(lambda: first.of_type("user") and second.of_type("user"))
    assert md.unsub(first) is True
    assert md.unsub(first) is False
    md.pub({"type": "user", "n": 2})
    wait_until(lambda: len(second.of_type("user")) == 2)
    assert [m["n"] for m in first.of_type("user")] == [1]
    assert md.unsub(second) is True  # the last one: the listener closes
    third = Inbox()
    md.sub(third)  # and opens again
    md.pub({"type": "user", "n": 3})
    wait_until(lambda: third.of_type("user"))
    assert [m["n"] for m in second.of_type("user")] == [1, 2]


def test_namespaces_have_meshes_of_their_own(md: MeshData) -> None:
    here, there = Inbox(), Inbox()
    other = f"{md.namespace}-other"
    md.sub(here)
    md.sub(there, namespace=other)
    md.pub({"type": "user", "where": "other"}, namespace=other)
    md.pub({"type": "user", "where": "here"})
    wait_until(lambda: here.of_type("user") and there.of_type("user"))
    wait_until(lambda: len(here.messages) + len(there.messages) >= 2)
    assert [m["where"] for m in here.of_type("user")] == ["here"]
    assert [m["where"] for m in there.of_type("user")] == ["other"]


def test_pub_and_sub_refuse_what_they_cannot_send(md: MeshData) -> None:
    with pytest.raises(TypeError, match="pub sends a dict message"):
        md.pub("hello")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="sub needs a callable"):
        md.sub("not a function")  # type: ignore[arg-type]


def test_a_failing_subscriber_does_not_stop_the_others(md: MeshData) -> None:
    inbox = Inbox()

    def broken(channel: str, message: dict[str, Any]) -> None:
        raise RuntimeError("subscriber bug")

    md.sub(broken)
    md.sub(inbox)
    md.pub({"type": "user", "n": 1})
    md.pub({"type": "user", "n": 2})
    wait_until(lambda: len(inbox.of_type("user")) == 2)


def test_async_subscribers_run_on_the_loop(md: MeshData) -> None:
    received: list[dict[str, Any]] = []

    async def on_message(channel: str, message: dict[str, Any]) -> None:
        received.append(message)

    md.sub(on_message)
    md.pub({"type": "user", "async": True})
    wait_until(lambda: received)
    assert received[0]["async"] is True
    assert md.unsub(on_message) is True


# -- ids, keys and queries -----------------------------------------------------------------


def test_mint_guid_and_mint_key_name_the_records_hash(md: MeshData, redis_url: str) -> None:
    load_herd(md)
    record = MeshData.mint_guid("animal", "cat")
    assert record == "animal-cat"
    minted = MeshData.mint_guid("animal")
    assert minted.startswith("animal") and minted[len("animal")] != "-"  # <entity><guid>
    key = md.mint_key("animal", record)
    assert md.mint_key("anything", record) == key  # as in the original, entity is not part of it
    with redis.Redis.from_url(redis_url, decode_responses=True) as client:
        assert client.hgetall(key) == md.raw("animal", "cat")
        other = md.mint_key("animal", record, namespace=f"{md.namespace}-x")
        assert other != key and client.exists(other) == 0
    with pytest.raises(ValueError, match="may not contain ':'"):
        md.mint_key("animal", "animal:cat")
    with pytest.raises(ValueError, match="may not contain ' '"):
        MeshData.mint_guid("animal", "tom cat")


def test_generate_search_query_is_what_find_where_runs(md: MeshData) -> None:
    load_herd(md)
    clauses = [
        {"field": "legs", "is": ">=", "value": 4},
        {"field": "name", "is": "=", "value": "cat"},
    ]
    query = md.generate_search_query("animal", clauses)
    assert query == "@_legs:[4 +inf] @_name:{cat}"
    assert md.find_where("animal", clauses).query == query
    assert md.generate_search_query("animal") == "*"
    assert md.generate_search_query("animal", "@_name:{dog}") == "@_name:{dog}"


# -- workflow helpers under the original's names --------------------------------------------


def test_helpers_under_the_originals_names(md: MeshData) -> None:
    # getHotMesh(namespace) and getClient(): the HotMesh and the MeshFlow client of a namespace.
    assert md.get_hotmesh() is md.hotmesh()
    assert md.get_hotmesh(f"{md.namespace}-b").namespace == f"{md.namespace}-b"
    assert md.get_client() is md.client()


def test_workflow_helpers_under_the_originals_names(md: MeshData) -> None:
    seen: dict[str, Any] = {}

    async def parent(name: str) -> dict[str, Any]:
        hm = MeshData.workflow.get_hotmesh()
        seen["namespace"] = hm.namespace
        await MeshData.workflow.sleep("1 second")
        child = await MeshData.workflow.execute_child("animal", [name], id=f"{name}-kid")
        signal = await MeshData.workflow.wait_for_signal(f"go-{name}")
        return {"child": child, "signal": signal}

    md.connect("animal", describe)
    md.connect("family", parent)
    assert md.exec("family", ["cat"], id="cat", await_=False) == "family-cat"
    wait_until(lambda: _child_done(md))
    md.signal("go-cat", {"ok": True})
    assert md.exec("family", id="cat") == {
        "child": describe("cat"),
        "signal": {"ok": True},
    }
    assert seen["namespace"] == md.namespace


def _child_done(md: MeshData) -> bool:
    try:
        return md.info("animal", "cat-kid")["data"].get("response") == describe("cat")
    except JobNotFoundError:
        return False
