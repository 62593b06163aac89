"""Helpers shared by the function families: argument coercion and JS-style errors."""

from __future__ import annotations

import math
from typing import Any

from .._coerce import to_js_string, to_number
from .._jsnumber import to_integer_or_infinity
from .._objects import integrity
from .._values import UNDEFINED, JSThrow

__all__ = [
    "MAX_STRING_LENGTH",
    "check_length",
    "describe",
    "int_arg",
    "is_nullish",
    "is_number",
    "method_error",
    "relative_index",
    "require_mutable",
    "require_str",
]

# V8's maximum string length (2**29 - 24 code units).
MAX_STRING_LENGTH = 2**29 - 24


def is_nullish(value: Any) -> bool:
    """``value == null`` in JS."""
    return value is None or value is UNDEFINED


def is_number(value: Any) -> bool:
    """``typeof value === 'number'``."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def describe(value: Any) -> str:
    """A short JS-like description of a value for error messages."""
    if isinstance(value, str):
        return f'"{value[:40]}"'
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return (
        to_js_string(value) if not isinstance(value, float) or math.isfinite(value) else str(value)
    )


def method_error(receiver: Any, method: str) -> JSThrow:
    """The TypeError JS throws for ``receiver.method(...)`` when there is no such method."""
    if is_nullish(receiver):
        name = "null" if receiver is None else "undefined"
        return JSThrow("TypeError", f"Cannot read properties of {name} (reading '{method}')")
    return JSThrow("TypeError", f"{describe(receiver)}.{method} is not a function")


def require_str(value: Any, method: str) -> str:
    """``value`` when it is a string, else the TypeError of calling a String method on it."""
    if isinstance(value, str):
        return value
    raise method_error(value, method)


def int_arg(value: Any) -> float:
    """ToIntegerOrInfinity(ToNumber(value)) — ``undefined`` gives 0."""
    return to_integer_or_infinity(to_number(value))


def relative_index(value: Any, length: int, default: int) -> int:
    """A relative start/end index as in ``slice``: negatives count from the end, clamped."""
    if value is UNDEFINED:
        return default
    n = int_arg(value)
    if n < 0:
        return int(max(length + n, 0))
    return int(min(n, length))


def check_length(length: float) -> None:
    """Throw JS's RangeError for strings longer than V8 allows."""
    if length > MAX_STRING_LENGTH:
        raise JSThrow("RangeError", "Invalid string length")


def require_mutable(obj: Any, what: str, *, grows: bool = True) -> None:
    """TypeError when ``obj`` is frozen (or sealed / non-extensible and ``grows``)."""
    level = integrity(obj)
    if level == "frozen" or (level is not None and grows):
        raise JSThrow("TypeError", f"Cannot {what}: object is not extensible or is frozen")
