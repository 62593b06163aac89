"""Our own secondary index, for servers without ``FT.*`` (Valkey, Redis 7).

Per index ``ix`` and field ``f`` (all keys share the app's hash tag):

* TAG: ``…:ix:<ix>:t:<f>:<value>`` — set of record ids per tag;
* NUMERIC: ``…:ix:<ix>:n:<f>`` — sorted set, record id scored by the value, and
  ``…:ix:<ix>:x:<f>`` — records whose value is not a number (the native index
  leaves such records out entirely, so queries leave them out too);
* TEXT: ``…:ix:<ix>:w:<f>:<term>`` — set of record ids per word and per marked
  stem (see :mod:`hotmesh_nb.search._search_text`);
* ``…:ix:<ix>:all`` — every record of the index: every job under its prefixes that
  holds one of its fields (as the native index's filter);
* ``…:ix:<ix>:r:<record>`` — the structures above that hold the record, so a
  record whose job expired can be forgotten without its (gone) values.

The index name and field names are escaped (``:`` → ``%3A``, see
:meth:`hotmesh_nb.keys.Keys.search_key`): index ``p`` with the tag ``all`` of field
``status`` and index ``p:t:status`` never share a structure.

Writes go through one script that checks the fields still hold the values
the index changes were computed from, so the index never drifts from the
records; a concurrent change makes the writer recompute and retry.

Records expire with their jobs (Redis expires the hash alone). Queries never
return them (each match is checked), and the index forgets them: the matches
of every query that turn out gone, a batch of the index's records on every
query and every :data:`SWEEP_EVERY` writes (a cursor walks the whole index in
turn), and a record's own leftovers when it is written again.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import redis.asyncio as aioredis

from .._lua import LuaScript
from .._replies import text_map, text_set, texts, texts_or_none
from ..keys import Keys, glob_escape
from ._search_query import Clause, parse_query
from ._search_schema import FieldSpec, SearchOptions
from ._search_text import index_terms, parse_number, query_terms, tags, words

log = logging.getLogger(__name__)

LAYOUT = 3
"""Version of the fallback index's layout (2: stems, member lists, unnumbered records; 3:
escaped index names, so that two indexes never share a structure); an index stored under
an older one is re-indexed when a process first reads it."""

WRITE = LuaScript("ix_write", package=__package__)
"""Write record fields and index changes atomically (see ``lua/ix_write.lua``)."""

PRUNE = LuaScript("ix_prune", package=__package__)
"""Forget a record whose job is gone (see ``lua/ix_prune.lua``)."""

SWEEP_BATCH = 100
"""Records of an index checked for expiry by one sweep step."""

SWEEP_EVERY = 50
"""Writes between two sweep steps of the indexes written."""


def memberships(
    keys: Keys, index: str, name: str, spec: FieldSpec, value: str | None
) -> list[tuple[str, str, Any]]:
    """Index changes that add a record with ``value`` in field ``name`` (op, key, score)."""
    if value is None or spec.noindex:
        return []
    if spec.type == "TAG":
        return [
            ("sadd", keys.search_key(index, "t", name, t), None) for t in sorted(set(tags(value)))
        ]
    if spec.type == "NUMERIC":
        number = parse_number(value)
        if number is None:
            return [("sadd", keys.search_key(index, "x", name), None)]
        return [("zadd", keys.search_key(index, "n", name), number)]
    return [
        ("sadd", keys.search_key(index, "w", name, term), None)
        for term in sorted(index_terms(value, spec.nostem))
    ]


def removal(change: tuple[str, str, Any]) -> tuple[str, str, Any]:
    """The change that undoes ``change``."""
    op, key, _ = change
    return ("srem" if op == "sadd" else "zrem", key, None)


class FallbackIndex:
    """Index definitions and queries of the fallback index of one app."""

    def __init__(self, client: aioredis.Redis, keys: Keys) -> None:
        self.client = client
        self.keys = keys
        self._writes = 0
        self._cursors: dict[str, int] = {}

    async def definitions(self, upgrade: bool = False) -> list[SearchOptions]:
        """Every index definition of the app; ``upgrade`` (where this fallback index is in
        use) first re-indexes those written under an older layout."""
        from .._codec import loads

        raw = text_map(await self.client.hgetall(self.keys.search_indexes))
        found = []
        for _, text in sorted(raw.items()):
            data = loads(text)
            options = SearchOptions.from_dict(data)
            if upgrade and data.get("layout") != LAYOUT:
                await self._upgrade(options, text)
            found.append(options)
        return found

    async def _upgrade(self, options: SearchOptions, stored: str) -> None:
        """Re-index the records of an index written under an older layout (one process
        claims the work by storing the definition anew; the others go on)."""
        from redis.exceptions import WatchError

        async with self.client.pipeline(transaction=True) as pipe:
            await pipe.watch(self.keys.search_indexes)
            if await pipe.hget(self.keys.search_indexes, options.index) != stored:
                return
            pipe.multi()
            pipe.hset(self.keys.search_indexes, options.index, stored_definition(options))
            try:
                await pipe.execute()
            except WatchError:
                return  # another process claimed it
        log.warning(
            "search index '%s' of app '%s' was written by an older version: re-indexing its "
            "records (stems, expiry bookkeeping)",
            options.index,
            self.keys.app,
        )
        await self._index_existing(options)

    async def create(self, options: SearchOptions) -> bool:
        """Define an index and index the records that already exist. False if it existed."""

        created = await self.client.hsetnx(
            self.keys.search_indexes, options.index, stored_definition(options)
        )
        if not created:
            return False
        await self._index_existing(options)
        return True

    async def _index_existing(self, options: SearchOptions) -> None:
        """Index, from scratch, every record under the index's prefixes."""
        prefixes = options.prefix or ("",)
        for prefix in prefixes:
            pattern = f"{glob_escape(self.keys.prefix)}:j:{glob_escape(prefix)}*"
            async for key in self.client.scan_iter(match=pattern, count=1000):
                record = key.split(":j:", 1)[1]
                await self.write(record, {}, [], [options], reset=True)

    async def write(
        self,
        record: str,
        updates: dict[str, str],
        deletes: list[str],
        indexes: list[SearchOptions],
        expected: dict[str, str | None] | None = None,
        *,
        reset: bool = False,
    ) -> bool:
        """Set ``updates`` and delete ``deletes`` on the record, keeping ``indexes`` in step.

        With ``expected`` (field → value it must still hold) the write happens only
        if the record still holds those values (compare-and-set); returns whether
        it wrote. Without it, a concurrent change is absorbed by recomputing.
        ``reset`` (with no updates nor deletes) indexes the record from scratch as it
        is now, dropping every entry it had: for a record whose fields were written
        elsewhere (seeded with its job), and whose id may have been used before.
        """
        while True:
            reply = await self._write(record, updates, deletes, indexes, expected, None, reset)
            if reply == 1:
                await self._after_write(indexes)
                return True
            if expected is not None:
                return False

    async def write_once(
        self,
        record: str,
        updates: dict[str, str],
        deletes: list[str],
        indexes: list[SearchOptions],
        expected: dict[str, str | None],
        ledger: tuple[str, str, str],
    ) -> str | None:
        """A compare-and-set write recorded once under ``ledger`` (hash key, field, value).

        Returns the ledger value: the one stored by an earlier write (nothing is
        written then) or ``ledger[2]`` after writing; None when ``expected`` no
        longer holds (recompute and call again).
        """
        reply = await self._write(record, updates, deletes, indexes, expected, ledger, False)
        if isinstance(reply, list):
            return str(reply[1])
        if reply == 1:
            await self._after_write(indexes)
            return ledger[2]
        return None

    async def _after_write(self, indexes: list[SearchOptions]) -> None:
        # Writes add entries; a sweep step now and then keeps expired records from
        # piling up in an index that is written far more often than it is queried.
        self._writes += 1
        if self._writes % SWEEP_EVERY == 0:
            for options in indexes:
                await self.sweep(options)

    async def _write(
        self,
        record: str,
        updates: dict[str, str],
        deletes: list[str],
        indexes: list[SearchOptions],
        expected: dict[str, str | None] | None,
        ledger: tuple[str, str, str] | None,
        reset: bool,
    ) -> Any:
        job = self.keys.job(record)
        touched: dict[str, list[tuple[SearchOptions, str, FieldSpec]]] = {}
        for options in indexes:
            for name, spec in options.indexed().items():
                hash_field = options.hash_field(name)
                if reset or hash_field in updates or hash_field in deletes:
                    touched.setdefault(hash_field, []).append((options, name, spec))
        for name in expected or {}:
            touched.setdefault(name, [])
        fields = sorted(touched)
        lists = [self.keys.search_key(o.index, "r", record) for o in indexes]
        if expected is not None:
            old = {f: expected.get(f) for f in fields}
        else:
            old = (
                dict(zip(fields, texts_or_none(await self.client.hmget(job, fields))))
                if fields
                else {}
            )
        if reset:  # index the values the record holds now (checked below), from nothing
            updates = {f: v for f, v in old.items() if v is not None}
        # A record written while its job hash is absent may hold entries from before it
        # expired: they go. The script says so (3) when it finds some, and the member
        # lists are read then, so a write to a live record costs no extra round trip.
        named: list[set[str]] = [set() for _ in lists]
        if reset:
            named = await self._members(lists)
        clear_mode = 2 if reset else 1
        changes: list[tuple[str, str, Any, str]] = []
        for hash_field, users in touched.items():
            new_value = None if hash_field in deletes else updates.get(hash_field)
            for options, name, spec in users:
                list_key = self.keys.search_key(options.index, "r", record)
                before = (
                    []
                    if reset
                    else memberships(self.keys, options.index, name, spec, old.get(hash_field))
                )
                after = memberships(self.keys, options.index, name, spec, new_value)
                keep = set(after)
                changes += [(*removal(c), list_key) for c in before if c not in keep]
                changes += [(*c, list_key) for c in after]
        keys_list = [job]
        index_of: dict[str, int] = {job: 1}

        def key_index(key: str) -> int:
            if key not in index_of:
                keys_list.append(key)
                index_of[key] = len(keys_list)
            return index_of[key]

        args: list[Any] = [0]
        if ledger is not None:
            args = [1, key_index(ledger[0]), ledger[1], ledger[2]]
        head = len(args)
        args += [clear_mode, len(lists)]
        for list_key, members in zip(lists, named):
            args += [key_index(list_key), len(members), *(key_index(m) for m in sorted(members))]
        clearing_end = len(args)
        args.append(len(fields))
        for hash_field in fields:
            args += [hash_field, old.get(hash_field) or ""]
        written = {} if reset else updates  # a reset only indexes: the hash stays as it is
        args.append(len(written))
        for name, value in written.items():
            args += [name, value]
        args.append(len(deletes))
        args += deletes
        args.append(len(changes))
        for op, key, score, list_key in changes:
            args += [op, key_index(key), key_index(list_key)]
            if op == "zadd":
                args.append(repr(float(score)))
        # A record is in an index while it holds one of its fields (the native index's
        # filter): jobs under the prefix without any (helpers) are not records.
        args.append(len(indexes))
        for options in indexes:
            held = [options.hash_field(n) for n in options.indexed()]
            args += [key_index(self.keys.search_key(options.index, "all")), len(held), *held]
        args.append(record)
        while True:
            reply = await WRITE.call(self.client, keys_list, args)
            if reply != 3:
                return reply if isinstance(reply, list) else int(reply)
            clearing: list[Any] = [clear_mode, len(lists)]
            for list_key, members in zip(lists, await self._members(lists)):
                clearing += [key_index(list_key), len(members)]
                clearing += [key_index(m) for m in sorted(members)]
            args[head:clearing_end] = clearing
            clearing_end = head + len(clearing)

    async def _members(self, lists: list[str]) -> list[set[str]]:
        """The structures each member list names."""
        pipe = self.client.pipeline(transaction=False)
        for list_key in lists:
            pipe.smembers(list_key)
        return [set(m) for m in await pipe.execute()]

    async def prune(self, options: SearchOptions, records: list[str]) -> int:
        """Forget those of ``records`` whose job is gone; returns how many were forgotten."""
        forgotten = 0
        for record in records:
            list_key = self.keys.search_key(options.index, "r", record)
            all_key = self.keys.search_key(options.index, "all")
            while True:
                members = sorted(text_set(await self.client.smembers(list_key)))
                reply = int(
                    await PRUNE.call(
                        self.client, [self.keys.job(record), list_key, all_key, *members], [record]
                    )
                )
                if reply >= 0:  # -1: written meanwhile, read the member list again
                    forgotten += reply
                    break
        return forgotten

    async def sweep(self, options: SearchOptions, count: int = SWEEP_BATCH) -> int:
        """Check the next ``count`` records of the index (a cursor walks it in turn) and
        forget those whose job is gone; returns how many were forgotten."""
        cursor = self._cursors.get(options.index, 0)
        cursor, batch = await self.client.sscan(
            self.keys.search_key(options.index, "all"), cursor, count=count
        )
        self._cursors[options.index] = int(cursor)
        return await self.prune(options, await self.gone(texts(batch)))

    async def gone(self, records: list[str] | set[str]) -> list[str]:
        """Those of ``records`` whose job hash no longer exists."""
        ordered = sorted(records)
        if not ordered:
            return []
        pipe = self.client.pipeline(transaction=False)
        for record in ordered:
            pipe.exists(self.keys.job(record))
        return [r for r, alive in zip(ordered, await pipe.execute()) if not alive]

    async def query(self, options: SearchOptions, text: str) -> set[str]:
        """Record ids matching the query ``text`` in the index ``options``."""
        clauses = parse_query(text)
        unindexed = [
            self.keys.search_key(options.index, "x", n)
            for n, s in options.indexed().items()
            if s.type == "NUMERIC" and not s.noindex
        ]
        failed = set(await self.client.sunion(unindexed)) if unindexed else set()
        everything: set[str] | None = None
        result: set[str] | None = None
        for clause in clauses:
            matched = await self._clause(options, clause)
            if clause.negate:
                if everything is None:
                    everything = set(
                        text_set(
                            await self.client.smembers(self.keys.search_key(options.index, "all"))
                        )
                    )
                matched = everything - matched
            result = matched if result is None else result & matched
            if not result:
                return set()
        return (result or set()) - failed

    async def _clause(self, options: SearchOptions, clause: Clause) -> set[str]:
        index = options.index
        if clause.kind == "all":
            return set(text_set(await self.client.smembers(self.keys.search_key(index, "all"))))
        name = _schema_name(options, clause.field)
        if name is None and clause.field is not None:
            return set()
        name = name or ""
        if clause.kind == "tag":
            keys = [self.keys.search_key(index, "t", name, v) for v in clause.values]
            return set(text_set(await self.client.sunion(keys))) if keys else set()
        if clause.kind == "num":
            low = ("(" if clause.low_open else "") + _score(clause.low)
            high = ("(" if clause.high_open else "") + _score(clause.high)
            return set(
                texts(
                    await self.client.zrangebyscore(
                        self.keys.search_key(index, "n", name), low, high
                    )
                )
            )
        # TEXT: every word must be present, in this field or (no field) in any TEXT field
        # (each word in its own); outside quotes a word also matches the words of its
        # stem, unless negated (the module does not expand a negated word).
        verbatim = clause.phrase or clause.negate
        fields = [name] if clause.field else _text_fields(options)
        if not clause.values or not fields:
            return set()
        pipe = self.client.pipeline(transaction=False)
        for word in clause.values:
            terms = query_terms(word, verbatim)
            pipe.sunion([self.keys.search_key(index, "w", f, t) for f in fields for t in terms])
        candidates: set[str] | None = None
        for members in await pipe.execute():
            candidates = set(members) if candidates is None else candidates & set(members)
        if clause.phrase and len(clause.values) > 1 and candidates:
            candidates = await self._phrase(options, clause.values, candidates)
        return candidates or set()

    async def _phrase(
        self, options: SearchOptions, wanted: list[str], candidates: set[str]
    ) -> set[str]:
        # The word sets say every word occurs; a phrase also needs them together, in order.
        # As in the native index, word positions run through the record's TEXT fields in
        # the schema's order (stop words take none), whichever field the query names.
        ordered = sorted(candidates)
        names = [options.hash_field(n) for n in _text_fields(options)]
        pipe = self.client.pipeline(transaction=False)
        for record in ordered:
            pipe.hmget(self.keys.job(record), names)
        kept = set()
        for record, values in zip(ordered, await pipe.execute()):
            tokens = [w for text in values if text is not None for w in words(text)]
            places = [[i + 1 for i, t in enumerate(tokens) if t == w] for w in wanted]
            if in_order(places):
                kept.add(record)
        return kept


