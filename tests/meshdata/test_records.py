"""MeshData from the user's side: connect, exec (cache, ttl, infinity), hooks, signals, fields."""

from __future__ import annotations

import asyncio

import pytest
from md_helpers import ANIMALS, CONFIG, HERD, describe, load_herd
from waiting import wait_until

import hotmesh_nb
from hotmesh_nb import JobNotFoundError, MeshData, WorkflowError
from hotmesh_nb.runtime import get_runtime


def test_connect_and_exec_any_function(md: MeshData) -> None:
    calls: list[str] = []

    async def greet(name: str, punctuation: str = "!") -> str:
        calls.append(name)
        return f"Hello, {name}{punctuation}"

    md.connect("greeting", greet)
    assert md.exec("greeting", ["Ada"]) == "Hello, Ada!"
    assert md.exec("greeting", ["Bo", "?"]) == "Hello, Bo?"
    assert calls == ["Ada", "Bo"]  # no id: every call runs the function
    record = md.exec("greeting", ["Cy"], await_=False)
    assert record.startswith("greeting") and "-" not in record[:9]  # <entity><guid>
    assert md.client().workflow.get_handle(record).result() == "Hello, Cy!"


def test_exec_with_id_and_ttl_is_cached_until_it_expires(md: MeshData) -> None:
    calls: list[str] = []

    def user(user_id: str) -> dict[str, str]:
        calls.append(user_id)
        return {"id": user_id, "name": "Jan Smith", "n": str(len(calls))}

    md.connect("user", user)
    first = md.exec("user", ["jsmith123"], id="jsmith123", ttl="2 seconds")
    again = md.exec("user", ["ignored"], id="jsmith123", ttl="2 seconds")
    assert first == again == {"id": "jsmith123", "name": "Jan Smith", "n": "1"}
    assert calls == ["jsmith123"]
    assert md.info("user", "jsmith123")["data"]["response"] == first

    def gone() -> bool:
        try:
            md.info("user", "jsmith123")
        except JobNotFoundError:
            return True
        return False

    wait_until(gone, timeout=10)
    assert md.exec("user", ["jsmith123"], id="jsmith123", ttl="1 minute")["n"] == "2"


def test_infinity_keeps_the_record_alive_until_flushed(md: MeshData) -> None:
    calls: list[str] = []

    def user(user_id: str) -> dict[str, str]:
        calls.append(user_id)
        return {"id": user_id}

    async def note(text: str) -> None:
        await MeshData.workflow.search().set({"note": text})

    async def approve(signal_id: str) -> None:
        data = await MeshData.workflow.wait_for(signal_id)
        await MeshData.workflow.search().set("approved", data["by"])

    md.connect("user", user)
    md.connect("note", note)
    md.connect("approve", approve)
    assert md.exec("user", ["jan"], id="jan", ttl="infinity") == {"id": "jan"}
    assert md.exec("user", ["jan"], id="jan", ttl="infinity") == {"id": "jan"}
    hm = md.hotmesh()
    assert hm.get_status("user-jan") > 0  # still a running, durable workflow
    assert calls == ["jan"]

    thread = md.hook("user", "jan", "note", ["hello"])
    assert thread
    wait_until(lambda: md.get("user", "jan", ["note"]) == {"note": "hello"})
    md.hook("user", "jan", "approve", ["approve-jan"])
    md.signal("approve-jan", {"by": "ops"})
    wait_until(lambda: md.all("user", "jan").get("approved") == "ops")

    assert md.flush("user", "jan") is True
    with pytest.raises(JobNotFoundError, match="user-jan"):
        md.info("user", "jan")
    assert md.flush("user", "jan") is False
    assert md.exec("user", ["jan"], id="jan") == {"id": "jan"}
    assert calls == ["jan", "jan"]  # flushed: the function ran again


def test_exec_without_waiting_then_with(md: MeshData) -> None:
    async def slow(x: int) -> int:
        await asyncio.sleep(0.2)
        return x * 2

    md.connect("double", slow)
    assert md.exec("double", [21], id="a", await_=False) == "double-a"
    assert md.exec("double", [0], id="a") == 42  # the running record's result


def test_a_failing_entity_raises_for_its_caller(md: MeshData) -> None:
    def broken(x: int) -> int:
        raise ValueError(f"bad {x}")

    md.connect("broken", broken)
    with pytest.raises(WorkflowError, match="bad 7"):
        md.exec("broken", [7], id="seven")
    with pytest.raises(WorkflowError, match="bad 7"):  # the failed record is cached too
        md.exec("broken", [7], id="seven")


