"""``@date``: dates from ISO strings or millisecond numbers, getters, setters, formatters.

Input coercion (``getDateInstance``): a strict ISO string
(``YYYY-MM-DD[THH:mm:ss[.sss]Z]``) is parsed as a date; any other string is
read with ``parseInt`` as milliseconds (so ``'2024-03-15T13:45:30+02:00'`` is
2024 ms, as measured); a number is milliseconds; a date is itself. Setters
return the new timestamp (the input is not modified). Local getters use the
process time zone (``TZ``).
"""

from __future__ import annotations

import datetime as _dt
import math as _m
import re
import time as _time
from typing import Any

from .. import _jsdate as jd
from .._coerce import to_js_string, to_number, to_primitive, truthy
from .._function_registry import Family
from .._jsnumber import parse_int, to_integer_or_infinity
from .._values import UNDEFINED, JSDate, JSThrow, js_num
from ._js import is_number

family = Family("date")

_STRICT_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}(?:\.\d{3})?Z)?\Z")


def date_instance(value: Any) -> JSDate:
    """The original's ``getDateInstance``: ISO string, ms string/number, or date."""
    if isinstance(value, JSDate):
        return value
    if isinstance(value, str):
        if _STRICT_ISO.match(value):
            return JSDate(jd.parse_date(value))
        ms = parse_int(value, _m.nan)
        if ms != ms:
            raise JSThrow("Error", f"Invalid date format: {value!r} is neither an ISO date nor ms")
        return JSDate(jd.time_clip(ms))
    if is_number(value):
        return JSDate(jd.time_clip(float(value)))
    if isinstance(value, _dt.date):
        return JSDate.from_datetime(value)
    shown = type(value).__name__ if isinstance(value, (dict, list)) else to_js_string(value)
    raise JSThrow("Error", f"Invalid date format: {shown} (use an ISO string, ms or a date)")


