"""RediSearch (``FT.*``) where the server has it: Redis Stack, Redis 8, ``[search]`` extra.

Used on one server only. An app's jobs live in P partitions, each with its own key
prefix (:class:`hotmesh_nb.keys.Partition`): an index covers them all, its ``PREFIX``
list naming each partition's job prefix for each of the index's id prefixes, so one
``FT.SEARCH`` answers for every partition. On a Redis Cluster this module is not used
(:meth:`hotmesh_nb.search.SearchEngine.native` says so): open-source ``FT.*`` indexes
only the keys of the shard it runs on, with no coordinator to merge the shards'
answers, so the fallback index (one per partition, merged by the client) serves there.
"""

from __future__ import annotations

import logging
from typing import Any

import redis.asyncio as aioredis
from redis import exceptions as redis_errors

from ..acl import is_refusal
from ..errors import PermissionDeniedError
from ..keys import Keys
from ._search_schema import SearchOptions

log = logging.getLogger(__name__)


async def available(client: aioredis.Redis) -> bool:
    """True when the server answers ``FT.*`` commands."""
    # ``COMMAND INFO FT.SEARCH`` answers [nil] without the module, which redis-py's
    # COMMAND reply parser cannot read; an unknown-command error is unambiguous.
    try:
        await client.execute_command("FT._LIST")
    except redis_errors.ResponseError:
        return False
    return True


DIALECT = 1
"""The query dialect every search runs in, whatever the server's default: the escaping of
:func:`hotmesh_nb.search._search_query.clauses_to_query` and the fallback's parser follow it."""


def index_name(keys: Keys, index: str) -> str:
    """The server-wide name of an app's index (namespaces never share one)."""
    return keys.search_native(index)


def job_prefixes(keys: Keys, options: SearchOptions) -> list[str]:
    """The key prefixes an index covers: each of its id prefixes in every partition."""
    return [part.job(p) for part in keys.parts for p in (options.prefix or ("",))]


async def create(client: aioredis.Redis, keys: Keys, options: SearchOptions) -> bool:
    """``FT.CREATE`` over the app's job keys with the index's prefixes, in every partition.
    False if it existed.

    An index of the same name whose prefixes are not those (created for the app's jobs
    under another number of partitions, before a redeploy) would silently find nothing
    of the jobs now: it is dropped (its hashes stay) and created anew, with a warning.
    """
    prefixes = job_prefixes(keys, options)
    args: list[Any] = ["FT.CREATE", index_name(keys, options.index), "ON", "HASH"]
    args += ["PREFIX", len(prefixes), *prefixes]
    fields = [options.hash_field(name) for name in options.indexed()]
    if fields:
        # Only records holding a searchable field, as the fallback index: other jobs
        # under the prefix (MeshFlow's ``<id>-batch-<n>`` helpers) are not records.
        args += ["FILTER", " || ".join(f"exists(@{f})" for f in fields)]
    args.append("SCHEMA")
    for name, spec in options.indexed().items():
        args += [options.hash_field(name), spec.type]
        if spec.nostem and spec.type == "TEXT":
            args.append("NOSTEM")
        if spec.sortable:
            args.append("SORTABLE")
        if spec.noindex:
            args.append("NOINDEX")
    try:
        await client.execute_command(*args)
    except redis_errors.ResponseError as exc:
        if is_refusal(exc):
            return await _created_by_operator(client, keys, options, exc)
        if "already exists" not in str(exc).lower():
            raise
        found = await covered_prefixes(client, index_name(keys, options.index))
        if found is None or sorted(found) == sorted(prefixes):
            return False
        log.warning(
            "search index '%s' of app '%s' covered the job keys %s, not those of the app's "
            "%d partition(s): re-creating it over %s (the records stay; the module indexes "
            "them again)",
            options.index,
            keys.app,
            found,
            keys.count,
            prefixes,
        )
        await client.execute_command("FT.DROPINDEX", index_name(keys, options.index))
        await client.execute_command(*args)
    return True


