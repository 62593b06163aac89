"""``JSON.stringify`` and ``JSON.parse`` with JavaScript's exact output and grammar."""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
from typing import Any

from hotmesh_nb.errors import MappingError

from ._jsnumber import number_to_string, to_integer_or_infinity
from ._objects import is_index_key, js_object, own_keys
from ._values import UNDEFINED, JSDate, JSThrow, Undefined, js_num

__all__ = ["json_parse", "json_stringify", "to_json"]

try:  # the C accelerated string encoder, when available
    from json.encoder import c_encode_basestring as _encode_str  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    from json.encoder import py_encode_basestring as _encode_str

if _encode_str is None:  # pragma: no cover
    from json.encoder import py_encode_basestring as _encode_str

_SURROGATE = re.compile("[\ud800-\udfff]")
_INFINITIES = (math.inf, -math.inf)


def _quote(s: str) -> str:
    out: str = _encode_str(s)
    if not s.isascii() and _SURROGATE.search(s):
        # Well-formed JSON.stringify escapes lone surrogates.
        out = _SURROGATE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", out)
    return out


class _Encoder:
    """One JSON.stringify call: replacer allow-list, indentation and cycle detection."""

    __slots__ = ("allow", "gap", "stack")

    def __init__(self, allow: set[str] | None, gap: str) -> None:
        self.allow = allow
        self.gap = gap
        self.stack: set[int] = set()

    def value(self, v: Any, indent: str) -> str | None:
        """The JSON text of ``v``, or ``None`` when JS would produce ``undefined``."""
        t = type(v)  # exact-type dispatch first: the common JSON types
        if t is str:
            return _quote(v)
        if t is int:
            return str(v) if -(2**53) <= v <= 2**53 else number_to_string(v)
        if t is dict:
            return self.object(v, indent)
        if t is list:
            return self.array(v, indent)
        if v is None:
            return "null"
        if t is bool:
            return "true" if v else "false"
        if t is float:
            return "null" if (v != v or v in _INFINITIES) else number_to_string(v)
        if v is UNDEFINED:
            return None
        if isinstance(v, JSDate):
            from ._jsdate import iso_string

            return _quote(iso_string(v.time)) if v.is_valid() else "null"
        if isinstance(v, _dt.date):
            return self.value(JSDate.from_datetime(v), indent)
        if isinstance(v, str):
            return _quote(v)
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return self.value(float(v) if isinstance(v, float) else int(v), indent)
        if isinstance(v, (list, tuple)):
            return self.array(v, indent)
        if isinstance(v, dict):
            return self.object(v, indent)
        raise JSThrow("TypeError", f"cannot serialize a {type(v).__name__} to JSON")

    def _enter(self, v: Any) -> None:
        if id(v) in self.stack:
            raise JSThrow("TypeError", "Converting circular structure to JSON")
        self.stack.add(id(v))

    def array(self, v: list[Any] | tuple[Any, ...], indent: str) -> str:
        if not v:
            return "[]"
        self._enter(v)
        inner = indent + self.gap
        parts = [self.value(item, inner) or "null" for item in v]
        self.stack.discard(id(v))
        if not self.gap:
            return "[" + ",".join(parts) + "]"
        return "[\n" + inner + (",\n" + inner).join(parts) + "\n" + indent + "]"

    def object(self, v: dict[Any, Any], indent: str) -> str:
        self._enter(v)
        inner = indent + self.gap
        sep = ": " if self.gap else ":"
        items: Any = v.items()
        if _needs_order(v):
            # JS keys are strings, integer-like ones listed first.
            named = {(k if type(k) is str else _key_string(k)): x for k, x in v.items()}
            items = [(k, named[k]) for k in own_keys(named)]
        allow = self.allow
        parts = []
        for key, item in items:
            if allow is not None and key not in allow:
                continue
            text = self.value(item, inner)
            if text is not None:
                parts.append(_quote(key) + sep + text)
        self.stack.discard(id(v))
        if not parts:
            return "{}"
        if not self.gap:
            return "{" + ",".join(parts) + "}"
        return "{\n" + inner + (",\n" + inner).join(parts) + "\n" + indent + "}"


def _key_string(key: Any) -> str:
    from ._coerce import to_js_string

    return to_js_string(key)


def _needs_order(v: dict[Any, Any]) -> bool:
    """True when ``v`` has keys JS would list first (integer-like) or non-str keys."""
    for k in v:  # noqa: SIM110 - a plain loop is faster than any() on this hot path
        if type(k) is not str or (k[:1].isdigit() and is_index_key(k)):
            return True
    return False


def json_stringify(
    value: Any, replacer: Any = UNDEFINED, space: Any = UNDEFINED
) -> str | Undefined:
    """``JSON.stringify(value, replacer, space)``; raises :class:`JSThrow` on a cycle.

    A list ``replacer`` is a key allow-list (other replacers are ignored); ``space``
    is a number of spaces (≤ 10) or a string (first 10 characters).
    """
    allow: set[str] | None = None
    if isinstance(replacer, list):
        from ._coerce import to_js_string

        allow = {
            to_js_string(k)
            for k in replacer
            if isinstance(k, (str, int, float)) and not isinstance(k, bool)
        }
    gap = ""
    if isinstance(space, (int, float)) and not isinstance(space, bool):
        gap = " " * int(min(10.0, max(0.0, to_integer_or_infinity(float(space)))))
    elif isinstance(space, str):
        gap = space[:10]
    text = _Encoder(allow, gap).value(value, "")
    return UNDEFINED if text is None else text


def to_json(value: Any) -> str | Undefined:
    """Exactly JavaScript's ``JSON.stringify(value)``.

    No spaces; ``5`` not ``5.0``; ``undefined`` members are dropped from objects
    and become ``null`` in arrays; ``NaN``/``±Infinity`` become ``null``; dates
    become ISO strings. A top-level ``UNDEFINED`` gives ``UNDEFINED`` (as JS gives
    ``undefined``). Raises :class:`~hotmesh_nb.errors.MappingError` for a cyclic
    structure or a value JSON cannot represent.
    """
    try:
        return json_stringify(value)
    except JSThrow as exc:
        raise MappingError(f"JSON.stringify failed: {exc}", rule=None) from exc


def _reject_constant(name: str) -> Any:
    raise ValueError(f"Unexpected token {name[0]} in JSON")


def _parse_int(text: str) -> int | float:
    if text == "-0" or (text.startswith("-") and text.lstrip("-0") == ""):
        return -0.0
    n = int(text)
    return n if -(2**53) < n < 2**53 else js_num(float(n))


def _parse_float(text: str) -> int | float:
    return js_num(float(text))


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    return js_object(pairs)


_DECODER = json.JSONDecoder(
    parse_float=_parse_float,
    parse_int=_parse_int,
    parse_constant=_reject_constant,
    object_pairs_hook=_pairs,
)


def json_parse(text: str) -> Any:
    """``JSON.parse(text)`` (strict JSON; numbers normalized like JS doubles)."""
    try:
        return _DECODER.decode(text)
    except (ValueError, RecursionError) as exc:
        raise JSThrow("SyntaxError", f"JSON.parse: {exc}") from None
