"""Finding an app's job hashes (records) in every partition in one ``SCAN`` pass.

A record lives in its job's partition (:meth:`hotmesh_nb.keys.Keys.part_of`). On one
server every partition shares one keyspace, so one ``SCAN`` with the pattern that covers
every partition's job prefix (:meth:`hotmesh_nb.keys.Keys.jobs_pattern`) reads them all
in one pass (a pattern per partition would read the keyspace P times); on a cluster
the pass goes over every primary.

That pattern is ``\\{ns:app:*\\}:j:<glob>``, whose ``*`` may also span a ``}:j:`` inside
an id: every key found is read back exactly (:meth:`hotmesh_nb.keys.Keys.job_id_of`) and
its id checked against ``glob`` (:func:`id_matcher`) before it counts.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from typing import Any

from ..keys import Keys


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


def id_matcher(glob: str) -> Callable[[str], bool]:
    """A check that an id found through :meth:`~hotmesh_nb.keys.Keys.jobs_pattern` really
    matches ``glob``: only ids holding ``}:j:`` can have matched through its first ``*``."""
    regex = glob_regex(glob)
    return lambda record: "}:j:" not in record or regex.fullmatch(record) is not None


async def records(
    client: Any, keys: Keys, glob: str = "*", count: int = 1000
) -> AsyncIterator[str]:
    """Every record id of the app (every partition) matching the Redis glob ``glob``, once
    each (a ``SCAN`` may repeat a key: repeats are dropped), in its own partition."""
    matches = id_matcher(glob)
    seen: set[str] = set()
    # A cluster client's scan_iter walks every primary in turn.
    async for key in client.scan_iter(match=keys.jobs_pattern(glob), count=count):
        record = keys.job_id_of(str(key))
        if record is None or record in seen or not matches(record):
            continue
        if keys.part_of(record).job(record) == key:  # not a stray key in another partition
            seen.add(record)
            yield record
