"""``Date.parse`` as Node (V8) reads a string: the ISO format, then V8's legacy forms.

The original runs on Node, so a date string that ECMAScript leaves to the
implementation (``'March 5 2024'``, ``'2024-3-5'``, ``'12'``, ``'5 UTC+1'``)
gets V8's answer. V8 first tries the ECMAScript Date Time String Format
(``YYYY-MM-DDTHH:mm:ss.sssZ`` and its shorter forms); whatever that part
does not consume goes on through a permissive token scanner:

* numbers fill a day (up to three: month/day/year, or year/month/day when the
  first cannot be a day), ``h:m[:s[.ms]]`` a time, ``+hh[mm]`` after ``UTC``
  or a time an offset;
* words: month names (by their first three letters), ``am``/``pm``, zone
  names (``UT``, ``UTC``, ``GMT``, ``Z``, ``EST``... ``PDT``); other words are
  allowed only before the first number; text in parentheses is skipped;
* missing month and day default to 1, the year to 2001 in the MD(Y) form; a
  year 0–49 means 2000–2049 and 50–99 means 1950–1999;
* without a zone, a date-time is local time; a bare ISO date is UTC.

The behaviour was measured against Node 20 on this machine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["parse_date_string"]

_NONE = -(2**31)  # "not set" (V8's kNone)
_MAX_DIGITS = 9  # digits of a number that count (the rest are read and dropped)
_MAX_TIME_MS = 8.64e15
_LOCAL_SLACK_MS = 864_000_000  # a local time may lie up to 10 days outside the range

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_ZONES = {"ut": 0, "utc": 0, "z": 0, "gmt": 0, "cdt": -5, "cst": -6, "edt": -4, "est": -5,
          "mdt": -6, "mst": -7, "pdt": -7, "pst": -8}  # fmt: skip
_WHITESPACE = frozenset(
    "\t\n\x0b\x0c\r \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


@dataclass(slots=True)
class _Token:
    """One scanned token: ``kind`` is number, symbol, word, space, unknown or end."""

    kind: str
    value: int = 0  # a number's value; a word's keyword value
    length: int = 0  # characters of a number or word
    text: str = ""  # a symbol's character; a word's keyword type

    def is_symbol(self, char: str) -> bool:
        return self.kind == "symbol" and self.text == char

    def is_sign(self) -> bool:
        return self.kind == "symbol" and self.text in "+-"

    def is_number(self, length: int | None = None) -> bool:
        return self.kind == "number" and (length is None or self.length == length)

    def is_word(self, keyword: str) -> bool:
        return self.kind == "word" and self.text == keyword

    def is_z(self) -> bool:
        return self.kind == "word" and self.text == "zone" and self.length == 1


class _Scanner:
    """V8's date tokenizer with one token of look-ahead."""

    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0
        self.next_token = self._scan()

    def _scan(self) -> _Token:
        s, i, n = self.s, self.i, len(self.s)
        if i >= n:
            return _Token("end")
        c = s[i]
        if "0" <= c <= "9":
            j = i
            while j < n and s[j] == "0":
                j += 1
            value, digits = 0, 0
            while j < n and "0" <= s[j] <= "9":
                if digits < _MAX_DIGITS:
                    value = value * 10 + ord(s[j]) - 48
                digits += 1
                j += 1
            self.i = j
            return _Token("number", value, j - i)
        if c in ":-+.)":
            self.i = i + 1
            return _Token("symbol", text=c)
        if c >= "A" and c not in _WHITESPACE:
            j = i
            while j < n and s[j] >= "A" and s[j] not in _WHITESPACE:
                j += 1
            self.i = j
            return _keyword(s[i:j])
        if c in _WHITESPACE:
            j = i
            while j < n and s[j] in _WHITESPACE:
                j += 1
            self.i = j
            return _Token("space", length=j - i)
        if c == "(":
            depth, j = 0, i
            while True:
                if s[j] == ")":
                    depth -= 1
                elif s[j] == "(":
                    depth += 1
                j += 1
                if depth <= 0 or j >= n:
                    break
            self.i = j
            return _Token("unknown")
        self.i = i + 1
        return _Token("unknown")

    def peek(self) -> _Token:
        return self.next_token

    def next(self) -> _Token:
        token = self.next_token
        self.next_token = self._scan()
        return token

    def skip_symbol(self, char: str) -> bool:
        if self.next_token.is_symbol(char):
            self.next()
            return True
        return False


def _keyword(word: str) -> _Token:
    """A word token: its keyword type (month, ampm, zone, t, or '') and value."""
    prefix = word[:3].translate(_LOWER)
    if prefix in _MONTHS:  # month names may be longer than three letters
        return _Token("word", _MONTHS.index(prefix) + 1, len(word), "month")
    if len(word) <= 3:
        if prefix in ("am", "pm"):
            return _Token("word", 0 if prefix == "am" else 12, len(word), "ampm")
        if prefix in _ZONES:
            return _Token("word", _ZONES[prefix], len(word), "zone")
        if prefix == "t":
            return _Token("word", 0, len(word), "t")
    return _Token("word", 0, len(word), "")