async def covered_prefixes(client: aioredis.Redis, name: str) -> list[str] | None:
    """The key prefixes of the native index ``name`` (``FT.INFO``, RESP2 or RESP3), or
    None when the reply does not say."""
    info = await client.execute_command("FT.INFO", name)
    definition = _pairs(info).get("index_definition")
    prefixes = _pairs(definition).get("prefixes") if definition is not None else None
    if not isinstance(prefixes, (list, tuple)):
        return None
    return [str(p) for p in prefixes]


def _pairs(reply: Any) -> dict[str, Any]:
    """A map reply as a dict: RESP3 gives one, RESP2 a flat list of names and values."""
    if isinstance(reply, dict):
        return {str(k): v for k, v in reply.items()}
    if isinstance(reply, (list, tuple)):
        return {str(reply[i]): reply[i + 1] for i in range(0, len(reply) - 1, 2)}
    return {}


async def _created_by_operator(
    client: aioredis.Redis, keys: Keys, options: SearchOptions, refused: Exception
) -> bool:
    # ACL users never get FT.CREATE (its PREFIX escapes their key patterns, see
    # hotmesh_nb.acl): the operator creates the index once; finding it is enough.
    try:
        await client.execute_command("FT.INFO", index_name(keys, options.index))
    except redis_errors.ResponseError:
        raise PermissionDeniedError(
            f"the search index '{options.index}' of app '{keys.app}' does not exist and "
            f"this user may not create it ({refused}); ACL users never get FT.CREATE, whose "
            "PREFIX escapes their key patterns. Create the index once as the server's "
            "operator (run this MeshData's connect() with an unrestricted user), or give "
            "the user rules without --search to use the fallback index",
            namespace=keys.namespace,
            user=client.connection_pool.connection_kwargs.get("username") or "default",
            command="FT.CREATE",
        ) from None
    return False


async def list_indexes(client: aioredis.Redis, keys: Keys) -> list[str]:
    """The app's native index names (without the namespace part)."""
    names = await client.execute_command("FT._LIST")
    prefix = index_name(keys, "")
    return sorted(n[len(prefix) :] for n in (names or []) if str(n).startswith(prefix))


async def search(
    client: aioredis.Redis,
    keys: Keys,
    options: SearchOptions,
    query: str,
    *,
    return_fields: list[str] | None,
    offset: int,
    limit: int,
    sort_by: str | None,
    ascending: bool,
) -> tuple[int, list[tuple[str, dict[str, str]]]]:
    """Run ``FT.SEARCH``; ``(total, [(record id, fields)])`` in RESP2 or RESP3."""
    args: list[Any] = ["FT.SEARCH", index_name(keys, options.index), query]
    if return_fields is not None:
        hash_fields = [options.hash_field(f) for f in return_fields]
        args += ["RETURN", len(hash_fields), *hash_fields]
    if sort_by:
        args += ["SORTBY", options.hash_field(sort_by), "ASC" if ascending else "DESC"]
    args += ["LIMIT", offset, limit, "DIALECT", DIALECT]
    reply = await client.execute_command(*args)
    rows: list[tuple[str, dict[str, str]]] = []
    if isinstance(reply, dict):  # RESP3
        total = int(reply.get("total_results", 0))
        for item in reply.get("results", []):
            fields = item.get("extra_attributes") or {}
            rows.append(
                (record_id(keys, str(item["id"])), {str(k): str(v) for k, v in fields.items()})
            )
        return total, rows
    total = int(reply[0])
    items = reply[1:]
    step = 2 if return_fields != [] else 1
    for position in range(0, len(items), step):
        key = str(items[position])
        flat = items[position + 1] if step == 2 else []
        fields = {str(flat[i]): str(flat[i + 1]) for i in range(0, len(flat), 2)}
        rows.append((record_id(keys, key), fields))
    return total, rows


def record_id(keys: Keys, key: str) -> str:
    """The record id of a job key found by ``FT.SEARCH`` (in any partition of the app)."""
    part = keys.partition_of_key(key)
    head = f"{part.prefix}:j:" if part is not None else None
    if head is None or not key.startswith(head):
        raise ValueError(f"FT.SEARCH found {key!r}, which is not a job key of app '{keys.app}'")
    return key[len(head) :]
