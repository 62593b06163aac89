"""``@logical``: ``&&`` and ``||`` with JS value semantics (operands, not booleans)."""

from __future__ import annotations

from typing import Any

from .._coerce import truthy
from .._function_registry import Family
from .._values import UNDEFINED

family = Family("logical")


@family.register("and")
def and_(a: Any = UNDEFINED, b: Any = UNDEFINED) -> Any:
    """``a && b``: ``a`` when falsy, else ``b``."""
    return b if truthy(a) else a


@family.register("or")
def or_(a: Any = UNDEFINED, b: Any = UNDEFINED) -> Any:
    """``a || b``: ``a`` when truthy, else ``b``."""
    return a if truthy(a) else b