_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _between(x: int, lo: int, hi: int) -> bool:
    return lo <= x <= hi


class _Day:
    def __init__(self) -> None:
        self.comp: list[int] = []
        self.named_month = _NONE
        self.iso = False

    def add(self, n: int) -> bool:
        if len(self.comp) < 3:
            self.comp.append(n)
            return True
        return False

    def write(self) -> tuple[int, int, int] | None:
        if not self.comp:
            return None
        comp = self.comp + [1] * (3 - len(self.comp))
        year = 0  # 2000, after the two-digit rule below
        if self.named_month == _NONE:
            if self.iso or not _between(comp[0], 1, 31):
                year, month, day = comp
            else:
                month, day, year = comp
        else:
            month = self.named_month
            if not _between(comp[0], 1, 31):
                year, day = comp[0], comp[1]
            else:
                day, year = comp[0], comp[1]
        if not self.iso:
            if _between(year, 0, 49):
                year += 2000
            elif _between(year, 50, 99):
                year += 1900
        if not (_between(month, 1, 12) and _between(day, 1, 31)):
            return None
        return year, month - 1, day


class _Time:
    def __init__(self) -> None:
        self.comp: list[int] = []
        self.hour_offset = _NONE

    def empty(self) -> bool:
        return not self.comp

    def expecting(self, n: int) -> bool:
        size = len(self.comp)
        return (
            (size == 1 and _between(n, 0, 59))
            or (size == 2 and _between(n, 0, 59))
            or (size == 3 and _between(n, 0, 999))
        )

    def add(self, n: int) -> bool:
        if len(self.comp) < 4:
            self.comp.append(n)
            return True
        return False

    def add_final(self, n: int) -> bool:
        if not self.add(n):
            return False
        self.comp += [0] * (4 - len(self.comp))
        return True

    def write(self) -> tuple[int, int, int, int] | None:
        hour, minute, second, ms = self.comp + [0] * (4 - len(self.comp))
        if self.hour_offset != _NONE:
            if not _between(hour, 0, 12):
                return None
            hour = hour % 12 + self.hour_offset
        valid = (
            _between(hour, 0, 23)
            and _between(minute, 0, 59)
            and _between(second, 0, 59)
            and _between(ms, 0, 999)
        )
        if not valid and (hour != 24 or minute or second or ms):
            return None
        return hour, minute, second, ms


class _Zone:
    def __init__(self) -> None:
        self.sign = _NONE
        self.hour = _NONE
        self.minute = _NONE

    def set(self, hours: int) -> None:
        self.sign = -1 if hours < 0 else 1
        self.hour = abs(hours)
        self.minute = 0

    def expecting(self, n: int) -> bool:
        return self.hour != _NONE and self.minute == _NONE and _between(n, 0, 59)

    def is_utc(self) -> bool:
        return self.hour == 0 and self.minute == 0

    def empty(self) -> bool:
        return self.hour == _NONE

    def write(self) -> float | None:
        """The offset in seconds (NaN: local time); None when out of range."""
        if self.sign == _NONE:
            return math.nan
        hour = 0 if self.hour == _NONE else self.hour
        minute = 0 if self.minute == _NONE else self.minute
        total = hour * 3600 + minute * 60
        if total > 2**30 - 1:
            return None
        return float(-total if self.sign < 0 else total)


def _milliseconds(token: _Token) -> int:
    """The first three significant digits of a fraction, as V8 reads them."""
    number, length = token.value, token.length
    if length == 1:
        return number * 100
    if length == 2:
        return number * 10
    length = min(length, _MAX_DIGITS)
    while length > 3:
        number //= 10
        length -= 1
    return number