def _now_ms() -> float:
    return float(_time.time_ns() // 1_000_000)


def _new_date(value: Any) -> JSDate:
    """``new Date(value)`` with one argument."""
    if isinstance(value, JSDate):
        return JSDate(value.time)
    if isinstance(value, _dt.date):
        return JSDate.from_datetime(value)
    prim = to_primitive(value)
    if isinstance(prim, str):
        return JSDate(jd.parse_date(prim))
    return JSDate(jd.time_clip(to_number(prim)))


# -- constructors and conversions --------------------------------------------------


@family.register()
def fromISOString(isoString: Any = UNDEFINED) -> JSDate:
    """``new Date(isoString)``."""
    return _new_date(isoString)


@family.register()
def now() -> int:
    """``Date.now()``: milliseconds since the epoch."""
    return int(_now_ms())


@family.register()
def parse(dateString: Any = UNDEFINED) -> Any:
    """``Date.parse(dateString)`` → milliseconds or NaN."""
    return js_num(jd.parse_date(to_js_string(dateString)))


@family.register()
def UTC(
    year: Any = UNDEFINED,
    month: Any = UNDEFINED,
    date: Any = UNDEFINED,
    hours: Any = UNDEFINED,
    minutes: Any = UNDEFINED,
    seconds: Any = UNDEFINED,
    ms: Any = UNDEFINED,
) -> Any:
    """``Date.UTC(...)`` — every argument is passed, so omitted ones make it NaN (as measured)."""
    y, mo, d, h, mi, s, milli = (
        to_number(v) for v in (year, month, date, hours, minutes, seconds, ms)
    )
    if y == y:
        yi = to_integer_or_infinity(y)
        if 0 <= yi <= 99:
            y = 1900 + yi
    return js_num(jd.time_clip(jd.make_date(jd.make_day(y, mo, d), jd.make_time(h, mi, s, milli))))


# -- getters ----------------------------------------------------------------------

_FIELDS = {
    "FullYear": 0,
    "Month": 1,
    "Date": 2,
    "Hours": 3,
    "Minutes": 4,
    "Seconds": 5,
    "Milliseconds": 6,
    "Day": 7,
}


def _getter(field: str, utc: bool) -> None:
    index = _FIELDS[field]
    name = f"get{'UTC' if utc else ''}{field}"

    def getter(date: Any = UNDEFINED) -> Any:
        t = date_instance(date).time
        if t != t:
            return _m.nan
        local = t if utc else t + jd.local_offset_ms(t)
        return jd.decompose(local)[index]

    getter.__name__ = name
    getter.__doc__ = f"``date.{name}()``."
    family.register(name)(getter)


for _field in _FIELDS:
    _getter(_field, utc=False)
    _getter(_field, utc=True)


@family.register()
def getTime(date: Any = UNDEFINED) -> Any:
    """``date.getTime()``: milliseconds (NaN when invalid)."""
    return js_num(date_instance(date).time)


@family.register()
def valueOf(date: Any = UNDEFINED) -> Any:
    """``date.valueOf()`` (same as ``getTime``)."""
    return js_num(date_instance(date).time)


@family.register()
def getTimezoneOffset(date: Any = UNDEFINED) -> Any:
    """``date.getTimezoneOffset()``: minutes *behind* UTC (``-60`` for UTC+1)."""
    t = date_instance(date).time
    if t != t:
        return _m.nan
    return js_num(-jd.local_offset_ms(t) / 60_000 + 0.0)


# -- setters ----------------------------------------------------------------------
# Each setter rebuilds the time from the date's fields, replacing the fields it
# is given. Every declared argument is passed, so a missing one is NaN.

Parts = list[float]


def _setter(name: str, fields: tuple[int, ...], utc: bool, *, nan_base_zero: bool = False) -> None:
    def setter(date: Any = UNDEFINED, *args: Any) -> Any:
        t = date_instance(date).time
        values = [to_number(a) for a in (list(args) + [UNDEFINED] * len(fields))[: len(fields)]]
        if t != t:
            if not nan_base_zero:
                return _m.nan
            t = 0.0
            local = 0.0
        else:
            local = t if utc else t + jd.local_offset_ms(t)
        y, mo, d, h, mi, s, ms, _ = jd.decompose(local)
        parts: Parts = [float(v) for v in (y, mo, d, h, mi, s, ms)]
        for index, value in zip(fields, values):
            parts[index] = value
        day = jd.make_day(parts[0], parts[1], parts[2])
        new = jd.make_date(day, jd.make_time(parts[3], parts[4], parts[5], parts[6]))
        if not utc:
            new = jd.utc_from_local(new)
        return js_num(jd.time_clip(new))

    setter.__name__ = name
    setter.__doc__ = f"``date.{name}(...)`` → the new timestamp (ms)."
    # Declared arity: the date plus one argument per field (extras are dropped).
    family.register(name, max_args=1 + len(fields))(setter)


for _utc in (False, True):
    _p = "setUTC" if _utc else "set"
    _setter(f"{_p}Milliseconds", (6,), _utc)
    _setter(f"{_p}Seconds", (5, 6), _utc)
    _setter(f"{_p}Minutes", (4, 5, 6), _utc)
    _setter(f"{_p}Hours", (3, 4, 5, 6), _utc)
    _setter(f"{_p}Date", (2,), _utc)
    _setter(f"{_p}Month", (1, 2), _utc)
    _setter(f"{_p}FullYear", (0, 1, 2), _utc, nan_base_zero=True)


@family.register()
def setTime(date: Any = UNDEFINED, time: Any = UNDEFINED) -> Any:
    """``date.setTime(time)`` → ``time`` clipped (NaN when invalid)."""
    date_instance(date)
    return js_num(jd.time_clip(to_number(time)))


# -- formatters -------------------------------------------------------------------


def _valid_time(date: Any) -> float:
    t = date_instance(date).time
    if t != t:
        raise JSThrow("RangeError", "Invalid time value")
    return t


@family.register()
def toISOString(date: Any = UNDEFINED) -> str:
    """``date.toISOString()``: ``2024-03-15T13:45:30.000Z`` (throws on an invalid date)."""
    return jd.iso_string(_valid_time(date))


@family.register()
def toISOXString(date: Any = UNDEFINED) -> str:
    """HotMesh's compact timestamp ``YYYYMMDDHHmmss.sss``; a falsy input means now."""
    t = _valid_time(date) if truthy(date) else _now_ms()
    return re.sub(r"[-:TZ]", "", jd.iso_string(t))


@family.register()
def toJSON(date: Any = UNDEFINED) -> Any:
    """``date.toJSON()``: the ISO string, or ``null`` for an invalid date."""
    t = date_instance(date).time
    return None if t != t else jd.iso_string(t)


@family.register()
def toDateString(date: Any = UNDEFINED) -> str:
    """``date.toDateString()``: ``Fri Mar 15 2024``."""
    return jd.to_date_string(date_instance(date).time)


@family.register()
def toString(date: Any = UNDEFINED) -> str:
    """``date.toString()``: ``Fri Mar 15 2024 13:45:30 GMT+0000 (Coordinated Universal Time)``."""
    return jd.date_to_string(date_instance(date).time)


_LANGUAGE_TAG = re.compile(
    r"(?:[a-z]{2,3}|[a-z]{5,8})(?:-[a-z]{4})?(?:-(?:[a-z]{2}|\d{3}))?"
    r"(?P<variants>(?:-(?:[a-z\d]{5,8}|\d[a-z\d]{3}))*)"
    r"(?P<extensions>(?:-[a-wyz\d](?:-[a-z\d]{2,8})+)*)"
    r"(?:-x(?:-[a-z\d]{1,8})+)?\Z",
    re.IGNORECASE,
)


def _check_language_tag(tag: str) -> None:
    """RangeError unless ``tag`` is a well-formed Unicode BCP 47 locale identifier."""
    m = _LANGUAGE_TAG.match(tag)
    if m:
        variants = m["variants"].lower().split("-")[1:]
        singletons = re.findall(r"-([a-wyz\d])(?=-)", m["extensions"].lower())
        if len(set(variants)) == len(variants) and len(set(singletons)) == len(singletons):
            return
    raise JSThrow("RangeError", f"Incorrect locale information provided: {tag!r}")


def _check_locales(locales: Any) -> None:
    """ECMA-402 ``CanonicalizeLocaleList`` errors (TypeError / RangeError).

    Only the en-US rendering is produced, but a locale list the original
    rejects is rejected here too. ``''`` is accepted: Node rejects it only
    until its default date format has been used once in the process, which in a
    running engine it always has.
    """
    if locales is UNDEFINED or locales == "":
        return
    if locales is None:
        raise JSThrow("TypeError", "Cannot convert undefined or null to object")
    if isinstance(locales, str):
        _check_language_tag(locales)
        return
    if isinstance(locales, dict):
        # An array-like object: its 'length' first indexes are the list.
        size = to_integer_or_infinity(to_number(locales.get("length", UNDEFINED)))
        count = int(min(max(size, 0), 2**32))
        items = [locales[str(i)] for i in range(count) if str(i) in locales]
    elif isinstance(locales, list):
        items = locales
    else:
        return  # a number, boolean or date has no 'length': an empty list
    for item in items:
        if isinstance(item, (str, list, dict, JSDate)):
            _check_language_tag(to_js_string(item))
        else:
            raise JSThrow("TypeError", "Language ID should be string or object.")


def _locale_args(t: float, locales: Any, options: Any) -> None:
    if t != t:
        return  # an invalid date answers 'Invalid Date' before its arguments are read
    _check_locales(locales)
    if options is None:
        raise JSThrow("TypeError", "Cannot convert undefined or null to object")


@family.register()
def toLocaleDateString(
    date: Any = UNDEFINED, locales: Any = UNDEFINED, options: Any = UNDEFINED
) -> str:
    """``date.toLocaleDateString(locales, options)`` — en-US form ``3/15/2024``; only
    ``options.timeZone`` is honoured."""
    t = date_instance(date).time
    _locale_args(t, locales, options)
    return jd.locale_date_string(t, options)


@family.register()
def toLocaleString(
    date: Any = UNDEFINED, locales: Any = UNDEFINED, options: Any = UNDEFINED
) -> str:
    """``date.toLocaleString(locales, options)`` — en-US ``3/15/2024, 1:45:30 PM``."""
    t = date_instance(date).time
    _locale_args(t, locales, options)
    return jd.locale_string(t, options)


@family.register()
def toLocaleTimeString(
    date: Any = UNDEFINED, locales: Any = UNDEFINED, options: Any = UNDEFINED
) -> str:
    """``date.toLocaleTimeString(locales, options)`` — en-US ``1:45:30 PM``."""
    t = date_instance(date).time
    _locale_args(t, locales, options)
    return jd.locale_time_string(t, options)
