"""Kubernetes `resource.Quantity`, bit for bit.

A port of k8s.io/apimachinery/pkg/api/resource (quantity.go, amount.go,
math.go, scale_int.go, suffix.go) and the parts of gopkg.in/inf.v0 it uses, as
vendored by the kubectl releases ktopui matches (SPEC Part B §1). Values are
exact Python integers, never floats. Go's choice of representation is kept
because it is observable: an `int64Amount` and an `inf.Dec` of the same value
overflow differently in `Value()`/`MilliValue()`, and only the int64 parse path
caches the input string that `String()` returns verbatim.

Go's int64/int32 wrap-around is reproduced where the upstream code lets it
happen. The one deliberate difference: where Go would allocate a power of ten
with more than `_MAX_SHIFT` digits (it needs minutes and gigabytes for inputs
such as "1000000000000000000e2000000000"), parsing fails with ErrNumeric and
arithmetic raises OverflowError.

It is one module, over the usual size, because it is one port: its parts call
each other as the Go files do, and reading it beside them is how it is checked.
"""

from __future__ import annotations

import decimal
import functools
from collections.abc import Iterable
from fractions import Fraction

DECIMAL_SI = "DecimalSI"
BINARY_SI = "BinarySI"
DECIMAL_EXPONENT = "DecimalExponent"

ERR_FORMAT_WRONG = (
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
)
ERR_NUMERIC = "unable to parse numeric part of quantity"
ERR_SUFFIX = "unable to parse quantity's suffix"


class QuantityError(ValueError):
    """ParseQuantity failed; str(err) is Go's error text."""


_MAX_INT64 = (1 << 63) - 1
_MIN_INT64 = -(1 << 63)
_NANO = 10**9
_MAX_SHIFT = 100_000
_POW10 = [10**i for i in range(64)]

