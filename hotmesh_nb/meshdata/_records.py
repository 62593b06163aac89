"""Reads and writes of a record's fields, keeping search indexes in step.

Writes go through :meth:`SearchEngine.apply`, which updates the fallback
indexes covering the record atomically with its fields; where no fallback
index covers it (or the server indexes natively) the hash is written
directly. Writes need an existing record: a bare hash of fields would not be
a workflow and would block ``exec`` of that id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._codec import loads
from .._replies import text_map, texts, texts_or_none
from ..connection import scan_page
from ..engine import _state as st
from ..errors import JobNotFoundError
from ..hotmesh import HotMesh
from ..meshflow._factory import EXECUTE
from ..search import SearchEngine
from ..search._search_jobs import id_matcher
from ._results import FoundJobs


def hash_field(name: str) -> str:
    """The job hash field of a searchable field (``_name``)."""
    return name if name.startswith("_") else f"_{name}"


def text(value: Any) -> str:
    """How a value is stored in a searchable field (JSON-like for booleans and numbers)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def number(value: str | float) -> float:
    """A stored number as ``int`` when integral, else ``float``."""
    parsed = float(value)
    return int(parsed) if parsed.is_integer() else parsed


async def _require(hm: HotMesh, record: str) -> str:
    key = hm.keys.job(record)
    if not await hm.connection.client.exists(key):
        raise JobNotFoundError(record)
    return key


async def get_fields(hm: HotMesh, record: str, fields: list[str]) -> dict[str, str | None]:
    """``{field: value}`` for the named fields (None when absent)."""
    key = await _require(hm, record)
    if not fields:
        return {}
    values = texts_or_none(await hm.connection.client.hmget(key, [hash_field(f) for f in fields]))
    return {f.removeprefix("_"): v for f, v in zip(fields, values)}


async def all_fields(hm: HotMesh, record: str) -> dict[str, str]:
    """Every searchable field, sorted by name."""
    raw_hash = await raw(hm, record)
    return {k[1:]: v for k, v in sorted(raw_hash.items()) if k.startswith("_")}


async def raw(hm: HotMesh, record: str) -> dict[str, str]:
    """The whole job hash."""
    fields = text_map(await hm.connection.client.hgetall(hm.keys.job(record)))
    if not fields:
        raise JobNotFoundError(record)
    return dict(fields)


async def set_fields(hm: HotMesh, engine: SearchEngine, record: str, values: dict[str, Any]) -> int:
    """Set fields; how many were new."""
    key = await _require(hm, record)
    if not values:
        return 0
    args: list[str] = []
    for name, value in values.items():
        args += [hash_field(str(name)), text(value)]
    done = await engine.apply(record, "set", args)
    if done is not None:
        return int(done)
    return int(await hm.connection.client.hset(key, mapping=dict(zip(args[::2], args[1::2]))))


async def incr_field(
    hm: HotMesh, engine: SearchEngine, record: str, field: str, amount: float
) -> float:
    """Add ``amount`` to a field; the new value."""
    key = await _require(hm, record)
    done = await engine.apply(record, "incr", [hash_field(field), text(amount)])
    if done is not None:
        return number(done)
    return number(await hm.connection.client.hincrbyfloat(key, hash_field(field), amount))


async def delete_fields(
    hm: HotMesh, engine: SearchEngine, record: str, fields: Sequence[str]
) -> int:
    """Delete fields; how many existed."""
    key = await _require(hm, record)
    names = [hash_field(f) for f in fields]
    if not names:
        return 0
    done = await engine.apply(record, "del", names)
    if done is not None:
        return int(done)
    return int(await hm.connection.client.hdel(key, *names))


async def flush(hm: HotMesh, engine: SearchEngine, record: str) -> bool:
    """Unindex, interrupt quietly and delete a record; False when it did not exist."""
    client = hm.connection.client
    key = hm.keys.job(record)
    names = [k for k in texts(await client.hkeys(key)) if k.startswith("_")]
    if not names and not await client.exists(key):
        return False
    if names:
        await engine.apply(record, "del", names)  # leaves no fallback index entries behind
    try:
        await hm.engine.interrupt(record, throw=False, descend=True)
    except JobNotFoundError:
        pass
    await client.delete(key)
    return True


async def scan(hm: HotMesh, match: str, *, limit: int, batch: int, cursor: int) -> FoundJobs:
    """Workflow records whose id matches the glob ``match``, with their searchable fields."""
    client = hm.connection.client
    keys = hm.keys
    pattern = keys.jobs_pattern(match)
    matches = id_matcher(match)  # the pattern covers a few ids that do not match
    ids: list[str] = []
    while True:
        cursor, found = await scan_page(client, cursor=cursor, match=pattern, count=batch)
        ids += [i for i in map(keys.job_id_of, texts(found)) if i is not None and matches(i)]
        if int(cursor) == 0 or len(ids) >= limit:
            break
    pipe = client.pipeline(transaction=False)
    for record in ids:
        pipe.hgetall(hm.keys.job(record))
    found = []
    for record, fields in zip(ids, await pipe.execute()):
        if not fields:  # expired between the scan and the read
            continue
        if loads(fields.get(st.META) or "{}").get("tpc") != EXECUTE:
            continue  # MeshFlow's own batch jobs (``<id>-batch-<n>``) are not records
        found.append((record, {k[1:]: v for k, v in sorted(fields.items()) if k[:1] == "_"}))
    return FoundJobs(len(found), found, f"SCAN {match}", None, int(cursor))
