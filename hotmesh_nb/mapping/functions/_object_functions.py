"""``@object``: property access and the ``Object`` static functions.

Plain objects are dicts (keys in JS order: integer-like first). Property
attributes are not modelled: every property is writable, enumerable and
configurable, except on objects returned by ``freeze`` / ``seal`` /
``preventExtensions`` (marked copies, see :mod:`hotmesh_nb.mapping._objects`).
A property ``defineProperty`` makes non-enumerable (its default) is invisible
to keys and JSON in JS; here it is simply not stored.
"""

from __future__ import annotations

from typing import Any

from .._coerce import to_js_string, to_property_key, truthy
from .._function_registry import Family
from .._objects import (
    JSArray,
    JSObject,
    dict_get,
    get_property,
    has_own,
    integrity,
    is_index_key,
    own_keys,
    reorder,
)
from .._utf16 import units
from .._values import UNDEFINED, JSDate, JSThrow
from ._js import describe, is_nullish, require_mutable

family = Family("object")


def _is_object(value: Any) -> bool:
    return isinstance(value, (dict, list, JSDate))


def _keys(obj: Any) -> list[str]:
    """``Object.keys(obj)`` for a non-nullish value."""
    if isinstance(obj, dict):
        return own_keys(obj)
    if isinstance(obj, list):
        return [str(i) for i in range(len(obj))]
    if isinstance(obj, str):
        return [str(i) for i in range(len(units(obj)))]
    return []


def set_property(obj: Any, key: str, value: Any) -> None:
    """``obj[key] = value`` in strict mode (TypeError on primitives and frozen objects)."""
    if isinstance(obj, dict):
        exists = key in obj
        require_mutable(obj, f"assign to property '{key}'", grows=not exists)
        if integrity(obj) == "frozen":  # pragma: no cover - require_mutable raised
            return
        obj[key] = value
        if not exists and is_index_key(key):
            reorder(obj)
    elif isinstance(obj, list):
        if key == "length":
            size = int(to_property_key(value)) if is_index_key(to_property_key(value)) else -1
            if size < 0:
                raise JSThrow("RangeError", "Invalid array length")
            require_mutable(obj, "change length")
            del obj[size:]
            obj.extend([UNDEFINED] * (size - len(obj)))
        elif is_index_key(key):
            i = int(key)
            require_mutable(obj, f"assign to property '{key}'", grows=i >= len(obj))
            if i >= len(obj):
                obj.extend([UNDEFINED] * (i + 1 - len(obj)))
            obj[i] = value
        # Other named properties on arrays are not representable (and JSON drops them).
    elif not isinstance(obj, JSDate):
        raise JSThrow("TypeError", f"Cannot create property '{key}' on {describe(obj)}")


@family.register()
def get(obj: Any = UNDEFINED, prop: Any = UNDEFINED) -> Any:
    """``obj?.[prop]``."""
    if is_nullish(obj):
        return UNDEFINED
    if type(obj) is dict and type(prop) is str:
        return dict_get(obj, prop)
    return get_property(obj, to_property_key(prop))


@family.register("set", mutates=True)
def set_(obj: Any = UNDEFINED, prop: Any = UNDEFINED, value: Any = UNDEFINED) -> Any:
    """``obj[prop] = value`` (a falsy ``obj`` becomes a new ``{}``); returns ``obj``."""
    if not truthy(obj):
        obj = {}
    set_property(obj, to_property_key(prop), value)
    return obj


@family.register()
def create(*args: Any) -> dict[str, Any]:
    """An object from alternating keys and values: ``create('a', 1, 'b', 2)``."""
    out: dict[str, Any] = {}
    for i in range(0, len(args), 2):
        out[to_property_key(args[i])] = args[i + 1] if i + 1 < len(args) else UNDEFINED
    return reorder(out)


@family.register()
def keys(obj: Any = UNDEFINED) -> list[str]:
    """``Object.keys(obj)`` (``[]`` for null/undefined)."""
    return [] if is_nullish(obj) else _keys(obj)


@family.register()
def values(obj: Any = UNDEFINED) -> list[Any]:
    """``Object.values(obj)`` (``[]`` for null/undefined)."""
    if is_nullish(obj):
        return []
    return [get_property(obj, k) for k in _keys(obj)]


@family.register()
def entries(obj: Any = UNDEFINED) -> list[list[Any]]:
    """``Object.entries(obj)`` (``[]`` for null/undefined)."""
    if is_nullish(obj):
        return []
    return [[k, get_property(obj, k)] for k in _keys(obj)]


