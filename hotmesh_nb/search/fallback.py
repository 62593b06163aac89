"""Our own secondary index, for servers without ``FT.*`` (Valkey, Redis 7).

Per index ``ix`` and field ``f`` (all keys share the app's hash tag):

* TAG: ``…:ix:<ix>:t:<f>:<value>`` — set of record ids per (lower-cased) tag;
* NUMERIC: ``…:ix:<ix>:n:<f>`` — sorted set, record id scored by the value;
* TEXT: ``…:ix:<ix>:w:<f>:<word>`` — set of record ids per (lower-cased) word;
* ``…:ix:<ix>:all`` — every record of the index.

Writes go through one script that checks the fields still hold the values
the index changes were computed from, so the index never drifts from the
records; a concurrent change makes the writer recompute and retry.
"""

from __future__ import annotations

import math
from typing import Any

import redis.asyncio as aioredis

from ..engine.scripts import LuaScript
from ..keys import Keys
from .query import Clause, parse_query, tags, words
from .schema import FieldSpec, SearchOptions

WRITE = LuaScript("ix_write", package=__package__)
"""Write record fields and index changes atomically (see ``lua/ix_write.lua``)."""


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
        try:
            number = float(value)
        except ValueError:
            return []
        if math.isnan(number):
            return []
        return [("zadd", keys.search_key(index, "n", name), number)]
    return [("sadd", keys.search_key(index, "w", name, w), None) for w in sorted(set(words(value)))]


def removal(change: tuple[str, str, Any]) -> tuple[str, str, Any]:
    """The change that undoes ``change``."""
    op, key, _ = change
    return ("srem" if op == "sadd" else "zrem", key, None)


