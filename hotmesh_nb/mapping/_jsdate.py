"""JavaScript ``Date`` arithmetic, parsing and formatting over millisecond timestamps.

All functions take and return ``float`` milliseconds since the epoch (``NaN``
for an invalid date). Calendar math follows ECMAScript (proleptic Gregorian,
±8.64e15 ms range), so it works beyond ``datetime``'s years 1–9999. "Local"
means the process time zone (``TZ``), as in Node.
"""

from __future__ import annotations

import math
import time as _time
from typing import Any

from ._jsnumber import to_integer_or_infinity

__all__ = [
    "date_to_string",
    "decompose",
    "iso_string",
    "local_offset_ms",
    "locale_date_string",
    "locale_string",
    "locale_time_string",
    "make_date",
    "make_day",
    "make_time",
    "parse_date",
    "time_clip",
    "to_date_string",
    "utc_from_local",
]

MS_PER_DAY = 86_400_000
_DAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of the proleptic Gregorian date (``m`` is 1–12)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def civil_from_days(z: int) -> tuple[int, int, int]:
    """Inverse of :func:`days_from_civil`: ``(year, month 1–12, day)``."""
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (m <= 2), m, d


def make_time(h: float, m: float, s: float, ms: float) -> float:
    """ECMAScript MakeTime."""
    if not all(math.isfinite(v) for v in (h, m, s, ms)):
        return math.nan
    t = to_integer_or_infinity
    return t(h) * 3_600_000 + t(m) * 60_000 + t(s) * 1000 + t(ms)


def make_day(year: float, month: float, date: float) -> float:
    """ECMAScript MakeDay: day number of ``year``/``month`` (0-based, may overflow)/``date``."""
    if not all(math.isfinite(v) for v in (year, month, date)):
        return math.nan
    y, m, dt = (to_integer_or_infinity(v) for v in (year, month, date))
    ym = y + math.floor(m / 12)
    if abs(ym) > 400_000:
        return math.nan
    mn = int(m % 12)
    return days_from_civil(int(ym), mn + 1, 1) + dt - 1


def make_date(day: float, time: float) -> float:
    """ECMAScript MakeDate."""
    if not (math.isfinite(day) and math.isfinite(time)):
        return math.nan
    tv = day * MS_PER_DAY + time
    return tv if math.isfinite(tv) else math.nan


def time_clip(t: float) -> float:
    """ECMAScript TimeClip: NaN outside ±8.64e15, else truncated to an integer."""
    if not math.isfinite(t) or abs(t) > 8.64e15:
        return math.nan
    return float(math.trunc(t)) + 0.0


def local_offset_ms(t: float) -> float:
    """Offset of the process time zone from UTC at UTC time ``t`` (ms; east positive)."""
    if not math.isfinite(t):
        return 0.0
    secs = math.floor(t / 1000)
    try:
        return float(_time.localtime(secs).tm_gmtoff * 1000)
    except (OverflowError, OSError, ValueError):
        # Out of the platform's range: use the offset at a clamped instant.
        clamped = max(min(secs, 253_402_300_799), -62_135_596_800)
        return float(_time.localtime(clamped).tm_gmtoff * 1000)


def utc_from_local(t: float) -> float:
    """ECMAScript UTC(t): local wall-clock ms → UTC ms."""
    if not math.isfinite(t):
        return math.nan
    guess = t - local_offset_ms(t)
    return t - local_offset_ms(guess)


def decompose(t: float) -> tuple[int, int, int, int, int, int, int, int]:
    """``(year, month 0–11, date, hours, minutes, seconds, ms, weekday)`` of finite ``t``."""
    ti = int(t)
    days, ms_of_day = divmod(ti, MS_PER_DAY)
    y, m, d = civil_from_days(days)
    h, rest = divmod(ms_of_day, 3_600_000)
    mi, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return y, m - 1, d, h, mi, s, ms, (days + 4) % 7


def _year(y: int) -> str:
    return f"{y:04d}" if y >= 0 else f"-{-y:04d}"


