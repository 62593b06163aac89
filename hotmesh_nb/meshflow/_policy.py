"""Retry policies with Temporal's field names, for activities and workflows."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ..durations import Duration, to_seconds


@dataclass(frozen=True)
class RetryPolicy:
    """How a failed activity (or workflow function) is retried.

    Attempt ``n`` (1-based) that fails waits
    ``min(initial_interval * backoff_coefficient ** (n - 1), maximum_interval)``
    seconds before attempt ``n + 1``; after ``maximum_attempts`` attempts the
    error is final (``0`` means no limit). Errors whose type name is in
    ``non_retryable_error_types``, and :class:`~hotmesh_nb.meshflow.FatalError`,
    are final at once. Intervals accept seconds, ``'5 seconds'`` or a
    ``timedelta``.

    Defaults: 1 s initial interval, coefficient 2, 100 s maximum interval and
    5 attempts (Temporal's defaults, except that attempts are bounded as in the
    original so that a broken activity cannot retry forever by accident).
    """

    initial_interval: Duration = 1.0
    """Wait before the first retry."""
    backoff_coefficient: float = 2.0
    """Growth of the wait from one retry to the next."""
    maximum_interval: Duration | None = 100.0
    """Longest wait between two attempts (None: no cap)."""
    maximum_attempts: int = 5
    """Attempts in all, the first included (0: unlimited)."""
    non_retryable_error_types: tuple[str, ...] = field(default_factory=tuple)
    """Exception class names that are never retried."""

    def __post_init__(self) -> None:
        # A policy is checked when it is made, not when a retry first needs it.
        for name in ("initial_interval", "maximum_interval"):
            value = getattr(self, name)
            if value is not None and to_seconds(value) < 0:
                raise ValueError(f"RetryPolicy.{name} must not be negative, not {value!r}")
        if not isinstance(self.backoff_coefficient, (int, float)) or self.backoff_coefficient < 1:
            raise ValueError(
                f"RetryPolicy.backoff_coefficient must be at least 1, not "
                f"{self.backoff_coefficient!r}"
            )
        attempts = self.maximum_attempts
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 0:
            raise ValueError(
                f"RetryPolicy.maximum_attempts must be a whole number >= 0 (0: no limit), "
                f"not {attempts!r}"
            )
        if isinstance(self.non_retryable_error_types, str):
            raise ValueError(
                "RetryPolicy.non_retryable_error_types takes a list of type names, not one string"
            )

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based)."""
        wait = to_seconds(self.initial_interval) * self.backoff_coefficient ** max(attempt - 1, 0)
        if self.maximum_interval is not None:
            wait = min(wait, to_seconds(self.maximum_interval))
        return max(wait, 0.0)

    def allows_retry(self, attempt: int, error_type: str) -> bool:
        """Whether failed attempt ``attempt`` with an error of ``error_type`` is retried."""
        if error_type in self.non_retryable_error_types:
            return False
        return self.maximum_attempts <= 0 or attempt < self.maximum_attempts

    def to_dict(self) -> dict[str, Any]:
        """A JSON form carried in job data (intervals in seconds)."""
        data = asdict(self)
        data["initial_interval"] = to_seconds(self.initial_interval)
        if self.maximum_interval is not None:
            data["maximum_interval"] = to_seconds(self.maximum_interval)
        data["non_retryable_error_types"] = list(self.non_retryable_error_types)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> RetryPolicy:
        """Read :meth:`to_dict` back (missing fields take the defaults)."""
        if not data:
            return cls()
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        if "non_retryable_error_types" in known:
            known["non_retryable_error_types"] = tuple(known["non_retryable_error_types"])
        return cls(**known)

    @classmethod
    def coerce(cls, value: RetryPolicy | dict[str, Any] | None) -> RetryPolicy | None:
        """Accept a policy, a dict of its fields (or Temporal-style camelCase) or None."""
        if value is None or isinstance(value, RetryPolicy):
            return value
        aliases = {
            "initialInterval": "initial_interval",
            "backoffCoefficient": "backoff_coefficient",
            "maximumInterval": "maximum_interval",
            "maximumAttempts": "maximum_attempts",
            "nonRetryableErrorTypes": "non_retryable_error_types",
        }
        fields = {aliases.get(k, k): v for k, v in value.items()}
        if "non_retryable_error_types" in fields:
            fields["non_retryable_error_types"] = tuple(fields["non_retryable_error_types"])
        return cls(**fields)


WORKFLOW_DEFAULT = RetryPolicy(maximum_attempts=1)
"""A workflow function that raises fails its workflow unless ``config`` asks for retries
(as Temporal: workflows are not retried by default; activities are)."""
