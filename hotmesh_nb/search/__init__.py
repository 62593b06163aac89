"""Searchable fields of jobs: RediSearch where the server has it, our own index elsewhere.

Records (jobs) carry searchable fields as ``_name`` hash fields. An index
covers the job keys of some id prefixes and declares each field as ``TAG``,
``NUMERIC`` or ``TEXT``. Where the server answers ``FT.*`` (Redis Stack,
Redis 8, the embedded server with the ``[search]`` extra) the native index is
used; elsewhere (Valkey, Redis 7, the default embedded server) a secondary
index kept in ordinary Redis sets and sorted sets, updated atomically with the
fields, answers the same queries. See :mod:`hotmesh_nb.search._search_query` for the
query language and the documented limits of the fallback.

An app's jobs live in partitions (:class:`hotmesh_nb.keys.Partition`). The fallback
keeps one index per partition, beside the records it holds, and merges the
partitions' answers; the native index covers every partition's prefix. Either way the
rows are those of an app with one partition. On a Redis Cluster the fallback serves
(see :mod:`hotmesh_nb.search._native`).
"""

from ._search_engine import SearchEngine, SearchResult, shared_engine
from ._search_query import Clause, clauses_to_query, parse_query
from ._search_schema import FieldSpec, SearchOptions

__all__ = [
    "Clause",
    "FieldSpec",
    "SearchEngine",
    "SearchOptions",
    "SearchResult",
    "clauses_to_query",
    "parse_query",
    "shared_engine",
]
