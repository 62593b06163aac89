"""Tunable settings of engines and workers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EngineConfig:
    """Settings shared by the engine and workers of one :class:`~hotmesh_nb.HotMesh`."""

    default_expire: int = 3600
    """Seconds a finished job stays readable when its graph sets no ``expire``. The original
    keeps jobs for 1 second; an hour lets a notebook user inspect, graph and export them.
    ``0`` keeps finished jobs until scrubbed."""
    reclaim_after: float = 60.0
    """Seconds a delivered message may stay unacknowledged before another consumer takes it
    over (the consumer that had it is presumed dead; a live one renews its lease every third
    of this). ``0`` turns reclaiming off: a crashed consumer's messages then wait for it."""
    delivery_cap: int = 5
    """Deliveries after which a message goes to the dead-letter stream with its error
    instead of being retried again."""
    dead_letter_cap: int = 10_000
    """Most records kept in each partition's dead-letter stream; the oldest go first."""
    share_tracebacks: bool = True
    """Send a failed callback's traceback with its error (to the job and the caller), as the
    original does. ``False`` sends the type and message only and logs the traceback in the
    worker's process: for workers serving callers that should not see their code."""
    unserved_cap: int = 100_000
    """Messages that may wait on a worker topic with no live worker before a new ``pub``
    that would add to it is refused (``UnservedTopicError``; 0 never refuses). Queued work
    is never trimmed."""
    stats_expire: int = 7 * 86400
    """Seconds a trigger's ``stats`` time bucket (counters and id lists, read by
    ``get_stats``, ``get_ids`` and ``hook_all``) is kept after its last write. The original
    keeps them forever; a bound keeps a busy app's memory flat."""
    concurrency: int = 100
    """Messages one engine or worker handles at the same time."""
    batch: int = 100
    """Most messages read from a stream in one ``XREADGROUP``."""
    block_ms: int = 5000
    """How long one stream read waits for a message (reads never poll)."""
    pubsub_timeout: float = 60.0
    """Default seconds ``pubsub`` waits for a job to finish before raising ``TimeoutError``
    (the job keeps running)."""
    max_payload: int | None = 64 * 1024 * 1024
    """Most bytes of JSON one value may take: the data of a ``pub``, a worker's result, a
    MeshFlow argument or result, a MeshCall argument or result. A bigger one is refused with
    :class:`~hotmesh_nb.PayloadError` before anything is queued (default 64 MiB; ``None``
    disables the limit). It is set here, per HotMesh, because the engine and workers that
    queue a value are where it is checked; a shared server's own limit
    (``proto-max-bulk-len``, 512 MB by default) still applies."""

    replicas_to_wait: int = 0
    """Durability: after each pipeline of step writes, wait until this many replicas of the
    job's primary have the writes (``WAIT``), before the step counts as done. Redis
    replicates asynchronously, so a failover can drop the last writes a primary
    acknowledged; with ``1`` on a cluster (or primary) with one replica each, a promoted
    replica has every finished step. ``0`` (the default) does not wait. Costs about one
    replication round trip per pipeline flush (see ``bench/durability.py``)."""
    replica_wait_ms: int = 1000
    """Most milliseconds one ``WAIT`` of ``replicas_to_wait`` blocks. When fewer replicas
    answer in time (a replica down, a primary just promoted), the step still counts as
    done and a warning is logged: the setting narrows the window, it never stops the mesh."""
    local_dispatch: bool = True
    """Hand work for a topic that a worker of this same process reads, when that worker
    has a free slot, straight to it under a lease instead of through the topic's stream
    (see ``engine/_local.py``): one command and one hop fewer per activity, with the
    stream's guarantees. ``False`` sends all work through the streams, so that every
    worker of a topic competes for it. Needs ``reclaim_after`` > 0 (the lease of a dead
    process falls due after it)."""
    relay: bool = False
    """Send a step's effects on other partitions as ``apply`` messages (its outbox) even
    on one server. A cluster always does, because one script may touch one slot only; on
    one server a step writes them directly. ``True`` tests the cluster's path on one
    server."""

    def __post_init__(self) -> None:
        # Checked here, once: a bad value found later would fail far from its cause.
        for name, lowest in _LOWEST.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(
                    f"EngineConfig.{name} must be a number, not {type(value).__name__}"
                )
            if value < lowest or value != value:  # value != value: NaN
                raise ValueError(f"EngineConfig.{name} must be at least {lowest}, not {value!r}")
        for name in ("replicas_to_wait", "replica_wait_ms"):
            if not isinstance(getattr(self, name), int):
                raise ValueError(
                    f"EngineConfig.{name} must be a whole number, not {getattr(self, name)!r}"
                )
        for name in ("share_tracebacks", "relay", "local_dispatch"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"EngineConfig.{name} must be True or False")
        if self.max_payload is not None and (
            isinstance(self.max_payload, bool)
            or not isinstance(self.max_payload, int)
            or self.max_payload <= 0
        ):
            raise ValueError(
                f"EngineConfig.max_payload must be a positive number of bytes or None, not "
                f"{self.max_payload!r}"
            )


_LOWEST: dict[str, float] = {
    "default_expire": 0,
    "reclaim_after": 0,
    "delivery_cap": 1,
    "dead_letter_cap": 1,
    "unserved_cap": 0,
    "stats_expire": 1,
    "concurrency": 1,
    "batch": 1,
    "block_ms": 1,
    "pubsub_timeout": 0,
    "replicas_to_wait": 0,
    "replica_wait_ms": 1,
}
"""The smallest value each numeric setting accepts."""
