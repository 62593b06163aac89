"""Translate a JavaScript regular expression (no flags) into a Python ``re`` pattern.

Covers what ``new RegExp(string)`` accepts in practice: classes, quantifiers,
groups (named, non-capturing, lookarounds), alternation, backreferences and
escapes, with JavaScript meanings where Python differs:

* ``\\d \\w \\b`` are ASCII-only (compiled with ``re.ASCII``); ``\\s`` is JS's
  Unicode whitespace set;
* ``.`` excludes all four JS line terminators; ``$`` is the very end of input;
* ``[^]`` matches anything, ``[]`` matches nothing;
* a ``{`` that does not start a valid quantifier is a literal;
* unknown identity escapes (``\\e``) are the letter itself (Annex B).

Input strings should be in UTF-16 form (:func:`~hotmesh_nb.mapping._utf16.units`)
so ``.`` matches one code unit, as in JS without the ``u`` flag.

Patterns are compiled with the ``regex`` package (in its ``re``-compatible
``VERSION0`` mode) because it can bound a match in time: a pattern that
backtracks catastrophically (``(a|a)+$`` on ``'aaaa…!'``) would otherwise hold
the GIL and freeze every engine of the process. :func:`js_search` matches with
``concurrent=True`` (other threads keep running) and gives up after
:data:`REGEX_TIMEOUT_SECONDS` (reported as a :class:`~hotmesh_nb.errors.MappingError`).
Patterns that finish give exactly the answers they gave before.
"""

from __future__ import annotations

import re
import warnings
from functools import lru_cache
from typing import TYPE_CHECKING

from ._values import JSThrow

if TYPE_CHECKING:
    import regex

__all__ = ["REGEX_TIMEOUT_SECONDS", "RegexTimeout", "compile_js_regex", "js_search"]

REGEX_TIMEOUT_SECONDS: float = 1.0
"""How long one regular-expression match may run before it fails (seconds).

A legitimate pattern over mapping data finishes in microseconds; only
catastrophic backtracking comes near this bound.
"""

_JS_SPACE = (
    "\\t\\n\\x0b\\x0c\\r \\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
)
_CLASS_ESC = {"d": "0-9", "w": "A-Za-z0-9_", "s": _JS_SPACE}
_ATOM_ESC = {
    "d": "[0-9]",
    "D": "[^0-9]",
    "w": "[A-Za-z0-9_]",
    "W": "[^A-Za-z0-9_]",
    "s": f"[{_JS_SPACE}]",
    "S": f"[^{_JS_SPACE}]",
    "b": "\\b",
    "B": "\\B",
}
_CONTROL = {"t": "\\t", "n": "\\n", "r": "\\r", "v": "\\x0b", "f": "\\x0c"}
_QUANT = re.compile(r"\{(\d+)(,(\d*))?\}")
_HEX2 = re.compile(r"[0-9a-fA-F]{2}")
_HEX4 = re.compile(r"[0-9a-fA-F]{4}")