def iso_string(t: float) -> str:
    """``Date.prototype.toISOString`` of a valid time value."""
    y, mo, d, h, mi, s, ms, _ = decompose(t)
    year = f"{y:04d}" if 0 <= y <= 9999 else (f"+{y:06d}" if y > 0 else f"-{-y:06d}")
    return f"{year}-{mo + 1:02d}-{d:02d}T{h:02d}:{mi:02d}:{s:02d}.{ms:03d}Z"


def _tz_suffix(t: float) -> str:
    off = int(local_offset_ms(t) // 60_000)
    sign = "+" if off >= 0 else "-"
    hh, mm = divmod(abs(off), 60)
    if off == 0 and _time.localtime(0).tm_zone in ("UTC", "GMT", "Etc/UTC"):
        name = "Coordinated Universal Time"
    else:
        try:
            name = _time.localtime(math.floor(t / 1000)).tm_zone
        except (OverflowError, OSError, ValueError):
            name = _time.tzname[0]
    return f"GMT{sign}{hh:02d}{mm:02d} ({name})"


def to_date_string(t: float) -> str:
    """``Date.prototype.toDateString`` (local time)."""
    if math.isnan(t):
        return "Invalid Date"
    y, mo, d, _, _, _, _, wd = decompose(t + local_offset_ms(t))
    return f"{_DAYS[wd]} {_MONTHS[mo]} {d:02d} {_year(y)}"


def date_to_string(t: float) -> str:
    """``Date.prototype.toString`` (local time): ``Fri Mar 15 2024 13:45:30 GMT+0000 (...)``."""
    if math.isnan(t):
        return "Invalid Date"
    y, mo, d, h, mi, s, _, wd = decompose(t + local_offset_ms(t))
    return f"{_DAYS[wd]} {_MONTHS[mo]} {d:02d} {_year(y)} {h:02d}:{mi:02d}:{s:02d} " + _tz_suffix(t)


def _zone_offset(t: float, options: Any) -> float:
    """Offset for ``options.timeZone`` (an IANA name), else the process zone."""
    zone = options.get("timeZone") if isinstance(options, dict) else None
    if not isinstance(zone, str):
        return local_offset_ms(t)
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        tz = ZoneInfo("UTC" if zone.upper() in ("UTC", "GMT") else zone)
    except (ZoneInfoNotFoundError, ValueError):
        from ._values import JSThrow

        raise JSThrow("RangeError", f"Invalid time zone specified: {zone}") from None
    try:
        dt = datetime.fromtimestamp(t / 1000, tz=timezone.utc).astimezone(tz)
    except (OverflowError, OSError, ValueError):
        return 0.0
    off = dt.utcoffset()
    return off.total_seconds() * 1000 if off else 0.0


def locale_date_string(t: float, options: Any = None) -> str:
    """``toLocaleDateString('en-US')``: ``3/15/2024``."""
    if math.isnan(t):
        return "Invalid Date"
    y, mo, d, *_ = decompose(t + _zone_offset(t, options))
    return f"{mo + 1}/{d}/{y if y > 0 else f'{1 - y}'}"


def locale_time_string(t: float, options: Any = None) -> str:
    """``toLocaleTimeString('en-US')``: ``1:45:30 PM``."""
    if math.isnan(t):
        return "Invalid Date"
    _, _, _, h, mi, s, _, _ = decompose(t + _zone_offset(t, options))
    return f"{(h % 12) or 12}:{mi:02d}:{s:02d} {'AM' if h < 12 else 'PM'}"


def locale_string(t: float, options: Any = None) -> str:
    """``toLocaleString('en-US')``: ``3/15/2024, 1:45:30 PM``."""
    if math.isnan(t):
        return "Invalid Date"
    return f"{locale_date_string(t, options)}, {locale_time_string(t, options)}"


def parse_date(text: str) -> float:
    """``Date.parse(text)`` as Node reads it: ISO format, then V8's legacy forms; else NaN."""
    from ._jsdateparse import in_local_range, parse_date_string

    parsed = parse_date_string(text)
    if parsed is None:
        return math.nan
    t, offset = parsed
    if not math.isfinite(t):
        return math.nan
    if offset != offset:  # no zone named: local time
        if not in_local_range(t):
            return math.nan
        return time_clip(utc_from_local(t))
    t -= offset * 1000
    return time_clip(t) if abs(t) <= 8.64e15 else math.nan
