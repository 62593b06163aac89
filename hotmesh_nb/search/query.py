"""Search queries: built from ``find_where`` clauses, and read back for the fallback index.

The fallback understands this subset of the RediSearch query language (what
``find_where`` produces, and what people usually write by hand):

=========================  =================================================
``*``                      every record of the index
``@f:{a|b}``               TAG field ``f`` equals ``a`` or ``b`` (case-insensitive)
``@f:[lo hi]``             NUMERIC range; ``(`` makes a bound exclusive; ``-inf``/``+inf``
``@f:"some words"``        TEXT field contains every word (word order is not checked)
``@f:word`` / ``@f:(a b)``  TEXT field contains the word(s)
``word``                   any TEXT field contains the word
``-term``                  records the term does not match
terms separated by spaces  all must match (AND)
=========================  =================================================

Documented limits of the fallback: no ``|`` between terms (OR of clauses), no
prefix/fuzzy matching (``word*``, ``%word%``), no stemming (``nostem`` is always
on) and no relevance scores — results come in record id order unless sorted.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import HotMeshError
from .schema import SearchOptions

WORD = re.compile(r"[0-9A-Za-z\u00c0-\uffff]+")

STOPWORDS = frozenset(
    {
        "a", "is", "the", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if",
        "in", "into", "it", "no", "not", "of", "on", "or", "such", "that", "their", "then",
        "there", "these", "they", "this", "to", "was", "will", "with",
    }
)  # fmt: skip
"""RediSearch's default stop words: neither indexed nor searched (as the native index)."""


def words(text: str) -> list[str]:
    """The lower-cased words of ``text`` without stop words (how TEXT is indexed and matched)."""
    return [w for w in (m.lower() for m in WORD.findall(text)) if w not in STOPWORDS]


def tags(text: str, separator: str = ",") -> list[str]:
    """The lower-cased, trimmed tag values of ``text`` (TAG fields hold comma lists)."""
    return [t.strip().lower() for t in text.split(separator) if t.strip()]


@dataclass
class Clause:
    """One condition of a query."""

    field: str | None
    """Field name as written after ``@`` (None: any TEXT field / all records)."""
    kind: str
    """``tag``, ``num``, ``text`` or ``all``."""
    values: list[str] = field(default_factory=list)
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
    """True for ``"quoted words"``: they must appear together, in this order."""


class QueryError(HotMeshError):
    """A search query the fallback index cannot read."""


def clauses_to_query(clauses: list[dict[str, Any]], options: SearchOptions | None = None) -> str:
    """The query string for ``find_where`` clauses ``[{field, is, value, type?}]``.

    As the original: a field of the schema becomes ``@_field`` (or its
    ``field_name``); TAG → ``{v}``, TEXT → ``"v"``, NUMERIC ``=``/``==`` →
    ``[v v]``, ``<``/``<=`` → ``[-inf v]``, ``>``/``>=`` → ``[v +inf]``, ``[]`` →
    ``[lo hi]``. Clauses are joined by spaces (AND); none gives ``*``.
    """
    parts = []
    for clause in clauses:
        name = str(clause["field"])
        spec = options.schema.get(name) if options is not None else None
        target = (spec.field_name or f"_{name}") if spec is not None else name
        kind = str(clause.get("type") or (spec.type if spec else "TEXT")).upper()
        op = clause.get("is", "=")
        value = clause.get("value")
        if kind == "TAG":
            parts.append(f"@{target}:{{{_escape_tag(str(value))}}}")
        elif kind == "NUMERIC":
            if op in ("=", "=="):
                parts.append(f"@{target}:[{value} {value}]")
            elif op in ("<=", "<"):
                parts.append(f"@{target}:[-inf {value}]")
            elif op in (">=", ">"):
                parts.append(f"@{target}:[{value} +inf]")
            elif op == "[]":
                low, high = value
                parts.append(f"@{target}:[{low} {high}]")
            else:
                raise QueryError(f"unknown NUMERIC comparison {op!r}; use = < <= > >= or []")
        else:
            parts.append(f'@{target}:"{value}"')
    return " ".join(parts) or "*"


def _escape_tag(value: str) -> str:
    return re.sub(r"([,.<>{}\[\]\"':;!@#$%^&*()\-+=~| ])", r"\\\1", value)


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
            match = re.match(r"@([A-Za-z0-9_\-.$]+):", text[pos:])
            if not match:
                raise QueryError(f"expected @field: at position {pos} of {text!r}")
            name = match.group(1)
            pos += match.end()
            clause, pos = _value(text, pos, name)
        elif text[pos] == '"':
            end = text.find('"', pos + 1)
            if end < 0:
                raise QueryError(f"unclosed quote in {text!r}")
            clause = Clause(None, "text", words(text[pos + 1 : end]), phrase=True)
            pos = end + 1
        else:
            match = re.match(r"[^\s]+", text[pos:])
            token = match.group(0) if match else ""
            if token == "|" or "*" in token or "%" in token:
                raise QueryError(
                    f"the fallback search index does not support {token!r} (OR between "
                    "terms, prefix and fuzzy matching need a server with FT.SEARCH)"
                )
            clause, pos = Clause(None, "text", words(token)), pos + len(token)
        clause.negate = negate
        clauses.append(clause)
    return clauses


def _value(text: str, pos: int, name: str) -> tuple[Clause, int]:
    opener = text[pos : pos + 1]
    if opener == "{":
        end = _closing(text, pos, "}")
        raw = text[pos + 1 : end]
        values = [_unescape(v).strip().lower() for v in re.split(r"(?<!\\)\|", raw)]
        return Clause(name, "tag", [v for v in values if v]), end + 1
    if opener == "[":
        end = _closing(text, pos, "]")
        bounds = text[pos + 1 : end].split()
        if len(bounds) != 2:
            raise QueryError(f"a numeric range needs two bounds: {text[pos : end + 1]!r}")
        (low, low_open), (high, high_open) = (_bound(b) for b in bounds)
        return Clause(
            name, "num", low=low, high=high, low_open=low_open, high_open=high_open
        ), end + 1
    if opener == '"':
        end = text.find('"', pos + 1)
        if end < 0:
            raise QueryError(f"unclosed quote in {text!r}")
        return Clause(name, "text", words(text[pos + 1 : end]), phrase=True), end + 1
    if opener == "(":
        end = _closing(text, pos, ")")
        inner = text[pos + 1 : end]
        if "|" in inner:
            raise QueryError("the fallback search index does not support | inside ( )")
        return Clause(name, "text", words(inner)), end + 1
    match = re.match(r"[^\s]+", text[pos:])
    token = match.group(0) if match else ""
    if "*" in token or "%" in token:
        raise QueryError(f"the fallback search index does not support {token!r}")
    return Clause(name, "text", words(token)), pos + len(token)


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
    token = token.lstrip("(")
    if token in ("-inf",):
        return -math.inf, open_bound
    if token in ("+inf", "inf"):
        return math.inf, open_bound
    try:
        return float(token), open_bound
    except ValueError:
        raise QueryError(f"{token!r} is not a number") from None
