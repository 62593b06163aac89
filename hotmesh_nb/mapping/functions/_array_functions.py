"""``@array``: array functions (``Array.prototype`` semantics, arrays are Python lists).

Functions called on a string behave like the string method of the same name
(JS dispatches on the receiver): ``{@array.slice}`` works on ``'abc'``.
"""

from __future__ import annotations

from functools import cmp_to_key
from typing import Any

from .._coerce import (
    array_join,
    js_less_than,
    same_value_zero,
    strict_equals,
    to_js_string,
    to_property_key,
    truthy,
)
from .._collate import locale_compare
from .._function_registry import Family
from .._objects import get_property
from .._values import UNDEFINED
from . import _string_functions as _string
from ._js import int_arg, is_nullish, method_error, relative_index, require_mutable

family = Family("array")


@family.register()
def get(array: Any = UNDEFINED, index: Any = UNDEFINED) -> Any:
    """``array?.[index || 0]``."""
    if is_nullish(array):
        return UNDEFINED
    key = index if truthy(index) else 0
    if type(array) is list and type(key) is int:
        return array[key] if 0 <= key < len(array) else UNDEFINED
    return get_property(array, to_property_key(key))


@family.register()
def length(array: Any = UNDEFINED) -> Any:
    """``array?.length``."""
    if is_nullish(array):
        return UNDEFINED
    return get_property(array, "length")


@family.register()
def concat(array1: Any = UNDEFINED, array2: Any = UNDEFINED) -> Any:
    """``array1.concat(array2)``: a new array (an array argument is spread)."""
    if isinstance(array1, str):
        return array1 + to_js_string(array2)
    if not isinstance(array1, list):
        raise method_error(array1, "concat")
    return [*array1, *array2] if isinstance(array2, list) else [*array1, array2]


def array_index_of(array: list[Any], item: Any, from_index: Any) -> int:
    """``Array.prototype.indexOf`` (strict equality)."""
    n = int_arg(from_index)
    size = len(array)
    if n >= size:
        return -1
    start = int(n) if n >= 0 else int(max(size + n, 0))
    for i in range(start, size):
        if strict_equals(array[i], item):
            return i
    return -1


def array_last_index_of(array: list[Any], item: Any, from_index: Any) -> int:
    """``Array.prototype.lastIndexOf`` with an explicit ``fromIndex`` (undefined → 0)."""
    size = len(array)
    if size == 0:
        return -1
    n = int_arg(from_index)
    k = int(min(n, size - 1)) if n >= 0 else int(size + n) if n != float("-inf") else -1
    for i in range(k, -1, -1):
        if strict_equals(array[i], item):
            return i
    return -1


def array_includes(array: list[Any], item: Any, from_index: Any) -> bool:
    """``Array.prototype.includes`` (SameValueZero: finds ``NaN``)."""
    n = int_arg(from_index)
    size = len(array)
    start = int(n) if n >= 0 else int(max(size + n, 0))
    return any(same_value_zero(array[i], item) for i in range(min(start, size), size))


@family.register()
def indexOf(
    array: Any = UNDEFINED, searchElement: Any = UNDEFINED, fromIndex: Any = UNDEFINED
) -> Any:
    """``array.indexOf(searchElement, fromIndex)``."""
    if isinstance(array, list):
        return array_index_of(array, searchElement, fromIndex)
    if isinstance(array, str):
        return _string.indexOf(array, searchElement, fromIndex)
    raise method_error(array, "indexOf")


@family.register()
def join(array: Any = UNDEFINED, separator: Any = UNDEFINED) -> str:
    """``array.join(separator)`` (``','`` when undefined; null/undefined items are ``''``)."""
    if not isinstance(array, list):
        raise method_error(array, "join")
    return array_join(array, "," if separator is UNDEFINED else to_js_string(separator))


@family.register()
def lastIndexOf(
    array: Any = UNDEFINED, searchElement: Any = UNDEFINED, fromIndex: Any = UNDEFINED
) -> Any:
    """``array.lastIndexOf(searchElement, fromIndex)`` — an omitted ``fromIndex`` is an
    explicit ``undefined`` (→ 0), so ``lastIndexOf([1,2,1,2], 2)`` is ``-1``, as measured."""
    if isinstance(array, list):
        return array_last_index_of(array, searchElement, fromIndex)
    if isinstance(array, str):
        return _string.lastIndexOf(array, searchElement, fromIndex)
    raise method_error(array, "lastIndexOf")


