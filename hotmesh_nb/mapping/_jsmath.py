"""``Math.*`` with JavaScript results where Python's ``math`` raises or differs."""

from __future__ import annotations

import math
import struct

from ._jsnumber import to_uint32

__all__ = [
    "js_ceil",
    "js_div",
    "js_floor",
    "js_fround",
    "js_max",
    "js_min",
    "js_round",
    "js_sign",
    "js_trunc",
    "safe",
]


def safe(fn: object, x: float, *, overflow: float = math.inf) -> float:
    """``fn(x)`` with domain errors → NaN and overflow → ``overflow`` (JS never raises)."""
    try:
        return fn(x)  # type: ignore[operator, no-any-return]
    except ValueError:
        return math.nan
    except OverflowError:
        return overflow


def js_div(a: float, b: float) -> float:
    """JS ``a / b`` (division by zero gives ±Infinity or NaN)."""
    if b == 0:
        if a == 0 or a != a:
            return math.nan
        return math.copysign(math.inf, a) * math.copysign(1.0, b)
    return a / b


def js_floor(x: float) -> float:
    """``Math.floor`` (keeps -0, NaN, infinities)."""
    if not math.isfinite(x) or x == 0:
        return x
    return float(math.floor(x))


def js_ceil(x: float) -> float:
    """``Math.ceil``: ``ceil(-0.5)`` is ``-0``."""
    if not math.isfinite(x) or x == 0:
        return x
    r = float(math.ceil(x))
    return -0.0 if r == 0 and x < 0 else r


def js_trunc(x: float) -> float:
    """``Math.trunc``: ``trunc(-0.5)`` is ``-0``."""
    if not math.isfinite(x) or x == 0:
        return x
    r = float(math.trunc(x))
    return -0.0 if r == 0 and x < 0 else r


def js_round(x: float) -> float:
    """``Math.round``: half toward +Infinity (``-2.5`` → ``-2``), ``-0.4`` → ``-0``."""
    if not math.isfinite(x) or x == 0:
        return x
    if -0.5 <= x < 0:
        return -0.0
    r = math.floor(x)
    return float(r + 1 if x - r >= 0.5 else r)


def js_sign(x: float) -> float:
    """``Math.sign`` (keeps -0 and NaN)."""
    if x != x or x == 0:
        return x
    return 1.0 if x > 0 else -1.0


def js_fround(x: float) -> float:
    """``Math.fround``: nearest single-precision value."""
    try:
        return struct.unpack("f", struct.pack("f", x))[0]  # type: ignore[no-any-return]
    except OverflowError:
        return math.copysign(math.inf, x)


def js_max(values: list[float]) -> float:
    """``Math.max`` (NaN wins; ``+0 > -0``; no values → -Infinity)."""
    best = -math.inf
    for v in values:
        if v != v:
            return math.nan
        if v > best or (v == 0 and best == 0 and math.copysign(1, best) < 0):
            best = v
    return best


def js_min(values: list[float]) -> float:
    """``Math.min`` (NaN wins; ``-0 < +0``; no values → Infinity)."""
    best = math.inf
    for v in values:
        if v != v:
            return math.nan
        if v < best or (v == 0 and best == 0 and math.copysign(1, v) < 0):
            best = v
    return best


def clz32(x: float) -> int:
    """``Math.clz32``."""
    return 32 - to_uint32(x).bit_length()
