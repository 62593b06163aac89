"""find_where / find on the fallback index and the same answers on the native one."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd
import pytest
from md_helpers import ANIMALS, CONFIG, HERD, describe, load_herd
from waiting import wait_until

import hotmesh_nb
from hotmesh_nb import MeshData, SearchOptions
from hotmesh_nb.runtime import get_runtime
from hotmesh_nb.search import shared_engine

QUERIES: list[Any] = [
    [{"field": "name", "is": "=", "value": "mouse"}],
    [{"field": "legs", "is": ">=", "value": 4}],
    [{"field": "legs", "is": "<=", "value": 2}],
    [{"field": "legs", "is": "[]", "value": (1, 3)}],
    [{"field": "weight", "is": "=", "value": 30}],
    [{"field": "motto", "is": "=", "value": "all day"}],
    [{"field": "motto", "is": "=", "value": "day"}, {"field": "legs", "is": ">", "value": 0}],
    [{"field": "legs", "is": "=", "value": 4}, {"field": "name", "is": "=", "value": "dog"}],
    "@_name:{cat|bird}",
    "-@_legs:[4 4]",
    "cheese",
    "*",
]


def answers(md: MeshData) -> dict[str, Any]:
    """Every query's matching ids (sorted), counts and a sorted, paged page."""
    out: dict[str, Any] = {}
    for query in QUERIES:
        result = md.find_where("animal", query, limit=100)
        out[str(query)] = (result.count, sorted(r for r, _ in result.records))
    # Sorted on a field without ties: the order of equal values is the index's own.
    page = md.find_where("animal", "*", sort_by="weight", ascending=False, offset=1, limit=2)
    out["page"] = (page.count, [r for r, _ in page.records][:1])
    out["count"] = md.find_where("animal", [QUERIES[1][0]], count=True)
    out["fields"] = md.find_where("animal", QUERIES[0], return_fields=["legs"]).records
    return out


def test_find_where_on_the_fallback_index(md: MeshData) -> None:
    load_herd(md)
    got = answers(md)
    assert got[str(QUERIES[0])] == (1, ["animal-mouse"])
    assert got[str(QUERIES[1])] == (3, ["animal-cat", "animal-dog", "animal-mouse"])
    assert got[str(QUERIES[2])] == (2, ["animal-bird", "animal-snake"])
    assert got[str(QUERIES[3])] == (1, ["animal-bird"])
    assert got[str(QUERIES[4])] == (1, ["animal-dog"])
    assert got[str(QUERIES[5])][1] == ["animal-cat", "animal-mouse"]
    assert got[str(QUERIES[6])][1] == ["animal-cat", "animal-mouse"]
    assert got[str(QUERIES[7])][1] == ["animal-dog"]
    assert got["@_name:{cat|bird}"][1] == ["animal-bird", "animal-cat"]
    assert got["-@_legs:[4 4]"][1] == ["animal-bird", "animal-snake"]
    assert got["cheese"][1] == ["animal-mouse"]
    assert got["*"][0] == 5
    assert got["count"] == 3
    assert got["fields"] == [("animal-mouse", {"legs": "4"})]
    result = md.find_where("animal", QUERIES[0])
    assert result.query == "@_name:{mouse}"


def test_frames_are_typed_by_the_schema(md: MeshData) -> None:
    load_herd(md)
    frame = md.find_where("animal", "*", limit=100, as_frame=True)
    assert isinstance(frame, pd.DataFrame)
    assert frame.index.name == "id" and sorted(frame.index) == sorted(f"animal-{a}" for a in HERD)
    assert list(frame.columns) == ["name", "legs", "weight", "motto"]
    assert str(frame["name"].dtype) == "category"
    assert pd.api.types.is_numeric_dtype(frame["legs"])
    assert pd.api.types.is_numeric_dtype(frame["weight"])
    assert str(frame["motto"].dtype) == "string"
    assert frame["legs"].sum() == 14
    assert frame.loc["animal-mouse", "weight"] == pytest.approx(0.02)
    same = md.find("animal", "@_legs:[4 4]", limit=100).to_frame()
    assert sorted(same.index) == ["animal-cat", "animal-dog", "animal-mouse"]


def test_every_write_keeps_the_fallback_index_in_step(md: MeshData) -> None:
    async def grow(name: str) -> str:
        search = MeshData.workflow.search()
        await search.set({"name": name, "legs": 1, "motto": "grows legs"})
        await search.incr("legs", 5)
        await search.mult("legs", 2)
        await search.delete("motto")
        return name

    md.connect("animal", grow)
    assert md.exec("animal", ["ant"], id="ant") == "ant"
    six_legs = [{"field": "legs", "is": "=", "value": 12}]
    assert [r for r, _ in md.find_where("animal", six_legs).records] == ["animal-ant"]
    assert md.find_where("animal", "grows", count=True) == 0  # deleted in the workflow
    md.connect("animal", describe)
    md.exec("animal", ["cat"], id="cat", ttl="infinity", search=HERD["cat"])
    md.set("animal", "cat", legs=3, motto="lost a leg")
    md.incr("animal", "cat", "legs", 1)
    legs = [{"field": "legs", "is": "=", "value": 4}]
    assert [r for r, _ in md.find_where("animal", legs).records] == ["animal-cat"]
    assert [r for r, _ in md.find_where("animal", "leg").records] == ["animal-cat"]
    assert md.find_where("animal", "sleep", count=True) == 0  # the old motto is unindexed
    md.delete("animal", "cat", "legs")
    assert md.find_where("animal", legs, count=True) == 0
    md.flush("animal", "cat")
    assert md.find_where("animal", "leg", count=True) == 0


