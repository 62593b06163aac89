"""``@number``: number predicates, parsing and formatting."""

from __future__ import annotations

import math as _m
from typing import Any

from .._coerce import js_less_than, to_js_string, to_number
from .._function_registry import Family
from .._jsmath import js_round
from .._jsnumber import js_mod, parse_float, parse_int, to_exponential, to_fixed, to_precision
from .._values import UNDEFINED, js_num
from . import _math_functions as _math
from ._js import is_number, method_error

family = Family("number")


@family.register()
def isFinite(input: Any = UNDEFINED) -> bool:
    """``Number.isFinite(input)`` (no coercion: ``'5'`` is false)."""
    return is_number(input) and _m.isfinite(input)


@family.register()
def isEven(input: Any = UNDEFINED) -> bool:
    """``input % 2 === 0`` (coerces: ``null`` and ``''`` are even, as measured)."""
    return js_mod(to_number(input), 2.0) == 0


@family.register()
def isOdd(input: Any = UNDEFINED) -> bool:
    """``input % 2 !== 0`` for a number-like input; ``false`` when ``isNaN(input)``.

    So ``'abc'``, ``undefined`` and ``NaN`` are neither odd nor even, while
    ``Infinity`` is odd (``Infinity % 2`` is NaN), as measured on the original.
    """
    n = to_number(input)
    return n == n and js_mod(n, 2.0) != 0


@family.register()
def isInteger(input: Any = UNDEFINED) -> bool:
    """``Number.isInteger(input)``."""
    return is_number(input) and _m.isfinite(input) and float(input).is_integer()


@family.register()
def isNaN(input: Any = UNDEFINED) -> bool:
    """``Number.isNaN(input)`` (strict: the string ``'NaN'`` is false)."""
    return isinstance(input, float) and input != input


@family.register("parseFloat")
def parse_float_(input: Any = UNDEFINED) -> Any:
    """``parseFloat(input)``: the longest decimal prefix (``'3.5kg'`` → 3.5)."""
    return js_num(parse_float(to_js_string(input)))


@family.register("parseInt")
def parse_int_(input: Any = UNDEFINED, radix: Any = UNDEFINED) -> Any:
    """``parseInt(input, radix)`` (``'12px'`` → 12, ``'0x1F'`` → 31, ``1e21`` → 1)."""
    return js_num(parse_int(to_js_string(input), to_number(radix)))


def _receiver(value: Any, method: str) -> float:
    if not is_number(value):
        raise method_error(value, method)
    return float(value) if isinstance(value, int) else value


@family.register()
def toFixed(input: Any = UNDEFINED, digits: Any = UNDEFINED) -> str:
    """``input.toFixed(digits)``, binary rounding (``1.005`` → ``'1.00'``); throws on strings."""
    return to_fixed(_receiver(input, "toFixed"), to_number(digits))


@family.register()
def toExponential(input: Any = UNDEFINED, fractionDigits: Any = UNDEFINED) -> str:
    """``input.toExponential(fractionDigits)``."""
    x = _receiver(input, "toExponential")
    return to_exponential(x, None if fractionDigits is UNDEFINED else to_number(fractionDigits))


@family.register()
def toPrecision(input: Any = UNDEFINED, precision: Any = UNDEFINED) -> str:
    """``input.toPrecision(precision)``."""
    x = _receiver(input, "toPrecision")
    return to_precision(x, None if precision is UNDEFINED else to_number(precision))


@family.register()
def gte(a: Any = UNDEFINED, b: Any = UNDEFINED) -> bool:
    """``a >= b``."""
    return js_less_than(a, b) is False


@family.register()
def lte(a: Any = UNDEFINED, b: Any = UNDEFINED) -> bool:
    """``a <= b``."""
    return js_less_than(b, a) is False


@family.register()
def gt(a: Any = UNDEFINED, b: Any = UNDEFINED) -> bool:
    """``a > b``."""
    return js_less_than(b, a) is True


@family.register()
def lt(a: Any = UNDEFINED, b: Any = UNDEFINED) -> bool:
    """``a < b``."""
    return js_less_than(a, b) is True


# The original's @number.max, .min and .pow wrap the same built-ins as @math's.
for _shared in (_math.max_, _math.min_, _math.pow_):
    family.register()(_shared)


@family.register()
def round_(input: Any = UNDEFINED) -> Any:
    """``Math.round(input)`` (half toward +Infinity)."""
    return js_num(js_round(to_number(input)))
