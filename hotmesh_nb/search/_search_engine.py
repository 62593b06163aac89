"""One front for searchable records: native ``FT.*`` where available, else the fallback.

Both give the same rows for any number of partitions: the native index covers every
partition's job prefix (one server), the fallback queries each partition's index and
merges (counts added, sorted by merging, then offset and limit).
"""

from __future__ import annotations

import functools
import logging
import time
import weakref
from dataclasses import dataclass, field
from typing import Any, Literal

import redis.asyncio as aioredis

from .._replies import as_fields, text_or_none, texts_or_none
from ..connection import is_cluster
from ..errors import HotMeshError
from ..keys import Keys
from . import _native as native
from ._fallback import FallbackIndex, stored_definition
from ._search_schema import SearchOptions

Mode = Literal["auto", "native", "fallback"]

log = logging.getLogger(__name__)

DEFINITIONS_TTL = 2.0
"""Seconds this process trusts its copy of the fallback index definitions."""


@dataclass
class SearchResult:
    """Records found by a search: ``count`` in all, ``records`` of this page."""

    count: int
    """How many records match (all pages)."""
    records: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    """(record id, {field: value}) of this page; field names without the ``_``."""
    query: str = ""
    """The query that ran."""
    options: SearchOptions | None = None
    """The index searched (its schema types the DataFrame)."""

    def to_frame(self) -> Any:
        """The page as a ``pandas.DataFrame``: record id as index, columns typed by schema.

        NUMERIC fields become numbers, TAG fields categories, TEXT fields strings.
        """
        import pandas as pd

        frame = pd.DataFrame.from_records(
            [fields for _, fields in self.records], index=[rid for rid, _ in self.records]
        )
        frame.index.name = "id"
        schema = self.options.schema if self.options is not None else {}
        for name in list(frame.columns):
            spec = schema.get(name)
            if spec is None:
                continue
            if spec.type == "NUMERIC":
                frame[name] = pd.to_numeric(frame[name], errors="coerce")
            elif spec.type == "TAG":
                frame[name] = frame[name].astype("category")
            else:
                frame[name] = frame[name].astype("string")
        ordered = [n for n in schema if n in frame.columns]
        rest = sorted(c for c in frame.columns if c not in ordered)
        return frame[ordered + rest]

    def _repr_html_(self) -> str:
        try:
            return self.to_frame()._repr_html_()
        except Exception:  # a repr must never raise
            return f"<pre>{self!r}</pre>"


@functools.cache
def _say_cluster_fallback() -> None:
    log.warning(
        "search on a Redis Cluster: hotmesh_nb's own index is used, not FT.* (the search "
        "module indexes one shard only without a coordinator); results are the same"
    )