def _count_groups(src: str) -> int:
    """Number of capturing groups (to tell ``\\1`` backreferences from octal escapes)."""
    count, i, in_class = 0, 0, False
    while i < len(src):
        c = src[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(" and (
            src[i + 1 : i + 2] != "?"
            or (src[i + 1 : i + 3] == "?<" and src[i + 3 : i + 4] not in ("=", "!"))
        ):
            count += 1
        i += 1
    return count


def _escape(src: str, i: int, in_class: bool, groups: int) -> tuple[str, int]:
    """Translate the escape at ``src[i] == '\\\\'``; returns (python text, next index)."""
    if i + 1 >= len(src):
        raise JSThrow("SyntaxError", "Invalid regular expression: \\ at end of pattern")
    c = src[i + 1]
    j = i + 2
    if in_class and c in _CLASS_ESC:
        return _CLASS_ESC[c], j
    if in_class and c in "DW":
        return "\\" + c, j  # with re.ASCII these are exactly JS's [^0-9] / [^A-Za-z0-9_]
    if in_class and c == "S":
        raise JSThrow("SyntaxError", "\\S inside a character class is not supported")
    if in_class and c == "b":
        return "\\x08", j
    if not in_class and c in _ATOM_ESC:
        return _ATOM_ESC[c], j
    if c in _CONTROL:
        return _CONTROL[c], j
    if c == "x" and _HEX2.match(src, j):
        return "\\x" + src[j : j + 2], j + 2
    if c == "u" and _HEX4.match(src, j):
        return "\\u" + src[j : j + 4], j + 4
    if c == "c" and j < len(src) and src[j].isascii() and src[j].isalpha():
        return f"\\x{ord(src[j]) % 32:02x}", j + 1
    if c.isdigit():
        k = j
        while k < len(src) and src[k].isdigit():
            k += 1
        number = int(src[i + 1 : k])
        if not in_class and c != "0" and number <= groups:
            return f"(?:\\{number})", k
        # Annex B: a legacy octal escape (up to three octal digits), else the digit.
        m = re.match(r"[0-7]{1,3}", src[i + 1 :])
        if m and int(m.group(0), 8) <= 0o377:
            return f"\\x{int(m.group(0), 8):02x}", i + 1 + len(m.group(0))
        return re.escape(c), j
    if c == "k" and not in_class and src[j : j + 1] == "<":
        end = src.find(">", j)
        if end > 0:
            return f"(?P={src[j + 1 : end]})", end + 1
    return re.escape(c), j


def _syntax_error(src: str, message: str) -> JSThrow:
    return JSThrow("SyntaxError", f"Invalid regular expression: /{src}/: {message}")


def _check_group(src: str, i: int) -> None:
    """JS knows only ``(?:``, ``(?=``, ``(?!``, ``(?<=``, ``(?<!`` and ``(?<name>``.

    Python (and ``regex``) would accept more (``(?i)``, ``(?>``, ``(?|``, ``(?#``,
    ``(?P<``), which JS rejects as an invalid group.
    """
    if not src.startswith("(?", i):
        return
    rest = src[i + 2 : i + 4]
    if rest[:1] in (":", "=", "!") or rest in ("<=", "<!"):
        return
    if rest[:1] == "<" and re.match(r"<[A-Za-z_$][\w$]*>", src[i + 2 :]):
        return
    raise _syntax_error(src, "Invalid group")


@lru_cache(maxsize=256)
def compile_js_regex(src: str) -> regex.Pattern[str]:
    """Compile JS regex source ``src`` (as in ``new RegExp(src)``) to a Python pattern."""
    groups = _count_groups(src)
    out: list[str] = []
    i, n = 0, len(src)
    # What the last token was: a quantifier may follow an atom, and one '?'
    # (lazy) may follow a quantifier; anything more is "Nothing to repeat".
    last = "none"
    while i < n:
        c = src[i]
        if c in "*+?" or (c == "{" and _QUANT.match(src, i) and out):
            if last == "quant" and c == "?":
                last = "lazy"
            elif last in ("quant", "lazy"):
                raise _syntax_error(src, "Nothing to repeat")
            else:
                last = "quant"
        else:
            last = "atom"
        if c == "\\":
            text, i = _escape(src, i, False, groups)
            out.append(text)
            continue
        if c == "[":
            i = _class(src, i, out, groups)
            continue
        if c == "(":
            _check_group(src, i)
        if c == ".":
            out.append("[^\\n\\r\\u2028\\u2029]")
        elif c == "$":
            out.append("\\Z")
        elif c == "(" and src.startswith("(?<", i) and src[i + 3 : i + 4] not in ("=", "!"):
            out.append("(?P<")
            i += 3
            continue
        elif c == "{":
            m = _QUANT.match(src, i)
            if m and out:
                out.append(m.group(0))
                i = m.end()
                continue
            out.append("\\{")
        elif c == "}":
            out.append("\\}")
        else:
            out.append(c)
        i += 1
    import regex  # imported on first use: `import hotmesh_nb` stays light

    try:
        with warnings.catch_warnings():
            # Python warns about set operations ('--', '&&') JS does not have.
            warnings.simplefilter("ignore")
            return regex.compile("".join(out), regex.ASCII | regex.VERSION0)
    except (regex.error, re.error, OverflowError, RecursionError) as exc:
        raise _syntax_error(src, str(exc)) from None


class RegexTimeout(Exception):
    """A regular-expression match ran past :data:`REGEX_TIMEOUT_SECONDS`.

    Internal: the pipe evaluator reports it as a
    :class:`~hotmesh_nb.errors.MappingError` naming the function, rule and path.
    """


def js_search(src: str, text: str) -> int:
    """``text.search(new RegExp(src))``: the first match's index, or -1.

    ``text`` is in UTF-16 form. A match running longer than
    :data:`REGEX_TIMEOUT_SECONDS` raises :class:`RegexTimeout`.
    """
    pattern = compile_js_regex(src)
    try:
        m = pattern.search(text, timeout=REGEX_TIMEOUT_SECONDS, concurrent=True)
    except TimeoutError:
        shown = src if len(src) <= 80 else src[:77] + "..."
        raise RegexTimeout(
            f"the regular expression /{shown}/ ran longer than "
            f"{REGEX_TIMEOUT_SECONDS:g} s on a {len(text)}-character input and was stopped "
            "(catastrophic backtracking, such as a nested quantifier like '(a|a)+'); "
            "rewrite the pattern without nested or overlapping repetition"
        ) from None
    return m.start() if m else -1


def _class(src: str, i: int, out: list[str], groups: int) -> int:
    """Translate the character class starting at ``src[i] == '['``; returns the next index."""
    j = i + 1
    negate = src[j : j + 1] == "^"
    if negate:
        j += 1
    body: list[str] = []
    while j < len(src) and src[j] != "]":
        c = src[j]
        if c == "\\":
            text, j = _escape(src, j, True, groups)
            body.append(text)
            continue
        # Python gives '[', '&&', '--', '||', '~~' set-operation meanings (FutureWarning).
        if c in "[&|~" or (c == "-" and src[j + 1 : j + 2] == "-"):
            body.append("\\" + c)
        else:
            body.append(c)
        j += 1
    if j >= len(src):
        raise JSThrow(
            "SyntaxError", f"Invalid regular expression: /{src}/: Unterminated character class"
        )
    if not body:
        out.append("(?s:.)" if negate else "(?!)")
    else:
        out.append("[" + ("^" if negate else "") + "".join(body) + "]")
    return j + 1
