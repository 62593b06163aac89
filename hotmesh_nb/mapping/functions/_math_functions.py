"""``@math``: arithmetic over operand lists and the ``Math`` object.

``add`` and ``multiply`` fold with JS ``+`` / ``*`` from ``0`` / ``1`` and throw
on array operands (as measured: the original's flattening code is broken);
``subtract`` and ``divide`` flatten arrays one level, and a zero divisor
(``=== 0``) makes ``divide`` NaN.
"""

from __future__ import annotations

import math as _m
import random as _random
import struct
from typing import Any

from .. import _fdlibm as fdlibm
from .._coerce import js_add, to_number
from .._function_registry import Family
from .._jsmath import clz32 as _clz32
from .._jsmath import (
    js_ceil,
    js_div,
    js_floor,
    js_fround,
    js_max,
    js_min,
    js_round,
    js_sign,
    js_trunc,
    safe,
)
from .._jsnumber import js_pow, to_int32
from .._values import UNDEFINED, JSThrow, js_num
from ._js import is_number

family = Family("math")


def _no_arrays(operands: tuple[Any, ...], name: str) -> None:
    if any(isinstance(op, list) for op in operands):
        raise JSThrow("TypeError", f"Cannot read properties of undefined (reading '{name}')")


@family.register()
def add(*operands: Any) -> Any:
    """``0 + a + b + ...`` with JS ``+`` (``add('1', 2)`` → ``'012'``)."""
    _no_arrays(operands, "add")
    total: Any = 0
    for op in operands:
        total = js_add(total, op)
    return total


@family.register()
def multiply(*operands: Any) -> Any:
    """``a * b * ...``; at least one operand is required (unlike ``add``)."""
    if not operands:
        raise JSThrow("Error", "multiply: at least one operand is required")
    _no_arrays(operands, "multiply")
    product = 1.0
    for op in operands:
        product *= to_number(op)
    return js_num(product)


def _flatten(operands: tuple[Any, ...], name: str) -> list[Any]:
    flat: list[Any] = []
    for op in operands:
        if isinstance(op, list):
            flat.extend(op)
        else:
            flat.append(op)
    if not operands:
        raise JSThrow("Error", f"{name}: at least one operand is required")
    if not flat:
        raise JSThrow("Error", f"{name}: at least one operand is required after flattening")
    return flat


@family.register()
def subtract(*operands: Any) -> Any:
    """``a - b - ...`` (arrays flattened one level; one operand comes back unchanged)."""
    flat = _flatten(operands, "subtract")
    result = flat[0]
    for op in flat[1:]:
        result = js_num(to_number(result) - to_number(op))
    return result


@family.register()
def divide(*operands: Any) -> Any:
    """``a / b / ...``; a divisor ``=== 0`` gives NaN (but ``'0'`` gives Infinity).

    A result for which JS ``isNaN`` holds is NaN: so one operand comes back
    unchanged only when it reads as a number (``'7'``, ``null``), ``'abc'`` gives NaN.
    """
    flat = _flatten(operands, "divide")
    result = flat[0]
    for op in flat[1:]:
        if is_number(op) and op == 0:
            result = _m.nan
        else:
            result = js_num(js_div(to_number(result), to_number(op)))
    if to_number(result) != to_number(result):
        return _m.nan
    return result


def _unary(name: str, fn: Any, *, overflow: float = _m.inf) -> None:
    def impl(x: Any = UNDEFINED) -> Any:
        return js_num(safe(fn, to_number(x), overflow=overflow))

    impl.__name__ = name
    impl.__doc__ = f"``Math.{name}(x)``."
    family.register(name)(impl)


def _log(fn: Any) -> Any:
    def log(x: float) -> float:
        if x == 0:
            return -_m.inf
        if x < 0 or x != x:
            return _m.nan
        return x if _m.isinf(x) else fn(x)

    return log


# fdlibm's cbrt (the algorithm V8 uses): libm cbrt differs from it by an ulp
# for about one input in ten, and JS code may compare results exactly.
_B1, _B2 = 715094163, 696219795
_P0, _P1, _P2 = 1.87595182427177009643, -1.88497979543377169875, 1.621429720105354466140
_P3, _P4 = -0.758397934778766047437, 0.145996192886612446982


def _bits(x: float) -> int:
    return int.from_bytes(struct.pack(">d", x), "big")


def _double(bits: int) -> float:
    return struct.unpack(">d", bits.to_bytes(8, "big"))[0]  # type: ignore[no-any-return]