@family.register()
def fromEntries(entries: Any = UNDEFINED) -> dict[str, Any]:
    """``Object.fromEntries(entries)``: an array of ``[key, value]`` pairs → object."""
    if isinstance(entries, str):
        items: list[Any] = list(units(entries))
    elif isinstance(entries, list):
        items = entries
    else:
        raise JSThrow("TypeError", f"{describe(entries)} is not iterable")
    out: dict[str, Any] = {}
    for entry in items:
        if not _is_object(entry):
            raise JSThrow(
                "TypeError", f"Iterator value {to_js_string(entry)} is not an entry object"
            )
        key = get_property(entry, "0") if not isinstance(entry, JSDate) else UNDEFINED
        val = get_property(entry, "1") if not isinstance(entry, JSDate) else UNDEFINED
        out[to_property_key(key)] = val
    return reorder(out)


@family.register(mutates=True)
def assign(target: Any = UNDEFINED, *sources: Any) -> Any:
    """``Object.assign(target || {}, ...sources)``: copies own properties; returns the target.

    A falsy target (``null``, ``0``, ``''``...) starts a fresh object (the
    original's behaviour, where plain ``Object.assign(null)`` throws). A primitive target
    comes back as itself: JS wraps it in an object whose copied properties
    do not survive JSON, so the stored value is the primitive.
    """
    if not truthy(target):
        target = {}
    if not isinstance(target, (dict, list)):
        return target
    for source in sources:
        if is_nullish(source) or not isinstance(source, (dict, list, str)):
            continue
        for key in _keys(source):
            set_property(target, key, get_property(source, key))
    return target


@family.register()
def getOwnPropertyNames(obj: Any = UNDEFINED) -> list[str]:
    """``Object.getOwnPropertyNames(obj || {})`` (arrays and strings include ``'length'``)."""
    if not truthy(obj):
        return []
    names = _keys(obj)
    return [*names, "length"] if isinstance(obj, (list, str)) else names


@family.register()
def getOwnPropertySymbols(obj: Any = UNDEFINED) -> list[Any]:
    """``Object.getOwnPropertySymbols(obj)``: always ``[]`` (YAML has no symbols)."""
    return []


@family.register()
def getOwnPropertyDescriptor(obj: Any = UNDEFINED, prop: Any = UNDEFINED) -> Any:
    """``Object.getOwnPropertyDescriptor(obj, prop)`` (``undefined`` when absent)."""
    if is_nullish(obj):
        return UNDEFINED
    key = to_property_key(prop)
    if not has_own(obj, key):
        return UNDEFINED
    value = get_property(obj, key)
    if isinstance(obj, str):
        return {
            "value": value,
            "writable": False,
            "enumerable": key != "length",
            "configurable": False,
        }
    if isinstance(obj, list) and key == "length":
        return {"value": value, "writable": True, "enumerable": False, "configurable": False}
    level = integrity(obj)
    return {
        "value": value,
        "writable": level != "frozen",
        "enumerable": True,
        "configurable": level is None or level == "nonext",
    }


def _descriptor_field(descriptor: Any, name: str) -> Any:
    if isinstance(descriptor, dict):
        return descriptor.get(name, UNDEFINED)
    return UNDEFINED  # an array or a date has no descriptor fields


def _define(obj: Any, key: str, descriptor: Any) -> None:
    """JS ``DefineOwnProperty`` on plain data, where every property is enumerable.

    Attribute flags default to ``false``, so a *new* property is only visible
    (to keys, JSON, the job) when ``enumerable`` is truthy: otherwise it is not
    represented. A redefined property keeps its value unless ``value`` is given,
    and disappears when ``enumerable`` is given falsy.
    """
    if not isinstance(descriptor, (dict, list, JSDate)):
        raise JSThrow(
            "TypeError", f"Property description must be an object: {to_js_string(descriptor)}"
        )
    for accessor, label in (("get", "Getter"), ("set", "Setter")):
        fn = _descriptor_field(descriptor, accessor)
        if fn is not UNDEFINED:
            # Mapping data holds no functions, so any given accessor is not callable.
            raise JSThrow("TypeError", f"{label} must be a function: {to_js_string(fn)}")
    has_value = isinstance(descriptor, dict) and "value" in descriptor
    enumerable = _descriptor_field(descriptor, "enumerable")
    if has_own(obj, key):
        if isinstance(descriptor, dict) and "enumerable" in descriptor and not truthy(enumerable):
            _delete(obj, key)
        elif has_value and isinstance(descriptor, dict):
            set_property(obj, key, descriptor["value"])
        return
    if isinstance(obj, list) and key.isdigit() and str(int(key)) == key:
        # A new array index extends the array whatever its flags: JSON writes every
        # index below the length, enumerable or not.
        set_property(obj, key, _descriptor_field(descriptor, "value"))
    elif truthy(enumerable):
        set_property(obj, key, _descriptor_field(descriptor, "value"))
    elif integrity(obj) is not None:
        set_property(obj, key, UNDEFINED)  # raises: the object is not extensible


