"""Every Redis key, stream, consumer group and channel name used by hotmesh_nb.

Names are minted here and nowhere else. Layout::

    {<ns>:<app>}:<kind>[:<id>]

The braces are a Redis Cluster hash tag: every key of one app lands in one
slot, so each atomic script may touch several of them (all passed in
``KEYS``). Different namespaces, or apps, never share a key, stream or
channel.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

DEFAULT_NAMESPACE = "hmsh"
"""Namespace used when none is given (the original's default)."""

ENGINE_GROUP = "ENGINE"
"""Consumer group of engines on the engine stream."""

WORKER_GROUP = "WORKER"
"""Consumer group of workers on a worker topic stream."""

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_APP = re.compile(r"^[A-Za-z0-9-]+$")


def check_namespace(namespace: str) -> str:
    """Return ``namespace`` or raise ``ValueError`` saying which characters are allowed."""
    if not isinstance(namespace, str) or not _NAME.match(namespace):
        raise ValueError(
            f"invalid namespace {namespace!r}: use letters, digits, '-', '_' and '.', "
            "starting with a letter or digit"
        )
    return namespace


def namespace_pattern(namespace: str) -> str:
    """A glob (Redis ``KEYS``/ACL syntax) matching every key and channel of ``namespace``.

    Every name minted by :class:`Keys` starts with this literal prefix, so an ACL
    user restricted to it (``~`` keys, ``&`` channels) reaches its namespace and no
    other: namespace names hold no glob characters and no ``:``.
    """
    return f"{{{check_namespace(namespace)}:*"


def check_app_id(app_id: str) -> str:
    """Return ``app_id`` or raise ``ValueError`` (letters, digits and '-'; 'a' is reserved)."""
    if not isinstance(app_id, str) or not _APP.match(app_id) or app_id == "a":
        raise ValueError(
            f"invalid app id {app_id!r}: use letters, digits and '-' ('a' is reserved)"
        )
    return app_id


@dataclass(frozen=True)
class Keys:
    """Names for one app in one namespace."""

    namespace: str
    """The namespace (isolates apps of different tenants or tests)."""
    app: str
    """The app id."""
    prefix: str = field(init=False, repr=False)
    """``{ns:app}``: the hash-tagged prefix of every key."""

    def __post_init__(self) -> None:
        check_namespace(self.namespace)
        check_app_id(self.app)
        object.__setattr__(self, "prefix", f"{{{self.namespace}:{self.app}}}")

    # -- deployment --------------------------------------------------------------
    @property
    def app_record(self) -> str:
        """Hash: the app's versions, active version and settings."""
        return f"{self.prefix}:app"

    def version(self, version: str) -> str:
        """String: the compiled app of one version (JSON)."""
        return f"{self.prefix}:v:{version}"

    # -- jobs --------------------------------------------------------------------
    def job(self, job_id: str) -> str:
        """Hash: one job's status, data, metadata and activity states."""
        return f"{self.prefix}:j:{job_id}"

    # -- streams -----------------------------------------------------------------
    @property
    def engine_stream(self) -> str:
        """Stream read by engines (worker responses, transitions, child results)."""
        return f"{self.prefix}:x:"

    def worker_stream(self, topic: str) -> str:
        """Stream read by the workers of ``topic``."""
        return f"{self.prefix}:x:{topic}"

    @property
    def dead_letters(self) -> str:
        """Stream: messages that exceeded their delivery cap, with their error."""
        return f"{self.prefix}:dlq"

    # -- time and signals --------------------------------------------------------
    @property
    def timers(self) -> str:
        """Sorted set: due time → timer entry (sleeps, retries, expiries)."""
        return f"{self.prefix}:t"

    def hook_waiter(self, topic: str, value: str) -> str:
        """String: the hook activity waiting for signals on ``topic`` that resolve to ``value``."""
        return f"{self.prefix}:h:{topic}:{value}"

    def hook_waiters(self, topic: str) -> str:
        """A ``SCAN`` pattern matching every waiter of ``topic``."""
        escaped = self.prefix.replace("{", "\\{").replace("}", "\\}")
        return f"{escaped}:h:{topic}:*"

    def early_signals(self, topic: str, value: str) -> str:
        """List: signals that arrived before their hook registered (kept, not dropped)."""
        return f"{self.prefix}:e:{topic}:{value}"

    def facet(self, facet: str) -> str:
        """Set: ids of jobs indexed under ``facet`` (``name:value``)."""
        return f"{self.prefix}:f:{facet}"

    def stats_bucket(self, key: str, bucket: str) -> str:
        """Hash: a trigger's ``stats`` counters of jobs with ``key`` in one time bucket."""
        return f"{self.prefix}:s:{key}:{bucket}"

    def stats_ids(self, key: str, bucket: str, facet: str) -> str:
        """List: ids of jobs with ``key`` indexed under ``facet`` in one time bucket."""
        return f"{self.prefix}:s:{key}:{bucket}:index:{facet}"

    def stats_median(self, key: str, bucket: str, target: str) -> str:
        """Sorted set: values of ``target`` (job id → value) for an ``mdn`` measure."""
        return f"{self.prefix}:s:{key}:{bucket}:mdn:{target}"

    @property
    def search_indexes(self) -> str:
        """Hash: fallback search index name → its definition (JSON)."""
        return f"{self.prefix}:ix"

    def search_key(self, index: str, *parts: str) -> str:
        """A structure of a fallback search index (tag sets, numeric sorted sets, words)."""
        return ":".join((f"{self.prefix}:ix:{index}", *parts))

    def search_native(self, index: str) -> str:
        """The name of the app's native (``FT.*``) index ``index``: under the app's prefix,
        so that the key patterns of a namespace cover its indexes too."""
        return f"{self.prefix}:ft:{index}"

    @property
    def scout(self) -> str:
        """String: the lock held by the one engine that fires timers."""
        return f"{self.prefix}:scout"

    @property
    def throttles(self) -> str:
        """Hash: topic (or ``*``) → throttle in milliseconds; persists across restarts."""
        return f"{self.prefix}:throttle"

    @property
    def stats(self) -> str:
        """Hash: counters of jobs by status (for dashboards)."""
        return f"{self.prefix}:stats"

    # -- pub/sub -----------------------------------------------------------------
    @property
    def done_channel(self) -> str:
        """Channel: every job completion of the app (one subscription per process)."""
        return f"{self.prefix}:done"

    def topic_channel(self, topic: str, job_id: str = "") -> str:
        """Channel: a graph's ``publishes`` topic, per job (``sub``/``psub``)."""
        return f"{self.prefix}:q:{topic}.{job_id}" if job_id else f"{self.prefix}:q:{topic}"

    @property
    def quorum_channel(self) -> str:
        """Channel: activation, roll call, throttle and ping messages of the app."""
        return f"{self.prefix}:quorum"

    @property
    def roll_call(self) -> str:
        """Hash: member id → the latest roll-call reply (engines and workers)."""
        return f"{self.prefix}:members"

    def match_all(self) -> str:
        """A ``SCAN`` pattern matching every key of the app."""
        escaped = self.prefix.replace("{", "\\{").replace("}", "\\}")
        return f"{escaped}:*"
