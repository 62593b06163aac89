"""Every Redis key, stream, consumer group and channel name used by hotmesh_nb.

Names are minted here and nowhere else. Layout::

    {<ns>:<app>}:<kind>[:<part>...]            the app's own keys (record, versions, quorum)
    {<ns>:<app>:<i>.<k>}:<kind>[:<part>...]    the keys of partition i (jobs, streams, timers)

The braces are a Redis Cluster hash tag. An app has P partitions (fixed at its
first deploy, see :class:`Keys`); a job belongs to the partition its id hashes
to, and every key a step of the job touches (its hash, the engine and worker
streams, timers, dead letters, facets, stats) carries that partition's tag, so
each atomic script still touches one slot while the app's jobs spread over
every shard. ``<k>`` is the smallest counter that puts partition ``i`` into the
``i``-th of P equal ranges of the slot space (:func:`partition_tag`): the
spread does not depend on how CRC16 happens to hash a name. With P = 1 the one
partition's tag is the app's own, ``{<ns>:<app>}`` — the layout of apps
deployed before partitions existed, which therefore keep working unchanged.

The namespace is the literal start of every name, which the ACL rules of
:mod:`hotmesh_nb.acl` rely on (``~{ns:*``).

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

import binascii
import re
import zlib
from collections.abc import Callable
from dataclasses import InitVar, dataclass, field

from .errors import DeployError, LayoutUnknownError

DEFAULT_NAMESPACE = "hmsh"
"""Namespace used when none is given (the original's default)."""

ENGINE_GROUP = "ENGINE"
"""Consumer group of engines on the engine stream."""

WORKER_GROUP = "WORKER"
"""Consumer group of workers on a worker topic stream."""

DEFAULT_PARTITIONS = 16
"""Partitions of an app whose first deploy names none (see :class:`Keys`)."""

MAX_PARTITIONS = 1024
"""Most partitions an app may have (each is a stream per topic a worker reads)."""

SLOTS = 16384
"""Hash slots of a Redis Cluster."""

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


def slot_of(tag: str) -> int:
    """The cluster hash slot of a hash tag's content (CRC16/XMODEM, as Redis computes it)."""
    return binascii.crc_hqx(tag.encode(), 0) % SLOTS


def check_partitions(partitions: object) -> int:
    """Return ``partitions`` or raise ``ValueError`` naming the allowed range."""
    if (
        isinstance(partitions, bool)
        or not isinstance(partitions, int)
        or not 1 <= partitions <= MAX_PARTITIONS
    ):
        raise ValueError(
            f"invalid partitions {partitions!r}: use a whole number from 1 to {MAX_PARTITIONS} "
            f"(default {DEFAULT_PARTITIONS}; about 4 per cluster primary you expect to have)"
        )
    return partitions


def partition_tag(namespace: str, app: str, index: int, partitions: int) -> str:
    """The hash tag (without braces) of partition ``index`` of ``partitions``.

    Partition ``i`` lands in the ``i``-th of ``partitions`` equal ranges of the slot
    space: a cluster whose slots are split evenly between its primaries (what
    ``redis-cli --cluster create`` does) then holds as many partitions on each, for any
    app and namespace name. One partition is the app's own tag (the layout before
    partitions).
    """
    if partitions == 1:
        return f"{namespace}:{app}"
    low, high = index * SLOTS // partitions, (index + 1) * SLOTS // partitions
    counter = 0
    while True:
        tag = f"{namespace}:{app}:{index}.{counter}"
        if low <= slot_of(tag) < high:
            return tag
        counter += 1


def partition_of(text: str, partitions: int) -> int:
    """The partition of a job id (or a hook's topic and value): a stable hash of it."""
    if partitions == 1:
        return 0
    return zlib.crc32(text.encode()) % partitions


@dataclass(frozen=True)
class Partition:
    """The names of one partition of an app: every key one job's steps touch."""

    index: int
    """Which partition (0 ≤ index < P)."""
    prefix: str
    """``{tag}``: the hash-tagged prefix of the partition's keys."""

    def job(self, job_id: str) -> str:
        """Hash: one job's status, data, metadata and activity states."""
        return f"{self.prefix}:j:{job_id}"

    @property
    def engine_stream(self) -> str:
        """Stream read by engines (transitions, child results, timers, signals)."""
        return f"{self.prefix}:x:"

    def worker_stream(self, topic: str) -> str:
        """Stream read by the workers of ``topic`` (never empty: that is the engine stream)."""
        return f"{self.prefix}:x:{check_topic(topic, 'worker topic')}"

    def work_leases(self, topic: str) -> str:
        """Sorted set: work for ``topic`` handed to a worker in the process that wrote it
        (member: the message; score: when it falls due unless renewed, ms), see
        ``engine/_local.py``."""
        return f"{self.prefix}:wl:{check_topic(topic, 'worker topic')}"

    @property
    def dead_letters(self) -> str:
        """Stream: messages that exceeded their delivery cap, with their error."""
        return f"{self.prefix}:dlq"

    @property
    def timers(self) -> str:
        """Sorted set: due time → timer entry (sleeps, retries, expiries)."""
        return f"{self.prefix}:t"

    @property
    def timer_wake(self) -> str:
        """Stream (capped): an entry each time a timer becomes the partition's earliest.

        Every engine's scout blocks on it, so a sooner timer set by any process wakes
        them (``engine/_scout.py``); the step script writes it with the timer.
        """
        return f"{self.prefix}:tw"

    def applied(self, relay_id: str) -> str:
        """String: marks a relayed operation batch as applied here (exactly once)."""
        return f"{self.prefix}:r:{relay_id}"

    def ledger(self, job_id: str) -> str:
        """Hash: results of the once-only writes job ``job_id`` made to records of this
        partition when its own hash is in another slot (MeshFlow's search writes from a
        hook thread onto its record), kept for its replays."""
        return f"{self.prefix}:l:{job_id}"

    def hook_waiter(self, topic: str, value: str) -> str:
        """String: the hook activity waiting for signals on ``topic`` that resolve to ``value``.

        ``value`` is the last part, verbatim: every waiter key of ``topic`` in this
        partition starts with ``hook_waiter(topic, '')``, and the rest of the key is
        its match value.
        """
        return f"{self.prefix}:h:{_join(check_topic(topic, 'hook topic'), value)}"

    def hook_waiters(self, topic: str) -> str:
        """A ``SCAN`` pattern matching every waiter of ``topic`` here, and of no other topic."""
        waiters = glob_escape(self.hook_waiter(topic, ""))
        return f"{waiters}*"

    def early_signals(self, topic: str, value: str) -> str:
        """List: signals that arrived before their hook registered (kept, not dropped)."""
        return f"{self.prefix}:e:{_join(check_topic(topic, 'hook topic'), value)}"

    def facet(self, facet: str) -> str:
        """Set: ids of this partition's jobs indexed under ``facet`` (``name:value``)."""
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
    def done_channel(self) -> str:
        """Shard channel: the completions of this partition's jobs (``SPUBLISH``).

        It carries the partition's tag, so a step script publishes it from the slot it
        runs in, and on a cluster only the shard owning that slot relays it; a process
        listens (``SSUBSCRIBE``) only to the partitions of jobs it waits for.
        """
        return f"{self.prefix}:done"

    def search_key(self, index: str, *parts: str) -> str:
        """A structure of a fallback search index (tag sets, numeric sorted sets, words).

        ``parts`` start with the structure's kind (``t``, ``n``, ``w``, ...), which fixes
        how many follow; the index name and field names are escaped, so index ``p`` and
        index ``p:t:status`` never share a structure. Each partition indexes its own jobs.
        """
        return f"{self.prefix}:ix:{_join(index, *parts)}"


@dataclass(frozen=True)
class Keys:
    """Names for one app in one namespace.

    The app's own keys (its record, versions, quorum, throttles) carry the app's tag;
    everything about jobs lives in :class:`Partition` s. The number of partitions is
    the app's (stored with it at its first deploy): a process learns it from the app
    record and :meth:`adopt` s it, and until then has no partition names at all.
    """

    namespace: str
    """The namespace (isolates apps of different tenants or tests)."""
    app: str
    """The app id."""
    partitions: InitVar[int | None] = None
    """The app's number of partitions when the caller knows it (else :meth:`adopt` it)."""
    prefix: str = field(init=False, repr=False)
    """``{ns:app}``: the hash-tagged prefix of the app's own keys."""
    _parts: list[Partition] = field(init=False, repr=False, compare=False)
    _listeners: list[Callable[[], None]] = field(init=False, repr=False, compare=False)
    _by_prefix: dict[str, Partition] = field(init=False, repr=False, compare=False)

    def __post_init__(self, partitions: int | None) -> None:
        check_namespace(self.namespace)
        check_app_id(self.app)
        object.__setattr__(self, "prefix", f"{{{self.namespace}:{self.app}}}")
        object.__setattr__(self, "_parts", [])
        object.__setattr__(self, "_listeners", [])
        object.__setattr__(self, "_by_prefix", {})
        if partitions is not None:
            self.adopt(partitions)

    # -- partitions --------------------------------------------------------------
    @property
    def known(self) -> bool:
        """True once the app's number of partitions is known here (see :meth:`adopt`)."""
        return bool(self._parts)

    @property
    def count(self) -> int:
        """The app's number of partitions (P)."""
        return len(self.parts)

    @property
    def parts(self) -> list[Partition]:
        """Every partition of the app, in order."""
        if not self._parts:
            raise LayoutUnknownError(
                f"app '{self.app}' in namespace '{self.namespace}' is not deployed yet, so "
                "its partitions are unknown: deploy it first (HotMesh.deploy)"
            )
        return self._parts

    def adopt(self, partitions: int) -> bool:
        """Learn the app's number of partitions; True when it changed.

        Listeners (consumers and scouts waiting for the layout) are told. A
        different number than the one known is refused: P never changes.
        """
        check_partitions(partitions)
        if self._parts:
            if len(self._parts) != partitions:
                raise DeployError(
                    f"app '{self.app}' has {len(self._parts)} partitions, fixed at its first "
                    f"deploy; it cannot change to {partitions}"
                )
            return False
        self._parts.extend(
            Partition(i, "{" + partition_tag(self.namespace, self.app, i, partitions) + "}")
            for i in range(partitions)
        )
        self._by_prefix.update((part.prefix, part) for part in self._parts)
        for listener in list(self._listeners):
            listener()
        return True

    def on_layout(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` once the partitions are known (at once if they are)."""
        if self._parts:
            listener()
        else:
            self._listeners.append(listener)

    def part(self, index: int) -> Partition:
        """Partition ``index``."""
        return self.parts[index]

    def part_of(self, job_id: str) -> Partition:
        """The partition of a job."""
        parts = self.parts
        return parts[partition_of(job_id, len(parts))]

    def hook_part(self, topic: str, value: str) -> Partition:
        """The partition of the hook waiter (and early signals) of ``topic``/``value``."""
        parts = self.parts
        return parts[partition_of(f"{escape_part(topic)}:{value}", len(parts))]

    def job(self, job_id: str) -> str:
        """Hash: one job's status, data, metadata and activity states."""
        return self.part_of(job_id).job(job_id)

    def engine_stream_of(self, job_id: str) -> str:
        """The engine stream of a job's partition."""
        return self.part_of(job_id).engine_stream

    def hook_waiters(self, topic: str) -> str:
        """One ``SCAN`` pattern covering every partition's waiters of ``topic``.

        It may match a few keys that are not waiters of ``topic`` (a match value may
        hold anything): :meth:`hook_value` tells them apart.
        """
        waiters = glob_escape(f":h:{escape_part(check_topic(topic, 'hook topic'))}:")
        if len(self.parts) == 1:
            return f"{glob_escape(self.parts[0].prefix)}{waiters}*"
        return f"{glob_escape(self.prefix[:-1])}:*}}{waiters}*"

    def hook_value(self, key: str, topic: str) -> str | None:
        """The match value of a waiter key of ``topic`` (None: not one of its waiters)."""
        part = self.partition_of_key(key)
        head = None if part is None else part.hook_waiter(topic, "")
        return key[len(head) :] if head is not None and key.startswith(head) else None

    def jobs_pattern(self, match: str = "*") -> str:
        """One ``SCAN`` pattern for the job keys of every partition whose id matches the
        glob ``match`` (a superset: :meth:`job_id_of` tells the job keys apart)."""
        if len(self.parts) == 1:
            return f"{glob_escape(self.parts[0].prefix)}:j:{match}"
        return f"{glob_escape(self.prefix[:-1])}:*}}:j:{match}"

    def job_id_of(self, key: str) -> str | None:
        """The job id of a job key of this app (None for any other key)."""
        part = self.partition_of_key(key)
        head = None if part is None else part.job("")
        return key[len(head) :] if head is not None and key.startswith(head) else None

    def worker_streams(self, topic: str) -> list[str]:
        """The streams of worker ``topic``, one per partition."""
        return [p.worker_stream(topic) for p in self.parts]

    def work_lease_sets(self, topic: str) -> list[str]:
        """The lease sets of worker ``topic``'s local work, one per partition."""
        return [p.work_leases(topic) for p in self.parts]

    def partition_of_key(self, key: str) -> Partition | None:
        """The partition a key of this app belongs to, or None (another tag).

        With one partition, which shares the app's tag, every key of the app answers
        partition 0: callers ask about streams and job keys only.
        """
        end = key.find("}")
        return self._by_prefix.get(key[: end + 1]) if end > 0 else None

    # -- deployment --------------------------------------------------------------
    @property
    def app_record(self) -> str:
        """Hash: the app's versions, active version, partitions and settings."""
        return f"{self.prefix}:app"

    def version(self, version: str) -> str:
        """String: the compiled app of one version (JSON)."""
        return f"{self.prefix}:v:{version}"

    @property
    def search_indexes(self) -> str:
        """Hash: fallback search index name → its definition (JSON)."""
        return f"{self.prefix}:ix"

    def search_native(self, index: str) -> str:
        """The name of the app's native (``FT.*``) index ``index``: under the app's prefix,
        so that the key patterns of a namespace cover its indexes too."""
        return f"{self.prefix}:ft:{index}"

    @property
    def throttles(self) -> str:
        """Hash: topic (or ``*``) → throttle in milliseconds; persists across restarts."""
        return f"{self.prefix}:throttle"

    # -- pub/sub -----------------------------------------------------------------
    def topic_channel(self, topic: str, job_id: str = "") -> str:
        """Channel: a graph's ``publishes`` topic, per job (``sub``/``psub``).

        As in the original, a job's channel is ``<topic>.<job id>``, so that ``psub``
        of ``'<topic>.*'`` hears every job of the topic, whatever its partition.
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
        """A ``SCAN`` pattern matching every key of the app (its own and its partitions')."""
        return f"{glob_escape(self.prefix[:-1])}[:}}]*"

    def match_kind(self, kind: str) -> list[str]:
        """``SCAN`` patterns matching every key of one kind (``j``, ``x``...), one per
        partition (``[]`` before the layout is known)."""
        return [f"{glob_escape(p.prefix)}:{kind}:*" for p in self._parts]
