"""Our own secondary index, for servers without ``FT.*`` (Valkey, Redis 7, a cluster).

A record (a job hash) is indexed in its job's partition
(:meth:`hotmesh_nb.keys.Keys.part_of`): every structure that holds it carries the same
hash tag as its hash, so a record's fields and its index entries are written by one
script in one slot. Per index ``ix``, field ``f`` and partition:

* TAG: ``…:ix:<ix>:t:<f>:<value>`` — set of record ids per tag;
* NUMERIC: ``…:ix:<ix>:n:<f>`` — sorted set, record id scored by the value, and
  ``…:ix:<ix>:x:<f>`` — records whose value is not a number (the native index
  leaves such records out entirely, so queries leave them out too);
* TEXT: ``…:ix:<ix>:w:<f>:<term>`` — set of record ids per word and per marked
  stem (see :mod:`hotmesh_nb.search._search_text`);
* ``…:ix:<ix>:all`` — every record of the index in the partition: every job under its
  prefixes that holds one of its fields (as the native index's filter);
* ``…:ix:<ix>:r:<record>`` — the structures above that hold the record, so a
  record whose job expired can be forgotten without its (gone) values.

The index name and field names are escaped (``:`` → ``%3A``, see
:meth:`hotmesh_nb.keys.Partition.search_key`): index ``p`` with the tag ``all`` of field
``status`` and index ``p:t:status`` never share a structure. Index definitions are the
app's (:attr:`hotmesh_nb.keys.Keys.search_indexes`), one for every partition.

Writes go through one script that checks the fields still hold the values
the index changes were computed from, so the index never drifts from the
records; a concurrent change makes the writer recompute and retry.

A query runs in every partition, each partition's commands queued on one pipeline
(one round trip on one server; on a cluster the client sends each node its
partitions' commands), and the answers are merged: the matches of all partitions
(a record is in one partition only, so counts add up), sorted by merging the
partitions' sorted matches, then paged. The rows are those of a single partition.

Records expire with their jobs (Redis expires the hash alone). Queries never
return them (each match is checked), and the index forgets them: the matches
of every query that turn out gone, a batch of records of one partition (each in
turn) on every query and of the written partition every :data:`SWEEP_EVERY` writes
(a cursor per partition walks the whole index in turn), and a record's own
leftovers when it is written again.
"""

from __future__ import annotations

import heapq
import logging
import math
from collections.abc import Callable, Iterator
from typing import Any

import redis.asyncio as aioredis

from .._lua import LuaScript, is_noscript
from .._replies import text_map, text_set, texts, texts_or_none
from ..keys import Keys, Partition, glob_escape
from . import _search_jobs as jobs
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
"""Records of an index checked for expiry by one sweep step of one partition (a set small
enough to be stored compactly, up to 128 members by default, is read whole)."""

SWEEP_EVERY = 50
"""Writes between two sweep steps of the indexes written."""


