"""Shared data and helpers of the MeshData tests (a unique module name: no conftest clash)."""

from __future__ import annotations

from hotmesh_nb import EngineConfig, MeshData, SearchOptions

CONFIG = EngineConfig(block_ms=500)

SCHEMA = {
    "name": {"type": "TAG"},
    "legs": {"type": "NUMERIC", "sortable": True},
    "weight": {"type": "NUMERIC"},
    "motto": {"type": "TEXT"},
}

ANIMALS = SearchOptions("animals", prefix=["animal-"], schema=SCHEMA)

HERD = {
    "cat": {"name": "cat", "legs": 4, "weight": 4.5, "motto": "sleep all day"},
    "dog": {"name": "dog", "legs": 4, "weight": 30, "motto": "fetch the ball"},
    "mouse": {"name": "mouse", "legs": 4, "weight": 0.02, "motto": "cheese all day"},
    "bird": {"name": "bird", "legs": 2, "weight": 0.3, "motto": "sing at dawn"},
    "snake": {"name": "snake", "legs": 0, "weight": 2, "motto": "hiss"},
}


def describe(name: str) -> dict[str, str]:
    """The entity function of the tests: a plain function."""
    return {"animal": name, "says": f"I am a {name}"}


def load_herd(md: MeshData, ttl: str = "infinity") -> None:
    """Connect ``animal`` and exec one record per animal with its searchable fields."""
    md.connect("animal", describe)
    for name, fields in HERD.items():
        md.exec("animal", [name], id=name, ttl=ttl, search=fields)
