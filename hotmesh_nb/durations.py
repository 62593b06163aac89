"""Durations written the way people write them: ``'15 minutes'``, ``'1 month'``, ``90``.

One parser for every API that takes a time span (``ttl``, ``interval``,
``sleep_for``, ``expire``, timeouts). Months are 30 days and years 365 days,
as in the original's ``ms`` package.
"""

from __future__ import annotations

import math
import re
from datetime import timedelta

Duration = int | float | str | timedelta
"""Anything :func:`to_seconds` accepts."""

_UNIT_SECONDS: dict[str, float] = {}
for _names, _seconds in (
    (("ms", "msec", "msecs", "millisecond", "milliseconds"), 0.001),
    (("s", "sec", "secs", "second", "seconds"), 1),
    (("m", "min", "mins", "minute", "minutes"), 60),
    (("h", "hr", "hrs", "hour", "hours"), 3600),
    (("d", "day", "days"), 86400),
    (("w", "wk", "wks", "week", "weeks"), 7 * 86400),
    (("mo", "month", "months"), 30 * 86400),
    (("y", "yr", "yrs", "year", "years"), 365 * 86400),
):
    for _name in _names:
        _UNIT_SECONDS[_name] = _seconds

_PATTERN = re.compile(r"^\s*(-?(?:\d+\.?\d*|\.\d+))\s*([a-zA-Z]*)\s*$")

INFINITY = "infinity"
"""The ttl spelling that means 'never expires'."""


def to_seconds(value: Duration) -> float:
    """Return ``value`` in seconds.

    Accepts numbers (seconds), numeric strings, ``timedelta`` and strings such
    as ``'15 minutes'``, ``'2 weeks'``, ``'1 month'``, ``'500ms'`` or
    ``'infinity'`` (``math.inf``). Raises ``ValueError`` naming the value and
    the accepted units otherwise.
    """
    if isinstance(value, bool):
        raise ValueError(f"a duration cannot be a boolean: {value!r}")
    if isinstance(value, (int, float)):
        if math.isnan(value):
            raise ValueError("a duration cannot be NaN")
        return float(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, str):
        text = value.strip().lower()
        if text in (INFINITY, "inf", "forever"):
            return math.inf
        match = _PATTERN.match(text)
        if match:
            number, unit = match.groups()
            factor = _UNIT_SECONDS.get(unit or "s")
            if factor is not None:
                return float(number) * factor
    raise ValueError(
        f"cannot read {value!r} as a duration; use seconds (90), a timedelta or text such "
        f"as '15 minutes', '2 hours', '1 day', '1 month' (units: ms, s, m, h, d, w, mo, y)"
    )


def to_whole_seconds(value: Duration) -> int:
    """Like :func:`to_seconds`, rounded up to whole seconds (``inf`` stays an error)."""
    seconds = to_seconds(value)
    if math.isinf(seconds):
        raise ValueError(f"{value!r} is not a finite duration")
    return math.ceil(seconds)
