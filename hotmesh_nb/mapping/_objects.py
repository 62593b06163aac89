"""JavaScript object model over ``dict`` / ``list``: property keys, order, access, cloning.

JS objects list integer-like keys (array indexes) first in ascending order,
then string keys in insertion order; :func:`own_keys` and :func:`js_object`
follow that. Frozen / sealed / non-extensible objects are the marked
subclasses :class:`JSObject` and :class:`JSArray`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._utf16 import units, utf16_len
from ._values import UNDEFINED, JSDate, JSThrow

__all__ = [
    "JSArray",
    "JSObject",
    "clone",
    "get_property",
    "integrity",
    "is_index_key",
    "js_object",
    "own_keys",
    "reorder",
]

MAX_INDEX = 2**32 - 2


class JSObject(dict):  # type: ignore[type-arg]
    """A dict with a JS integrity level: ``'frozen'``, ``'sealed'`` or ``'nonext'``."""

    __slots__ = ("level",)

    def __init__(self, *args: Any, level: str = "frozen") -> None:
        super().__init__(*args)
        self.level = level


class JSArray(list):  # type: ignore[type-arg]
    """A list with a JS integrity level (see :class:`JSObject`)."""

    __slots__ = ("level",)

    def __init__(self, *args: Any, level: str = "frozen") -> None:
        super().__init__(*args)
        self.level = level


def integrity(obj: Any) -> str | None:
    """The integrity level of ``obj`` (``None`` for an ordinary extensible object)."""
    return getattr(obj, "level", None)


def is_index_key(key: str) -> bool:
    """True for a canonical array-index string (``'0'``, ``'17'``; not ``'01'`` or ``'-1'``)."""
    return (
        key.isdigit()
        and key.isascii()
        and (key == "0" or key[0] != "0")
        and (len(key) < 10 or int(key) <= MAX_INDEX)
    )


def own_keys(obj: dict[Any, Any]) -> list[str]:
    """Own enumerable keys of ``obj`` as strings, in JavaScript property order."""
    keys = [k if isinstance(k, str) else _key_str(k) for k in obj]
    indexes = [k for k in keys if is_index_key(k)]
    if not indexes:
        return keys
    indexes.sort(key=int)
    return indexes + [k for k in keys if not is_index_key(k)]


def _key_str(key: Any) -> str:
    from ._coerce import to_js_string

    return to_js_string(key)


def js_object(pairs: Iterable[tuple[str, Any]]) -> dict[str, Any]:
    """A new dict from ``(key, value)`` pairs, in JavaScript property order."""
    out = dict(pairs)
    return reorder(out)


def reorder(obj: dict[str, Any]) -> dict[str, Any]:
    """Put integer-like keys of ``obj`` first (ascending), in place; returns ``obj``."""
    keys = list(obj)
    if not any(isinstance(k, str) and is_index_key(k) for k in keys):
        return obj
    order = own_keys(obj)
    if order != keys:
        items = {k: obj[k] for k in order}
        obj.clear()
        obj.update(items)
    return obj


def dict_get(obj: dict[Any, Any], key: str) -> Any:
    """Own property ``key`` of a dict (accepting ``int`` keys for integer-like names)."""
    try:
        return obj[key]
    except KeyError:
        if is_index_key(key):
            return obj.get(int(key), UNDEFINED)
        return UNDEFINED


def has_own(obj: Any, key: str) -> bool:
    """``Object.prototype.hasOwnProperty.call(obj, key)`` for mapping values."""
    if isinstance(obj, dict):
        return key in obj or (is_index_key(key) and int(key) in obj)
    if isinstance(obj, list):
        return key == "length" or (is_index_key(key) and int(key) < len(obj))
    if isinstance(obj, str):
        return key == "length" or (is_index_key(key) and int(key) < utf16_len(obj))
    return False


def get_property(obj: Any, key: str) -> Any:
    """``obj[key]`` for a non-nullish value and a property-key string."""
    if isinstance(obj, dict):
        return dict_get(obj, key)
    if isinstance(obj, list):
        if key == "length":
            return len(obj)
        if is_index_key(key):
            i = int(key)
            return obj[i] if i < len(obj) else UNDEFINED
        return UNDEFINED
    if isinstance(obj, str):
        if key == "length":
            return utf16_len(obj)
        if is_index_key(key):
            u = units(obj)
            i = int(key)
            return u[i] if i < len(u) else UNDEFINED
        return UNDEFINED
    if obj is None or obj is UNDEFINED:
        raise JSThrow(
            "TypeError", f"Cannot read properties of {'null' if obj is None else 'undefined'}"
        )
    return UNDEFINED


def clone(value: Any) -> Any:
    """Deep copy of a mapping value (dicts, lists, dates); scalars are shared."""
    if isinstance(value, dict):
        return {k: clone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clone(v) for v in value]
    if isinstance(value, JSDate):
        return JSDate(value.time)
    return value
