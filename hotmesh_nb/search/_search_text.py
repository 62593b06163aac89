"""How values are read into index terms: the rules of RediSearch's default settings.

The fallback index must give the native module's answers, so it reads values
the way RediSearch 2.10 does with its defaults (each rule was checked against
the module of the ``[search]`` extra):

* TEXT is split at ASCII punctuation (all of it but ``_``), spaces and tabs;
  a backslash keeps the next character in the word (``a\\|b`` is one word);
  other control characters are dropped, escaped or not; a NUL ends the value; words are
  lower-cased in ASCII only (``École`` stays ``École``), cut to 128 bytes, and
  stop words are left out.
* Stemming is Snowball's English stemmer. A word of at least 4 bytes whose stem
  differs is also indexed as ``+stem``; a query word (not in quotes) looks for
  itself, ``+stem`` and ``stem``. So ``running`` finds ``runs`` and ``run``, and
  even finds ``run`` in a ``nostem`` field (which holds exact words only).
* TAG values are split at commas, trimmed of ASCII white space and lower-cased
  in ASCII; a backslash in a stored value is an ordinary character.
* NUMERIC values are decimal numbers (``+5``, ``.5``, ``5.``, ``1e5``) or
  ``inf``/``infinity``; anything else (``nan``, ``0x10``, ``" 7"``, ``""``, values
  out of range) makes the whole record unsearchable, as the native index fails
  to index such a hash.
"""

from __future__ import annotations

import math
import re
import string
import threading
from functools import lru_cache

import snowballstemmer

SEPARATORS = frozenset(set(string.punctuation) - {"_", "\\"} | {" ", "\t"})
"""Characters that end a word of TEXT (the backslash escapes instead)."""

STOPWORDS = frozenset(
    {
        "a", "is", "the", "an", "and", "are", "as", "at", "be", "but", "by", "for", "if",
        "in", "into", "it", "no", "not", "of", "on", "or", "such", "that", "their", "then",
        "there", "these", "they", "this", "to", "was", "will", "with",
    }
)  # fmt: skip
"""RediSearch's default stop words: neither indexed nor searched (as the native index)."""

MAX_WORD_BYTES = 128
"""Longer words are cut to this many UTF-8 bytes."""

MIN_STEM_BYTES = 4
"""Shorter words are indexed without their stem (the module's ``MINSTEMLEN``)."""

STEM_MARK = "+"
"""Marks an indexed stem; it can never start a word, as ``+`` is a separator."""

_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
_WHITESPACE = " \t\n\r\v\f"
_NUMBER = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|(?i:inf|infinity))")
_QUERY_NUMBER = re.compile(r"[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE]-?\d+)?|inf)")


def lower(text: str) -> str:
    """Lower-case ASCII letters only, as the native index does."""
    return text.translate(_ASCII_LOWER)


def tokenize(text: str) -> list[str]:
    """The words of ``text`` as the native index reads them (stop words included)."""
    text = text.split("\x00", 1)[0]
    found: list[str] = []
    current: list[str] = []

    def close() -> None:
        if current:
            word = lower("".join(current))
            raw = word.encode()
            if len(raw) > MAX_WORD_BYTES:
                word = raw[:MAX_WORD_BYTES].decode(errors="ignore")
            found.append(word)
            current.clear()

    position = 0
    while position < len(text):
        char = text[position]
        if char == "\\":
            escaped = text[position + 1 : position + 2]
            if escaped and ord(escaped) >= 32 and escaped != "\x7f":  # control: dropped
                current.append(escaped)
            position += 2
            continue
        if char in SEPARATORS:
            close()
        elif ord(char) >= 32 and char != "\x7f":
            current.append(char)
        position += 1
    close()
    return found


def words(text: str) -> list[str]:
    """The searchable words of ``text``: its tokens without stop words."""
    return [w for w in tokenize(text) if w not in STOPWORDS]


_LOCAL = threading.local()


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball's English stem of a (lower-cased) word."""
    stemmer = getattr(_LOCAL, "stemmer", None)
    if stemmer is None:  # a stemmer keeps state between calls: one per thread
        stemmer = _LOCAL.stemmer = snowballstemmer.stemmer("english")
    return str(stemmer.stemWord(word))


def index_terms(text: str, nostem: bool) -> set[str]:
    """The terms a TEXT value is indexed under: its words and, unless ``nostem``, the
    marked stems of the words of at least :data:`MIN_STEM_BYTES` bytes."""
    terms = set(words(text))
    if not nostem:
        for word in list(terms):
            if len(word.encode()) >= MIN_STEM_BYTES and stem(word) != word:
                terms.add(STEM_MARK + stem(word))
    return terms


def query_terms(word: str, verbatim: bool) -> list[str]:
    """The terms a query word matches: itself, or (not verbatim) also its stem, marked
    and plain. The module expands every query word this way, ``nostem`` fields too."""
    if verbatim:
        return [word]
    root = stem(word)
    return sorted({word, STEM_MARK + root, root})


def tags(text: str) -> list[str]:
    """The tag values of a stored TAG value (split at commas, trimmed, ASCII lower-case)."""
    return [lower(t.strip(_WHITESPACE)) for t in text.split(",") if t.strip(_WHITESPACE)]


def parse_number(text: str) -> float | None:
    """A stored NUMERIC value as the native index reads it; None when it cannot."""
    if not _NUMBER.fullmatch(text):
        return None
    value = float(text)
    if math.isinf(value) and "inf" not in text.lower():
        return None  # out of range: the module refuses it rather than store infinity
    if value == 0 and re.search(r"[1-9]", text.lower().split("e")[0]):
        return None  # underflow to zero, refused likewise
    return value


def parse_bound(text: str) -> float | None:
    """A number written in a query range (``+inf``, ``-inf``, ``1e-5``; not ``1e+5``)."""
    if not _QUERY_NUMBER.fullmatch(text):
        return None
    return parse_number(text)


def format_number(value: float) -> str:
    """``value`` written so that the query parsers read it back exactly."""
    if math.isinf(value):
        return "+inf" if value > 0 else "-inf"
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value).replace("e+", "e")
