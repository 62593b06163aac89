"""JSON for job state and stream messages, with JavaScript's value rules.

Values produced by mapping rules may hold ``UNDEFINED`` (dropped from objects,
``null`` in arrays, as ``JSON.stringify`` does), NaN/Infinity (``null``) and
dates. The C encoder handles the common case; anything it refuses goes through
the mapping language's JavaScript-exact encoder.
"""

from __future__ import annotations

import json
from typing import Any

from ..mapping import UNDEFINED, to_json

_encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_decode = json.JSONDecoder().decode


def _c_encodable(value: Any) -> bool:
    """True when the C encoder writes exactly what JavaScript would.

    It does not for floats (``5.0`` vs ``5``, ``1e+16``), for dicts with
    integer-like keys (JavaScript lists those first) and for JS-only values.
    """
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str or (key[:1].isdigit() and key.isdigit()):
                return False
            if not _c_encodable(item):
                return False
        return True
    if kind is list:
        return all(_c_encodable(item) for item in value)
    return False


def dumps(value: Any) -> str:
    """Encode ``value`` as JavaScript's ``JSON.stringify`` would (compact)."""
    if _c_encodable(value):
        return _encode(value)
    text = to_json(value)
    return "null" if text is UNDEFINED or text is None else text


def loads(text: str | bytes) -> Any:
    """Decode JSON text."""
    return _decode(text if isinstance(text, str) else text.decode())