def _cbrt(x: float) -> float:
    """``Math.cbrt`` exactly as V8 computes it (fdlibm)."""
    if not _m.isfinite(x) or x == 0:
        return x
    bits = _bits(x)
    hx = bits >> 32
    sign = hx & 0x80000000
    hx ^= sign
    if hx < 0x00100000:  # subnormal: scale by 2**54 first
        t = _double(0x43500000 << 32) * x
        high = _bits(t) >> 32
        t = _double((sign | ((high & 0x7FFFFFFF) // 3 + _B2)) << 32)
    else:
        t = _double((sign | (hx // 3 + _B1)) << 32)
    r = (t * t) * (t / x)
    t = t * ((_P0 + r * (_P1 + r * _P2)) + ((r * r) * r) * (_P3 + r * _P4))
    t = _double((_bits(t) + 0x80000000) & 0xFFFFFFFFC0000000)
    s = t * t
    r = x / s
    w = t + t
    r = (r - t) / (w + r)
    return t + t * r


def _sqrt(x: float) -> float:
    return x if x == 0 else _m.sqrt(x)


for _name, _fn in {
    "abs": abs,
    "acos": fdlibm.acos,
    "acosh": fdlibm.acosh,
    "asin": fdlibm.asin,
    "asinh": fdlibm.asinh,
    "atan": fdlibm.atan,
    "atanh": fdlibm.atanh,
    "cbrt": _cbrt,
    "ceil": js_ceil,
    "cos": fdlibm.cos,
    "exp": fdlibm.exp,
    "expm1": fdlibm.expm1,
    "floor": js_floor,
    "fround": js_fround,
    "log": _log(fdlibm.log),
    "log10": _log(fdlibm.log10),
    "log1p": fdlibm.log1p,
    "log2": _log(fdlibm.log2),
    "round": js_round,
    "sign": js_sign,
    "sin": fdlibm.sin,
    "sqrt": _sqrt,
    "tan": fdlibm.tan,
    "tanh": fdlibm.tanh,
    "trunc": js_trunc,
}.items():
    _unary(_name, _fn)


_unary("cosh", fdlibm.cosh)
_unary("sinh", fdlibm.sinh)


@family.register()
def atan2(y: Any = UNDEFINED, x: Any = UNDEFINED) -> Any:
    """``Math.atan2(y, x)``."""
    return js_num(fdlibm.atan2(to_number(y), to_number(x)))


@family.register()
def clz32(x: Any = UNDEFINED) -> int:
    """``Math.clz32(x)``: leading zero bits of the 32-bit unsigned value."""
    return _clz32(to_number(x))


@family.register()
def hypot(*values: Any) -> Any:
    """``Math.hypot(...values)``, with V8's algorithm (scale by the largest magnitude,
    Kahan-compensated sum of squares) so results match to the last bit."""
    nums = [abs(to_number(v)) for v in values]
    if any(_m.isinf(v) for v in nums):
        return _m.inf
    if any(v != v for v in nums):
        return _m.nan
    largest = max(nums, default=0.0)
    if largest == 0:
        return 0
    total = compensation = 0.0
    for v in nums:
        n = v / largest
        summand = n * n - compensation
        preliminary = total + summand
        compensation = (preliminary - total) - summand
        total = preliminary
    return js_num(_m.sqrt(total) * largest)


@family.register()
def imul(a: Any = UNDEFINED, b: Any = UNDEFINED) -> int:
    """``Math.imul(a, b)``: 32-bit integer multiplication."""
    product = (to_int32(to_number(a)) * to_int32(to_number(b))) & 0xFFFFFFFF
    return product - 0x100000000 if product >= 0x80000000 else product


@family.register()
def max_(*values: Any) -> Any:
    """``Math.max(...values)`` (no values → -Infinity)."""
    return js_num(js_max([to_number(v) for v in values]))


@family.register()
def min_(*values: Any) -> Any:
    """``Math.min(...values)`` (no values → Infinity)."""
    return js_num(js_min([to_number(v) for v in values]))


@family.register()
def pow_(base: Any = UNDEFINED, exponent: Any = UNDEFINED) -> Any:
    """``Math.pow(base, exponent)``."""
    return js_num(js_pow(to_number(base), to_number(exponent)))


@family.register()
def random() -> float:
    """``Math.random()``: a float in [0, 1)."""
    return _random.random()