class SearchEngine:
    """Indexes and searchable fields of one app's records (jobs)."""

    def __init__(self, client: aioredis.Redis, keys: Keys, mode: Mode = "auto") -> None:
        self.client = client
        self.keys = keys
        self.mode = mode
        self.fallback = FallbackIndex(client, keys)
        self._native: bool | None = None if mode == "auto" else mode == "native"
        self._definitions: list[SearchOptions] = []
        self._loaded_at = 0.0

    async def native(self) -> bool:
        """True when this engine uses ``FT.*``: in ``auto`` mode, on one server that has
        it; never on a Redis Cluster, where every partition's own fallback index is
        queried and the answers merged (see :mod:`hotmesh_nb.search._native`)."""
        if self._native is None:
            if is_cluster(self.client):
                # FT.* indexes only the keys of the shard it runs on (no coordinator in
                # open-source Redis or Valkey): our own index gives the same rows.
                _say_cluster_fallback()
                self._native = False
            else:
                self._native = await native.available(self.client)
        return self._native

    async def _indexes(self, fresh: bool = False) -> list[SearchOptions]:
        if fresh or time.monotonic() - self._loaded_at > DEFINITIONS_TTL:
            self._definitions = await self.fallback.definitions(upgrade=not await self.native())
            self._loaded_at = time.monotonic()
        return self._definitions

    async def create_index(self, options: SearchOptions) -> bool:
        """Create an index (records that already exist are indexed). False if it existed."""
        if await self.native():
            created = await native.create(self.client, self.keys, options)
            # Keep the definition too: it types search results (DataFrame dtypes) and
            # lets callers find the index covering a record, as with the fallback.
            await self.client.hset(
                self.keys.search_indexes, options.index, stored_definition(options)
            )
            await self._indexes(fresh=True)
            return created
        created = await self.fallback.create(options)
        await self._indexes(fresh=True)
        return created

    async def list_indexes(self) -> list[str]:
        """The app's index names."""
        if await self.native():
            return await native.list_indexes(self.client, self.keys)
        return [o.index for o in await self._indexes(fresh=True)]

    async def index(self, name: str) -> SearchOptions:
        """The definition of an index (fallback), or raise naming the known ones."""
        for options in await self._indexes(fresh=True):
            if options.index == name:
                return options
        known = ", ".join(o.index for o in self._definitions) or "none"
        raise HotMeshError(f"no search index '{name}' in app '{self.keys.app}' (known: {known})")

    async def covering(self, record: str) -> list[SearchOptions]:
        """The fallback indexes a write to ``record`` must update (none with ``FT.*``)."""
        if await self.native():
            return []
        return [o for o in await self._indexes() if o.covers(record)]

    async def reindex(self, record: str) -> None:
        """Index the record's current fields (after they were written without this engine,
        e.g. seeded when its job was created)."""
        covering = await self.covering(record)
        if covering:
            # From scratch: entries of an earlier record of this id (expired) must not stay.
            await self.fallback.write(record, {}, [], covering, reset=True)

    async def apply(
        self, record: str, op: str, args: list[str], ledger: tuple[str, str] | None = None
    ) -> str | None:
        """Apply a field operation, keeping fallback indexes in step; its result as text.

        ``op`` is ``set`` (field, value pairs; result: how many fields were new),
        ``del`` (fields; how many existed), ``incr`` or ``mult`` (field, number;
        the new value). Field names are hash fields (``_name``). ``ledger`` (hash
        key, field) makes it happen once: a second call returns the first result.
        Returns None when no fallback index covers the record: the caller writes
        the hash itself (the native index follows the hash on its own).
        """
        covering = await self.covering(record)
        if not covering:
            return None
        job = self.keys.job(record)
        names = args[::2] if op == "set" else args if op == "del" else args[:1]
        while True:
            current = dict(zip(names, texts_or_none(await self.client.hmget(job, names))))
            updates: dict[str, str] = {}
            deletes: list[str] = []
            if op == "set":
                updates = dict(zip(args[::2], args[1::2]))
                result = str(sum(1 for n in updates if current.get(n) is None))
            elif op == "del":
                deletes = list(args)
                result = str(sum(1 for n in deletes if current.get(n) is not None))
            elif op in ("incr", "mult"):
                number = float(current.get(args[0]) or 0)
                number = number + float(args[1]) if op == "incr" else number * float(args[1])
                result = _text(number)
                updates = {args[0]: result}
            else:
                raise HotMeshError(f"unknown field operation {op!r}")
            if ledger is None:
                if await self.fallback.write(record, updates, deletes, covering, current):
                    return result
                continue
            once = await self.fallback.write_once(
                record, updates, deletes, covering, current, (ledger[0], ledger[1], result)
            )
            if once is not None:
                return once

    async def write(self, record: str, values: dict[str, Any], deletes: list[str] = ()) -> None:  # type: ignore[assignment]
        """Set searchable fields (``_name`` → text) of a record, keeping indexes in step."""
        updates = {_field(k): _text(v) for k, v in values.items()}
        removed = [_field(k) for k in deletes]
        covering = (
            [] if await self.native() else [o for o in await self._indexes() if o.covers(record)]
        )
        if not covering:
            job = self.keys.job(record)
            pipe = self.client.pipeline(transaction=True)
            if updates:
                pipe.hset(job, mapping=as_fields(updates))
            if removed:
                pipe.hdel(job, *removed)
            await pipe.execute()
            return
        await self.fallback.write(record, updates, removed, covering)

    async def incr(self, record: str, name: str, amount: float) -> float:
        """Add ``amount`` to a numeric searchable field; returns the new value."""
        hash_field = _field(name)
        covering = (
            [] if await self.native() else [o for o in await self._indexes() if o.covers(record)]
        )
        if not covering:
            return float(await self.client.hincrbyfloat(self.keys.job(record), hash_field, amount))
        job = self.keys.job(record)
        while True:  # compare-and-set: concurrent increments are never lost
            current = text_or_none(await self.client.hget(job, hash_field))
            new = float(current or 0) + amount
            expected = {hash_field: current}
            if await self.fallback.write(record, {hash_field: _text(new)}, [], covering, expected):
                return new

    async def search(
        self,
        index: str,
        query: str = "*",
        *,
        return_fields: list[str] | None = None,
        offset: int = 0,
        limit: int = 10,
        sort_by: str | None = None,
        ascending: bool = True,
    ) -> SearchResult:
        """Records of ``index`` matching ``query`` (see :mod:`hotmesh_nb.search._search_query`)."""
        if await self.native():
            options = next((o for o in await self._indexes() if o.index == index), None)
            options = options or SearchOptions(index)
            count, rows = await native.search(
                self.client,
                self.keys,
                options,
                query,
                return_fields=return_fields,
                offset=offset,
                limit=limit,
                sort_by=sort_by,
                ascending=ascending,
            )
            return SearchResult(count, _strip(rows), query, options)
        options = await self.index(index)
        # Every partition's matches, merged and sorted; then the page, as with one.
        ordered = await self.fallback.select(options, query, sort_by=sort_by, ascending=ascending)
        names = return_fields if return_fields is not None else list(options.schema)
        page = ordered[offset : offset + limit] if limit >= 0 else ordered[offset:]
        rows = []
        if page and names:
            pipe = self.client.pipeline(transaction=False)
            hash_fields = [options.hash_field(n) for n in names]
            for record in page:
                pipe.hmget(self.keys.job(record), hash_fields)
            for record, values in zip(page, await pipe.execute()):
                rows.append((record, {n: v for n, v in zip(names, values) if v is not None}))
        else:
            rows = [(record, {}) for record in page]
        return SearchResult(len(ordered), rows, query, options)


_SHARED: weakref.WeakKeyDictionary[aioredis.Redis, dict[Keys, SearchEngine]] = (
    weakref.WeakKeyDictionary()
)


def shared_engine(client: aioredis.Redis, keys: Keys) -> SearchEngine:
    """The one ``auto`` engine of this process for ``keys`` on ``client``.

    Sharing it means an index created by one caller (MeshData) is seen at once
    by every writer of the same records (workflow code), not after the
    definitions cache expires.
    """
    engines = _SHARED.setdefault(client, {})
    engine = engines.get(keys)
    if engine is None:
        engine = engines[keys] = SearchEngine(client, keys)
    return engine


def _field(name: str) -> str:
    return name if name.startswith("_") else f"_{name}"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _strip(rows: list[tuple[str, dict[str, str]]]) -> list[tuple[str, dict[str, str]]]:
    return [(rid, {k.removeprefix("_"): v for k, v in fields.items()}) for rid, fields in rows]
