"""``@unary``: the unary operators ``!``, ``+``, ``-`` and ``~``."""

from __future__ import annotations

from typing import Any

from .._coerce import to_number, truthy
from .._function_registry import Family
from .._jsnumber import to_int32
from .._values import UNDEFINED, js_num

family = Family("unary")


@family.register("not")
def not_(value: Any = UNDEFINED) -> bool:
    """``!value``."""
    return not truthy(value)


@family.register()
def positive(value: Any = UNDEFINED) -> Any:
    """``+value`` (ToNumber)."""
    return js_num(to_number(value))


@family.register()
def negative(value: Any = UNDEFINED) -> Any:
    """``-value`` (``-0`` for ``0``)."""
    return js_num(-to_number(value))


@family.register()
def bitwise_not(value: Any = UNDEFINED) -> int:
    """``~value``."""
    return ~to_int32(to_number(value))
