"""``@json``: ``JSON.stringify`` and ``JSON.parse``."""

from __future__ import annotations

from typing import Any

from .._coerce import to_js_string
from .._function_registry import Family
from .._jsjson import json_parse, json_stringify
from .._values import UNDEFINED

family = Family("json")


@family.register()
def stringify(value: Any = UNDEFINED, replacer: Any = UNDEFINED, space: Any = UNDEFINED) -> Any:
    """``JSON.stringify(value, replacer, space)`` (an array replacer is a key allow-list)."""
    return json_stringify(value, replacer, space)


@family.register()
def parse(text: Any = UNDEFINED, reviver: Any = UNDEFINED) -> Any:
    """``JSON.parse(text)`` (the reviver, which YAML cannot express, is ignored)."""
    return json_parse(to_js_string(text))