def _delete(obj: Any, key: str) -> None:
    if integrity(obj) in ("frozen", "sealed"):
        raise JSThrow("TypeError", f"Cannot redefine property: {key}")
    if isinstance(obj, dict):
        del obj[key]
    elif isinstance(obj, list) and key.isdigit() and int(key) < len(obj):
        obj[int(key)] = UNDEFINED


@family.register(mutates=True)
def defineProperty(obj: Any = UNDEFINED, prop: Any = UNDEFINED, descriptor: Any = UNDEFINED) -> Any:
    """``Object.defineProperty(obj, prop, descriptor)`` — sets ``descriptor.value``
    (attribute flags are not modelled); returns ``obj``."""
    if not _is_object(obj):
        raise JSThrow("TypeError", "Object.defineProperty called on non-object")
    _define(obj, to_property_key(prop), descriptor)
    return obj


@family.register(mutates=True)
def defineProperties(obj: Any = UNDEFINED, props: Any = UNDEFINED) -> Any:
    """``Object.defineProperties(obj, props)``; returns ``obj``."""
    if not _is_object(obj):
        raise JSThrow("TypeError", "Object.defineProperties called on non-object")
    if is_nullish(props):
        raise JSThrow("TypeError", "Cannot convert undefined or null to object")
    if isinstance(props, (dict, list, str)):
        for key in _keys(props):
            _define(obj, key, get_property(props, key))
    return obj


def _marked(obj: Any, level: str) -> Any:
    if isinstance(obj, dict):
        return JSObject(obj, level=level)
    if isinstance(obj, list):
        return JSArray(obj, level=level)
    return obj


@family.register()
def freeze(obj: Any = UNDEFINED) -> Any:
    """``Object.freeze(obj)``: a frozen object (later ``set``/``push`` on it throw)."""
    return _marked(obj, "frozen")


@family.register()
def seal(obj: Any = UNDEFINED) -> Any:
    """``Object.seal(obj)``: properties can change but not be added or removed."""
    return _marked(obj, "frozen" if integrity(obj) == "frozen" else "sealed")


@family.register()
def preventExtensions(obj: Any = UNDEFINED) -> Any:
    """``Object.preventExtensions(obj)``: no new properties."""
    level = integrity(obj)
    return _marked(obj, level or "nonext")


def _level_at_least(obj: Any, wanted: tuple[str, ...]) -> bool:
    if not _is_object(obj):
        return True  # primitives are frozen, sealed and non-extensible
    level = integrity(obj)
    if level in wanted:
        return True
    # A non-extensible object without properties is also sealed and frozen.
    return level is not None and not obj


@family.register()
def isFrozen(obj: Any = UNDEFINED) -> bool:
    """``Object.isFrozen(obj)``."""
    return _level_at_least(obj, ("frozen",))


@family.register()
def isSealed(obj: Any = UNDEFINED) -> bool:
    """``Object.isSealed(obj)``."""
    return _level_at_least(obj, ("frozen", "sealed"))


@family.register()
def isExtensible(obj: Any = UNDEFINED) -> bool:
    """``Object.isExtensible(obj)``."""
    return _is_object(obj) and integrity(obj) is None


@family.register()
def hasOwnProperty(obj: Any = UNDEFINED, prop: Any = UNDEFINED) -> bool:
    """``Object.prototype.hasOwnProperty.call(obj, prop)``."""
    if is_nullish(obj):
        raise JSThrow("TypeError", "Cannot convert undefined or null to object")
    return has_own(obj, to_property_key(prop))


@family.register()
def isPrototypeOf(obj: Any = UNDEFINED, value: Any = UNDEFINED) -> bool:
    """``obj.isPrototypeOf(value)``: plain data is never another's prototype → false.

    As in JS, a primitive ``value`` answers ``false`` before ``obj`` is checked,
    so only ``isPrototypeOf(null, {...})`` throws.
    """
    if not isinstance(value, (dict, list, JSDate)):
        return False
    if is_nullish(obj):
        raise JSThrow("TypeError", "Cannot convert undefined or null to object")
    return False


@family.register()
def propertyIsEnumerable(obj: Any = UNDEFINED, prop: Any = UNDEFINED) -> bool:
    """``obj.propertyIsEnumerable(prop)`` (an array's ``length`` is not enumerable)."""
    if is_nullish(obj):
        raise JSThrow("TypeError", "Cannot convert undefined or null to object")
    key = to_property_key(prop)
    if key == "length" and isinstance(obj, (list, str)):
        return False
    return has_own(obj, key)
