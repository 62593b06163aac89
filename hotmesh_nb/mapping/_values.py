"""JavaScript values in Python: ``undefined``, numbers, dates, and the internal JS error.

The mapping language evaluates rules with JavaScript semantics (HotMesh is a
TypeScript engine). JavaScript values are represented like this:

=================  ==============================================================
JavaScript         Python
=================  ==============================================================
``undefined``      :data:`UNDEFINED` (a falsy singleton, ``repr`` ``UNDEFINED``)
``null``           ``None``
boolean            ``bool``
number             ``int`` when integral and within ±(2**53 - 1) (so JSON shows
                   ``5``, not ``5.0``), otherwise ``float``; ``-0``, ``NaN`` and
                   ``±Infinity`` stay ``float``. Inputs may be either type.
string             ``str`` (indexes and lengths count UTF-16 code units, as JS)
array              ``list``
object             ``dict`` with ``str`` keys (integer-like keys first, as JS)
Date               :class:`JSDate` (milliseconds since the epoch; ``NaN`` when
                   invalid); ``datetime.datetime`` / ``datetime.date`` inputs
                   are accepted wherever a Date is
=================  ==============================================================
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any, Final

__all__ = [
    "MAX_SAFE_INTEGER",
    "UNDEFINED",
    "JSDate",
    "JSThrow",
    "Undefined",
    "is_undefined",
    "js_num",
    "typeof",
]

MAX_SAFE_INTEGER: Final = 2**53 - 1


class Undefined:
    """The type of :data:`UNDEFINED`, JavaScript's ``undefined`` (distinct from ``None``)."""

    __slots__ = ()
    _instance: Undefined | None = None

    def __new__(cls) -> Undefined:
        # A singleton, so identity checks (``x is UNDEFINED``) are always valid.
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNDEFINED"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        # Pickle/deepcopy keep the singleton.
        return "UNDEFINED"

    def __copy__(self) -> Undefined:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Undefined:
        return self


UNDEFINED: Final = Undefined()
"""JavaScript ``undefined``: what a missing path resolves to."""


def is_undefined(value: Any) -> bool:
    """True when ``value`` is JavaScript ``undefined``."""
    return value is UNDEFINED


class JSThrow(Exception):
    """A JavaScript exception raised inside a mapping function.

    Internal: the pipe evaluator turns it into :class:`~hotmesh_nb.errors.MappingError`
    naming the function and the rule.
    """

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(f"{kind}: {message}")


class JSDate:
    """A JavaScript ``Date``: ``time`` is milliseconds since 1970-01-01T00:00:00Z.

    ``time`` is a ``float`` (``NaN`` for an *Invalid Date*). Two dates are equal
    only when they are the same object, as in JavaScript.
    """

    __slots__ = ("time",)

    def __init__(self, time: float) -> None:
        self.time = float(time)

    def is_valid(self) -> bool:
        """False for an *Invalid Date*."""
        return not math.isnan(self.time)

    def to_datetime(self) -> _dt.datetime:
        """This date as an aware UTC ``datetime`` (raises ``ValueError`` if invalid)."""
        if not self.is_valid():
            raise ValueError("Invalid Date")
        return _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc) + _dt.timedelta(
            milliseconds=self.time
        )

    @classmethod
    def from_datetime(cls, value: _dt.date) -> JSDate:
        """A date from a ``datetime`` (naive means UTC) or a ``date`` (UTC midnight)."""
        if not isinstance(value, _dt.datetime):
            value = _dt.datetime(value.year, value.month, value.day)
        if value.tzinfo is None:
            value = value.replace(tzinfo=_dt.timezone.utc)
        epoch = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
        delta = value - epoch
        ms = (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
        return cls(ms)

    def __repr__(self) -> str:
        from ._jsdate import iso_string

        return f"JSDate({iso_string(self.time)!r})" if self.is_valid() else "JSDate(NaN)"


def js_num(value: float) -> int | float:
    """Normalize a JS number result: integral values in the safe range become ``int``.

    ``-0``, ``NaN``, ``±Infinity`` and non-integral values stay ``float``.
    """
    if value.is_integer() and -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
        if value == 0 and math.copysign(1.0, value) < 0:
            return value
        return int(value)
    return value


def typeof(value: Any) -> str:
    """JavaScript ``typeof`` for a mapping value."""
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if value is UNDEFINED:
        return "undefined"
    return "object"
