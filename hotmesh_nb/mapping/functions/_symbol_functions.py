"""``@symbol``: nullary constants (``{@symbol.null}``, ``{@symbol.date}``...)."""

from __future__ import annotations

import math as _m
import time as _time
from typing import Any

from .._function_registry import Family
from .._values import UNDEFINED, JSDate

family = Family("symbol")


@family.register("null")
def null() -> None:
    """``null``."""
    return None


@family.register("undefined")
def undefined() -> Any:
    """``undefined``."""
    return UNDEFINED


@family.register()
def whitespace() -> str:
    """A single space, ``' '``."""
    return " "


@family.register("object")
def object_() -> dict[str, Any]:
    """A new empty object ``{}``."""
    return {}


@family.register()
def array() -> list[Any]:
    """A new empty array ``[]``."""
    return []


@family.register()
def posInfinity() -> float:
    """``Infinity``."""
    return _m.inf


@family.register()
def negInfinity() -> float:
    """``-Infinity``."""
    return -_m.inf


@family.register()
def NaN() -> float:
    """``NaN``."""
    return _m.nan


@family.register()
def date() -> JSDate:
    """``new Date()`` — now."""
    return JSDate(_time.time_ns() // 1_000_000)
