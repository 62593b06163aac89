"""The seed's MeshData demo (``meshdata cat dog mouse``): records, an index, a search.

One record per word is executed through a connected function with its
searchable fields; then the last word drives the search. It works on any
server: RediSearch where the server has it, the fallback index elsewhere.
"""

from __future__ import annotations

from ..connection import connect_async, mask_url
from ..search import SearchOptions, shared_engine
from ._core import MeshData

NAMESPACE = "demo"
ENTITY = "word"
INDEX = SearchOptions(
    "words",
    prefix=[f"{ENTITY}-"],
    schema={
        "word": {"type": "TAG", "sortable": True},
        "letters": {"type": "NUMERIC", "sortable": True},
        "sentence": {"type": "TEXT"},
    },
)


def describe(word: str) -> dict[str, str | int]:
    """The connected function: what the demo knows about a word."""
    return {"word": word, "letters": len(word), "sentence": f"the {word} was here"}


async def run_demo(url: str | None, words: list[str]) -> list[str]:
    """Create a searchable record per word, search for the last one; the lines to print."""
    words = [w for w in words if w] or ["cat", "dog", "mouse"]
    conn = await connect_async(url)
    md = MeshData(conn, search=INDEX, namespace=NAMESPACE)
    await md.connect_async(ENTITY, describe)
    hm = await md.hotmesh_async()
    engine = shared_engine(hm.connection.client, hm.keys)
    kind = "FT.SEARCH" if await engine.native() else "the fallback index (no FT.SEARCH here)"
    lines = [
        f"connected to {mask_url(conn.url)} (namespace '{NAMESPACE}')",
        f"index '{INDEX.index}' over records '{ENTITY}-*' using {kind}",
    ]
    for word in words:
        await md.flush_async(ENTITY, word)  # a fresh record on every run
        fields = describe(word)
        result = await md.exec_async(ENTITY, [word], id=word, ttl="infinity", search=fields)
        lines.append(f"exec {ENTITY}-{word} -> {result}")
    target = words[-1]
    found = await md.find_where_async(ENTITY, [{"field": "word", "is": "=", "value": target}])
    lines.append(f"find_where word = {target!r} -> {found.count} record(s) (query {found.query})")
    for record, fields in found.records:
        # Searchable fields are stored as text; the schema says which ones are numbers.
        typed = {k: _number(v) if _is_numeric(k) else v for k, v in fields.items()}
        lines.append(f"  {record}: {typed}")
    longer = await md.find_where_async(
        ENTITY, [{"field": "letters", "is": ">=", "value": 4}], count=True
    )
    lines.append(f"records with 4+ letters: {longer}")
    return lines


def _is_numeric(name: str) -> bool:
    field = (INDEX.schema or {}).get(name.lstrip("_"))
    kind = field.get("type") if isinstance(field, dict) else getattr(field, "type", "")
    return str(kind).upper() == "NUMERIC"


def _number(text: str) -> int | float | str:
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() else value
