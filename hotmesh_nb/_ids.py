"""Identifiers and timestamps used in job state.

Both are on every job's path, so they are made cheaply: an id takes one read of
the system's random source (not one per character), and the second-resolution
part of a timestamp is formatted once per second.
"""

from __future__ import annotations

import base64
import os
import time
from datetime import datetime, timezone

_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
"""The characters of an id: exactly the URL-safe base64 alphabet."""


def guid(size: int = 22) -> str:
    """A random id like the original's: ``'H'`` + ``size`` url-safe characters.

    Each character is 6 bits of ``os.urandom`` (base64 maps them onto
    :data:`_ALPHABET` uniformly): 132 random bits at the default size.
    """
    raw = base64.urlsafe_b64encode(os.urandom((size * 6 + 7) // 8))
    return "H" + raw[:size].decode("ascii")


def fast_guid() -> str:
    """A random id for internal message guids (128 random bits)."""
    return "H" + base64.urlsafe_b64encode(os.urandom(16))[:22].decode("ascii")


def now_ms() -> int:
    """Milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


_second: tuple[int, str] = (-1, "")
"""The last second :func:`iso_compact` formatted, and its text (one tuple: thread-safe)."""


def iso_compact(ms: int | None = None) -> str:
    """The original's timestamp format: ``YYYYMMDDHHmmss.sss`` in UTC."""
    global _second
    ms = now_ms() if ms is None else ms
    second, millis = divmod(ms, 1000)
    cached, text = _second
    if cached != second:
        moment = datetime.fromtimestamp(second, tz=timezone.utc)
        text = moment.strftime("%Y%m%d%H%M%S.")
        _second = (second, text)
    return f"{text}{millis:03d}"


def parse_compact(text: str | None) -> datetime | None:
    """Read an :func:`iso_compact` string back (None when it is not one, or None)."""
    if text is None:
        return None
    try:
        return datetime.strptime(text, "%Y%m%d%H%M%S.%f").replace(tzinfo=timezone.utc)
    except (TypeError, ValueError):
        return None
