"""Identifiers and timestamps used in job state."""

from __future__ import annotations

import secrets
import time
from datetime import datetime, timezone

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"


def guid(size: int = 22) -> str:
    """A random id like the original's: ``'H'`` + ``size`` url-safe characters."""
    return "H" + "".join(secrets.choice(_ALPHABET) for _ in range(size))


def fast_guid() -> str:
    """A random id for internal message guids (cheaper than :func:`guid`)."""
    return "H" + secrets.token_urlsafe(16)


def now_ms() -> int:
    """Milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


def iso_compact(ms: int | None = None) -> str:
    """The original's timestamp format: ``YYYYMMDDHHmmss.sss`` in UTC."""
    ms = now_ms() if ms is None else ms
    moment = datetime.fromtimestamp(ms / 1000, tz=timezone.utc)
    return moment.strftime("%Y%m%d%H%M%S.") + f"{ms % 1000:03d}"


def parse_compact(text: str | None) -> datetime | None:
    """Read an :func:`iso_compact` string back (None when it is not one, or None)."""
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%Y%m%d%H%M%S.%f").replace(tzinfo=timezone.utc)
    except (TypeError, ValueError):
        return None
