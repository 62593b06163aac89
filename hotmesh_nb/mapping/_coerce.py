"""JavaScript type conversions and operators over mapping values.

ToNumber / ToString / ToBoolean / ToPrimitive, ``==`` vs ``===``, relational
comparison of mixed types and ``+`` with string concatenation.
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

from ._jsnumber import number_to_string, string_to_number
from ._utf16 import units
from ._values import UNDEFINED, JSDate, JSThrow, js_num

__all__ = [
    "js_add",
    "js_less_than",
    "loose_equals",
    "same_value_zero",
    "strict_equals",
    "to_js_string",
    "to_number",
    "to_primitive",
    "to_property_key",
    "truthy",
]


def truthy(value: Any) -> bool:
    """JavaScript ToBoolean: ``undefined``, ``null``, ``false``, ``0``, ``-0``, ``NaN``, ``''``
    are false; everything else (including ``[]`` and ``{}``) is true."""
    if value is None or value is UNDEFINED or value is False:
        return False
    if value is True:
        return True
    if isinstance(value, (int, float)):
        return value == value and value != 0
    if isinstance(value, str):
        return value != ""
    return True


def _join(arr: list[Any], sep: str, seen: set[int]) -> str:
    # Array.prototype.join: null/undefined become '', a cycle becomes '' (V8).
    if id(arr) in seen:
        return ""
    seen.add(id(arr))
    try:
        parts = []
        for item in arr:
            if item is None or item is UNDEFINED:
                parts.append("")
            elif isinstance(item, list):
                parts.append(_join(item, ",", seen))
            else:
                parts.append(to_js_string(item))
        return sep.join(parts)
    finally:
        seen.discard(id(arr))


def array_join(arr: list[Any], sep: str = ",") -> str:
    """``Array.prototype.join(sep)``."""
    return _join(arr, sep, set())


def to_primitive(value: Any, hint: str = "default") -> Any:
    """ECMAScript ToPrimitive for mapping values (``hint``: default / number / string)."""
    if isinstance(value, list):
        return array_join(value)
    if isinstance(value, (_dt.date, JSDate)):
        date = value if isinstance(value, JSDate) else JSDate.from_datetime(value)
        if hint == "number":
            return js_num(date.time)
        from ._jsdate import date_to_string

        return date_to_string(date.time)
    if isinstance(value, dict):
        return "[object Object]"
    if isinstance(value, (str, int, float)) or value is None or value is UNDEFINED:
        return value
    return "[object Object]"


def to_number(value: Any) -> float:
    """ECMAScript ToNumber, always as a ``float``."""
    if isinstance(value, float):
        return value
    if isinstance(value, int):  # bool included: True → 1.0
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    if isinstance(value, str):
        return string_to_number(value)
    if value is None:
        return 0.0
    if value is UNDEFINED:
        return math.nan
    return to_number(to_primitive(value, "number"))


def to_js_string(value: Any) -> str:
    """JavaScript ``String(value)``: ``None`` → ``'null'``, ``[1, [2]]`` → ``'1,2'``, ..."""
    if isinstance(value, str):
        return value
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return number_to_string(value)
    if value is None:
        return "null"
    if value is UNDEFINED:
        return "undefined"
    return to_js_string(to_primitive(value, "string"))


def to_property_key(value: Any) -> str:
    """ECMAScript ToPropertyKey (no symbols): the string a value indexes an object by."""
    return value if isinstance(value, str) else to_js_string(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def strict_equals(a: Any, b: Any) -> bool:
    """JavaScript ``a === b``: same type and value; objects by identity; ``NaN !== NaN``."""
    if _is_number(a):
        return _is_number(b) and a == b
    if isinstance(a, str):
        return isinstance(b, str) and a == b
    if isinstance(a, bool):
        return a is b
    if a is None or a is UNDEFINED:
        return a is b
    return a is b


def same_value_zero(a: Any, b: Any) -> bool:
    """ECMAScript SameValueZero (``includes``): like ``===`` but ``NaN`` equals ``NaN``."""
    if _is_number(a) and _is_number(b) and a != a and b != b:
        return True
    return strict_equals(a, b)


def _is_object(v: Any) -> bool:
    return not (v is None or v is UNDEFINED or isinstance(v, (str, bool, int, float)))


def loose_equals(a: Any, b: Any) -> bool:
    """JavaScript ``a == b`` (IsLooselyEqual)."""
    while True:
        a_obj, b_obj = _is_object(a), _is_object(b)
        if a_obj and b_obj:
            return a is b
        a_nullish = a is None or a is UNDEFINED
        b_nullish = b is None or b is UNDEFINED
        if a_nullish or b_nullish:
            return a_nullish and b_nullish
        if type(a) is type(b) or (_is_number(a) and _is_number(b)):
            return strict_equals(a, b)
        if isinstance(a, bool):
            a = to_number(a)
            continue
        if isinstance(b, bool):
            b = to_number(b)
            continue
        if _is_number(a) and isinstance(b, str):
            return a == to_number(b)
        if isinstance(a, str) and _is_number(b):
            return to_number(a) == b
        if a_obj:
            a = to_primitive(a)
            continue
        if b_obj:
            b = to_primitive(b)
            continue
        return False


def _utf16_key(s: str) -> str:
    return units(s)


def js_less_than(a: Any, b: Any) -> bool | None:
    """ECMAScript IsLessThan(a, b): ``True``/``False``, or ``None`` when a NaN is involved."""
    pa = to_primitive(a, "number")
    pb = to_primitive(b, "number")
    if isinstance(pa, str) and isinstance(pb, str):
        # JS compares UTF-16 code units; differs from code points only for astral chars.
        return _utf16_key(pa) < _utf16_key(pb)
    na, nb = to_number(pa), to_number(pb)
    if na != na or nb != nb:
        return None
    return na < nb


def js_add(a: Any, b: Any) -> Any:
    """JavaScript ``a + b``: concatenation when either primitive is a string."""
    ta, tb = type(a), type(b)
    if (ta is int or ta is float) and (tb is int or tb is float):
        return js_num(float(a) + float(b))  # the common case: two numbers
    if ta is str and tb is str:
        return a + b
    pa = to_primitive(a)
    pb = to_primitive(b)
    if isinstance(pa, str) or isinstance(pb, str):
        return to_js_string(pa) + to_js_string(pb)
    return js_num(to_number(pa) + to_number(pb))


def require_object_coercible(value: Any, what: str) -> None:
    """Throw a JS TypeError when ``value`` is ``null``/``undefined`` (``what`` names the call)."""
    if value is None or value is UNDEFINED:
        name = "null" if value is None else "undefined"
        raise JSThrow("TypeError", f"Cannot read properties of {name} (reading '{what}')")