def _es5(sc: _Scanner, day: _Day, time: _Time, tz: _Zone) -> _Token | None:
    """The ISO part; the first token it leaves to the legacy forms (None: invalid)."""
    if sc.peek().is_sign():
        sign_token = sc.next()
        if not sc.peek().is_number(6):
            return sign_token
        year = sc.next().value
        if sign_token.text == "-" and year == 0:
            return sign_token
        day.add(-year if sign_token.text == "-" else year)
    elif sc.peek().is_number(4):
        day.add(sc.next().value)
    else:
        return sc.next()
    if sc.skip_symbol("-"):
        if not (sc.peek().is_number(2) and _between(sc.peek().value, 1, 12)):
            return sc.next()
        day.add(sc.next().value)
        if sc.skip_symbol("-"):
            if not (sc.peek().is_number(2) and _between(sc.peek().value, 1, 31)):
                return sc.next()
            day.add(sc.next().value)
    if not sc.peek().is_word("t"):
        if sc.peek().kind != "end":
            return sc.next()
    else:
        sc.next()
        if not (sc.peek().is_number(2) and _between(sc.peek().value, 0, 24)):
            return None
        hour_24 = sc.peek().value == 24
        time.add(sc.next().value)
        if not sc.skip_symbol(":"):
            return None
        if not (sc.peek().is_number(2) and _between(sc.peek().value, 0, 59)) or (
            hour_24 and sc.peek().value > 0
        ):
            return None
        time.add(sc.next().value)
        if sc.skip_symbol(":"):
            if not (sc.peek().is_number(2) and _between(sc.peek().value, 0, 59)) or (
                hour_24 and sc.peek().value > 0
            ):
                return None
            time.add(sc.next().value)
            if sc.skip_symbol("."):
                if not sc.peek().is_number() or (hour_24 and sc.peek().value > 0):
                    return None
                time.add(_milliseconds(sc.next()))
        if sc.peek().is_z():
            sc.next()
            tz.set(0)
        elif sc.peek().is_sign():
            tz.sign = 1 if sc.next().text == "+" else -1
            if sc.peek().is_number(4):
                hour, minute = divmod(sc.next().value, 100)
                if not (_between(hour, 0, 23) and _between(minute, 0, 59)):
                    return None
                tz.hour, tz.minute = hour, minute
            else:
                if not (sc.peek().is_number(2) and _between(sc.peek().value, 0, 23)):
                    return None
                tz.hour = sc.next().value
                if not sc.skip_symbol(":"):
                    return None
                if not (sc.peek().is_number(2) and _between(sc.peek().value, 0, 59)):
                    return None
                tz.minute = sc.next().value
        if sc.peek().kind != "end":
            return None
    if tz.empty() and time.empty():
        tz.set(0)  # a date-only ISO string is UTC
    day.iso = True
    return _Token("end")


def _legacy(sc: _Scanner, token: _Token, day: _Day, time: _Time, tz: _Zone) -> bool:
    """V8's legacy forms, from ``token`` on; False when the string is not a date."""
    has_number = bool(day.comp)
    while token.kind != "end":
        if token.kind == "number":
            has_number = True
            n = token.value
            if sc.skip_symbol(":"):
                if sc.skip_symbol(":"):
                    if not time.empty():
                        return False
                    time.add(n)
                    time.add(0)
                else:
                    if not time.add(n):
                        return False
                    if sc.peek().is_symbol("."):
                        sc.next()
            elif sc.skip_symbol(".") and time.expecting(n):
                time.add(n)
                if not sc.peek().is_number():
                    return False
                time.add_final(_milliseconds(sc.next()))
            elif tz.expecting(n):
                tz.minute = n
            elif time.expecting(n):
                time.add_final(n)
                peek = sc.peek()
                if peek.kind not in ("end", "space") and not peek.is_z() and not peek.is_sign():
                    return False
            else:
                if not day.add(n):
                    return False
                sc.skip_symbol("-")
        elif token.kind == "word":
            if token.text == "ampm" and not time.empty():
                time.hour_offset = token.value
            elif token.text == "month":
                day.named_month = token.value
                sc.skip_symbol("-")
            elif token.text == "zone" and has_number:
                tz.set(token.value)
            else:
                # Other words only before the first number, and apart from it.
                if has_number or sc.peek().is_number():
                    return False
        elif token.is_sign() and (tz.is_utc() or not time.empty()):
            tz.sign = 1 if token.text == "+" else -1
            n, length = 0, 0
            if sc.peek().is_number():
                number = sc.next()
                n, length = number.value, number.length
            has_number = True
            if sc.peek().is_symbol(":"):
                tz.hour, tz.minute = n, _NONE
            elif length in (1, 2):
                tz.hour, tz.minute = n, 0
            elif length in (3, 4):
                tz.hour, tz.minute = divmod(n, 100)
            else:
                return False
        elif (token.is_sign() or token.is_symbol(")")) and has_number:
            return False
        token = sc.next()
    return True


def parse_date_string(text: str) -> tuple[float, float] | None:
    """``(local-or-UTC ms, offset s)`` of a date string, or None when V8 rejects it.

    The offset is NaN when the string names no zone: the time is then local.
    """
    from ._jsdate import make_date, make_day, make_time

    sc = _Scanner(text)
    day, time, tz = _Day(), _Time(), _Zone()
    first = _es5(sc, day, time, tz)
    if first is None or not _legacy(sc, first, day, time, tz):
        return None
    ymd, hms, offset = day.write(), time.write(), tz.write()
    if ymd is None or hms is None or offset is None:
        return None
    return make_date(make_day(*ymd), make_time(*hms)), offset


def in_local_range(t: float) -> bool:
    """A local time V8 converts to UTC (beyond ±8.64e15 by 10 days it is NaN)."""
    return abs(t) <= _MAX_TIME_MS + _LOCAL_SLACK_MS
