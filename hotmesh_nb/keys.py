"""Every Redis key, stream, consumer group and channel name used by hotmesh_nb.

Names are minted here and nowhere else. Layout::

    {<ns>:<app>}:<kind>[:<part>...]

The braces are a Redis Cluster hash tag: every key of one app lands in one
slot, so each atomic script may touch several of them (all passed in
``KEYS``). The namespace is the literal start of every name, which the ACL
rules of :mod:`hotmesh_nb.acl` rely on (``~{ns:*``).

Parts (topics, index names, match values...) come from users, so two
different part lists must never give one name: ``('a:b', 'c')`` and
``('a', 'b:c')`` would otherwise share a hook waiter, and one tenant's signal
would wake another topic's job. Every part that another part follows is
escaped (``%`` → ``%25``, ``:`` → ``%3A``, see :func:`escape_part`), so the
separators of a name are exactly its unescaped ``:``; the last part runs to the
end of the name verbatim (``hook_all`` reads a waiter's match value back from
its key), and each kind of name has a fixed number of parts. Names without
``:`` or ``%`` in their parts read as before. Patterns for ``SCAN`` escape the
glob characters of their parts (:func:`glob_escape`), and topics are never
empty: an empty worker topic would name the engine's own stream.
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


def check_topic(topic: str, what: str = "topic") -> str:
    """Return ``topic`` or raise ``ValueError``: a topic is a non-empty string.

    An empty worker topic would name the engine's own stream (workers would read
    the engine's messages), and an empty hook topic would be one every caller
    could reach by mistake. ``what`` names the topic in the message.
    """
    if not isinstance(topic, str) or not topic:
        raise ValueError(
            f"invalid {what} {topic!r}: a topic must be a non-empty string, "
            "such as 'work.do' or 'order.paid'"
        )
    return topic


def escape_part(part: str) -> str:
    """``part`` with ``%`` and ``:`` escaped, so that ``:`` only ever separates parts.

    Percent escapes (not backslashes) keep names free of the glob escape
    character, and names of ordinary parts unchanged. Escaping is injective:
    ``%`` itself is escaped first.
    """
    return part.replace("%", "%25").replace(":", "%3A")


def glob_escape(text: str) -> str:
    """``text`` with every glob character of ``SCAN``/``KEYS``/``PSUBSCRIBE`` escaped.

    A user's topic ``*`` must match the topic ``*``, not every topic.
    """
    return "".join(f"\\{c}" if c in "*?[]\\{}" else c for c in text)


def _join(*parts: str) -> str:
    """Parts joined by ``:``: each escaped but the last (see the module's docstring)."""
    return ":".join([*(escape_part(p) for p in parts[:-1]), parts[-1]])


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
        """Stream read by the workers of ``topic`` (never empty: that is the engine stream)."""
        return f"{self.prefix}:x:{check_topic(topic, 'worker topic')}"

    @property
    def dead_letters(self) -> str:
        """Stream: messages that exceeded their delivery cap, with their error."""
        return f"{self.prefix}:dlq"

    # -- time and signals --------------------------------------------------------
    @property
    def timers(self) -> str:
        """Sorted set: due time → timer entry (sleeps, retries, expiries)."""
        return f"{self.prefix}:t"

    @property
    def timer_wake(self) -> str:
        """Stream (capped): an entry each time a timer becomes the app's earliest.

        Every engine's scout blocks on it, so a sooner timer set by any process wakes
        them (``engine/scout.py``); the step script writes it with the timer.
        """
        return f"{self.prefix}:tw"

    def hook_waiter(self, topic: str, value: str) -> str:
        """String: the hook activity waiting for signals on ``topic`` that resolve to ``value``.

        ``value`` is the last part, verbatim: every waiter key of ``topic`` starts with
        ``hook_waiter(topic, '')``, and the rest of the key is its match value.
        """
        return f"{self.prefix}:h:{_join(check_topic(topic, 'hook topic'), value)}"

    def hook_waiters(self, topic: str) -> str:
        """A ``SCAN`` pattern matching every waiter of ``topic``, and of no other topic."""
        waiters = glob_escape(self.hook_waiter(topic, ""))
        return f"{waiters}*"

    def early_signals(self, topic: str, value: str) -> str:
        """List: signals that arrived before their hook registered (kept, not dropped)."""
        return f"{self.prefix}:e:{_join(check_topic(topic, 'hook topic'), value)}"

    def facet(self, facet: str) -> str:
        """Set: ids of jobs indexed under ``facet`` (``name:value``)."""
        return f"{self.prefix}:f:{facet}"

    def stats_bucket(self, key: str, bucket: str) -> str:
        """Hash: a trigger's ``stats`` counters of jobs with ``key`` in one time bucket."""
        return f"{self.prefix}:s:{_join(key, bucket)}"

    def stats_ids(self, key: str, bucket: str, facet: str) -> str:
        """List: ids of jobs with ``key`` indexed under ``facet`` in one time bucket."""
        return f"{self.prefix}:si:{_join(key, bucket, facet)}"

    def stats_median(self, key: str, bucket: str, target: str) -> str:
        """Sorted set: values of ``target`` (job id → value) for an ``mdn`` measure."""
        return f"{self.prefix}:sm:{_join(key, bucket, target)}"

    @property
    def search_indexes(self) -> str:
        """Hash: fallback search index name → its definition (JSON)."""
        return f"{self.prefix}:ix"

    def search_key(self, index: str, *parts: str) -> str:
        """A structure of a fallback search index (tag sets, numeric sorted sets, words).

        ``parts`` start with the structure's kind (``t``, ``n``, ``w``, ...), which fixes
        how many follow; the index name and field names are escaped, so index ``p`` and
        index ``p:t:status`` never share a structure.
        """
        return f"{self.prefix}:ix:{_join(index, *parts)}"

    def search_native(self, index: str) -> str:
        """The name of the app's native (``FT.*``) index ``index``: under the app's prefix,
        so that the key patterns of a namespace cover its indexes too."""
        return f"{self.prefix}:ft:{index}"

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
        """Channel: a graph's ``publishes`` topic, per job (``sub``/``psub``).

        As in the original, a job's channel is ``<topic>.<job id>``, so that ``psub``
        of ``'<topic>.*'`` hears every job of the topic.
        """
        check_topic(topic)
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
        return f"{glob_escape(self.prefix)}:*"