def _text_fields(options: SearchOptions) -> list[str]:
    """The searchable TEXT fields of an index, in the schema's order."""
    return [n for n, s in options.indexed().items() if s.type == "TEXT" and not s.noindex]


def in_order(places: list[list[int]], slop: int = 0) -> bool:
    """Whether words at ``places`` (each word's sorted positions) form a phrase, judged as
    RediSearch judges it: positions taken in order (a repeated word may reuse one), each
    gap beyond the next position adds to the slop, an equal position takes one off; the
    first word's positions are tried in turn, the others' never go back."""
    cursor = [0] * len(places)
    current = [0] * len(places)

    def advance(i: int) -> int | None:
        if cursor[i] >= len(places[i]):
            return None
        cursor[i] += 1
        return places[i][cursor[i] - 1]

    while True:
        span = 0
        for i in range(len(places)):
            last = current[i - 1] if i else 0
            position = current[i] if i else advance(0)
            while position is not None and position < last:
                position = advance(i)
            if position is None:
                return False
            current[i] = position
            if i:
                span += position - last - 1
                if span > slop:
                    break
        if span <= slop:
            return True


def stored_definition(options: SearchOptions) -> str:
    """The stored form of an index definition (with the layout it is written in)."""
    from .._codec import dumps

    return dumps({**options.to_dict(), "layout": LAYOUT})


def _schema_name(options: SearchOptions, written: str | None) -> str | None:
    """The schema name of a field written in a query: its hash field (``_status``), as the
    native index names it. Any other name matches nothing there, nor here."""
    for schema_name in options.schema:
        if options.hash_field(schema_name) == written:
            return schema_name
    return None


def _score(value: float) -> str:
    if value == math.inf:
        return "+inf"
    if value == -math.inf:
        return "-inf"
    return repr(value)
