"""``@string``: string functions (``String.prototype`` semantics, UTF-16 indexes).

Functions called on an array behave like the array method of the same name
where JS has one (``includes``, ``indexOf``, ``lastIndexOf``, ``slice``).
"""

from __future__ import annotations

import math
from typing import Any

from .._coerce import array_join, to_js_string, to_number
from .._function_registry import Family
from .._jsnumber import js_trim, js_trim_end, js_trim_start, to_integer_or_infinity
from .._jsregex import js_search
from .._utf16 import join_units, units
from .._values import UNDEFINED, JSThrow
from ._js import check_length, int_arg, relative_index, require_str

family = Family("string")


@family.register()
def split(input: Any = UNDEFINED, delimiter: Any = UNDEFINED) -> list[str]:
    """``input.split(delimiter)``; ``''`` splits into UTF-16 code units."""
    s = require_str(input, "split")
    if delimiter is UNDEFINED:
        return [s]
    sep = to_js_string(delimiter)
    if sep == "":
        return list(units(s))
    return s.split(sep)


@family.register()
def charAt(input: Any = UNDEFINED, index: Any = UNDEFINED) -> str:
    """``input.charAt(index)`` (``''`` when out of range)."""
    u = units(require_str(input, "charAt"))
    pos = int_arg(index)
    return u[int(pos)] if 0 <= pos < len(u) else ""


@family.register()
def concat(*strings: Any) -> str:
    """All arguments joined with ``''`` (``null``/``undefined`` add nothing)."""
    return array_join(list(strings), "")


@family.register()
def includes(
    input: Any = UNDEFINED, searchString: Any = UNDEFINED, position: Any = UNDEFINED
) -> bool:
    """``input.includes(searchString, position)``."""
    if isinstance(input, list):
        from ._array_functions import array_includes

        return array_includes(input, searchString, position)
    u = units(require_str(input, "includes"))
    start = int(min(max(int_arg(position), 0), len(u)))
    return units(to_js_string(searchString)) in u[start:]


@family.register()
def indexOf(
    input: Any = UNDEFINED, searchString: Any = UNDEFINED, position: Any = UNDEFINED
) -> int:
    """``input.indexOf(searchString, position)``."""
    if isinstance(input, list):
        from ._array_functions import array_index_of

        return array_index_of(input, searchString, position)
    u = units(require_str(input, "indexOf"))
    start = int(min(max(int_arg(position), 0), len(u)))
    return u.find(units(to_js_string(searchString)), start)


@family.register()
def lastIndexOf(
    input: Any = UNDEFINED, searchString: Any = UNDEFINED, position: Any = UNDEFINED
) -> int:
    """``input.lastIndexOf(searchString, position)`` (undefined position → from the end)."""
    if isinstance(input, list):
        from ._array_functions import array_last_index_of

        return array_last_index_of(input, searchString, position)
    u = units(require_str(input, "lastIndexOf"))
    needle = units(to_js_string(searchString))
    num = to_number(position)
    pos = math.inf if num != num else to_integer_or_infinity(num)
    start = int(min(max(pos, 0), len(u)))
    return u.rfind(needle, 0, start + len(needle))


@family.register()
def slice(input: Any = UNDEFINED, start: Any = UNDEFINED, end: Any = UNDEFINED) -> Any:
    """``input.slice(start, end)`` (negative indexes count from the end)."""
    if isinstance(input, list):
        from ._array_functions import slice as array_slice

        return array_slice(input, start, end)
    u = units(require_str(input, "slice"))
    size = len(u)
    return join_units(u[relative_index(start, size, 0) : relative_index(end, size, size)])


@family.register()
def toLowerCase(input: Any = UNDEFINED) -> str:
    """``input.toLowerCase()``."""
    return require_str(input, "toLowerCase").lower()


@family.register()
def toUpperCase(input: Any = UNDEFINED) -> str:
    """``input.toUpperCase()`` (full case mapping: ``'straße'`` → ``'STRASSE'``)."""
    return require_str(input, "toUpperCase").upper()


@family.register()
def trim(input: Any = UNDEFINED) -> str:
    """``input.trim()`` (JS whitespace and line terminators)."""
    return js_trim(require_str(input, "trim"))


@family.register()
def trimStart(input: Any = UNDEFINED) -> str:
    """``input.trimStart()``."""
    return js_trim_start(require_str(input, "trimStart"))


@family.register()
def trimEnd(input: Any = UNDEFINED) -> str:
    """``input.trimEnd()``."""
    return js_trim_end(require_str(input, "trimEnd"))