def test_fields_get_all_raw_set_incr_delete(md: MeshData) -> None:
    load_herd(md)
    cat = {"name": "cat", "legs": "4", "weight": "4.5", "motto": "sleep all day"}
    assert md.get("animal", "cat") == cat
    assert md.get("animal", "cat", ["legs", "nope"]) == {"legs": "4", "nope": None}
    assert md.set("animal", "cat", {"color": "black"}, lives=9) == 2
    assert md.set("animal", "cat", {"color": "white"}) == 0
    assert md.incr("animal", "cat", "lives", -1) == 8
    assert md.incr("animal", "cat", "weight", 0.5) == 5
    assert md.all("animal", "cat") == {
        "color": "white",
        "legs": "4",
        "lives": "8",
        "motto": "sleep all day",
        "name": "cat",
        "weight": "5",
    }
    assert md.delete("animal", "cat", "color", "missing") == 1
    raw = md.raw("animal", "cat")
    assert raw["_lives"] == "8" and "_color" not in raw and ":" in raw  # engine fields too
    with pytest.raises(JobNotFoundError):
        md.set("animal", "nobody", {"x": 1})
    with pytest.raises(JobNotFoundError):
        md.get("animal", "nobody")


def test_info_export_interrupt(md: MeshData) -> None:
    async def waits(signal_id: str) -> str:
        return await MeshData.workflow.wait_for(signal_id)

    md.connect("waiter", waits)
    record = md.exec("waiter", ["never"], id="w1", await_=False)
    wait_until(lambda: any(r["type"] == "wait" for r in md.export("waiter", "w1")["timeline"]))
    info = md.info("waiter", "w1")
    assert info["metadata"]["jid"] == record == "waiter-w1"
    assert md.interrupt("waiter", "w1", reason="stop") is True
    assert md.interrupt("waiter", "w1") is False  # no longer running: swallowed
    assert md.interrupt("waiter", "nobody") is False
    with pytest.raises(WorkflowError) as caught:
        md.exec("waiter", ["never"], id="w1")
    assert caught.value.code == 410


def test_workflow_helpers_exec_child_and_activities(md: MeshData) -> None:
    def shout(text: str) -> str:
        return text.upper()

    acts = MeshData.proxy_activities(activities=[shout])

    async def child(name: str) -> str:
        return await acts.shout(f"child {name}")

    async def parent(name: str) -> list[str]:
        first = await MeshData.workflow.exec_child("kid", [name], id=f"of-{name}")
        await MeshData.workflow.search().incr("children", 1)
        return [first, MeshData.workflow.get_context().workflow_id]

    md.connect("kid", child)
    md.connect("parent", parent)
    assert md.exec("parent", ["ann"], id="ann") == ["CHILD ANN", "parent-ann"]
    assert md.exec("kid", id="of-ann") == "CHILD ANN"  # the child is a record too
    assert md.get("parent", "ann", ["children"]) == {"children": "1"}


def test_roll_call_throttle_and_find_jobs(md: MeshData) -> None:
    load_herd(md)
    members = md.roll_call(0.2)
    assert any(m["topic"] == "animal-animal" for m in members)
    md.throttle(0, entity="animal")
    found = md.find_jobs("animal-*")
    assert sorted(found.ids) == sorted(f"animal-{name}" for name in HERD)
    frame = md.find_jobs("animal-*", as_frame=True)
    assert frame.loc["animal-dog", "weight"] == 30
    assert str(frame["name"].dtype) == "category"
    assert found.cursor == 0


def test_namespace_isolation(md: MeshData, redis_url: str) -> None:
    load_herd(md)
    md.connect("animal", describe, namespace=f"{md.namespace}-staging")
    md.exec("animal", ["cat"], id="cat", namespace=f"{md.namespace}-staging", search={"name": "x"})
    staging = md.find_where(
        "animal", [{"field": "name", "is": "=", "value": "x"}], namespace=f"{md.namespace}-staging"
    )
    assert [r for r, _ in staging.records] == ["animal-cat"]
    assert md.find_where("animal", [{"field": "name", "is": "=", "value": "x"}]).count == 0
    assert md.get("animal", "cat", ["name"]) == {"name": "cat"}
    other = MeshData(redis_url, search=ANIMALS, namespace=f"{md.namespace}-other", config=CONFIG)
    assert other.find_jobs("animal-*").ids == []
    assert other.list_search_indexes() == []
    assert md.list_search_indexes() == ["animals"]


def test_async_twins_from_another_loop(md: MeshData) -> None:
    md.connect("animal", describe)

    async def main() -> dict[str, str]:
        await md.exec_async("animal", ["owl"], id="owl", ttl="infinity", search={"legs": 2})
        await md.incr_async("animal", "owl", "legs", 1)
        return await md.get_async("animal", "owl", ["legs"])

    assert asyncio.run(main()) == {"legs": "3"}
    with pytest.raises(hotmesh_nb.HotMeshError, match="exec_async"):
        get_runtime().run(_blocking_inside(md))


async def _blocking_inside(md: MeshData) -> None:
    md.exec("animal", ["x"])
