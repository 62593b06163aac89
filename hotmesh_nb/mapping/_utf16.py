"""UTF-16 views of Python strings, so string indexes and lengths match JavaScript.

JS strings are sequences of UTF-16 code units: ``'😀'.length`` is 2. Python
strings hold code points. Index-based string functions convert with
:func:`units` (one Python character per code unit, astral characters become
surrogate pairs) and convert back with :func:`join_units`. Strings without
astral characters — nearly all of them — pass through untouched.
"""

from __future__ import annotations

import re

__all__ = ["has_astral", "join_units", "units", "utf16_len"]

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")


def has_astral(s: str) -> bool:
    """True when ``s`` has a character outside the Basic Multilingual Plane."""
    return not s.isascii() and _ASTRAL.search(s) is not None


def _split(m: re.Match[str]) -> str:
    cp = ord(m.group(0)) - 0x10000
    return chr(0xD800 + (cp >> 10)) + chr(0xDC00 + (cp & 0x3FF))


def units(s: str) -> str:
    """``s`` with astral characters split into surrogate pairs (one char per code unit)."""
    return _ASTRAL.sub(_split, s) if has_astral(s) else s


def _join(m: re.Match[str]) -> str:
    pair = m.group(0)
    hi, lo = pair[0], pair[1]
    return chr(0x10000 + ((ord(hi) - 0xD800) << 10) + (ord(lo) - 0xDC00))


def join_units(s: str) -> str:
    """Inverse of :func:`units`: recombine surrogate pairs (lone surrogates stay)."""
    if s.isascii():
        return s
    return _PAIR.sub(_join, s)


def utf16_len(s: str) -> int:
    """``s.length`` in JavaScript."""
    if s.isascii():
        return len(s)
    return len(s) + len(_ASTRAL.findall(s))