def _pad(s: str, max_length: Any, fill: Any, at_start: bool) -> str:
    u = units(s)
    target = to_integer_or_infinity(to_number(max_length))
    if target <= len(u):
        return s
    filler = " " if fill is UNDEFINED else units(to_js_string(fill))
    if filler == "":
        return s
    check_length(target)
    need = int(target) - len(u)
    pad = (filler * (need // len(filler) + 1))[:need]
    return join_units(pad + u if at_start else u + pad)


@family.register()
def padStart(
    input: Any = UNDEFINED, maxLength: Any = UNDEFINED, fillString: Any = UNDEFINED
) -> str:
    """``input.padStart(maxLength, fillString)`` (``' '`` by default)."""
    return _pad(require_str(input, "padStart"), maxLength, fillString, True)


@family.register()
def padEnd(input: Any = UNDEFINED, maxLength: Any = UNDEFINED, fillString: Any = UNDEFINED) -> str:
    """``input.padEnd(maxLength, fillString)``."""
    return _pad(require_str(input, "padEnd"), maxLength, fillString, False)


def substitute(replacement: str, matched: str, before: str, after: str) -> str:
    """JS GetSubstitution for a string pattern: ``$$``, ``$&``, ``$```, ``$'``."""
    if "$" not in replacement:
        return replacement
    out: list[str] = []
    i, n = 0, len(replacement)
    while i < n:
        c = replacement[i]
        nxt = replacement[i + 1] if i + 1 < n else ""
        if c == "$" and nxt in ("$", "&", "`", "'"):
            out.append({"$": "$", "&": matched, "`": before, "'": after}[nxt])
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


@family.register()
def replace(
    input: Any = UNDEFINED, searchValue: Any = UNDEFINED, replaceValue: Any = UNDEFINED
) -> str:
    """``input.replace(searchValue, replaceValue)``: the first occurrence only, with JS
    replacement patterns; an undefined replacement inserts ``'undefined'``."""
    s = require_str(input, "replace")
    needle = to_js_string(searchValue)
    repl = to_js_string(replaceValue)
    pos = s.find(needle)
    if pos < 0:
        return s
    after = s[pos + len(needle) :]
    return s[:pos] + substitute(repl, needle, s[:pos], after) + after


@family.register()
def search(input: Any = UNDEFINED, regexp: Any = UNDEFINED) -> int:
    """``input.search(regexp)``: the argument becomes a RegExp (``'.'`` matches anything)."""
    u = units(require_str(input, "search"))
    pattern = "(?:)" if regexp is UNDEFINED else to_js_string(regexp)
    return js_search(pattern, u)


@family.register()
def substring(input: Any = UNDEFINED, start: Any = UNDEFINED, end: Any = UNDEFINED) -> str:
    """``input.substring(start, end)`` (negatives clamp to 0; swapped when start > end)."""
    u = units(require_str(input, "substring"))
    size = len(u)
    a = int(min(max(int_arg(start), 0), size))
    b = size if end is UNDEFINED else int(min(max(int_arg(end), 0), size))
    lo, hi = min(a, b), max(a, b)
    return join_units(u[lo:hi])


@family.register()
def startsWith(
    input: Any = UNDEFINED, searchString: Any = UNDEFINED, position: Any = UNDEFINED
) -> bool:
    """``input.startsWith(searchString, position)``."""
    u = units(require_str(input, "startsWith"))
    start = int(min(max(int_arg(position), 0), len(u)))
    return u.startswith(units(to_js_string(searchString)), start)


@family.register()
def endsWith(
    input: Any = UNDEFINED, searchString: Any = UNDEFINED, length: Any = UNDEFINED
) -> bool:
    """``input.endsWith(searchString, length)``."""
    u = units(require_str(input, "endsWith"))
    end = len(u) if length is UNDEFINED else int(min(max(int_arg(length), 0), len(u)))
    return u[:end].endswith(units(to_js_string(searchString)))


@family.register()
def repeat(input: Any = UNDEFINED, count: Any = UNDEFINED) -> str:
    """``input.repeat(count)``; a negative or infinite count throws a RangeError."""
    s = require_str(input, "repeat")
    n = int_arg(count)
    if n < 0 or math.isinf(n):
        raise JSThrow("RangeError", f"Invalid count value: {to_js_string(n)}")
    if s and n:
        check_length(len(units(s)) * n)
    return s * int(n)