# suffix.go: suffix -> (base, exponent, format)
_SUFFIXES = {
    "": (10, 0, DECIMAL_SI),
    "n": (10, -9, DECIMAL_SI),
    "u": (10, -6, DECIMAL_SI),
    "m": (10, -3, DECIMAL_SI),
    "k": (10, 3, DECIMAL_SI),
    "M": (10, 6, DECIMAL_SI),
    "G": (10, 9, DECIMAL_SI),
    "T": (10, 12, DECIMAL_SI),
    "P": (10, 15, DECIMAL_SI),
    "E": (10, 18, DECIMAL_SI),
    "Ki": (2, 10, BINARY_SI),
    "Mi": (2, 20, BINARY_SI),
    "Gi": (2, 30, BINARY_SI),
    "Ti": (2, 40, BINARY_SI),
    "Pi": (2, 50, BINARY_SI),
    "Ei": (2, 60, BINARY_SI),
}
_DECIMAL_SUFFIX = {exp: s for s, (base, exp, _) in _SUFFIXES.items() if base == 10}
_BINARY_SUFFIX = {exp // 10: s for s, (base, exp, _) in _SUFFIXES.items() if base == 2}

# "<digits><suffix>" shapes that ParseQuantity keeps on its int64 path when they
# have at most `max digits` significant digits (its precision >= 0; negative for
# Pi and Ei, which never fit). suffix -> (format, scale, multiplier, max digits)
_SIMPLE = {
    s: (fmt, 0, 1 << exp, 14 - exp * 3 // 10) if base == 2 else (fmt, exp, 1, 18)
    for s, (base, exp, fmt) in _SUFFIXES.items()
}

_DIGITS = frozenset("0123456789")
_SUFFIX_CHARS = frozenset("eEinumkKMGTP")


# -- Go integer semantics ---------------------------------------------------


def _int64(x: int) -> int:
    """Go's int64 wrap-around (and big.Int.Int64(): the low 64 bits, signed)."""
    return ((x + (1 << 63)) & 0xFFFF_FFFF_FFFF_FFFF) - (1 << 63)


def _int32(x: int) -> int:
    return ((x + (1 << 31)) & 0xFFFF_FFFF) - (1 << 31)


def _fits64(x: int) -> bool:
    return _MIN_INT64 <= x <= _MAX_INT64


def _pow10(n: int) -> int:
    return _POW10[n] if n < 64 else 10**n


def _scale_up(u: int, n: int) -> int:
    """u * 10**n for n >= 0, refusing results Go itself could hardly build."""
    if not u:
        return 0
    if n > _MAX_SHIFT:
        raise OverflowError(f"quantity needs more than 10**{_MAX_SHIFT} to be represented exactly")
    return u * _pow10(n)


def _int(digits: str) -> int:
    # Python refuses str->int beyond sys.get_int_max_str_digits(); Decimal does not.
    try:
        return int(digits)
    except ValueError:
        return int(decimal.Decimal(digits))


def _str(n: int) -> str:
    try:
        return str(n)
    except ValueError:
        return str(decimal.Decimal(n))


def _strip10(u: int) -> tuple[int, int]:
    """(m, k) with u == m * 10**k and m not divisible by 10 (removeInt64Factors/removeBigIntFactors)."""
    if not u:
        return 0, 0
    lo, hi = 0, (u & -u).bit_length() - 1  # 10**k divides u only if 2**k does
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if u % _pow10(mid):
            hi = mid - 1
        else:
            lo = mid
    return u // _pow10(lo), lo


def _positive_scale(v: int, d: int) -> tuple[int, bool]:
    """math.go positiveScaleInt64: v * 10**d and whether it fit in int64."""
    if d in (1, 2, 3, 6, 9):
        # int64MultiplyScale*: the wrapped product is returned even on overflow.
        if v == _MIN_INT64:
            return 0, False
        r = v * _POW10[d]
        return _int64(r), _fits64(r)
    if d <= 0:  # d == 0, or an int32 scale difference that wrapped: Go's loop never runs
        return v, True
    r = v * _pow10(d) if d < 19 else (0 if v == 0 else _MAX_INT64 + 1)
    return (r, True) if _fits64(r) else (0, False)


def _negative_scale(v: int, d: int) -> int:
    """math.go negativeScaleInt64: v / 10**d, rounded away from zero."""
    if d <= 0:
        return v
    q, r = divmod(abs(v), _POW10[d]) if d < 19 else (0, abs(v))
    sign = -1 if v < 0 else 1
    return sign * (q + 1) if r else sign * q


def _scaled_int64(v: int, scale: int, target: int) -> int:
    """amount.go int64Amount.AsScaledInt64, as ScaledValue uses it (ok ignored)."""
    if scale < target:
        return _negative_scale(v, _int32(target - scale))
    return _positive_scale(v, _int32(scale - target))[0]


def _scaled_dec(u: int, exp: int, target: int) -> int:
    """scale_int.go scaledValue for an inf.Dec of value u * 10**exp."""
    dif = target - exp
    if dif == 0:
        return _int64(u)
    if dif < 0:
        # int64(math.Pow10(k)) is exact up to 10**18; beyond, the float does not
        # fit and linux/amd64 converts it to math.MinInt64.
        return _int64(u * (_POW10[-dif] if -dif <= 18 else _MIN_INT64))
    if u < _MAX_INT64 and dif < 19:
        # Go's truncating division, then +1 if inexact: -1.5 becomes 0.
        x, p = _int64(u), _POW10[dif]
        q = abs(x) // p * (-1 if x < 0 else 1)
        return q + 1 if x - q * p else q
    # big.Int DivMod is Euclidean (floor for a positive divisor).
    q, r = ((0 if u >= 0 else -1), u) if abs(u).bit_length() <= 3 * dif else divmod(u, _pow10(dif))
    return _int64(q + 1 if r else q)


def _add_int64(av: int, ascale: int, bv: int, bscale: int) -> tuple[int, int] | None:
    """amount.go int64Amount.Add: the sum at the smaller scale, or None on int64 overflow."""
    if bv == 0:
        return av, ascale
    if av == 0:
        return bv, bscale
    if ascale == bscale:
        c = av + bv
        return (c, ascale) if _fits64(c) else None
    if ascale > bscale:
        c, ok = _positive_scale(av, _int32(ascale - bscale))
        return (c + bv, bscale) if ok and _fits64(c + bv) else None
    c, ok = _positive_scale(bv, _int32(bscale - ascale))
    return (av + c, ascale) if ok and _fits64(av + c) else None


# -- The value type ---------------------------------------------------------


class Quantity:
    """An immutable Kubernetes quantity with Go's exact semantics.

    The value is `_u * 10**_e`. `_dec` tells Go's representation: False is
    int64Amount{value: _u, scale: _e}, True is inf.Dec{unscaled: _u, scale: -_e}.
    `_s` is the string Go cached at parse time, returned verbatim by String().
    """

    __slots__ = ("_u", "_e", "_dec", "_fmt", "_s")

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError("Quantity is immutable")

    def __delattr__(self, name: str) -> None:
        raise AttributeError("Quantity is immutable")

    @property
    def format(self) -> str:
        return self._fmt

    @property
    def nanos(self) -> int:
        """Exact value in units of 1e-9 (always whole: parsing rounds finer values up to 1n)."""
        shift = self._e + 9
        return _scale_up(self._u, shift) if shift >= 0 else self._u // _pow10(-shift)

    @property
    def exact(self) -> Fraction:
        if self._e >= 0:
            return Fraction(_scale_up(self._u, self._e))
        return Fraction(self._u, _pow10(-self._e)) if self._u else Fraction(0)

    def milli_value(self) -> int:
        """Go MilliValue(): ceil(q * 1000) with Go's int64 overflow artefacts."""
        return _scaled_dec(self._u, self._e, -3) if self._dec else _scaled_int64(self._u, self._e, -3)

    def value(self) -> int:
        """Go Value(): ceil(q) with Go's int64 overflow artefacts."""
        return _scaled_dec(self._u, self._e, 0) if self._dec else _scaled_int64(self._u, self._e, 0)

    def __str__(self) -> str:
        return self._s if self._s is not None else _canonical(self._u, self._e, self._fmt)

    def __repr__(self) -> str:
        return f"Quantity({str(self)!r})"

    def __add__(self, other: Quantity) -> Quantity:
        """Go Add: exact; a zero receiver takes the other's format; the cached string is dropped."""
        if not isinstance(other, Quantity):
            return NotImplemented
        fmt = self._fmt
        if not (self._dec or other._dec):
            if self._u == 0:
                fmt = other._fmt
            summed = _add_int64(self._u, self._e, other._u, other._e)
            if summed is not None:
                return _new(summed[0], summed[1], False, fmt, None)
        elif self._u == 0:
            fmt = other._fmt
        # inf.Dec.Add: exact, at the larger inf scale (the smaller exponent).
        exp = min(self._e, other._e)
        u = _scale_up(self._u, self._e - exp) + _scale_up(other._u, other._e - exp)
        return _new(u, exp, True, fmt, None)

    def _normal(self) -> tuple[int, int]:
        m, k = _strip10(self._u)
        return (m, self._e + k) if m else (0, 0)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        if self._e == other._e:
            return self._u == other._u
        return self._normal() == other._normal()

    def __hash__(self) -> int:
        return hash(self._normal())


_new_quantity = object.__new__
_set_u = Quantity._u.__set__  # type: ignore[attr-defined]
_set_e = Quantity._e.__set__  # type: ignore[attr-defined]
_set_dec = Quantity._dec.__set__  # type: ignore[attr-defined]
_set_fmt = Quantity._fmt.__set__  # type: ignore[attr-defined]
_set_s = Quantity._s.__set__  # type: ignore[attr-defined]


def _new(u: int, exp: int, dec: bool, fmt: str, cached: str | None) -> Quantity:
    q = _new_quantity(Quantity)
    _set_u(q, u)
    _set_e(q, exp)
    _set_dec(q, dec)
    _set_fmt(q, fmt)
    _set_s(q, cached)
    return q


def _canonical(u: int, exp: int, fmt: str) -> str:
    """quantity.go CanonicalizeBytes."""
    if u == 0:
        return "0"
    if fmt == BINARY_SI:
        # Whole values of at least 1024 in magnitude print in powers of 1024;
        # anything else (small, or not an integer: AsScale(0) inexact) as DecimalSI.
        whole = _scale_up(u, exp) if exp >= 0 else (u // _pow10(-exp) if u % _pow10(-exp) == 0 else None)
        if whole is not None and abs(whole) >= 1024:
            k = ((whole & -whole).bit_length() - 1) // 10
            return _str(whole >> (10 * k)) + _BINARY_SUFFIX.get(k, "")
        fmt = DECIMAL_SI
    # AsCanonicalBytes: strip factors of 10, then lower the exponent (int32) to a multiple of 3.
    m, k = _strip10(u)
    exp = _int32(exp + k)
    r = exp % 3
    m, exp = m * _POW10[r], _int32(exp - r)
    if fmt == DECIMAL_SI:
        # No suffix beyond E (10**18) or below n: Go silently drops it ("1000E" -> "1").
        return _str(m) + _DECIMAL_SUFFIX.get(exp, "")
    return _str(m) + (f"e{exp}" if exp else "")


# -- Parsing ----------------------------------------------------------------


def _scan(s: str) -> tuple[bool, str, str, str, str]:
    """quantity.go parseQuantityString -> (positive, value, num, denom, suffix)."""
    end = len(s)
    pos = 0
    positive = True
    if s[0] in "+-":
        positive = s[0] == "+"
        pos = 1
    while pos < end and s[pos] == "0":
        pos += 1
    if pos == end:
        return positive, "0", "0", "", ""
    start = pos
    while pos < end and s[pos] in _DIGITS:
        pos += 1
    num = s[start:pos] or "0"
    if pos == end:
        return positive, s, num, "", ""
    denom = ""
    if s[pos] == ".":
        pos += 1
        start = pos
        while pos < end and s[pos] in _DIGITS:
            pos += 1
        denom = s[start:pos]
        if pos == end:
            return positive, s, num, denom, ""
    value = s[:pos]
    start = pos
    while pos < end and s[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and s[pos] in "+-":
        pos += 1
    while pos < end and s[pos] in _DIGITS:
        pos += 1
    if pos < end:
        raise QuantityError(ERR_FORMAT_WRONG)
    return positive, value, num, denom, s[start:]


def _interpret(suffix: str) -> tuple[int, int, str]:
    """suffix.go interpret -> (base, exponent, format)."""
    found = _SUFFIXES.get(suffix)
    if found is not None:
        return found
    if len(suffix) > 1 and suffix[0] in "eE":
        # strconv.ParseInt(rest, 10, 64), then truncated with int32().
        text = suffix[1:]
        digits = text[1:] if text[0] in "+-" else text
        if digits.isascii() and digits.isdigit():
            exponent = _int(text)
            if _fits64(exponent):
                return 10, _int32(exponent), DECIMAL_EXPONENT
    raise QuantityError(ERR_SUFFIX)


def _simple_parts(text: str) -> tuple[str, tuple[str, int, int, int]] | None:
    """For "<digits><suffix>" shapes that stay on Go's int64 path: (significant digits, _SIMPLE entry)."""
    last = text[-1]
    if "0" <= last <= "9":
        digits, suffix = text, ""
    elif last == "i":
        digits, suffix = text[:-2], text[-2:]
    else:
        digits, suffix = text[:-1], last
    spec = _SIMPLE.get(suffix)
    if spec is None or not (digits.isascii() and digits.isdigit()):
        return None
    num = digits.lstrip("0") or "0"
    return (num, spec) if len(num) <= spec[3] else None


def parse_quantity(text: str) -> Quantity:
    """Go ParseQuantity; raises QuantityError with Go's message."""
    if not text:
        raise QuantityError(ERR_FORMAT_WRONG)
    if text == "0":
        return ZERO
    simple = _simple_parts(text)
    if simple is not None:
        num, (fmt, scale, multiplier, _) = simple
        v = int(num)
        if fmt == BINARY_SI:
            cached = text if v & 7 else None
        else:
            cached = text if v and not num.endswith("000") else None
        return _new(v * multiplier, scale, False, fmt, cached)
    return _parse_general(text)


def _parse_general(text: str) -> Quantity:
    positive, value, num, denom, suffix = _scan(text)
    base, exponent, fmt = _interpret(suffix)
    if fmt == BINARY_SI:
        # int32(float32(exponent)*3/10) is exact for exponents 10..60; Pi and Ei never fit.
        precision = -1 if denom else 14 - len(num) - exponent * 3 // 10
        multiplier, scale = 1 << exponent, 0
    else:
        precision = 18 - len(num) - len(denom)
        multiplier, scale = 1, exponent
    if precision >= 0:
        scale = _int32(scale - len(denom))
        if scale >= -9:
            # int64 path: exact; at most 18 digits, so the product always fits.
            shifted = num + denom
            v = int(shifted)
            if fmt == BINARY_SI:
                cached = text if v & 7 else None
            elif scale % 3 == 0 and not shifted.endswith("000") and shifted[0] != "0":
                cached = text
            else:
                cached = None
            result = v * multiplier
            return _new(result if positive else -result, scale, False, fmt, cached)
    return _parse_dec(value, num, denom, base, exponent, fmt)


def _parse_dec(value: str, num: str, denom: str, base: int, exponent: int, fmt: str) -> Quantity:
    """ParseQuantity's inf.Dec path: round up to whole nanos, cap BinarySI at 2^63-1."""
    if not value.strip("+-."):  # inf.Dec.SetString needs a digit
        raise QuantityError(ERR_NUMERIC)
    magnitude = _int(num + denom)
    scale = len(denom)  # inf scale: digits after the point
    if base == 10:
        scale -= exponent
    else:
        magnitude <<= exponent
    if magnitude:
        # inf.Dec.Round(amount, 9, inf.RoundUp): away from zero.
        if scale <= 9:
            try:
                magnitude = _scale_up(magnitude, 9 - scale)
            except OverflowError:
                raise QuantityError(ERR_NUMERIC) from None
        elif magnitude.bit_length() <= 3 * (scale - 9):  # below 1n
            magnitude = 1
        else:
            magnitude = -(-magnitude // _pow10(scale - 9))
        scale = 9
        if fmt == BINARY_SI:
            if magnitude > _MAX_INT64 * _NANO:
                magnitude, scale = _MAX_INT64, 0
            elif magnitude < _NANO:
                fmt = DECIMAL_SI
    return _new(-magnitude if value[0] == "-" else magnitude, -scale, True, fmt, None)


ZERO = _new(0, 0, False, DECIMAL_SI, "0")


@functools.lru_cache(maxsize=1 << 16)
def parse_cached(text: str) -> Quantity:
    """parse_quantity, memoised: clusters repeat the same request and limit strings.

    Failures are not cached (lru_cache does not store exceptions), so an invalid
    string raises every time.
    """
    return parse_quantity(text)


# Exact values in nano units (1e-9) of "<ascii digits><suffix>" strings: the
# shapes metrics-server and most manifests use. Integer arithmetic only; every
# other spelling (signs, fractions, exponents, invalid text) goes to the exact
# parser. Values are exact whichever representation Go picks for them: Go
# rounds only below 1n (impossible here) and caps BinarySI above 2^63-1 (beyond
# what the rounding helpers below accept).
_NANOS_BINARY = {s: (1 << exp) * _NANO for s, (base, exp, _) in _SUFFIXES.items() if base == 2}
_NANOS_DECIMAL = {s: _pow10(exp + 9) for s, (base, exp, _) in _SUFFIXES.items() if base == 10 and s}
_MAX_FAST_DIGITS = 40  # far below Python's int-from-str limit
# ceil(n / 10**6) <= MaxInt64 exactly when n <= MAX_MILLI_NANOS: below it, Go's
# MilliValue() and Value() of any exact sum are plain ceilings (SPEC B §1.3).
MAX_MILLI_NANOS = _MAX_INT64 * 1_000_000


def simple_nanos(text: str) -> int | None:
    """The exact value of `text` in nano units, or None if it is not a simple shape.

    Simple: unsigned ASCII digits followed by one of Go's suffixes ("243381306n",
    "3096552Ki", "12345678", "250m", "2Gi"). None says "use parse_quantity".
    The value is parse_quantity(text).nanos, except above 2^63-1 units where Go
    caps BinarySI values: callers only trust results up to MAX_MILLI_NANOS.
    """
    last = text[-1:]
    if last == "n":
        digits, factor = text[:-1], 1
    elif last == "i":
        digits, factor = text[:-2], _NANOS_BINARY.get(text[-2:])
    elif "0" <= last <= "9":
        digits, factor = text, _NANO
    else:
        digits, factor = text[:-1], _NANOS_DECIMAL.get(last)
    if factor is None or len(digits) > _MAX_FAST_DIGITS or not (digits.isascii() and digits.isdigit()):
        return None
    return int(digits) * factor


def nanos_to_milli(nanos: int) -> int:
    """MilliValue() of a non-negative exact value <= MAX_MILLI_NANOS: ceil to the milli."""
    return -(-nanos // 1_000_000)


def nanos_to_value(nanos: int) -> int:
    """Value() of a non-negative exact value <= MAX_MILLI_NANOS: ceil to the unit."""
    return -(-nanos // _NANO)


def sum_quantities(texts: Iterable[str]) -> Quantity:
    """kubectl's pod total: q := ParseQuantity("0"); q.Add(ParseQuantity(t)) for each t."""
    total = ZERO
    for text in texts:
        total = total + parse_quantity(text)
    return total


# -- kubectl cells (SPEC §2.3) ----------------------------------------------


def format_cpu(millis: int) -> str:
    return f"{millis}m"


def format_memory(nbytes: int) -> str:
    """fmt.Sprintf("%vMi", q.Value()/(1024*1024)): Go division truncates toward zero."""
    mebibytes = abs(nbytes) >> 20
    return f"{-mebibytes if nbytes < 0 else mebibytes}Mi"


def percent(usage_milli: int, available_milli: int) -> int | None:
    """int64(float64(usage) / float64(available) * 100); None for a zero denominator."""
    if available_milli == 0:
        return None
    r = int(float(usage_milli) / float(available_milli) * 100)
    # int64() of an out-of-range float is math.MinInt64 on linux/amd64.
    return r if _fits64(r) else _MIN_INT64
