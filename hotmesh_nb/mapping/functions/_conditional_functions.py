"""``@conditional``: ternary, equality (loose and strict), comparisons and ``??``."""

from __future__ import annotations

from typing import Any

from .._coerce import js_less_than, loose_equals, strict_equals, truthy
from .._function_registry import Family
from .._values import UNDEFINED

family = Family("conditional")


@family.register()
def ternary(
    condition: Any = UNDEFINED, valueIfTrue: Any = UNDEFINED, valueIfFalse: Any = UNDEFINED
) -> Any:
    """``condition ? valueIfTrue : valueIfFalse``."""
    return valueIfTrue if truthy(condition) else valueIfFalse


@family.register()
def equality(a: Any = UNDEFINED, b: Any = UNDEFINED) -> bool:
    """``a == b`` (loose: ``'1' == 1``, ``null == undefined``)."""
    return loose_equals(a, b)


@family.register()
def strict_equality(a: Any = UNDEFINED, b: Any = UNDEFINED) -> bool:
    """``a === b``."""
    return strict_equals(a, b)


@family.register()
def inequality(a: Any = UNDEFINED, b: Any = UNDEFINED) -> bool:
    """``a != b``."""
    return not loose_equals(a, b)


@family.register()
def strict_inequality(a: Any = UNDEFINED, b: Any = UNDEFINED) -> bool:
    """``a !== b``."""
    return not strict_equals(a, b)


@family.register()
def greater_than(a: Any = UNDEFINED, b: Any = UNDEFINED) -> bool:
    """``a > b``."""
    return js_less_than(b, a) is True


@family.register()
def less_than(a: Any = UNDEFINED, b: Any = UNDEFINED) -> bool:
    """``a < b``."""
    return js_less_than(a, b) is True


@family.register()
def greater_than_or_equal(a: Any = UNDEFINED, b: Any = UNDEFINED) -> bool:
    """``a >= b``."""
    return js_less_than(a, b) is False


@family.register()
def less_than_or_equal(a: Any = UNDEFINED, b: Any = UNDEFINED) -> bool:
    """``a <= b``."""
    return js_less_than(b, a) is False


@family.register()
def nullish(a: Any = UNDEFINED, b: Any = UNDEFINED) -> Any:
    """``a ?? b``: ``b`` only when ``a`` is null or undefined."""
    return b if a is None or a is UNDEFINED else a