@family.register(mutates=True)
def pop(array: Any = UNDEFINED) -> Any:
    """``array.pop()``: removes and returns the last item (mutates)."""
    if not isinstance(array, list):
        raise method_error(array, "pop")
    if not array:
        return UNDEFINED
    require_mutable(array, "delete property")
    return array.pop()


@family.register(mutates=True)
def push(array: Any = UNDEFINED, *items: Any) -> Any:
    """``array.push(...items)`` — returns the array itself (not its length)."""
    if not isinstance(array, list):
        raise method_error(array, "push")
    if items:
        require_mutable(array, "add property")
        array.extend(items)
    return array


@family.register(mutates=True)
def reverse(array: Any = UNDEFINED) -> Any:
    """``array.reverse()`` (in place; returns the array)."""
    if not isinstance(array, list):
        raise method_error(array, "reverse")
    if len(array) > 1:
        require_mutable(array, "assign to read only property", grows=False)
    array.reverse()
    return array


@family.register(mutates=True)
def shift(array: Any = UNDEFINED) -> Any:
    """``array.shift()``: removes and returns the first item."""
    if not isinstance(array, list):
        raise method_error(array, "shift")
    if not array:
        return UNDEFINED
    require_mutable(array, "delete property")
    return array.pop(0)


@family.register()
def slice(array: Any = UNDEFINED, start: Any = UNDEFINED, end: Any = UNDEFINED) -> Any:
    """``array.slice(start, end)`` (negative indexes count from the end)."""
    if isinstance(array, str):
        return _string.slice(array, start, end)
    if not isinstance(array, list):
        raise method_error(array, "slice")
    size = len(array)
    return array[relative_index(start, size, 0) : relative_index(end, size, size)]


def _sort_key(ascending: bool) -> Any:
    def compare(a: Any, b: Any) -> int:
        # null first when ascending, last when descending; strings by locale.
        if a is None:
            return -1 if ascending else 1
        if b is None:
            return 1 if ascending else -1
        if isinstance(a, str) and isinstance(b, str):
            r = locale_compare(a, b)
            return r if ascending else -r
        if js_less_than(a, b):
            return -1 if ascending else 1
        if js_less_than(b, a):
            return 1 if ascending else -1
        return 0

    return cmp_to_key(compare)


@family.register()
def sort(array: Any = UNDEFINED, order: Any = UNDEFINED) -> Any:
    """A sorted copy: ``'ASCENDING'`` (default) or anything else for descending.

    Strings compare with ``localeCompare`` (``a < A < b < B``); ``null`` comes
    first ascending and last descending; ``undefined`` always last (as JS sort).
    """
    if not isinstance(array, list):
        raise method_error(array, "sort")
    ascending = order is UNDEFINED or order == "ASCENDING"
    defined = [x for x in array if x is not UNDEFINED]
    missing = len(array) - len(defined)
    return sorted(defined, key=_sort_key(ascending)) + [UNDEFINED] * missing


@family.register(mutates=True)
def splice(
    array: Any = UNDEFINED, start: Any = UNDEFINED, deleteCount: Any = UNDEFINED, *items: Any
) -> Any:
    """``array.splice(start, deleteCount, ...items)`` → removed items. An omitted
    ``deleteCount`` is an explicit ``undefined`` (→ 0): nothing is removed."""
    if not isinstance(array, list):
        raise method_error(array, "splice")
    size = len(array)
    begin = relative_index(start, size, 0)
    count = int(min(max(int_arg(deleteCount), 0), size - begin))
    if count or items:
        require_mutable(array, "add property", grows=bool(items) or bool(count))
    removed = array[begin : begin + count]
    array[begin : begin + count] = list(items)
    return removed


@family.register(mutates=True)
def unshift(array: Any = UNDEFINED, *items: Any) -> int:
    """``array.unshift(...items)`` → the new length."""
    if not isinstance(array, list):
        raise method_error(array, "unshift")
    if items:
        require_mutable(array, "add property")
        array[0:0] = list(items)
    return len(array)
