"""``@bitwise``: 32-bit integer operators (operands go through ToInt32 / ToUint32)."""

from __future__ import annotations

from typing import Any

from .._coerce import to_number
from .._function_registry import Family
from .._jsnumber import to_int32, to_uint32
from .._values import UNDEFINED

family = Family("bitwise")


def _int32(n: int) -> int:
    n &= 0xFFFFFFFF
    return n - 0x100000000 if n >= 0x80000000 else n


@family.register("and")
def and_(a: Any = UNDEFINED, b: Any = UNDEFINED) -> int:
    """``a & b``."""
    return to_int32(to_number(a)) & to_int32(to_number(b))


@family.register("or")
def or_(a: Any = UNDEFINED, b: Any = UNDEFINED) -> int:
    """``a | b``."""
    return to_int32(to_number(a)) | to_int32(to_number(b))


@family.register()
def xor(a: Any = UNDEFINED, b: Any = UNDEFINED) -> int:
    """``a ^ b``."""
    return to_int32(to_number(a)) ^ to_int32(to_number(b))


@family.register()
def leftShift(a: Any = UNDEFINED, b: Any = UNDEFINED) -> int:
    """``a << b`` (wraps to 32 bits)."""
    return _int32(to_int32(to_number(a)) << (to_uint32(to_number(b)) & 31))


@family.register()
def rightShift(a: Any = UNDEFINED, b: Any = UNDEFINED) -> int:
    """``a >> b`` (sign-propagating)."""
    return to_int32(to_number(a)) >> (to_uint32(to_number(b)) & 31)


@family.register()
def unsignedRightShift(a: Any = UNDEFINED, b: Any = UNDEFINED) -> int:
    """``a >>> b`` (zero-filling; the result is unsigned)."""
    return to_uint32(to_number(a)) >> (to_uint32(to_number(b)) & 31)
