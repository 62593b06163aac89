"""``Math`` functions bit for bit as V8 computes them: sin cos tan asin acos atan atan2
exp expm1 log log1p log2 log10 sinh cosh tanh asinh acosh atanh.

Node's ``Math`` functions come from V8's port of fdlibm (Sun's freely
distributable libm), whose results differ from the C library's (which Python's
``math`` uses) by one unit in the last place for about 1 % of arguments. The
original runs on Node, so the mapping functions reproduce fdlibm's algorithms:
argument reduction by pi/2 (Cody–Waite in three steps, exact big-number
reduction for huge arguments) and its minimax polynomial kernels, whose
coefficients are given with their IEEE 754 bit patterns.
"""

from __future__ import annotations

import math
import struct
from fractions import Fraction
from functools import lru_cache

__all__ = [
    "acos", "acosh", "asin", "asinh", "atan", "atan2", "atanh", "cos", "cosh", "exp", "expm1",
    "log", "log1p", "log2", "log10", "sin", "sinh", "tan", "tanh",
]  # fmt: skip


def _from_words(hi: int, lo: int) -> float:
    return struct.unpack(">d", struct.pack(">II", hi, lo))[0]  # type: ignore[no-any-return]


def _high(x: float) -> int:
    """The high 32 bits of ``x``, as a signed int (fdlibm's GET_HIGH_WORD)."""
    hi: int = struct.unpack(">i", struct.pack(">d", x)[:4])[0]
    return hi


def _low(x: float) -> int:
    low: int = struct.unpack(">I", struct.pack(">d", x)[4:])[0]
    return low


def _with_low(x: float, low: int) -> float:
    return struct.unpack(">d", struct.pack(">d", x)[:4] + struct.pack(">I", low))[0]  # type: ignore[no-any-return]


S1 = _from_words(0xBFC55555, 0x55555549)
S2 = _from_words(0x3F811111, 0x1110F8A6)
S3 = _from_words(0xBF2A01A0, 0x19C161D5)
S4 = _from_words(0x3EC71DE3, 0x57B1FE7D)
S5 = _from_words(0xBE5AE5E6, 0x8A2B9CEB)
S6 = _from_words(0x3DE5D93A, 0x5ACFD57C)
C1 = _from_words(0x3FA55555, 0x5555554C)
C2 = _from_words(0xBF56C16C, 0x16C15177)
C3 = _from_words(0x3EFA01A0, 0x19CB1590)
C4 = _from_words(0xBE927E4F, 0x809C52AD)
C5 = _from_words(0x3E21EE9E, 0xBDB4B1C4)
C6 = _from_words(0xBDA8FAE9, 0xBE8838D4)
T = [
    _from_words(0x3FD55555, 0x55555563),
    _from_words(0x3FC11111, 0x1110FE7A),
    _from_words(0x3FABA1BA, 0x1BB341FE),
    _from_words(0x3F9664F4, 0x8406D637),
    _from_words(0x3F8226E3, 0xE96E8493),
    _from_words(0x3F6D6D22, 0xC9560328),
    _from_words(0x3F57DBC8, 0xFEE08315),
    _from_words(0x3F4344D8, 0xF2F26501),
    _from_words(0x3F3026F7, 0x1A8D1068),
    _from_words(0x3F147E88, 0xA03792A6),
    _from_words(0x3F12B80F, 0x32F0A7E9),
    _from_words(0xBEF375CB, 0xDB605373),
    _from_words(0x3EFB2A70, 0x74BF7AD4),
]
PIO4 = _from_words(0x3FE921FB, 0x54442D18)
PIO4LO = _from_words(0x3C81A626, 0x33145C07)
INVPIO2 = _from_words(0x3FE45F30, 0x6DC9C883)
PIO2_1 = _from_words(0x3FF921FB, 0x54400000)
PIO2_1T = _from_words(0x3DD0B461, 0x1A626331)
PIO2_2 = _from_words(0x3DD0B461, 0x1A600000)
PIO2_2T = _from_words(0x3BA3198A, 0x2E037073)
PIO2_3 = _from_words(0x3BA3198A, 0x2E000000)
PIO2_3T = _from_words(0x397B839A, 0x252049C1)


