"""JavaScript number algorithms: formatting, parsing and integer conversions.

Everything here works on Python ``float`` (JS numbers are IEEE doubles); callers
normalize results with :func:`~hotmesh_nb.mapping._values.js_num`.
"""

from __future__ import annotations

import math
import re
from decimal import ROUND_HALF_UP, Context, Decimal

from ._values import JSThrow

__all__ = [
    "WHITESPACE",
    "js_mod",
    "js_pow",
    "js_trim",
    "js_trim_end",
    "js_trim_start",
    "number_to_string",
    "parse_float",
    "parse_int",
    "string_to_number",
    "to_exponential",
    "to_fixed",
    "to_int32",
    "to_integer_or_infinity",
    "to_precision",
    "to_uint32",
]

# JS WhiteSpace + LineTerminator (what trim() and Number() strip). Python's
# str.strip() also strips \x1c-\x1f and \x85, which JS does not.
WHITESPACE = (
    "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
)


def js_trim(s: str) -> str:
    """``String.prototype.trim``."""
    return s.strip(WHITESPACE)


def js_trim_start(s: str) -> str:
    """``String.prototype.trimStart``."""
    return s.lstrip(WHITESPACE)


def js_trim_end(s: str) -> str:
    """``String.prototype.trimEnd``."""
    return s.rstrip(WHITESPACE)


def _shortest_digits(x: float) -> tuple[str, int]:
    """Shortest round-trip digits of ``x > 0`` and ``n`` with value = 0.digits * 10**n."""
    # repr() yields the shortest round-trip representation, like ECMAScript's
    # Number::toString; only the layout differs.
    r = repr(x)
    mant, _, exp = r.partition("e")
    point = mant.find(".")
    if point < 0:
        digits, n = mant, len(mant)
    else:
        digits, n = mant[:point] + mant[point + 1 :], point
    n += int(exp) if exp else 0
    stripped = digits.lstrip("0")
    n -= len(digits) - len(stripped)
    return stripped.rstrip("0") or "0", n


def number_to_string(x: float | int) -> str:
    """``Number.prototype.toString()`` (radix 10), e.g. ``1e+21``, ``0.1``, ``-0`` → ``'0'``."""
    if isinstance(x, int):
        if -(2**53) <= x <= 2**53:
            return str(x)
        x = _int_to_float(x)
    if x != x:
        return "NaN"
    if x == 0:
        return "0"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    sign = "-" if x < 0 else ""
    digits, n = _shortest_digits(abs(x))
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * (-n) + digits
    e = n - 1
    exp = f"e{'+' if e >= 0 else '-'}{abs(e)}"
    if k == 1:
        return sign + digits + exp
    return sign + digits[0] + "." + digits[1:] + exp


def _int_to_float(x: int) -> float:
    try:
        return float(x)
    except OverflowError:
        return math.inf if x > 0 else -math.inf


def to_integer_or_infinity(x: float) -> float:
    """ECMAScript ToIntegerOrInfinity of an already-numeric value (NaN → 0)."""
    if x != x:
        return 0.0
    if math.isinf(x):
        return x
    return float(math.trunc(x))


def to_int32(x: float) -> int:
    """ECMAScript ToInt32."""
    if x != x or math.isinf(x):
        return 0
    n = math.trunc(x) & 0xFFFFFFFF
    return n - 0x100000000 if n >= 0x80000000 else n


def to_uint32(x: float) -> int:
    """ECMAScript ToUint32."""
    if x != x or math.isinf(x):
        return 0
    return math.trunc(x) & 0xFFFFFFFF


_DECIMAL_RE = re.compile(r"[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\Z")
_RADIX_RE = re.compile(r"0([xXoObB])([0-9a-zA-Z]+)\Z")
_RADIX_OF = {"x": 16, "o": 8, "b": 2}


def string_to_number(s: str) -> float:
    """ECMAScript StringToNumber: ``Number('  12 ')`` → 12, ``'0x1F'`` → 31, junk → NaN."""
    s = js_trim(s)
    if not s:
        return 0.0
    if _DECIMAL_RE.match(s):
        if s.endswith("Infinity"):
            return -math.inf if s[0] == "-" else math.inf
        return float(s)
    m = _RADIX_RE.match(s)
    if m:
        try:
            return _int_to_float(int(m.group(2), _RADIX_OF[m.group(1).lower()]))
        except ValueError:
            return math.nan
    return math.nan


_PARSE_FLOAT_RE = re.compile(r"[+-]?(?:Infinity|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")


def parse_float(s: str) -> float:
    """Global ``parseFloat`` on a string: the longest decimal prefix, else NaN."""
    m = _PARSE_FLOAT_RE.match(js_trim_start(s))
    if not m:
        return math.nan
    text = m.group(0)
    if text.endswith("Infinity"):
        return -math.inf if text[0] == "-" else math.inf
    return float(text)


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def parse_int(s: str, radix: float) -> float:
    """Global ``parseInt(s, radix)`` with ``radix`` already ToNumber'd (NaN/undefined → 0)."""
    s = js_trim_start(s)
    sign = 1.0
    if s[:1] in ("+", "-"):
        if s[0] == "-":
            sign = -1.0
        s = s[1:]
    r = to_int32(radix)
    strip_prefix = True
    if r != 0:
        if r < 2 or r > 36:
            return math.nan
        if r != 16:
            strip_prefix = False
    else:
        r = 10
    if strip_prefix and s[:2] in ("0x", "0X"):
        s = s[2:]
        r = 16
    valid = _DIGITS[:r]
    end = 0
    for ch in s:
        if ch.lower() not in valid or not ch.isascii():
            break
        end += 1
    if end == 0:
        return math.nan
    value = _int_to_float(int(s[:end], r))
    return sign * value