def test_an_index_on_a_prefix_only_touches_that_prefix(md: MeshData) -> None:
    load_herd(md)
    md.connect("plant", describe)
    md.exec("plant", ["fern"], id="fern", search={"name": "fern", "legs": 0})
    assert md.find_where("animal", "@_name:{fern}", count=True) == 0
    assert md.find_where("animal", "*", count=True) == 5
    plants = SearchOptions("plants", prefix=["plant-"], schema={"name": {"type": "TAG"}})
    assert md.create_search_index(search=plants) is True  # indexes existing records
    assert md.create_search_index(search=plants) is False
    assert sorted(md.list_search_indexes()) == ["animals", "plants"]
    found = md.find("plant", "@_name:{fern}", index="plants")
    assert [r for r, _ in found.records] == ["plant-fern"]
    assert md.find_where("plant", "*", index="plants", count=True) == 1


def test_expired_records_leave_the_results(md: MeshData) -> None:
    md.connect("animal", describe)
    md.exec("animal", ["gnat"], id="gnat", ttl="1 second", search={"name": "gnat"})
    assert md.find_where("animal", "@_name:{gnat}", count=True) == 1
    wait_until(lambda: md.find_where("animal", "@_name:{gnat}", count=True) == 0, timeout=10)


def test_no_index_for_an_entity_says_how_to_fix_it(redis_url: str, namespace: str) -> None:
    bare = MeshData(redis_url, namespace=namespace, config=CONFIG)
    with pytest.raises(hotmesh_nb.HotMeshError, match="create_search_index"):
        bare.find_where("thing", "*")
    hotmesh_nb.shutdown()


# -- the same answers on the native index (FT.*) -------------------------------------------


@pytest.mark.search
def test_native_index_gives_the_same_answers(md: MeshData, search_url: str, namespace: str) -> None:
    load_herd(md)
    fallback = answers(md)
    native = MeshData(search_url, search=ANIMALS, namespace=namespace, config=CONFIG)
    load_herd(native)
    hm = native.hotmesh()
    engine = shared_engine(hm.connection.client, hm.keys)
    assert get_runtime().run(engine.native())  # this half really runs on FT.SEARCH
    deadline = time.monotonic() + 10
    while native.find_where("animal", "*", count=True) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)  # FT indexes asynchronously
    assert answers(native) == fallback
    frame = native.find_where("animal", "*", limit=100, as_frame=True)
    assert str(frame["name"].dtype) == "category"
    assert pd.api.types.is_numeric_dtype(frame["legs"])
    assert native.list_search_indexes() == ["animals"]


RAW_FINDS: list[tuple[Any, ...]] = [
    ({}, "@_legs:[1 3]", "RETURN", 2, "_name", "legs"),
    ({}, "@_legs:[0 2]", "SORTBY", "legs", "DESC", "RETURN", 1, "_motto"),
    ({}, "@_legs:[0 2]", "SORTBY", "_legs", "NOCONTENT"),
    ({}, "*", "SORTBY", "_weight", "DESC", "RETURN", "1", "_weight"),
    ({}, "*", "SORTBY", "motto", "LIMIT", 1, 3, "NOCONTENT"),
    ({"index": "animals"}, "@_motto:day", "LIMIT", 0, 0),
    ("@_name:{dog}", "RETURN", 0),
    ({}, "FT.SEARCH", "animals", "@_name:{cat}", "RETURN", 2, "_name", "_color"),
    ({}, "FT._LIST"),
]


@pytest.mark.search
def test_native_index_gives_the_same_raw_find_answers(
    md: MeshData, search_url: str, namespace: str
) -> None:
    load_herd(md)
    native = MeshData(search_url, search=ANIMALS, namespace=namespace, config=CONFIG)
    load_herd(native)
    hm = native.hotmesh()
    assert get_runtime().run(shared_engine(hm.connection.client, hm.keys).native())
    wait_until(lambda: native.find_where("animal", "*", count=True) == 5, timeout=10)
    assert [native.find("animal", *call)[0] for call in RAW_FINDS[:7]] == [1, 2, 2, 5, 5, 2, 1]
    for call in RAW_FINDS:
        assert native.find("animal", *call) == md.find("animal", *call), call
    # Without RETURN both give every field of the hash; the searchable ones agree.
    for mesh in (md, native):
        count, key, pairs = mesh.find("animal", {}, "@_name:{cat}")
        fields = dict(zip(pairs[::2], pairs[1::2]))
        assert (count, key) == (1, mesh.mint_key("animal", "animal-cat"))
        assert fields == mesh.raw("animal", "cat")