@lru_cache(maxsize=1)
def _pi_fraction() -> Fraction:
    """Pi to 1400 bits (Machin's formula in integers): enough to reduce any double."""
    bits = 1400
    one = 1 << (bits + 20)

    def arctan_inv(n: int) -> int:
        total, term, k, sign = 0, one // n, 1, 1
        while term:
            total += sign * (term // k)
            term //= n * n
            k += 2
            sign = -sign
        return total

    return Fraction(16 * arctan_inv(5) - 4 * arctan_inv(239), one)


@lru_cache(maxsize=1)
def _npio2_hw() -> list[int]:
    """High words of n*pi/2 for n = 1..32 (where cancellation needs the slow path)."""
    half_pi = _pi_fraction() / 2
    return [_high(float(n * half_pi)) & 0x7FFFFFFF for n in range(1, 33)]


def _rem_pio2(x: float) -> tuple[int, float, float]:
    """``(n, y0, y1)`` with ``x = n*pi/2 + y0 + y1`` (fdlibm's __ieee754_rem_pio2)."""
    hx = _high(x)
    ix = hx & 0x7FFFFFFF
    if ix <= 0x3FE921FB:
        return 0, x, 0.0
    if ix < 0x4002D97C:  # |x| < 3pi/4: n = ±1
        if hx > 0:
            z = x - PIO2_1
            if ix != 0x3FF921FB:
                y0 = z - PIO2_1T
                return 1, y0, (z - y0) - PIO2_1T
            z -= PIO2_2
            y0 = z - PIO2_2T
            return 1, y0, (z - y0) - PIO2_2T
        z = x + PIO2_1
        if ix != 0x3FF921FB:
            y0 = z + PIO2_1T
            return -1, y0, (z - y0) + PIO2_1T
        z += PIO2_2
        y0 = z + PIO2_2T
        return -1, y0, (z - y0) + PIO2_2T
    if ix <= 0x413921FB:  # medium: |x| <~ 2^19 * pi/2
        t = abs(x)
        n = int(t * INVPIO2 + 0.5)
        fn = float(n)
        r = t - fn * PIO2_1
        w = fn * PIO2_1T
        if n < 32 and ix != _npio2_hw()[n - 1]:
            y0 = r - w
        else:
            j = ix >> 20
            y0 = r - w
            i = j - ((_high(y0) >> 20) & 0x7FF)
            if i > 16:  # a second step, good to 118 bits
                t = r
                w = fn * PIO2_2
                r = t - w
                w = fn * PIO2_2T - ((t - r) - w)
                y0 = r - w
                i = j - ((_high(y0) >> 20) & 0x7FF)
                if i > 49:  # a third, 151 bits
                    t = r
                    w = fn * PIO2_3
                    r = t - w
                    w = fn * PIO2_3T - ((t - r) - w)
                    y0 = r - w
        y1 = (r - y0) - w
        if hx < 0:
            return -n, -y0, -y1
        return n, y0, y1
    # Huge arguments: reduce exactly (x is a dyadic rational) with 1400 bits of pi.
    half_pi = _pi_fraction() / 2
    exact = Fraction(x)
    n = round(exact / half_pi)
    rest = exact - n * half_pi
    y0 = float(rest)
    y1 = float(rest - Fraction(y0))
    return n, y0, y1


def _k_sin(x: float, y: float, iy: int) -> float:
    ix = _high(x) & 0x7FFFFFFF
    if ix < 0x3E400000 and int(x) == 0:  # |x| < 2**-27
        return x
    z = x * x
    v = z * x
    r = S2 + z * (S3 + z * (S4 + z * (S5 + z * S6)))
    if iy == 0:
        return x + v * (S1 + z * r)
    return x - ((z * (0.5 * y - v * r) - y) - v * S1)


def _k_cos(x: float, y: float) -> float:
    ix = _high(x) & 0x7FFFFFFF
    if ix < 0x3E400000 and int(x) == 0:  # |x| < 2**-27
        return 1.0
    z = x * x
    r = z * (C1 + z * (C2 + z * (C3 + z * (C4 + z * (C5 + z * C6)))))
    if ix < 0x3FD33333:  # |x| < 0.3
        return 1.0 - (0.5 * z - (z * r - x * y))
    qx = 0.28125 if ix > 0x3FE90000 else _from_words(ix - 0x00200000, 0)
    hz = 0.5 * z - qx
    a = 1.0 - qx
    return a - (hz - (z * r - x * y))


def _k_tan(x: float, y: float, iy: int) -> float:
    hx = _high(x)
    ix = hx & 0x7FFFFFFF
    if ix < 0x3E300000 and int(x) == 0:  # |x| < 2**-28
        if (ix | _low(x) | (iy + 1)) == 0:
            return 1.0 / abs(x)
        if iy == 1:
            return x
        w = x + y
        z = _with_low(w, 0)
        v = y - (z - x)
        a = -1.0 / w
        t = _with_low(a, 0)
        s = 1.0 + t * z
        return t + a * (s + t * v)
    big = ix >= 0x3FE59428  # |x| >= 0.6744
    if big:
        if hx < 0:
            x, y = -x, -y
        z = PIO4 - x
        w = PIO4LO - y
        x = z + w
        y = 0.0
    z = x * x
    w = z * z
    r = T[1] + w * (T[3] + w * (T[5] + w * (T[7] + w * (T[9] + w * T[11]))))
    v = z * (T[2] + w * (T[4] + w * (T[6] + w * (T[8] + w * (T[10] + w * T[12])))))
    s = z * x
    r = y + z * (s * (r + v) + y)
    r += T[0] * s
    w = x + r
    if big:
        v = float(iy)
        return (1 - ((hx >> 30) & 2)) * (v - 2.0 * (x - (w * w / (w + v) - r)))
    if iy == 1:
        return w
    z = _with_low(w, 0)
    v = r - (z - x)
    a = -1.0 / w
    t = _with_low(a, 0)
    s = 1.0 + t * z
    return t + a * (s + t * v)


def sin(x: float) -> float:
    """``Math.sin(x)``."""
    if not math.isfinite(x):
        return math.nan
    if _high(x) & 0x7FFFFFFF <= 0x3FE921FB:
        return _k_sin(x, 0.0, 0)
    n, y0, y1 = _rem_pio2(x)
    quadrant = n & 3
    if quadrant == 0:
        return _k_sin(y0, y1, 1)
    if quadrant == 1:
        return _k_cos(y0, y1)
    if quadrant == 2:
        return -_k_sin(y0, y1, 1)
    return -_k_cos(y0, y1)


def cos(x: float) -> float:
    """``Math.cos(x)``."""
    if not math.isfinite(x):
        return math.nan
    if _high(x) & 0x7FFFFFFF <= 0x3FE921FB:
        return _k_cos(x, 0.0)
    n, y0, y1 = _rem_pio2(x)
    quadrant = n & 3
    if quadrant == 0:
        return _k_cos(y0, y1)
    if quadrant == 1:
        return -_k_sin(y0, y1, 1)
    if quadrant == 2:
        return -_k_cos(y0, y1)
    return _k_sin(y0, y1, 1)


def tan(x: float) -> float:
    """``Math.tan(x)``."""
    if not math.isfinite(x):
        return math.nan
    if _high(x) & 0x7FFFFFFF <= 0x3FE921FB:
        return _k_tan(x, 0.0, 1)
    n, y0, y1 = _rem_pio2(x)
    return _k_tan(y0, y1, 1 - ((n & 1) << 1))


ATANHI = [
    _from_words(0x3FDDAC67, 0x0561BB4F),  # atan(0.5)
    _from_words(0x3FE921FB, 0x54442D18),  # atan(1)
    _from_words(0x3FEF730B, 0xD281F69B),  # atan(1.5)
    _from_words(0x3FF921FB, 0x54442D18),  # atan(inf)
]
ATANLO = [
    _from_words(0x3C7A2B7F, 0x222F65E2),
    _from_words(0x3C81A626, 0x33145C07),
    _from_words(0x3C700788, 0x7AF0CBBD),
    _from_words(0x3C91A626, 0x33145C07),
]
AT = [
    _from_words(0x3FD55555, 0x5555550D),
    _from_words(0xBFC99999, 0x9998EBC4),
    _from_words(0x3FC24924, 0x920083FF),
    _from_words(0xBFBC71C6, 0xFE231671),
    _from_words(0x3FB745CD, 0xC54C206E),
    _from_words(0xBFB3B0F2, 0xAF749A6D),
    _from_words(0x3FB10D66, 0xA0D03D51),
    _from_words(0xBFADDE2D, 0x52DEFD9A),
    _from_words(0x3FA97B4B, 0x24760DEB),
    _from_words(0xBFA2B444, 0x2C6A6C2F),
    _from_words(0x3F90AD3A, 0xE322DA11),
]
PI = _from_words(0x400921FB, 0x54442D18)
PI_LO = _from_words(0x3CA1A626, 0x33145C07)
PI_O_2 = ATANHI[3]
PI_O_4 = ATANHI[1]


def atan(x: float) -> float:
    """``Math.atan(x)``."""
    if x != x:
        return x
    hx = _high(x)
    ix = hx & 0x7FFFFFFF
    if ix >= 0x44100000:  # |x| >= 2^66
        return ATANHI[3] + ATANLO[3] if hx > 0 else -ATANHI[3] - ATANLO[3]
    if ix < 0x3FDC0000:  # |x| < 0.4375
        if ix < 0x3E400000:  # |x| < 2^-27
            return x
        kind = -1
    else:
        x = abs(x)
        if ix < 0x3FF30000:  # |x| < 1.1875
            if ix < 0x3FE60000:  # 7/16 <= |x| < 11/16
                kind, x = 0, (2.0 * x - 1.0) / (2.0 + x)
            else:  # 11/16 <= |x| < 19/16
                kind, x = 1, (x - 1.0) / (x + 1.0)
        elif ix < 0x40038000:  # |x| < 2.4375
            kind, x = 2, (x - 1.5) / (1.0 + 1.5 * x)
        else:  # 2.4375 <= |x| < 2^66
            kind, x = 3, -1.0 / x
    z = x * x
    w = z * z
    s1 = z * (AT[0] + w * (AT[2] + w * (AT[4] + w * (AT[6] + w * (AT[8] + w * AT[10])))))
    s2 = w * (AT[1] + w * (AT[3] + w * (AT[5] + w * (AT[7] + w * AT[9]))))
    if kind < 0:
        return x - x * (s1 + s2)
    z = ATANHI[kind] - ((x * (s1 + s2) - ATANLO[kind]) - x)
    return -z if hx < 0 else z


def atan2(y: float, x: float) -> float:
    """``Math.atan2(y, x)``."""
    if x != x or y != y:
        return math.nan
    if x == 1.0:
        return atan(y)
    hx, hy = _high(x), _high(y)
    ix, iy = hx & 0x7FFFFFFF, hy & 0x7FFFFFFF
    m = ((hy >> 31) & 1) | ((hx >> 30) & 2)  # 2*sign(x) + sign(y)
    if y == 0:
        return (y, y, PI, -PI)[m]
    if x == 0:
        return -PI_O_2 if hy < 0 else PI_O_2
    if math.isinf(x):
        if math.isinf(y):
            return (PI_O_4, -PI_O_4, 3.0 * PI_O_4, -3.0 * PI_O_4)[m]
        return (0.0, -0.0, PI, -PI)[m]
    if math.isinf(y):
        return -PI_O_2 if hy < 0 else PI_O_2
    k = (iy - ix) >> 20
    if k > 60:  # |y/x| > 2^60
        z = PI_O_2 + 0.5 * PI_LO
        m &= 1
    elif hx < 0 and k < -60:  # 0 > |y|/x > -2^-60
        z = 0.0
    else:
        z = atan(abs(y / x))
    if m == 0:
        return z
    if m == 1:
        return -z
    if m == 2:
        return PI - (z - PI_LO)
    return (z - PI_LO) - PI


def _set_high(x: float, hi: int) -> float:
    return struct.unpack(">d", struct.pack(">I", hi & 0xFFFFFFFF) + struct.pack(">d", x)[4:])[0]  # type: ignore[no-any-return]


O_THRESHOLD = _from_words(0x40862E42, 0xFEFA39EF)
U_THRESHOLD = _from_words(0xC0874910, 0xD52D3051)
LN2_HI = _from_words(0x3FE62E42, 0xFEE00000)
LN2_LO = _from_words(0x3DEA39EF, 0x35793C76)
INVLN2 = _from_words(0x3FF71547, 0x652B82FE)
P = [
    _from_words(0x3FC55555, 0x5555553E),
    _from_words(0xBF66C16C, 0x16BEBD93),
    _from_words(0x3F11566A, 0xAF25DE2C),
    _from_words(0xBEBBBD41, 0xC5D26BF1),
    _from_words(0x3E663769, 0x72BEA4D0),
]
LG = [
    _from_words(0x3FE55555, 0x55555593),
    _from_words(0x3FD99999, 0x9997FA04),
    _from_words(0x3FD24924, 0x94229359),
    _from_words(0x3FCC71C5, 0x1D8E78AF),
    _from_words(0x3FC74664, 0x96CB03DE),
    _from_words(0x3FC39A09, 0xD078C69F),
    _from_words(0x3FC2F112, 0xDF3E5244),
]


def exp(x: float) -> float:
    """``Math.exp(x)``."""
    if x != x:
        return x
    hx = _high(x)
    negative = (hx >> 31) & 1
    hx &= 0x7FFFFFFF
    if hx >= 0x40862E42:  # |x| >= 709.78...
        if math.isinf(x):
            return 0.0 if negative else x
        if x > O_THRESHOLD:
            return math.inf
        if x < U_THRESHOLD:
            return 0.0
    k = 0
    hi = lo = 0.0
    if hx > 0x3FD62E42:  # |x| > 0.5 ln2
        if hx < 0x3FF0A2B2:  # and |x| < 1.5 ln2
            if x == 1.0:
                return math.e  # V8 special-cases e (the steps below are one ulp off)
            hi = x - (-LN2_HI if negative else LN2_HI)
            lo = -LN2_LO if negative else LN2_LO
            k = 1 - negative - negative
        else:
            k = int(INVLN2 * x + (-0.5 if negative else 0.5))
            t = float(k)
            hi = x - t * LN2_HI  # exact here
            lo = t * LN2_LO
        x = hi - lo
    elif hx < 0x3E300000:  # |x| < 2^-28
        return 1.0 + x
    t = x * x
    c = x - t * (P[0] + t * (P[1] + t * (P[2] + t * (P[3] + t * P[4]))))
    if k == 0:
        return 1.0 - ((x * c) / (c - 2.0) - x)
    y = 1.0 - ((lo - (x * c) / (2.0 - c)) - hi)
    return math.ldexp(y, k)


def log(x: float) -> float:
    """``Math.log(x)``."""
    hx, lx = _high(x), _low(x)
    k = 0
    if hx < 0x00100000:  # x < 2^-1022
        if ((hx & 0x7FFFFFFF) | lx) == 0:
            return -math.inf
        if hx < 0:
            return math.nan
        k -= 54
        x *= 18014398509481984.0  # 2^54: scale a subnormal up
        hx = _high(x)
    if hx >= 0x7FF00000:
        return x + x
    k += (hx >> 20) - 1023
    hx &= 0x000FFFFF
    i = (hx + 0x95F64) & 0x100000
    x = _set_high(x, hx | (i ^ 0x3FF00000))  # normalize x or x/2
    k += i >> 20
    f = x - 1.0
    dk = float(k)
    if (0x000FFFFF & (2 + hx)) < 3:  # -2^-20 <= f < 2^-20
        if f == 0:
            return 0.0 if k == 0 else dk * LN2_HI + dk * LN2_LO
        r = f * f * (0.5 - 0.33333333333333333 * f)
        return f - r if k == 0 else dk * LN2_HI - ((r - dk * LN2_LO) - f)
    s = f / (2.0 + f)
    z = s * s
    i = hx - 0x6147A
    w = z * z
    j = 0x6B851 - hx
    t1 = w * (LG[1] + w * (LG[3] + w * LG[5]))
    t2 = z * (LG[0] + w * (LG[2] + w * (LG[4] + w * LG[6])))
    i |= j
    r = t2 + t1
    if i > 0:
        hfsq = 0.5 * f * f
        if k == 0:
            return f - (hfsq - s * (hfsq + r))
        return dk * LN2_HI - ((hfsq - (s * (hfsq + r) + dk * LN2_LO)) - f)
    if k == 0:
        return f - s * (f - r)
    return dk * LN2_HI - ((s * (f - r) - dk * LN2_LO) - f)


Q = [
    _from_words(0xBFA11111, 0x111110F4),
    _from_words(0x3F5A01A0, 0x19FE5585),
    _from_words(0xBF14CE19, 0x9EAADBB7),
    _from_words(0x3ED0CFCA, 0x86E65239),
    _from_words(0xBE8AFDB7, 0x6E09C32D),
]


def expm1(x: float) -> float:
    """``Math.expm1(x)``."""
    if x != x:
        return x
    hx = _high(x)
    negative = hx < 0
    hx &= 0x7FFFFFFF
    if hx >= 0x4043687A:  # |x| >= 56 ln2
        if hx >= 0x40862E42:  # |x| >= 709.78...
            if math.isinf(x):
                return -1.0 if negative else x
            if x > O_THRESHOLD:
                return math.inf
        if negative:
            return -1.0
    c = 0.0
    if hx > 0x3FD62E42:  # |x| > 0.5 ln2
        if hx < 0x3FF0A2B2:  # and |x| < 1.5 ln2
            if not negative:
                hi, lo, k = x - LN2_HI, LN2_LO, 1
            else:
                hi, lo, k = x + LN2_HI, -LN2_LO, -1
        else:
            k = int(INVLN2 * x + (-0.5 if negative else 0.5))
            t = float(k)
            hi = x - t * LN2_HI
            lo = t * LN2_LO
        x = hi - lo
        c = (hi - x) - lo
    elif hx < 0x3C900000:  # |x| < 2^-54
        return x
    else:
        k = 0
    hfx = 0.5 * x
    hxs = x * hfx
    r1 = 1.0 + hxs * (Q[0] + hxs * (Q[1] + hxs * (Q[2] + hxs * (Q[3] + hxs * Q[4]))))
    t = 3.0 - r1 * hfx
    e = hxs * ((r1 - t) / (6.0 - x * t))
    if k == 0:
        return x - (x * e - hxs)
    e = x * (e - c) - c
    e -= hxs
    if k == -1:
        return 0.5 * (x - e) - 0.5
    if k == 1:
        if x < -0.25:
            return -2.0 * (e - (x + 0.5))
        return 1.0 + 2.0 * (x - e)
    if k <= -2 or k > 56:  # exp(x) - 1 is enough
        y = 1.0 - (e - x)
        return math.ldexp(y, k) - 1.0
    if k < 20:
        t = _from_words(0x3FF00000 - (0x200000 >> k), 0)  # 1 - 2^-k
        y = t - (e - x)
    else:
        t = _from_words((0x3FF - k) << 20, 0)  # 2^-k
        y = x - (e + t)
        y += 1.0
    return math.ldexp(y, k)


_KCOSH_OVERFLOW = 710.4758600739439
_LOG_MAXD = _from_words(0x40862E42, 0)


def cosh(x: float) -> float:
    """``Math.cosh(x)``."""
    ix = _high(x) & 0x7FFFFFFF
    ax = abs(x)
    if ix < 0x3FD62E43:  # |x| < 0.5 ln2
        t = expm1(ax)
        w = 1.0 + t
        if ix < 0x3C800000:  # |x| < 2^-55
            return w
        return 1.0 + (t * t) / (w + w)
    if ix < 0x40360000:  # |x| < 22
        t = exp(ax)
        return 0.5 * t + 0.5 / t
    if ix < 0x40862E42:  # |x| < log(maxdouble)
        return 0.5 * exp(ax)
    if ax <= _KCOSH_OVERFLOW:
        w = exp(0.5 * ax)
        t = 0.5 * w
        return t * w
    if ix >= 0x7FF00000:
        return x * x
    return math.inf


def sinh(x: float) -> float:
    """``Math.sinh(x)``."""
    h = -0.5 if x < 0 else 0.5
    ax = abs(x)
    if ax < 22:
        if ax < 3.725290298461914e-9:  # 2^-28
            return x
        t = expm1(ax)
        if ax < 1:
            return h * (2.0 * t - t * t / (t + 1.0))
        return h * (t + t / (t + 1.0))
    if ax < _LOG_MAXD:
        return h * exp(ax)
    if ax <= _KCOSH_OVERFLOW:
        w = exp(0.5 * ax)
        t = h * w
        return t * w
    if x != x:
        return x
    return math.copysign(math.inf, x)


def tanh(x: float) -> float:
    """``Math.tanh(x)``."""
    jx = _high(x)
    ix = jx & 0x7FFFFFFF
    if ix >= 0x7FF00000:
        if x != x:
            return x
        return 1.0 if jx >= 0 else -1.0
    if ix < 0x40360000:  # |x| < 22
        if ix < 0x3E300000:  # |x| < 2^-28
            return x
        if ix >= 0x3FF00000:  # |x| >= 1
            t = expm1(2.0 * abs(x))
            z = 1.0 - 2.0 / (t + 2.0)
        else:
            t = expm1(-2.0 * abs(x))
            z = -t / (t + 2.0)
    else:
        z = 1.0
    return z if jx >= 0 else -z


PIO2_HI = ATANHI[3]
PIO2_LO = ATANLO[3]
PS = [
    _from_words(0x3FC55555, 0x55555555),
    _from_words(0xBFD4D612, 0x03EB6F7D),
    _from_words(0x3FC9C155, 0x0E884455),
    _from_words(0xBFA48228, 0xB5688F3B),
    _from_words(0x3F49EFE0, 0x7501B288),
    _from_words(0x3F023DE1, 0x0DFDF709),
]
QS = [
    _from_words(0xC0033A27, 0x1C8A2D4B),
    _from_words(0x40002AE5, 0x9C598AC8),
    _from_words(0xBFE6066C, 0x1B8D0159),
    _from_words(0x3FB3B8C5, 0xB12E9282),
]


def _asin_pq(t: float) -> tuple[float, float]:
    p = t * (PS[0] + t * (PS[1] + t * (PS[2] + t * (PS[3] + t * (PS[4] + t * PS[5])))))
    q = 1.0 + t * (QS[0] + t * (QS[1] + t * (QS[2] + t * QS[3])))
    return p, q


def asin(x: float) -> float:
    """``Math.asin(x)``."""
    hx = _high(x)
    ix = hx & 0x7FFFFFFF
    if ix >= 0x3FF00000:  # |x| >= 1
        if ((ix - 0x3FF00000) | _low(x)) == 0:
            return x * PIO2_HI + x * PIO2_LO
        return math.nan
    if ix < 0x3FE00000:  # |x| < 0.5
        if ix < 0x3E500000:  # |x| < 2^-26
            return x
        t = x * x
        p, q = _asin_pq(t)
        return x + x * (p / q)
    w = 1.0 - abs(x)
    t = w * 0.5
    p, q = _asin_pq(t)
    s = math.sqrt(t)
    if ix >= 0x3FEF3333:  # |x| > 0.975
        w = p / q
        t = PIO2_HI - (2.0 * (s + s * w) - PIO2_LO)
    else:
        w = _with_low(s, 0)
        c = (t - w * w) / (s + w)
        r = p / q
        p = 2.0 * s * r - (PIO2_LO - 2.0 * c)
        q = PIO4 - 2.0 * w
        t = PIO4 - (p - q)
    return t if hx > 0 else -t


def acos(x: float) -> float:
    """``Math.acos(x)``."""
    hx = _high(x)
    ix = hx & 0x7FFFFFFF
    if ix >= 0x3FF00000:  # |x| >= 1
        if ((ix - 0x3FF00000) | _low(x)) == 0:
            return 0.0 if hx > 0 else PI + 2.0 * PIO2_LO
        return math.nan
    if ix < 0x3FE00000:  # |x| < 0.5
        if ix <= 0x3C600000:  # |x| < 2^-57
            return PIO2_HI + PIO2_LO
        z = x * x
        p, q = _asin_pq(z)
        return PIO2_HI - (x - (PIO2_LO - x * (p / q)))
    if hx < 0:  # x < -0.5
        z = (1.0 + x) * 0.5
        p, q = _asin_pq(z)
        s = math.sqrt(z)
        w = (p / q) * s - PIO2_LO
        return PI - 2.0 * (s + w)
    z = (1.0 - x) * 0.5  # x > 0.5
    s = math.sqrt(z)
    df = _with_low(s, 0)
    c = (z - df * df) / (s + df)
    p, q = _asin_pq(z)
    w = (p / q) * s + c
    return 2.0 * (df + w)


IVLN2HI = _from_words(0x3FF71547, 0x65200000)
IVLN2LO = _from_words(0x3DE705FC, 0x2EEFA200)
IVLN10 = _from_words(0x3FDBCB7B, 0x1526E50E)
LOG10_2HI = _from_words(0x3FD34413, 0x509F6000)
LOG10_2LO = _from_words(0x3D59FEF3, 0x11F12B36)
LN2 = _from_words(0x3FE62E42, 0xFEFA39EF)


def log2(x: float) -> float:
    """``Math.log2(x)``."""
    hx, lx = _high(x), _low(x)
    k = 0
    if hx < 0x00100000:  # x < 2^-1022
        if ((hx & 0x7FFFFFFF) | lx) == 0:
            return -math.inf
        if hx < 0:
            return math.nan
        k -= 54
        x *= 18014398509481984.0
        hx = _high(x)
    if hx >= 0x7FF00000:
        return x + x
    if hx == 0x3FF00000 and lx == 0:
        return 0.0
    k += (hx >> 20) - 1023
    hx &= 0x000FFFFF
    i = (hx + 0x95F64) & 0x100000
    x = _set_high(x, hx | (i ^ 0x3FF00000))
    k += i >> 20
    y = float(k)
    f = x - 1.0
    hfsq = 0.5 * f * f
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (LG[1] + w * (LG[3] + w * LG[5]))
    t2 = z * (LG[0] + w * (LG[2] + w * (LG[4] + w * LG[6])))
    r = s * (hfsq + (t2 + t1))
    hi = _with_low(f - hfsq, 0)
    lo = (f - hi) - hfsq + r
    val_hi = hi * IVLN2HI
    val_lo = (lo + hi) * IVLN2LO + lo * IVLN2HI
    w = y + val_hi
    val_lo += (y - w) + val_hi
    val_hi = w
    return val_lo + val_hi


def log10(x: float) -> float:
    """``Math.log10(x)``."""
    hx, lx = _high(x), _low(x)
    k = 0
    if hx < 0x00100000:  # x < 2^-1022
        if ((hx & 0x7FFFFFFF) | lx) == 0:
            return -math.inf
        if hx < 0:
            return math.nan
        k -= 54
        x *= 18014398509481984.0
        hx, lx = _high(x), _low(x)
    if hx >= 0x7FF00000:
        return x + x
    if hx == 0x3FF00000 and lx == 0:
        return 0.0
    k += (hx >> 20) - 1023
    i = 1 if k < 0 else 0
    hx = (hx & 0x000FFFFF) | ((0x3FF - i) << 20)
    y = float(k + i)
    x = _set_high(x, hx)
    z = y * LOG10_2LO + IVLN10 * log(x)
    return z + y * LOG10_2HI


def asinh(x: float) -> float:
    """``Math.asinh(x)``."""
    hx = _high(x)
    ix = hx & 0x7FFFFFFF
    if ix >= 0x7FF00000:
        return x + x
    if ix < 0x3E300000:  # |x| < 2^-28
        return x
    if ix > 0x41B00000:  # |x| > 2^28
        w = log(abs(x)) + LN2
    elif ix > 0x40000000:  # 2^28 > |x| > 2
        t = abs(x)
        w = log(2.0 * t + 1.0 / (math.sqrt(x * x + 1.0) + t))
    else:  # 2 > |x| > 2^-28
        t = x * x
        w = log1p(abs(x) + t / (1.0 + math.sqrt(1.0 + t)))
    return w if hx > 0 else -w


def acosh(x: float) -> float:
    """``Math.acosh(x)``."""
    hx, lx = _high(x), _low(x)
    if hx < 0x3FF00000:  # x < 1
        return math.nan
    if hx >= 0x41B00000:  # x > 2^28
        if hx >= 0x7FF00000:
            return x + x
        return log(x) + LN2
    if ((hx - 0x3FF00000) | lx) == 0:
        return 0.0
    if hx > 0x40000000:  # 2^28 > x > 2
        t = x * x
        return log(2.0 * x - 1.0 / (x + math.sqrt(t - 1.0)))
    t = x - 1.0  # 1 < x < 2
    return log1p(t + math.sqrt(2.0 * t + t * t))


def log1p(x: float) -> float:
    """``Math.log1p(x)``."""
    hx = _high(x)
    ax = hx & 0x7FFFFFFF
    k = 1
    f = c = 0.0
    hu = 0
    if hx < 0x3FDA827A:  # 1 + x < sqrt(2)
        if ax >= 0x3FF00000:  # x <= -1
            return -math.inf if x == -1.0 else math.nan
        if ax < 0x3E200000:  # |x| < 2^-29
            if ax < 0x3C900000:  # |x| < 2^-54
                return x
            return x - x * x * 0.5
        if hx > 0 or hx <= -1076707644:  # (int32)0xbfd2bec4: sqrt(2)/2 <= 1 + x < sqrt(2)
            k, f, hu = 0, x, 1
    if hx >= 0x7FF00000:
        return x + x
    if k != 0:
        if hx < 0x43400000:
            u = 1.0 + x
            hu = _high(u)
            k = (hu >> 20) - 1023
            c = 1.0 - (u - x) if k > 0 else x - (u - 1.0)  # correction term
            c /= u
        else:
            u = x
            hu = _high(u)
            k = (hu >> 20) - 1023
            c = 0.0
        hu &= 0x000FFFFF
        if hu < 0x6A09E:  # u < sqrt(2)
            u = _set_high(u, hu | 0x3FF00000)
        else:
            k += 1
            u = _set_high(u, hu | 0x3FE00000)
            hu = (0x00100000 - hu) >> 2
        f = u - 1.0
    hfsq = 0.5 * f * f
    if hu == 0:  # |f| < 2^-20
        if f == 0:
            if k == 0:
                return 0.0
            c += k * LN2_LO
            return k * LN2_HI + c
        r = hfsq * (1.0 - 0.66666666666666666 * f)
        if k == 0:
            return f - r
        return k * LN2_HI - ((r - (k * LN2_LO + c)) - f)
    s = f / (2.0 + f)
    z = s * s
    r = z * (
        LG[0] + z * (LG[1] + z * (LG[2] + z * (LG[3] + z * (LG[4] + z * (LG[5] + z * LG[6])))))
    )
    if k == 0:
        return f - (hfsq - s * (hfsq + r))
    return k * LN2_HI - ((hfsq - (s * (hfsq + r) + (k * LN2_LO + c))) - f)


def atanh(x: float) -> float:
    """``Math.atanh(x)``."""
    if x != x:
        return x
    hx = _high(x)
    ix = hx & 0x7FFFFFFF
    ax = abs(x)
    if ax > 1:
        return math.nan
    if ax == 1:
        return math.copysign(math.inf, x)
    if ix < 0x3E300000:  # |x| < 2^-28
        return x
    if ix < 0x3FE00000:  # |x| < 0.5
        t = ax + ax
        t = 0.5 * log1p(t + t * ax / (1.0 - ax))
    else:
        t = 0.5 * log1p((ax + ax) / (1.0 - ax))
    return t if hx >= 0 else -t
