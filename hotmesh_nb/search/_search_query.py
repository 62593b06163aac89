"""Search queries: built from ``find_where`` clauses, and read back for the fallback index.

The fallback understands this subset of the RediSearch query language (what
``find_where`` produces, and what people usually write by hand):

=========================  =================================================
``*``                      every record of the index
``@f:{a|b}``               TAG field ``f`` equals ``a`` or ``b`` (case-insensitive)
``@f:[lo hi]``             NUMERIC range; ``(`` makes a bound exclusive; ``-inf``/``+inf``
``@f:"some words"``        TEXT field holds these exact words, together and in order
``@f:word`` / ``@f:(a b)``  TEXT field holds the word(s), or words of the same stem
``word``                   any TEXT field holds the word (or a word of its stem)
``-term``                  records the term does not match (a negated word is not stemmed)
terms separated by spaces  all must match (AND)
=========================  =================================================

A backslash makes the next character literal, in field names, words and tags
alike (``@f:{a\\|b}`` is the one tag ``a|b``). Words are read as the index reads
them (:mod:`hotmesh_nb.search._search_text`). Documented limits of the fallback: no ``|``
between terms (OR of clauses), no prefix/fuzzy matching (``word*``, ``%word%``)
and no relevance scores — results come in record id order unless sorted.

Queries built from ``find_where`` clauses are safe to run on both indexes:
field names must belong to the index's schema, NUMERIC values must be numbers,
and every other character of a value that the query language could read as
syntax is escaped, so a value only ever matches itself.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from numbers import Number
from typing import Any

from ..errors import HotMeshError
from ._search_schema import SearchOptions
from ._search_text import (
    STOPWORDS,
    format_number,
    lower,
    parse_bound,
    parse_number,
    tokenize,
    words,
)

__all__ = [
    "Clause",
    "QueryError",
    "clauses_to_query",
    "escape",
    "parse_query",
]

_FIELD = re.compile(r"@((?:[A-Za-z0-9_]|\\.)+):")
_UNSUPPORTED = {
    "|": "OR between terms",
    "*": "prefix matching",
    "%": "fuzzy matching",
    "~": "optional terms",
    "$": "query parameters",
}
_NEVER = "(the)"
"""A TEXT value that matches no record on either index: a lone stop word is never indexed
(a quoted one is a syntax error for the native parser)."""


@dataclass
class Clause:
    """One condition of a query."""

    field: str | None
    """Field name as written after ``@``, unescaped (None: any TEXT field / all records)."""
    kind: str
    """``tag``, ``num``, ``text`` or ``all``."""
    # dataclasses.field, spelled out: the class's own ``field`` attribute shadows the name.
    values: list[str] = dataclasses.field(default_factory=list)
    """Tag values (OR) or words (AND)."""
    low: float = -math.inf
    """Lower bound of a numeric range."""
    high: float = math.inf
    """Upper bound of a numeric range."""
    low_open: bool = False
    """True when the lower bound is exclusive."""
    high_open: bool = False
    """True when the upper bound is exclusive."""
    negate: bool = False
    """True for ``-term``."""
    phrase: bool = False
    """True for ``"quoted words"``: exact words (no stemming), together and in this order."""


class QueryError(HotMeshError):
    """A search query that cannot be built or that the fallback index cannot read."""


def escape(text: str) -> str:
    """``text`` with every ASCII character but letters and digits backslash-escaped, so the
    query parsers read it as one literal word, tag or field name (even ``_``: a word of
    underscores alone is a syntax error for the native parser)."""
    return "".join(f"\\{c}" if ord(c) < 128 and not c.isalnum() else c for c in text)


def clauses_to_query(clauses: list[dict[str, Any]], options: SearchOptions | None = None) -> str:
    """The query string for ``find_where`` clauses ``[{field, is, value, type?}]``.

    As the original: a field of the schema becomes ``@_field`` (or its
    ``field_name``); TAG → ``{v}``, TEXT → ``"v"``, NUMERIC ``=``/``==`` →
    ``[v v]``, ``<``/``<=`` → ``[-inf v]``, ``>``/``>=`` → ``[v +inf]``, ``[]`` →
    ``[lo hi]``. Clauses are joined by spaces (AND); none gives ``*``. Unlike the
    original, values cannot inject query syntax: see the module's docstring.
    """
    parts = []
    for clause in clauses:
        name = str(clause.get("field", ""))
        spec = None
        if options is not None:
            spec = options.schema.get(name)
            if spec is None:
                spec = next(
                    (s for n, s in options.schema.items() if options.hash_field(n) == name), None
                )
                name = next((n for n in options.schema if options.hash_field(n) == name), name)
            if spec is None or not spec.indexed:
                known = ", ".join(n for n, s in options.schema.items() if s.indexed) or "none"
                raise QueryError(
                    f"field {name!r} is not searchable in index '{options.index}' "
                    f"(its fields: {known})"
                )
        elif not name:
            raise QueryError(f"a find_where clause needs a 'field': {clause!r}")
        written = (spec.field_name or f"_{name}") if spec is not None else name
        target = "".join(c if c == "_" else escape(c) for c in written)
        kind = str(clause.get("type") or (spec.type if spec else "TEXT")).upper()
        op = clause.get("is", "=")
        value = clause.get("value")
        if kind == "TAG":
            tag = str(value).strip(" \t\n\r\v\f")
            # An empty tag is never stored; "{}" would be a syntax error, an escaped
            # space matches nothing on both indexes.
            parts.append(f"@{target}:{{{escape(tag) or chr(92) + ' '}}}")
        elif kind == "NUMERIC":
            if op in ("=", "=="):
                number = format_number(_number(name, value))
                parts.append(f"@{target}:[{number} {number}]")
            elif op in ("<=", "<"):
                parts.append(f"@{target}:[-inf {format_number(_number(name, value))}]")
            elif op in (">=", ">"):
                parts.append(f"@{target}:[{format_number(_number(name, value))} +inf]")
            elif op == "[]":
                try:
                    low, high = value  # type: ignore[misc]
                except (TypeError, ValueError):
                    raise QueryError(
                        f"field {name!r}: '[]' needs value=(low, high), not {value!r}"
                    ) from None
                low_text = format_number(_number(name, low))
                parts.append(f"@{target}:[{low_text} {format_number(_number(name, high))}]")
            else:
                raise QueryError(f"unknown NUMERIC comparison {op!r}; use = < <= > >= or []")
        elif kind == "TEXT":
            found = words("" if value is None else str(value))
            # Quoted words are exact (no stemming), as the original's "value"; stop words
            # are left out, as a quoted stop word is a syntax error for the native parser.
            phrase = " ".join(escape(w) for w in found)
            parts.append(f'@{target}:"{phrase}"' if found else f"@{target}:{_NEVER}")
        else:
            raise QueryError(f"field {name!r}: type must be TAG, NUMERIC or TEXT, not {kind!r}")
    return " ".join(parts) or "*"


def _number(name: str, value: Any) -> float:
    """A NUMERIC clause value as a number, or a clear error."""
    number: float | None = None
    if isinstance(value, str):
        number = parse_number(value.strip())
    elif isinstance(value, Number) and not isinstance(value, (bool, complex)):
        try:  # int, float, Decimal, Fraction, numpy scalars
            number = float(value)  # type: ignore[arg-type]
        except (OverflowError, TypeError, ValueError):
            number = None
    if number is None or math.isnan(number):
        raise QueryError(
            f"field {name!r} is NUMERIC: its value must be a number (or a numeric string), "
            f"not {value!r}"
        )
    return number


def parse_query(text: str) -> list[Clause]:
    """Read a query string into clauses (raises :class:`QueryError` naming the problem)."""
    text = text.strip()
    if text in ("", "*"):
        return [Clause(None, "all")]
    clauses: list[Clause] = []
    pos = 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        negate = text[pos] == "-" and pos + 1 < len(text) and not text[pos + 1].isspace()
        if negate:
            pos += 1
        if text[pos] == "@":
            match = _FIELD.match(text, pos)
            if not match:
                raise QueryError(f"expected @field: at position {pos} of {text!r}")
            name = _unescape(match.group(1))
            clause, pos = _value(text, match.end(), name)
        else:
            clause, pos = _text(text, pos, None)
        clause.negate = negate
        clauses.append(clause)
    return clauses


def _value(text: str, pos: int, name: str) -> tuple[Clause, int]:
    opener = text[pos : pos + 1]
    if opener == "{":
        end = _closing(text, pos, "}")
        values = [v for v in (_tag(p) for p in _split(text[pos + 1 : end], "|")) if v]
        if not text[pos + 1 : end].strip():
            raise QueryError(f"an empty tag list {{}} in {text!r}")
        return Clause(name, "tag", values), end + 1
    if opener == "[":
        end = _closing(text, pos, "]")
        bounds = text[pos + 1 : end].split()
        if len(bounds) != 2:
            raise QueryError(f"a numeric range needs two bounds: {text[pos : end + 1]!r}")
        (low, low_open), (high, high_open) = (_bound(b) for b in bounds)
        return Clause(
            name, "num", low=low, high=high, low_open=low_open, high_open=high_open
        ), end + 1
    return _text(text, pos, name)


def _text(text: str, pos: int, name: str | None) -> tuple[Clause, int]:
    """A quoted phrase, a ``( )`` group of words or one bare word at ``pos``."""
    opener = text[pos]
    if opener == '"':
        end = _closing(text, pos, '"')
        found = tokenize(text[pos + 1 : end])
        if not found or any(w in STOPWORDS for w in found):
            raise QueryError(
                f"a quoted phrase needs words and no stop words (as RediSearch): {text!r}"
            )
        return Clause(name, "text", found, phrase=True), end + 1
    if opener == "(":
        end = _closing(text, pos, ")")
        inner = text[pos + 1 : end]
        _refuse_operators(inner)
        return Clause(name, "text", words(inner)), end + 1
    end = pos
    while end < len(text) and not text[end].isspace():
        if text[end] == "\\":
            end += 2
            continue
        if text[end] in '(){}[]"@':
            break
        end += 1
    token = text[pos:end]
    if not token:
        raise QueryError(f"unexpected {text[pos]!r} at position {pos} of {text!r}")
    _refuse_operators(token)
    return Clause(name, "text", words(token)), end


def _refuse_operators(raw: str) -> None:
    for part in _split(raw, None):
        for char, why in _UNSUPPORTED.items():
            if char in part:
                raise QueryError(
                    f"the fallback search index does not support {char!r} ({why}) in {raw!r}: "
                    "escape it with a backslash, or use a server with FT.SEARCH"
                )


def _split(raw: str, separator: str | None) -> list[str]:
    """``raw`` cut at unescaped ``separator``; None: one piece of the characters that are
    not escaped (escaped ones and their backslashes left out)."""
    pieces: list[str] = [""]
    position = 0
    while position < len(raw):
        char = raw[position]
        if char == "\\":
            if separator is not None:
                pieces[-1] += raw[position : position + 2]
            position += 2
            continue
        if separator is not None and char == separator:
            pieces.append("")
        else:
            pieces[-1] += char
        position += 1
    return pieces


def _tag(raw: str) -> str:
    """One tag of a query: escapes resolved, unescaped white space trimmed, ASCII lower-case."""
    chars: list[tuple[str, bool]] = []
    position = 0
    while position < len(raw):
        if raw[position] == "\\" and position + 1 < len(raw):
            chars.append((raw[position + 1], True))
            position += 2
        else:
            chars.append((raw[position], False))
            position += 1
    while chars and not chars[0][1] and chars[0][0].isspace():
        chars.pop(0)
    while chars and not chars[-1][1] and chars[-1][0].isspace():
        chars.pop()
    return lower("".join(c for c, _ in chars))


def _closing(text: str, pos: int, char: str) -> int:
    index = pos + 1
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == char:
            return index
        index += 1
    raise QueryError(f"missing {char!r} in {text!r}")


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def _bound(token: str) -> tuple[float, bool]:
    open_bound = token.startswith("(")
    number = parse_bound(token[1:] if open_bound else token)
    if number is None:
        raise QueryError(f"{token!r} is not a number (write -inf, +inf, 12, 1.5 or 1e-3)")
    return number, open_bound
