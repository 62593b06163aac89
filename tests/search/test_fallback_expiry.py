"""The fallback index forgets records whose jobs expired (it does not grow forever).

Records are MeshData records with a short ``ttl``: when Redis expires their job
hash, nothing tells the index. Queries skip them at once; the index then drops
them from every tag set, word set and numeric sorted set: the matches of a
query, a batch of one partition's records on each query (the partitions take
turns), a batch of the written partition's every few writes, and a record's own
leftovers when a record of the same id is started again.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from waiting import wait_until

import hotmesh_nb
from hotmesh_nb import EngineConfig, MeshData, SearchOptions
from hotmesh_nb.keys import DEFAULT_PARTITIONS, Keys
from hotmesh_nb.runtime import get_runtime
from hotmesh_nb.search import SearchEngine
from hotmesh_nb.search import _fallback as fallback

PETS = SearchOptions(
    "pets",
    prefix=["pet-"],
    schema={"name": {"type": "TAG"}, "age": {"type": "NUMERIC"}, "note": {"type": "TEXT"}},
)


def describe(name: str) -> str:
    """The entity function: a plain function."""
    return f"I am {name}"


@pytest.fixture
def md(redis_url: str, namespace: str) -> Iterator[MeshData]:
    mesh = MeshData(redis_url, search=PETS, namespace=namespace, config=EngineConfig(block_ms=500))
    mesh.connect("pet", describe)
    yield mesh
    hotmesh_nb.shutdown()


def index_entries(md: MeshData, namespace: str) -> dict[str, set[str]]:
    """Every structure of the namespace's fallback indexes → the record ids it holds."""
    client = md.hotmesh(namespace).connection.client

    async def read() -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        async for key in client.scan_iter(match=f"{{{namespace}:*}}:ix:*", count=1000):
            kind = await client.type(key)
            if kind == "set":
                out[key] = set(await client.smembers(key))
            elif kind == "zset":
                out[key] = set(await client.zrange(key, 0, -1))
        return out

    return get_runtime().run(read())


def holding(entries: dict[str, set[str]], record: str) -> list[str]:
    """The structures that still name ``record`` (as a member or in their key)."""
    return sorted(k for k, members in entries.items() if record in members or k.endswith(record))


def job_gone(md: MeshData, namespace: str, record: str) -> bool:
    hm = md.hotmesh(namespace)
    return not get_runtime().run(hm.connection.client.exists(hm.keys.job(record)))


def short_lived(md: MeshData, namespace: str, names: list[str]) -> list[str]:
    """Records of ``names`` with a one-second ttl, once their jobs have expired."""
    for position, name in enumerate(names):
        fields = {"name": name, "age": position, "note": f"{name} runs fast"}
        md.exec("pet", [name], id=name, ttl="1 second", search=fields)
    records = [f"pet-{name}" for name in names]
    entries = index_entries(md, namespace)
    assert all(holding(entries, r) for r in records)  # indexed while alive
    wait_until(lambda: all(job_gone(md, namespace, r) for r in records), timeout=30)
    return records


def test_a_query_forgets_expired_records_it_did_not_match(md: MeshData, namespace: str) -> None:
    md.exec("pet", ["rex"], id="rex", ttl="infinity", search={"name": "rex", "note": "stays"})
    gone = short_lived(md, namespace, ["gnat", "midge", "flea"])
    assert holding(index_entries(md, namespace), "pet-gnat")  # nothing told the index yet
    for _ in md.hotmesh(namespace).keys.parts:  # each query sweeps the next partition
        assert [r for r, _ in md.find_where("pet", "@_name:{rex}").records] == ["pet-rex"]
    entries = index_entries(md, namespace)
    for record in gone:
        assert holding(entries, record) == [], record
    assert holding(entries, "pet-rex")  # the live record keeps its entries
    assert md.find_where("pet", "*", count=True) == 1


def test_writes_alone_forget_expired_records(md: MeshData, namespace: str) -> None:
    keys = md.hotmesh(namespace).keys
    gone = short_lived(md, namespace, ["gnat", "midge"])
    # Writes sweep the partition they write to: a live record beside each expired one.
    live = []
    for record in gone:
        name = next(
            f"rex{n}" for n in range(1000) if keys.part_of(f"pet-rex{n}") is keys.part_of(record)
        )
        if name not in live:
            md.exec("pet", [name], id=name, ttl="infinity", search={"name": name, "age": 0})
            live.append(name)
    for name in live:
        for _ in range(fallback.SWEEP_EVERY):
            md.incr("pet", name, "age", 1)  # no query in between
    entries = index_entries(md, namespace)
    assert [holding(entries, r) for r in gone] == [[], []]
    found = md.find_where("pet", [{"field": "age", "is": "=", "value": 50}], count=True)
    assert found == len(live)


def test_a_record_started_again_keeps_nothing_of_its_expired_self(
    md: MeshData, namespace: str
) -> None:
    short_lived(md, namespace, ["gnat"])
    md.exec("pet", ["gnat"], id="gnat", ttl="infinity", search={"name": "newt", "age": 7})
    assert md.find_where("pet", "@_name:{gnat}", count=True) == 0
    assert md.find_where("pet", "runs", count=True) == 0
    assert md.find_where("pet", "@_age:[0 0]", count=True) == 0
    assert [r for r, _ in md.find_where("pet", "@_name:{newt}").records] == ["pet-gnat"]
    entries = index_entries(md, namespace)
    held = sorted(k.split(":ix:pets:", 1)[1] for k in holding(entries, "pet-gnat"))
    assert held == ["all", "n:age", "r:pet-gnat", "t:name:newt"]


def test_fields_written_again_after_expiry_replace_the_old_entries(
    redis_url: str, namespace: str
) -> None:
    conn = hotmesh_nb.connect(redis_url)
    keys = Keys(namespace, "shop", DEFAULT_PARTITIONS)
    engine = SearchEngine(conn.client, keys, mode="fallback")
    run = get_runtime().run
    run(engine.create_index(PETS))
    run(engine.write("pet-a", {"name": "old", "age": 1, "note": "running dog"}))
    run(engine.write("pet-b", {"name": "other"}))
    run(conn.client.pexpire(keys.job("pet-a"), 50))
    wait_until(lambda: not run(conn.client.exists(keys.job("pet-a"))))
    run(engine.write("pet-a", {"name": "new"}))  # a hash of the same id, nothing else

    def found(query: str) -> list[str]:
        return [r for r, _ in run(engine.search("pets", query, limit=10)).records]

    assert found("@_name:{old}") == [] and found("runs") == [] and found("@_age:[1 1]") == []
    assert found("@_name:{new}") == ["pet-a"]
    assert found("*") == ["pet-a", "pet-b"]
    hotmesh_nb.shutdown()
