"""Dead letters of every partition of an app: listed as one stream, replayed and purged.

Each partition has its own dead-letter stream (the consumer that gives up on a
message writes the letter in the message's partition, one slot). A reader sees
them merged, newest first. Stream entry ids are only unique within a stream, so
a letter's ``id`` names its partition too: ``<partition>:<entry id>``. Replay and
purge also take a bare entry id (as ``XRANGE`` shows it), looked for in every
partition.
"""

from __future__ import annotations

import heapq
from typing import Any

import redis.asyncio as aioredis

from .._codec import loads
from .._replies import Entries, entries
from ..keys import Keys, Partition

Letter = tuple[Partition, str, dict[str, str]]
"""One dead letter as stored: its partition, stream entry id and fields."""


def letter_id(part: Partition, entry_id: str) -> str:
    """The id a listing gives a letter: ``<partition>:<entry id>``."""
    return f"{part.index}:{entry_id}"


def _order(entry_id: str) -> tuple[int, int]:
    """A stream entry id (``<ms>-<seq>``) as numbers, for ordering letters by time."""
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def where(keys: Keys, ids: list[str]) -> list[tuple[Partition, str]]:
    """``(partition, entry id)`` of each letter id; a bare entry id is in every partition.

    Raises ``ValueError`` for an id that names no partition of the app.
    """
    parts = keys.parts
    out: list[tuple[Partition, str]] = []
    for given in ids:
        index, sep, entry_id = given.partition(":")
        if not sep:
            out.extend((part, given) for part in parts)
            continue
        if not index.isdigit() or int(index) >= len(parts):
            raise ValueError(
                f"dead letter id {given!r} names no partition of app '{keys.app}' (0 to "
                f"{len(parts) - 1}): use the id a listing gives (<partition>:<entry id>)"
            )
        out.append((parts[int(index)], entry_id))
    return out


async def read(client: aioredis.Redis, keys: Keys, count: int = 100) -> list[dict[str, Any]]:
    """The newest ``count`` letters of every partition, newest first.

    Each has its ``id`` (see :func:`letter_id`), its ``partition``, the ``stream``
    and ``message_id`` it came from, the ``error`` and the decoded ``message``.
    One pipelined round trip; ties in time go to the lower partition first.
    """
    parts = keys.parts
    pipe = client.pipeline(transaction=False)
    for part in parts:
        pipe.xrevrange(part.dead_letters, count=count)
    replies: list[Entries] = [entries(r) for r in await pipe.execute()]
    streams = (
        [((_order(entry_id), -part.index), part, entry_id, fields) for entry_id, fields in found]
        for part, found in zip(parts, replies)
    )
    merged = heapq.merge(*streams, key=lambda item: item[0], reverse=True)
    out: list[dict[str, Any]] = []
    for _, part, entry_id, fields in merged:
        if len(out) >= count:
            break
        item: dict[str, Any] = {k: v for k, v in fields.items() if k not in ("m", "id")}
        item["id"] = letter_id(part, entry_id)
        item["partition"] = part.index
        item["message_id"] = fields.get("id")
        if "m" in fields:
            item["message"] = loads(fields["m"])
        out.append(item)
    return out


async def _letters(client: aioredis.Redis, keys: Keys, ids: list[str] | None) -> list[Letter]:
    """The stored letters ``ids`` names (all when None) that can be replayed."""
    pipe = client.pipeline(transaction=False)
    wanted: list[tuple[Partition, str | None]] = (
        [(part, None) for part in keys.parts]
        if ids is None
        else list(dict.fromkeys(where(keys, ids)))
    )
    for part, entry_id in wanted:
        if entry_id is None:
            pipe.xrange(part.dead_letters)
        else:
            pipe.xrange(part.dead_letters, entry_id, entry_id)
    found: list[Letter] = []
    for (part, _), reply in zip(wanted, await pipe.execute()):
        found.extend((part, entry_id, fields) for entry_id, fields in entries(reply))
    return [(p, i, f) for p, i, f in found if "m" in f and "stream" in f]


async def replay(client: aioredis.Redis, keys: Keys, ids: list[str] | None = None) -> int:
    """Send letters (all, or ``ids``) back to the streams they came from; returns how many.

    Each partition's letters go back in one transaction (the stream a letter came
    from is in its partition, so each transaction touches one slot): a message is
    never both re-sent and still a letter.
    """
    letters = await _letters(client, keys, ids)
    by_part: dict[Partition, list[Letter]] = {}
    for letter in letters:
        by_part.setdefault(letter[0], []).append(letter)
    for part, found in by_part.items():
        pipe = client.pipeline(transaction=True)
        for _, entry_id, fields in found:
            pipe.xadd(fields["stream"], {"m": fields["m"]})
            pipe.xdel(part.dead_letters, entry_id)
        await pipe.execute()
    return len(letters)


async def purge(client: aioredis.Redis, keys: Keys, ids: list[str] | None = None) -> int:
    """Delete letters (all, or ``ids``) of every partition; returns how many were deleted."""
    if ids is not None and not ids:
        return 0
    pipe = client.pipeline(transaction=False)
    if ids is None:
        for part in keys.parts:
            pipe.xlen(part.dead_letters)
            pipe.delete(part.dead_letters)
        replies = await pipe.execute()
        return sum(int(n) for n in replies[::2])
    for part, entry_id in dict.fromkeys(where(keys, ids)):
        pipe.xdel(part.dead_letters, entry_id)
    return sum(int(n) for n in await pipe.execute())