def js_mod(a: float, b: float) -> float:
    """JS ``%`` (sign of the dividend; NaN for a zero divisor or infinite dividend)."""
    if b == 0 or math.isinf(a) or a != a or b != b:
        return math.nan
    if math.isinf(b):
        return a
    return math.fmod(a, b)


def js_pow(x: float, y: float) -> float:
    """JS ``**`` / ``Math.pow`` (differs from Python for ``(±1) ** ±Infinity``, overflow...)."""
    if y != y:
        return math.nan
    if y == 0:
        return 1.0
    if x != x:
        return math.nan
    if abs(x) == 1 and math.isinf(y):
        return math.nan
    try:
        return math.pow(x, y)
    except OverflowError:
        # Only a negative base raised to an odd integer keeps its sign.
        odd = y.is_integer() and abs(y) < 2**53 and int(y) % 2 == 1
        return -math.inf if (x < 0 and odd) else math.inf
    except ValueError:
        if x == 0:  # 0 ** negative
            odd = y.is_integer() and int(y) % 2 == 1
            return -math.inf if (odd and math.copysign(1, x) < 0) else math.inf
        return math.nan  # negative base, fractional exponent


def _check_digits(value: float, low: int, high: int, method: str) -> int:
    f = to_integer_or_infinity(value)
    if f < low or f > high:
        raise JSThrow("RangeError", f"{method}() argument must be between {low} and {high}")
    return int(f)


def to_fixed(x: float, fraction_digits: float) -> str:
    """``Number.prototype.toFixed`` with exact (binary) rounding: ``1.005`` → ``'1.00'``."""
    f = _check_digits(fraction_digits, 0, 100, "toFixed")
    if x != x:
        return "NaN"
    if abs(x) >= 1e21 or math.isinf(x):
        return number_to_string(x)
    sign = "-" if x < 0 else ""
    # Decimal(float) is the exact binary value, so ROUND_HALF_UP matches the
    # spec's "pick the larger n" on ties and never rounds a non-tie wrongly.
    q = Decimal(abs(x)).quantize(Decimal(1).scaleb(-f), rounding=ROUND_HALF_UP)
    return sign + f"{q:.{f}f}"


def _round_sig(x: float, p: int) -> tuple[str, int]:
    """``x > 0`` rounded half-up to ``p`` significant digits → (digits, exponent e)."""
    d = Context(prec=p, rounding=ROUND_HALF_UP).plus(Decimal(x))
    _, digit_tuple, exp = d.as_tuple()
    digits = "".join(map(str, digit_tuple))
    assert isinstance(exp, int)
    digits = (digits + "0" * p)[:p]
    e = exp + len(d.as_tuple().digits) - 1
    return digits, e


def _exp_suffix(e: int) -> str:
    return f"e{'+' if e >= 0 else '-'}{abs(e)}"


def to_exponential(x: float, fraction_digits: float | None) -> str:
    """``Number.prototype.toExponential``; ``fraction_digits=None`` means "as many as needed"."""
    f = None if fraction_digits is None else to_integer_or_infinity(fraction_digits)
    if x != x:
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if f is not None and (f < 0 or f > 100):
        raise JSThrow("RangeError", "toExponential() argument must be between 0 and 100")
    sign = "-" if x < 0 else ""
    x = abs(x)
    if x == 0:
        digits, e = "0" * (1 if f is None else int(f) + 1), 0
    elif f is None:
        digits, n = _shortest_digits(x)
        e = n - 1
    else:
        digits, e = _round_sig(x, int(f) + 1)
    body = digits if len(digits) == 1 else digits[0] + "." + digits[1:]
    return sign + body + _exp_suffix(e)


def to_precision(x: float, precision: float | None) -> str:
    """``Number.prototype.toPrecision``; ``precision=None`` means ``ToString(x)``."""
    if precision is None:
        return number_to_string(x)
    p = to_integer_or_infinity(precision)
    if x != x:
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if p < 1 or p > 100:
        raise JSThrow("RangeError", "toPrecision() argument must be between 1 and 100")
    p = int(p)
    sign = "-" if x < 0 else ""
    x = abs(x)
    if x == 0:
        digits, e = "0" * p, 0
    else:
        digits, e = _round_sig(x, p)
    if e < -6 or e >= p:
        body = digits if p == 1 else digits[0] + "." + digits[1:]
        return sign + body + _exp_suffix(e)
    if e == p - 1:
        return sign + digits
    if e >= 0:
        return sign + digits[: e + 1] + "." + digits[e + 1 :]
    return sign + "0." + "0" * (-(e + 1)) + digits