def memberships(
    part: Partition, index: str, name: str, spec: FieldSpec, value: str | None
) -> list[tuple[str, str, Any]]:
    """Index changes that add a record of partition ``part`` with ``value`` in field
    ``name`` (op, key, score)."""
    if value is None or spec.noindex:
        return []
    if spec.type == "TAG":
        return [
            ("sadd", part.search_key(index, "t", name, t), None) for t in sorted(set(tags(value)))
        ]
    if spec.type == "NUMERIC":
        number = parse_number(value)
        if number is None:
            return [("sadd", part.search_key(index, "x", name), None)]
        return [("zadd", part.search_key(index, "n", name), number)]
    return [
        ("sadd", part.search_key(index, "w", name, term), None)
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
        self._cursors: dict[tuple[str, int], int] = {}
        """Sweep cursor of each (index, partition)."""
        self._turns: dict[str, int] = {}
        """Queries of each index so far: the partition a query sweeps takes turns."""

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
        """Index, from scratch, every record under the index's prefixes, in every partition
        (each record into its own partition's structures)."""
        done: set[str] = set()
        for prefix in options.prefix or ("",):
            async for record in jobs.records(self.client, self.keys, f"{glob_escape(prefix)}*"):
                if record not in done:  # prefixes may overlap
                    done.add(record)
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
                await self._after_write(indexes, record)
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
            await self._after_write(indexes, record)
            return ledger[2]
        return None

    async def _after_write(self, indexes: list[SearchOptions], record: str) -> None:
        # Writes add entries; a sweep step now and then keeps expired records from
        # piling up in an index that is written far more often than it is queried.
        # The written partition is swept: writes spread over the partitions as the
        # records do, and each sweep stays one round trip to one node.
        self._writes += 1
        if self._writes % SWEEP_EVERY == 0:
            for options in indexes:
                await self.sweep(options, parts=[self.keys.part_of(record)])

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
        # The record's hash and every index structure it is in share its partition's
        # slot: one script writes them all.
        part = self.keys.part_of(record)
        job = part.job(record)
        touched: dict[str, list[tuple[SearchOptions, str, FieldSpec]]] = {}
        for options in indexes:
            for name, spec in options.indexed().items():
                hash_field = options.hash_field(name)
                if reset or hash_field in updates or hash_field in deletes:
                    touched.setdefault(hash_field, []).append((options, name, spec))
        for name in expected or {}:
            touched.setdefault(name, [])
        fields = sorted(touched)
        lists = [part.search_key(o.index, "r", record) for o in indexes]
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
                list_key = part.search_key(options.index, "r", record)
                before = (
                    []
                    if reset
                    else memberships(part, options.index, name, spec, old.get(hash_field))
                )
                after = memberships(part, options.index, name, spec, new_value)
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
            args += [key_index(part.search_key(options.index, "all")), len(held), *held]
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
        """Forget those of ``records`` whose job is gone; returns how many were forgotten.

        Two round trips for all of them, whatever their partitions: their member lists,
        then one script per record (each in its record's slot).
        """
        pending = sorted(set(records))
        forgotten = 0
        while pending:
            pipe = self.client.pipeline(transaction=False)
            for record in pending:
                pipe.smembers(self.keys.part_of(record).search_key(options.index, "r", record))
            named = await pipe.execute()
            pipe = self.client.pipeline(transaction=False)
            for record, members in zip(pending, named):
                part = self.keys.part_of(record)
                list_key = part.search_key(options.index, "r", record)
                all_key = part.search_key(options.index, "all")
                keys = [part.job(record), list_key, all_key, *sorted(text_set(members))]
                PRUNE.add(pipe, keys, [record])
            replies = await pipe.execute(raise_on_error=False)
            if any(is_noscript(r) for r in replies):
                await PRUNE.load(self.client)  # the server forgot it: load, then again
                continue
            again = []
            for record, reply in zip(pending, replies):
                if isinstance(reply, Exception):
                    raise reply
                if int(reply) >= 0:
                    forgotten += int(reply)
                else:  # -1: written meanwhile, read the member list again
                    again.append(record)
            pending = again
        return forgotten

    def _queue_sweep(
        self, pipe: Any, options: SearchOptions, parts: list[Partition], count: int
    ) -> Callable[[Iterator[Any]], list[str]]:
        """Queue one sweep step of ``parts`` on ``pipe``; the reader of its replies gives the
        records it read (and moves the partitions' cursors on)."""
        for part in parts:
            cursor = self._cursors.get((options.index, part.index), 0)
            pipe.sscan(part.search_key(options.index, "all"), cursor, count=count)

        def read(replies: Iterator[Any]) -> list[str]:
            batch: list[str] = []
            for part in parts:
                cursor, members = next(replies)
                self._cursors[(options.index, part.index)] = int(cursor)
                batch += texts(members)
            return batch

        return read

    async def sweep(
        self,
        options: SearchOptions,
        count: int = SWEEP_BATCH,
        parts: list[Partition] | None = None,
    ) -> int:
        """Check the next ``count`` records of the index in each of ``parts`` (default every
        partition; a cursor per partition walks it in turn) and forget those whose job is
        gone; returns how many were forgotten."""
        pipe = self.client.pipeline(transaction=False)
        read = self._queue_sweep(pipe, options, parts or self.keys.parts, count)
        batch = read(iter(await pipe.execute()))
        return await self.prune(options, await self.gone(batch))

    async def gone(self, records: list[str] | set[str]) -> list[str]:
        """Those of ``records`` whose job hash no longer exists."""
        ordered = sorted(set(records))
        if not ordered:
            return []
        pipe = self.client.pipeline(transaction=False)
        for record in ordered:
            pipe.exists(self.keys.job(record))
        return [r for r, alive in zip(ordered, await pipe.execute()) if not alive]

    async def query(self, options: SearchOptions, text: str) -> set[str]:
        """Record ids matching the query ``text`` in the index ``options`` (every partition;
        records whose job expired may be among them, see :meth:`select`)."""
        by_part, _ = await self._matches(options, parse_query(text), sweep=False)
        return set().union(*by_part)

    async def select(
        self,
        options: SearchOptions,
        text: str,
        *,
        sort_by: str | None = None,
        ascending: bool = True,
    ) -> list[str]:
        """Every live record matching ``text``, in order: by ``sort_by`` (records without
        it last, ties by id) or by id.

        Round trips, whatever the number of partitions: one for the index structures of
        every partition (and a sweep step of one, in turn), one more for phrases, one to check
        that the matches (and the swept records) still exist and read their sort values.
        """
        by_part, batch = await self._matches(options, parse_query(text), sweep=True)
        matched = set().union(*by_part)
        # Records whose job expired may still sit in the sets (Redis expires the hash
        # alone); the native index drops them, so they are neither counted nor returned,
        # and forgotten now.
        hash_field = options.hash_field(sort_by) if sort_by else None
        ordered = sorted(matched)
        swept = sorted(set(batch) - matched)
        pipe = self.client.pipeline(transaction=False)
        for record in ordered:
            job = self.keys.job(record)
            pipe.exists(job)
            if hash_field is not None:
                pipe.hget(job, hash_field)
        for record in swept:
            pipe.exists(self.keys.job(record))
        replies = iter(await pipe.execute())
        values: dict[str, str | None] = {}
        gone: list[str] = []
        for record in ordered:
            alive = next(replies)
            value = next(replies) if hash_field is not None else None
            if alive:
                values[record] = value
            else:
                gone.append(record)
        gone += [record for record in swept if not next(replies)]
        if gone:
            await self.prune(options, gone)
        numeric = sort_by is not None and _is_numeric(options, sort_by)
        key = _sort_key(values, numeric) if sort_by else None
        descending = bool(sort_by) and not ascending  # unsorted: by id, either way
        # Each partition's matches in order, then merged: the order of one partition.
        runs = [sorted((r for r in found if r in values), key=key) for found in by_part]
        if descending:
            runs = [run[::-1] for run in runs]
        return list(heapq.merge(*runs, key=key, reverse=descending))

    async def _matches(
        self, options: SearchOptions, clauses: list[Clause], *, sweep: bool
    ) -> tuple[list[set[str]], list[str]]:
        """The records each partition's structures say match ``clauses`` (one set per
        partition), and (``sweep``) the records of a sweep step of one partition: each
        query sweeps the next, so that the records checked per query stay about
        :data:`SWEEP_BATCH` whatever the number of partitions."""
        parts = self.keys.parts
        index = options.index
        unindexed = [
            n for n, s in options.indexed().items() if s.type == "NUMERIC" and not s.noindex
        ]
        negated = any(c.negate for c in clauses)
        pipe = self.client.pipeline(transaction=False)
        readers: list[list[Callable[[Iterator[Any]], set[str]]]] = []
        for part in parts:
            if unindexed:
                pipe.sunion([part.search_key(index, "x", n) for n in unindexed])
            if negated:
                pipe.smembers(part.search_key(index, "all"))
            readers.append([self._queue_clause(pipe, part, options, c) for c in clauses])
        read_sweep = None
        if sweep:
            turn = self._turns.get(index, 0)
            self._turns[index] = turn + 1
            read_sweep = self._queue_sweep(pipe, options, [parts[turn % len(parts)]], SWEEP_BATCH)
        replies = iter(await pipe.execute())
        found: list[tuple[set[str], set[str], list[set[str]]]] = []
        for part_readers in readers:
            failed = set(next(replies)) if unindexed else set()
            everything = set(next(replies)) if negated else set()
            found.append((failed, everything, [read(replies) for read in part_readers]))
        batch = read_sweep(replies) if read_sweep is not None else []
        await self._check_phrases(options, clauses, [sets for _, _, sets in found])
        by_part: list[set[str]] = []
        for failed, everything, sets in found:
            result: set[str] | None = None
            for clause, matched in zip(clauses, sets):
                if clause.negate:
                    matched = everything - matched
                result = matched if result is None else result & matched
            by_part.append((result or set()) - failed)
        return by_part, batch

    def _queue_clause(
        self, pipe: Any, part: Partition, options: SearchOptions, clause: Clause
    ) -> Callable[[Iterator[Any]], set[str]]:
        """Queue the commands of one clause in one partition on ``pipe``; the reader of
        their replies gives the records the clause matches there."""
        index = options.index

        def one(replies: Iterator[Any]) -> set[str]:
            return set(next(replies))

        def nothing(replies: Iterator[Any]) -> set[str]:
            return set()

        if clause.kind == "all":
            pipe.smembers(part.search_key(index, "all"))
            return one
        name = _schema_name(options, clause.field)
        if name is None and clause.field is not None:
            return nothing
        name = name or ""
        if clause.kind == "tag":
            if not clause.values:
                return nothing
            pipe.sunion([part.search_key(index, "t", name, v) for v in clause.values])
            return one
        if clause.kind == "num":
            low = ("(" if clause.low_open else "") + _score(clause.low)
            high = ("(" if clause.high_open else "") + _score(clause.high)
            pipe.zrangebyscore(part.search_key(index, "n", name), low, high)
            return one
        # TEXT: every word must be present, in this field or (no field) in any TEXT field
        # (each word in its own); outside quotes a word also matches the words of its
        # stem, unless negated (the module does not expand a negated word).
        verbatim = clause.phrase or clause.negate
        fields = [name] if clause.field else _text_fields(options)
        if not clause.values or not fields:
            return nothing
        for word in clause.values:
            terms = query_terms(word, verbatim)
            pipe.sunion([part.search_key(index, "w", f, t) for f in fields for t in terms])

        def every_word(replies: Iterator[Any]) -> set[str]:
            candidates = set(next(replies))
            for _ in clause.values[1:]:
                candidates &= set(next(replies))
            return candidates

        return every_word

    async def _check_phrases(
        self, options: SearchOptions, clauses: list[Clause], sets: list[list[set[str]]]
    ) -> None:
        """Keep, in the matches of each phrase clause (``sets[partition][clause]``), the
        records that hold its words together and in order: one round trip for all."""
        # The word sets say every word occurs; a phrase also needs them together, in order.
        # As in the native index, word positions run through the record's TEXT fields in
        # the schema's order (stop words take none), whichever field the query names.
        phrases = [
            i for i, c in enumerate(clauses) if c.kind == "text" and c.phrase and len(c.values) > 1
        ]
        candidates = sorted({r for part in sets for i in phrases for r in part[i]})
        if not candidates:
            return
        names = [options.hash_field(n) for n in _text_fields(options)]
        pipe = self.client.pipeline(transaction=False)
        for record in candidates:
            pipe.hmget(self.keys.job(record), names)
        tokens = {
            record: [w for text in values if text is not None for w in words(text)]
            for record, values in zip(candidates, await pipe.execute())
        }
        for part in sets:
            for i in phrases:
                part[i] = {r for r in part[i] if _holds_phrase(tokens[r], clauses[i].values)}


def _holds_phrase(tokens: list[str], wanted: list[str]) -> bool:
    """Whether the words ``wanted`` occur together and in order among ``tokens``."""
    return in_order([[i + 1 for i, t in enumerate(tokens) if t == w] for w in wanted])


def _is_numeric(options: SearchOptions, name: str) -> bool:
    spec = options.schema.get(name)
    return spec is not None and spec.type == "NUMERIC"


def _sort_key(
    values: dict[str, str | None], numeric: bool
) -> Callable[[str], tuple[int, Any, str]]:
    """The order of records sorted by a field: by value (numbers as numbers, text without
    case), records without a value (or with a number that is not one) last, ties by id."""

    def key(record: str) -> tuple[int, Any, str]:
        value = values.get(record)
        if value is None:
            return (1, 0, record)
        if numeric:
            number = parse_number(value)
            return (0, number, record) if number is not None else (1, 0, record)
        return (0, value.lower(), record)

    return key


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