class FallbackIndex:
    """Index definitions and queries of the fallback index of one app."""

    def __init__(self, client: aioredis.Redis, keys: Keys) -> None:
        self.client = client
        self.keys = keys

    async def definitions(self) -> list[SearchOptions]:
        """Every fallback index of the app."""
        from ..engine.codec import loads

        raw = await self.client.hgetall(self.keys.search_indexes)
        return [SearchOptions.from_dict(loads(v)) for _, v in sorted(raw.items())]

    async def create(self, options: SearchOptions) -> bool:
        """Define an index and index the records that already exist. False if it existed."""
        from ..engine.codec import dumps

        created = await self.client.hsetnx(
            self.keys.search_indexes, options.index, dumps(options.to_dict())
        )
        if not created:
            return False
        prefixes = options.prefix or ("",)
        for prefix in prefixes:
            pattern = self.keys.match_all().replace(":*", f":j:{_glob_escape(prefix)}*")
            async for key in self.client.scan_iter(match=pattern, count=1000):
                record = key.split(":j:", 1)[1]
                fields = [options.hash_field(n) for n in options.indexed()]
                values = await self.client.hmget(key, fields) if fields else []
                present = {f: v for f, v in zip(fields, values) if v is not None}
                if present:
                    await self.write(record, present, [], [options])
        return True

    async def write(
        self,
        record: str,
        updates: dict[str, str],
        deletes: list[str],
        indexes: list[SearchOptions],
        expected: dict[str, str | None] | None = None,
    ) -> bool:
        """Set ``updates`` and delete ``deletes`` on the record, keeping ``indexes`` in step.

        With ``expected`` (field → value it must still hold) the write happens only
        if the record still holds those values (compare-and-set); returns whether
        it wrote. Without it, a concurrent change is absorbed by recomputing.
        """
        while True:
            reply = await self._write(record, updates, deletes, indexes, expected, None)
            if reply == 1:
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
        reply = await self._write(record, updates, deletes, indexes, expected, ledger)
        if isinstance(reply, list):
            return str(reply[1])
        return ledger[2] if reply == 1 else None

    async def _write(
        self,
        record: str,
        updates: dict[str, str],
        deletes: list[str],
        indexes: list[SearchOptions],
        expected: dict[str, str | None] | None,
        ledger: tuple[str, str, str] | None,
    ) -> Any:
        job = self.keys.job(record)
        touched: dict[str, list[tuple[SearchOptions, str, FieldSpec]]] = {}
        for options in indexes:
            for name, spec in options.indexed().items():
                hash_field = options.hash_field(name)
                if hash_field in updates or hash_field in deletes:
                    touched.setdefault(hash_field, []).append((options, name, spec))
        for name in expected or {}:
            touched.setdefault(name, [])
        fields = sorted(touched)
        if expected is not None:
            old = {f: expected.get(f) for f in fields}
        else:
            old = dict(zip(fields, await self.client.hmget(job, fields))) if fields else {}
        changes: list[tuple[str, str, Any]] = []
        for hash_field, users in touched.items():
            new_value = None if hash_field in deletes else updates.get(hash_field)
            for options, name, spec in users:
                before = memberships(self.keys, options.index, name, spec, old.get(hash_field))
                after = memberships(self.keys, options.index, name, spec, new_value)
                keep = set(after)
                changes += [removal(c) for c in before if c not in keep]
                changes += after
        for options in indexes:
            changes.append(("sadd", self.keys.search_key(options.index, "all"), None))
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
        args.append(len(fields))
        for hash_field in fields:
            args += [hash_field, old.get(hash_field) or ""]
        args.append(len(updates))
        for name, value in updates.items():
            args += [name, value]
        args.append(len(deletes))
        args += deletes
        args.append(len(changes))
        for op, key, score in changes:
            args += [op, key_index(key)]
            if op == "zadd":
                args.append(repr(float(score)))
        args.append(record)
        reply = await WRITE.call(self.client, keys_list, args)
        return reply if isinstance(reply, list) else int(reply)

    async def query(self, options: SearchOptions, text: str) -> set[str]:
        """Record ids matching the query ``text`` in the index ``options``."""
        everything: set[str] | None = None
        result: set[str] | None = None
        for clause in parse_query(text):
            matched = await self._clause(options, clause)
            if clause.negate:
                if everything is None:
                    everything = set(
                        await self.client.smembers(self.keys.search_key(options.index, "all"))
                    )
                matched = everything - matched
            result = matched if result is None else result & matched
            if not result:
                return set()
        return result or set()

    async def _clause(self, options: SearchOptions, clause: Clause) -> set[str]:
        index = options.index
        if clause.kind == "all":
            return set(await self.client.smembers(self.keys.search_key(index, "all")))
        name = _schema_name(options, clause.field)
        if clause.kind == "tag":
            keys = [self.keys.search_key(index, "t", name, v) for v in clause.values]
            return set(await self.client.sunion(keys)) if keys else set()
        if clause.kind == "num":
            low = ("(" if clause.low_open else "") + _score(clause.low)
            high = ("(" if clause.high_open else "") + _score(clause.high)
            return set(
                await self.client.zrangebyscore(self.keys.search_key(index, "n", name), low, high)
            )
        # TEXT: every word must be present, in this field or (no field) in any TEXT field.
        fields = (
            [name]
            if clause.field
            else [n for n, s in options.indexed().items() if s.type == "TEXT"]
        )
        found: set[str] = set()
        for field_name in fields:
            keys = [self.keys.search_key(index, "w", field_name, w) for w in clause.values]
            if not keys:
                continue
            candidates = set(await self.client.sinter(keys))
            if clause.phrase and len(clause.values) > 1 and candidates:
                candidates = await self._phrase(options, field_name, clause.values, candidates)
            found |= candidates
        return found

    async def _phrase(
        self, options: SearchOptions, name: str, wanted: list[str], candidates: set[str]
    ) -> set[str]:
        # The word sets say every word occurs; a phrase also needs them adjacent, in order.
        ordered = sorted(candidates)
        pipe = self.client.pipeline(transaction=False)
        for record in ordered:
            pipe.hget(self.keys.job(record), options.hash_field(name))
        size = len(wanted)
        kept = set()
        for record, text in zip(ordered, await pipe.execute()):
            tokens = words(text or "")
            if any(tokens[i : i + size] == wanted for i in range(len(tokens) - size + 1)):
                kept.add(record)
        return kept


def _schema_name(options: SearchOptions, written: str | None) -> str:
    """The schema name of a field written in a query (``_status`` or ``status``)."""
    name = written or ""
    for schema_name in options.schema:
        if options.hash_field(schema_name) == name or schema_name == name:
            return schema_name
    return name.removeprefix("_")


def _score(value: float) -> str:
    if value == math.inf:
        return "+inf"
    if value == -math.inf:
        return "-inf"
    return repr(value)


def _glob_escape(text: str) -> str:
    return "".join(f"\\{c}" if c in "*?[]\\{}" else c for c in text)
