"""Telling a server outage from a real failure, and waiting one out.

A mesh must outlive its server: a restart from the AOF, a failover, ``SCRIPT
FLUSH`` or a full memory are conditions that pass. On a Redis Cluster so are a
primary's failover (``CLUSTERDOWN``, ``TRYAGAIN``, a slot served by nobody for a
moment, a ``MOVED`` the client has not followed yet, the old primary's refused
connections) and resharding (``ASK``). Work that hits one waits
and tries again (with a short, capped backoff, so recovery is quick once the
server is back) instead of failing a step, which would cost a delivery attempt
and could end a healthy job in a dead letter.

Only errors that say *the server could not run the command* are transient:
a command that ran and failed (a wrong type, a script error) is not.
"""

from __future__ import annotations

import asyncio
import logging
import time

from redis import exceptions as redis_errors

from ..errors import ConnectError, HotMeshError, ServerFullError

log = logging.getLogger(__name__)

BACKOFF_FIRST = 0.02
"""Seconds before the first retry after an outage begins."""

BACKOFF_CAP = 0.25
"""Longest pause between two retries: recovery follows the server within this."""


def backoff(failures: int) -> float:
    """Seconds to wait after ``failures`` failures in a row (doubling, capped)."""
    return float(min(BACKOFF_FIRST * 2.0 ** (failures - 1), BACKOFF_CAP))


_TRANSIENT_REPLIES = (
    "LOADING",
    "READONLY",
    "TRYAGAIN",
    "CLUSTERDOWN",
    "MASTERDOWN",
    "OOM",
    "MOVED",
    "ASK",
)
"""Error replies of a server that did not run the command and may run it later."""

_TRANSIENT_CLUSTER = ("cannot be connected", "not covered", "no targets were found")
"""Messages of redis-py's cluster client when it knows no node for a slot for now (a
failover in progress); its other complaints (keys of several slots) are real errors."""


def is_transient(exc: BaseException) -> bool:
    """True when ``exc`` says the server could not run a command *now*."""
    if isinstance(exc, (redis_errors.ConnectionError, redis_errors.TimeoutError, OSError)):
        return not isinstance(exc, redis_errors.AuthenticationError)
    if isinstance(exc, asyncio.TimeoutError):
        return True
    if isinstance(exc, redis_errors.RedisClusterException):
        text = str(exc).lower()
        return isinstance(exc, redis_errors.SlotNotCoveredError) or any(
            part in text for part in _TRANSIENT_CLUSTER
        )
    if isinstance(exc, redis_errors.ResponseError):
        return str(exc).split(" ", 1)[0] in _TRANSIENT_REPLIES or isinstance(
            exc,
            (
                redis_errors.BusyLoadingError,
                redis_errors.ReadOnlyError,
                redis_errors.TryAgainError,
                redis_errors.ClusterDownError,
                redis_errors.MasterDownError,
                redis_errors.AskError,  # and MovedError, its subclass
                redis_errors.OutOfMemoryError,
            ),
        )
    return False


def is_out_of_memory(exc: BaseException) -> bool:
    """True for the server's ``OOM command not allowed`` reply."""
    return isinstance(exc, redis_errors.OutOfMemoryError) or (
        isinstance(exc, redis_errors.ResponseError) and str(exc).startswith("OOM")
    )


def explain(exc: BaseException, where: str = "the server") -> HotMeshError:
    """A clear error for a transient condition reported to a caller that will not wait."""
    if is_out_of_memory(exc):
        return ServerFullError(
            f"{where} is out of memory (maxmemory reached) and refused the write; nothing was "
            "queued. Free memory, raise the server's `maxmemory`, or remove finished jobs "
            "(`scrub`), then try again."
        )
    return ConnectError(
        f"{where} could not run the command ({type(exc).__name__}: {exc}); it may be "
        "restarting or failing over. Nothing was queued; try again."
    )


class Outage:
    """The connection health of one component, with its backoff and log lines.

    A component calls :meth:`failed` on each transient error (and sleeps the
    returned delay) and :meth:`ok` after each success; only changes of state
    are logged, so an outage of many seconds costs two log lines, not thousands.
    """

    def __init__(self, what: str) -> None:
        self.what = what
        self.failures = 0
        self.since = 0.0

    @property
    def down(self) -> bool:
        """True between the first failure and the next success."""
        return self.failures > 0

    def failed(self, exc: BaseException) -> float:
        """Record a transient failure; returns the seconds to wait before retrying."""
        if self.failures == 0:
            self.since = time.monotonic()
            if is_out_of_memory(exc):
                log.error(
                    "%s: the server is out of memory (maxmemory); retrying until it accepts "
                    "writes again (nothing is lost)",
                    self.what,
                )
            else:
                log.warning("%s: server unavailable (%s); retrying", self.what, exc)
        self.failures += 1
        return backoff(self.failures)

    def ok(self) -> None:
        """Record a success (logs the recovery after an outage)."""
        if self.failures:
            log.warning(
                "%s: server available again after %.2f s",
                self.what,
                time.monotonic() - self.since,
            )
            self.failures = 0
