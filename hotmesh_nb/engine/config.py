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
    over (the consumer that had it is presumed dead)."""
    delivery_cap: int = 5
    """Deliveries after which a message goes to the dead-letter stream with its error
    instead of being retried again."""
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

    def __post_init__(self) -> None:
        if self.max_payload is not None and (
            isinstance(self.max_payload, bool)
            or not isinstance(self.max_payload, int)
            or self.max_payload <= 0
        ):
            raise ValueError(
                f"EngineConfig.max_payload must be a positive number of bytes or None, not "
                f"{self.max_payload!r}"
            )
