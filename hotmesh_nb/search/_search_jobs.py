"""Finding an app's job hashes (records) in every partition with as few ``SCAN`` passes as
possible.

A record lives in its job's partition (:meth:`hotmesh_nb.keys.Keys.part_of`). On one
server every partition shares one keyspace, so one ``SCAN`` with a pattern that covers
every partition's job prefix reads them all in a single pass (P passes with one exact
pattern each would read the keyspace P times). On a cluster, ``SCAN`` runs per node: a
pass over every primary (:func:`records`), or (:func:`scan_page`, whose cursor must
resume on the next call) partition after partition on the node that owns each one.

The covering pattern is ``\\{ns:app:*\\}:j:<glob>``, whose ``*`` might also span a
``}:j:`` inside an id: every key found is therefore read back exactly (which
partition, which id) and checked against ``glob`` before it counts.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

from ..connection import is_cluster, scan_slot
from ..keys import Keys, glob_escape


def jobs_pattern(keys: Keys, glob: str = "*") -> str:
    """A ``SCAN`` pattern covering the job keys of every partition whose id matches the
    Redis glob ``glob`` (and perhaps a few others: check with :func:`record_of`)."""
    parts = keys.parts
    if len(parts) == 1:
        return f"{glob_escape(parts[0].prefix)}:j:{glob}"
    # Partition tags are ``<ns>:<app>:<i>.<k>``: the app's tag with a suffix.
    return f"{glob_escape(keys.prefix[:-1])}:*{glob_escape('}')}:j:{glob}"


def record_of(keys: Keys, key: str) -> str | None:
    """The record id of a job key of this app, or None for any other key (a key of
    another app, another kind, or a job key outside its id's own partition)."""
    part = keys.partition_of_key(key)
    if part is None:
        return None
    head = f"{part.prefix}:j:"
    if not key.startswith(head):
        return None
    record = key[len(head) :]
    return record if keys.part_of(record) is part else None


def glob_regex(glob: str) -> re.Pattern[str]:
    """A regular expression matching what the Redis glob ``glob`` matches (``*``, ``?``,
    ``[...]`` with ``^`` and ranges, backslash escapes), as ``SCAN MATCH`` reads it."""
    out: list[str] = []
    position = 0
    while position < len(glob):
        char = glob[position]
        if char == "\\" and position + 1 < len(glob):
            out.append(re.escape(glob[position + 1]))
            position += 2
            continue
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "[":
            end = position + 1
            negate = glob[end : end + 1] == "^"
            end += negate
            items: list[str] = []
            while end < len(glob) and glob[end] != "]":
                if glob[end] == "\\" and end + 1 < len(glob):
                    items.append(re.escape(glob[end + 1]))
                    end += 2
                elif end + 2 < len(glob) and glob[end + 1] == "-":
                    low, high = sorted((glob[end], glob[end + 2]))
                    items.append(f"{re.escape(low)}-{re.escape(high)}")
                    end += 3
                else:
                    items.append(re.escape(glob[end]))
                    end += 1
            # An unclosed class runs to the end of the pattern, as Redis reads it; an
            # empty one matches no character (negated: any character).
            if items:
                out.append(f"[{'^' if negate else ''}{''.join(items)}]")
            else:
                out.append("." if negate else "(?!)")
            position = end + 1
            continue
        else:
            out.append(re.escape(char))
        position += 1
    return re.compile("".join(out), re.DOTALL)


def _matcher(glob: str) -> Any:
    """A check that a record found by the covering pattern really matches ``glob``: only
    ids holding ``}:j:`` can have matched through the pattern's first ``*``."""
    regex = glob_regex(glob)
    return lambda record: "}:j:" not in record or regex.fullmatch(record) is not None


async def records(
    client: Any, keys: Keys, glob: str = "*", count: int = 1000
) -> AsyncIterator[str]:
    """Every record id of the app (every partition) matching the Redis glob ``glob``, once
    each (a ``SCAN`` may repeat a key: repeats are dropped)."""
    matches = _matcher(glob)
    seen: set[str] = set()
    # A cluster client's scan_iter walks every primary in turn.
    async for key in client.scan_iter(match=jobs_pattern(keys, glob), count=count):
        record = record_of(keys, str(key))
        if record is not None and record not in seen and matches(record):
            seen.add(record)
            yield record


async def scan_page(
    client: Any, keys: Keys, glob: str, *, cursor: int, count: int
) -> tuple[int, list[str]]:
    """One ``SCAN`` step over the app's records matching ``glob``: ``(next cursor, ids)``;
    the cursor is 0 when the scan is complete.

    On one server it is the server's cursor over the covering pattern. On a cluster the
    partitions are read one after the other, each on the node owning it, and the cursor
    holds both: ``node cursor × P + partition`` (partition ``i`` starts at cursor ``i``).
    """
    matches = _matcher(glob)

    def kept(found: list[Any]) -> list[str]:
        ids = (record_of(keys, str(k)) for k in found)
        return [r for r in ids if r is not None and matches(r)]

    if not is_cluster(client):
        next_cursor, found = await client.scan(
            cursor=cursor, match=jobs_pattern(keys, glob), count=count
        )
        return int(next_cursor), kept(list(found))
    parts = keys.parts
    part = parts[cursor % len(parts)]
    node_cursor, found = await scan_slot(
        client,
        part.prefix,
        cursor=cursor // len(parts),
        match=f"{glob_escape(part.job(''))}{glob}",
        count=count,
    )
    if node_cursor:
        next_cursor = node_cursor * len(parts) + part.index
    else:
        next_cursor = part.index + 1 if part.index + 1 < len(parts) else 0
    return next_cursor, kept(found)
