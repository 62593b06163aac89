"""``String.prototype.localeCompare`` approximated without ICU.

Node compares with the ICU root collation. This module reproduces its main
traits with a three-level key: characters are grouped (whitespace <
punctuation < symbols < digits < letters), then compared by base letter
(accents and case ignored), then by accents, then lower case before upper
case — so ``a < A < b < B``, ``'10' < '9'``, ``e < é < f``. Exotic scripts and
contractions may order differently from ICU.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

__all__ = ["locale_compare"]


# ICU root order of the ASCII punctuation and symbols (measured with Node 20).
_ASCII_ORDER = {c: i for i, c in enumerate(" _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$")}


def _group(ch: str) -> int:
    if ch in _ASCII_ORDER:
        return 0 if ch == " " else (1 if _ASCII_ORDER[ch] < 24 else 2)
    cat = unicodedata.category(ch)
    if ch.isspace() or cat[0] in "ZC":
        return 0
    if cat[0] == "P":
        return 1
    if cat[0] == "S":
        return 2
    if cat[0] == "N":
        return 3
    return 4


@lru_cache(maxsize=4096)
def _key(s: str) -> tuple[tuple[tuple[int, str], ...], tuple[str, ...], tuple[int, ...]]:
    primary: list[tuple[int, str]] = []
    secondary: list[str] = []
    tertiary: list[int] = []
    for ch in s:
        decomposed = unicodedata.normalize("NFKD", ch)
        base = "".join(c for c in decomposed if not unicodedata.combining(c)) or ch
        marks = "".join(c for c in decomposed if unicodedata.combining(c))
        for b in base.casefold():
            primary.append((_group(b), chr(_ASCII_ORDER[b]) if b in _ASCII_ORDER else b))
        secondary.append(marks)
        tertiary.append(1 if ch != ch.lower() else 0)
    return tuple(primary), tuple(secondary), tuple(tertiary)


def locale_compare(a: str, b: str) -> int:
    """``a.localeCompare(b)`` → -1, 0 or 1."""
    if a == b:
        return 0
    ka, kb = _key(a), _key(b)
    if ka < kb:
        return -1
    if ka > kb:
        return 1
    return -1 if a < b else 1
