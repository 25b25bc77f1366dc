"""Quantity: Kubernetes' resource.Quantity semantics, exactly (SPEC Part B §1, §2.3)."""

from __future__ import annotations

import math
import re
from fractions import Fraction

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ktopui.model.usage import exact_usage_of, usage_of
from ktopui.model.quantity import (
    BINARY_SI as BSI,
    DECIMAL_EXPONENT as DEXP,
    DECIMAL_SI as DSI,
    ERR_FORMAT_WRONG as FORMAT_WRONG,
    ERR_NUMERIC as NUMERIC,
    ERR_SUFFIX as SUFFIX,
    MAX_MILLI_NANOS,
    ZERO,
    Quantity,
    QuantityError,
    _parse_general,
    format_cpu,
    format_memory,
    nanos_to_milli,
    nanos_to_value,
    parse_cached,
    parse_quantity,
    percent,
    simple_nanos,
    sum_quantities,
)

MAX_INT64 = 2**63 - 1

# -- SPEC §1.6, every row -----------------------------------------------------

# input, Format, Go keeps it as inf.Dec, exact value, String(), MilliValue(), Value()
VALID_ROWS = [
    ("0", DSI, False, "0", "0", 0, 0),
    ("1", DSI, False, "1", "1", 1000, 1),
    ("+1", DSI, False, "1", "+1", 1000, 1),
    ("01", DSI, False, "1", "01", 1000, 1),
    ("-0", DSI, False, "0", "0", 0, 0),
    ("-", DSI, False, "0", "0", 0, 0),
    ("+", DSI, False, "0", "0", 0, 0),
    (".", DSI, False, "0", "0", 0, 0),
    ("-.", DSI, False, "0", "0", 0, 0),
    ("1.", DSI, False, "1", "1.", 1000, 1),
    ("1.G", DSI, False, "1000000000", "1.G", 1000000000000, 1000000000),
    (".5", DSI, False, "1/2", "500m", 500, 1),
    ("0.5", DSI, False, "1/2", "500m", 500, 1),
    ("1.5", DSI, False, "3/2", "1500m", 1500, 2),
    ("1.500", DSI, False, "3/2", "1.500", 1500, 2),
    ("1.001", DSI, False, "1001/1000", "1.001", 1001, 2),
    ("100.035k", DSI, False, "100035", "100.035k", 100035000, 100035),
    ("100m", DSI, False, "1/10", "100m", 100, 1),
    ("1000m", DSI, False, "1", "1", 1000, 1),
    ("0.1m", DSI, False, "1/10000", "100u", 1, 1),
    ("0.0001m", DSI, False, "1/10000000", "100n", 1, 1),
    ("1594123456n", DSI, False, "24908179/15625000", "1594123456n", 1595, 2),
    ("250000000n", DSI, False, "1/4", "250m", 250, 1),
    ("1n", DSI, False, "1/1000000000", "1n", 1, 1),
    ("0.5n", DSI, True, "1/1000000000", "1n", 1, 1),
    ("3.001n", DSI, True, "1/250000000", "4n", 1, 1),
    ("1u", DSI, False, "1/1000000", "1u", 1, 1),
    ("1k", DSI, False, "1000", "1k", 1000000, 1000),
    ("1Ki", BSI, False, "1024", "1Ki", 1024000, 1024),
    ("1024Ki", BSI, False, "1048576", "1Mi", 1048576000, 1048576),
    ("1025Ki", BSI, False, "1049600", "1025Ki", 1049600000, 1049600),
    ("03Ki", BSI, False, "3072", "03Ki", 3072000, 3072),
    ("+3Ki", BSI, False, "3072", "+3Ki", 3072000, 3072),
    ("3952456Ki", BSI, False, "4047314944", "3952456Ki", 4047314944000, 4047314944),
    ("1.5Gi", BSI, True, "1610612736", "1536Mi", 1610612736000, 1610612736),
    ("0.5Ki", BSI, True, "512", "512", 512000, 512),
    (".001Ki", BSI, True, "128/125", "1024m", 1024, 2),
    (".000000000001Ki", DSI, True, "1/500000000", "2n", 1, 1),
    ("1Mi", BSI, False, "1048576", "1Mi", 1048576000, 1048576),
    ("1Pi", BSI, True, "1125899906842624", "1Pi", 1125899906842624000, 1125899906842624),
    ("8Ei", BSI, True, "9223372036854775807", "9223372036854775807", -1000, 9223372036854775807),
    ("9Ei", BSI, True, "9223372036854775807", "9223372036854775807", -1000, 9223372036854775807),
    ("Ki", BSI, False, "0", "0", 0, 0),
    ("e3", DEXP, False, "0", "0", 0, 0),
    ("E", DSI, False, "0", "0", 0, 0),
    ("1e3", DEXP, False, "1000", "1e3", 1000000, 1000),
    ("1E3", DEXP, False, "1000", "1E3", 1000000, 1000),
    ("1e+3", DEXP, False, "1000", "1e+3", 1000000, 1000),
    ("1e-3", DEXP, False, "1/1000", "1e-3", 1, 1),
    ("12E-3", DEXP, False, "3/250", "12E-3", 12, 1),
    ("1.5e3", DEXP, False, "1500", "1500", 1500000, 1500),
    ("1e100", DEXP, False, "1e100", "10e99", 0, 0),
    ("1e-100", DEXP, True, "1/1000000000", "1e-9", 1, 1),
    ("1000E", DSI, False, "1000000000000000000000", "1", 0, 0),
    ("10E", DSI, False, "10000000000000000000", "10E", 0, 0),
    # SPEC §1.6 says MilliValue 0 here. Go's int64MultiplyScale1000 returns the
    # wrapped product even when it reports overflow, and ScaledValue ignores the
    # flag: 999999999999999999000 mod 2^64.
    ("999999999999999999", DSI, False, "999999999999999999", "999999999999999999", 3875820019684211736, 999999999999999999),
    ("1000000000000000000", DSI, True, "1000000000000000000", "1E", 3875820019684212736, 1000000000000000000),
    ("9223372036854775807", DSI, True, "9223372036854775807", "9223372036854775807", -1000, 9223372036854775807),
    ("9223372036854775808", DSI, True, "9223372036854775808", "9223372036854775808", 0, -9223372036854775808),
    ("0.000000001", DSI, False, "1/1000000000", "1n", 1, 1),
    ("0.0000000001", DSI, True, "1/1000000000", "1n", 1, 1),
]

INVALID_ROWS = [
    ("1K", SUFFIX),
    ("1ki", SUFFIX),
    ("Pi", NUMERIC),
    (".Pi", NUMERIC),
    ("e", SUFFIX),
    ("1e", SUFFIX),
    ("1EE", SUFFIX),
    ("1m5", SUFFIX),
    ("1e3Ki", FORMAT_WRONG),
    ("1.1.M", FORMAT_WRONG),
    ("1+1.0M", FORMAT_WRONG),
    ("0.1mi", SUFFIX),
    (".5i", SUFFIX),
    ("1i", SUFFIX),
    (" 1", FORMAT_WRONG),
    ("1 ", FORMAT_WRONG),
    ("1_000", FORMAT_WRONG),
    ("0x10", FORMAT_WRONG),
    ("--1", SUFFIX),
    ("aoeu", FORMAT_WRONG),
    ("", FORMAT_WRONG),
]


@pytest.mark.parametrize(("text", "fmt", "is_dec", "exact", "string", "milli", "value"), VALID_ROWS, ids=[r[0] for r in VALID_ROWS])
def test_spec_table_valid_quantities_match_go(text, fmt, is_dec, exact, string, milli, value):
    q = parse_quantity(text)
    assert q.format == fmt
    assert q._dec is is_dec  # Go's representation decides the overflow artefacts
    assert q.exact == Fraction(exact)
    assert str(q) == string
    assert q.milli_value() == milli
    assert q.value() == value


@pytest.mark.parametrize(("text", "message"), INVALID_ROWS, ids=[repr(r[0]) for r in INVALID_ROWS])
def test_spec_table_invalid_quantities_raise_go_errors(text, message):
    with pytest.raises(QuantityError) as err:
        parse_quantity(text)
    assert str(err.value) == message


def test_error_messages_are_gos_text():
    assert FORMAT_WRONG == "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
    assert NUMERIC == "unable to parse numeric part of quantity"
    assert SUFFIX == "unable to parse quantity's suffix"
    assert issubclass(QuantityError, ValueError)


# -- String() (SPEC §1.5) -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "string"),
    [
        ("1.5Gi", "1536Mi"),
        ("1024Mi", "1Gi"),
        ("1000M", "1G"),
        (".001Ki", "1024m"),
        (".000001Ki", "1024u"),
        (".000000001Ki", "1024n"),
        (".000000000001Ki", "2n"),
        ("1080m", "1080m"),
        ("1.08", "1080m"),
        ("0.001T", "1G"),
        ("1000u", "1m"),
        ("1080000000n", "1080m"),
        ("300Mi", "300Mi"),
        ("307200Ki", "300Mi"),
        ("1025024Mi", "1001Gi"),
        ("0.5", "500m"),
        ("5000m", "5"),
        (".001e12", "1e9"),
        ("1000e-12", "1e-9"),
        ("00", "0"),
    ],
)
def test_string_is_canonical_form(text, string):
    assert str(parse_quantity(text)) == string


@pytest.mark.parametrize("text", ["+1", "01", "+3Ki", "1E3", "1.G", "1.500", "1.001", "100.035k", "0100m", "-3Ki"])
def test_string_returns_the_parsed_text_verbatim_when_go_caches_it(text):
    assert str(parse_quantity(text)) == text


def test_string_of_negative_quantities_has_a_leading_minus():
    assert str(parse_quantity("-1.5Gi")) == "-1536Mi"
    assert str(parse_quantity("-.001Ki")) == "-1024m"
    assert str(parse_quantity("-0.5n")) == "-1n"


def test_binary_si_below_1024_or_fractional_prints_as_decimal_si():
    assert str(parse_quantity("1Ki") + parse_quantity("500m")) == "1024500m"
    assert str(parse_quantity("0.5Ki")) == "512"
    assert str(parse_quantity("-0.5Ki")) == "-512"


def test_decimal_si_beyond_exa_loses_its_suffix_like_go():
    assert str(parse_quantity("1000E")) == "1"
    assert str(parse_quantity("100000000000G")) == "100E"


def test_metrics_server_strings_round_trip():
    for text in ("243381306n", "250m", "2", "3096552Ki", "12345678", "1k"):
        assert str(parse_quantity(text)) == text


# -- Accessors: Go's rounding and overflow (SPEC §1.3) -----------------------


def test_cpu_millivalue_rounds_up_like_go():
    assert parse_quantity("1594123456n").milli_value() == 1595
    assert parse_quantity("1n").milli_value() == 1
    assert parse_quantity("1000001n").milli_value() == 2
    assert parse_quantity("0").milli_value() == 0


def test_memory_value_rounds_up_to_whole_bytes():
    assert parse_quantity("1500m").value() == 2
    assert parse_quantity("1.5").value() == 2
    assert parse_quantity("3952456Ki").value() == 4047314944


def test_negative_values_round_the_way_each_go_representation_does():
    assert parse_quantity("-1.5").value() == -2  # int64Amount: away from zero
    assert parse_quantity("-0.5n").value() == 1  # inf.Dec fast branch: trunc(x) + 1
    assert parse_quantity("-1.5Gi").value() == -1610612736


def test_large_values_overflow_like_go_int64():
    assert parse_quantity("100000000000G").value() == 7766279631452241920  # wrapped product
    assert parse_quantity("100000000000G").milli_value() == 0  # loop branch returns 0
    assert parse_quantity("10E").milli_value() == 0
    assert parse_quantity("9223372036854775807").milli_value() == -1000


def test_exponents_are_int32_like_go():
    # strconv.ParseInt, then int32(): 2^63-1 truncates to -1.
    q = parse_quantity("1e9223372036854775807")
    assert (q.exact, str(q)) == (Fraction(1, 10), "100e-3")
    with pytest.raises(QuantityError, match="suffix"):
        parse_quantity("1e9223372036854775808")
    # scale - len(denom) wraps from -2^31 to 2^31-1
    assert str(parse_quantity("1.5e-2147483648")) == "150e2147483646"


def test_huge_exponents_parse_without_materialising_the_value():
    q = parse_quantity("1e2000000000")
    assert (str(q), q.milli_value(), q.value()) == ("100e1999999998", 0, 0)
    assert parse_quantity("1e-2000000000").exact == Fraction(1, 10**9)
    assert parse_quantity("0.0000000000000000000e-2147483648").value() == 0
    with pytest.raises(OverflowError):
        _ = q.nanos


def test_values_too_large_to_build_exactly_are_refused():
    # 19 digits take the inf.Dec path, where Go would build 10**2000009.
    with pytest.raises(QuantityError, match="numeric"):
        parse_quantity("1000000000000000000e2000000")


def test_digit_strings_longer_than_pythons_int_conversion_limit():
    text = "1" + "0" * 5000 + ".5"
    q = parse_quantity(text)
    assert q.exact == 10**5000 + Fraction(1, 2)
    assert str(q) == "1" + "0" * 5000 + "500m"
    assert parse_quantity("1e" + "0" * 5000 + "3").exact == 1000


def test_nanos_is_the_exact_value_in_nano_units():
    assert parse_quantity("1594123456n").nanos == 1594123456
    assert parse_quantity("1.5Gi").nanos == 1610612736 * 10**9
    assert parse_quantity("1e100").nanos == 10**109
    assert parse_quantity("-3.001n").nanos == -4


# -- Add and sums (SPEC §1.4, §2.3) ----------------------------------------------


def test_pod_cpu_sum_rounds_after_adding():
    assert parse_quantity("1500000n").milli_value() == 2
    total = sum_quantities(["1500000n", "1500000n"])
    assert total.milli_value() == 3
    assert format_cpu(total.milli_value()) == "3m"


def test_sum_of_nothing_is_parse_quantity_zero():
    total = sum_quantities([])
    assert total == ZERO and str(total) == "0" and total.format == DSI


def test_zero_receiver_takes_the_other_format():
    for text in ("100m", "1Gi"):
        q = parse_quantity(text)
        assert str(ZERO + q) == text
        assert str(q + ZERO) == text
    assert (ZERO + parse_quantity("1Gi")).format == BSI


def test_add_drops_the_cached_string():
    assert str(parse_quantity("+1") + ZERO) == "1"
    assert str(parse_quantity("1.500") + parse_quantity("0")) == "1500m"


def test_add_switches_to_inf_dec_on_int64_overflow_like_go():
    q = sum_quantities(["10E", "1"])
    assert q.exact == 10**19 + 1
    assert q._dec
    assert (q.milli_value(), q.value()) == (1864712049423025128, -8446744073709551615)
    # Sums are not capped, not even BinarySI.
    big = sum_quantities(["4Ei", "4Ei"])
    assert (str(big), big.value()) == ("8Ei", -(2**63))


def test_int64_scale_differences_wrap_like_go():
    # Go aligns scales with int32 arithmetic; 2^31+8 wraps and the 1 is taken as 1n.
    assert str(sum_quantities(["1e2147483647", "1n"])) == "2e-9"


def test_sum_of_opposites_is_zero_but_keeps_its_format():
    q = sum_quantities(["1.5Gi", "-1.5Gi"])
    assert (str(q), q.format, q.value()) == ("0", BSI, 0)


def test_add_rejects_non_quantities():
    with pytest.raises(TypeError):
        _ = parse_quantity("1") + 1


# -- Value semantics ------------------------------------------------------------


def test_equality_and_hash_follow_the_exact_value():
    assert parse_quantity("1Ki") == parse_quantity("1024") == parse_quantity("1.024k")
    assert hash(parse_quantity("1Ki")) == hash(parse_quantity("1024"))
    assert parse_quantity("1.500") == parse_quantity("1500m")
    assert parse_quantity("1e100") == parse_quantity("10e99")
    assert parse_quantity("1m") != parse_quantity("1")
    assert parse_quantity("-0") == ZERO
    assert parse_quantity("1") != 1


def test_quantity_is_immutable():
    q = parse_quantity("1")
    with pytest.raises(AttributeError):
        q.format = BSI  # type: ignore[misc]
    with pytest.raises(AttributeError):
        q._u = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        q.extra = 1  # type: ignore[attr-defined]
    assert repr(q) == "Quantity('1')"


def test_parse_cached_memoises_valid_strings_and_raises_every_time():
    assert parse_cached("100m") is parse_cached("100m")
    for _ in range(2):
        with pytest.raises(QuantityError):
            parse_cached("1K")


# -- kubectl cells (SPEC §2.3) -----------------------------------------------


def test_memory_mebibytes_truncate_like_kubectl():
    assert format_memory(parse_quantity("3952456Ki").value()) == "3859Mi"
    assert format_memory(parse_quantity("1048575").value()) == "0Mi"
    assert format_memory(parse_quantity("1G").value()) == "953Mi"
    assert format_memory(-1048577) == "-1Mi"  # Go division truncates toward zero


def test_cpu_cells_are_millicores():
    assert format_cpu(parse_quantity("1594123456n").milli_value()) == "1595m"
    assert format_cpu(parse_quantity("1n").milli_value()) == "1m"
    assert format_cpu(parse_quantity("0").milli_value()) == "0m"


def test_percent_truncates_the_float_ratio():
    assert percent(1595, 4000) == 39
    assert percent(2999, 1000) == 299
    assert percent(1050, 1000) == 105
    assert percent(1, 3) == 33
    assert percent(parse_quantity("3952456Ki").milli_value(), parse_quantity("16Gi").milli_value()) == 23


def test_percent_of_zero_is_none():
    assert percent(100, 0) is None
    assert percent(0, 0) is None


def test_percent_out_of_int64_range_is_min_int64_like_go_on_amd64():
    assert percent(MAX_INT64, 1) == -(2**63)


# -- Properties against an independent reference ----------------------------------

DECIMAL_EXP = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
BINARY_EXP = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
REFERENCE = re.compile(r"([+-]?)([0-9]*)(?:\.([0-9]*))?(|[numkMGTPE]|[KMGTPE]i|[eE][+-]?[0-9]+)")


def reference(text: str) -> tuple[Fraction, str]:
    """Exact value and format of a quantity with at least one digit: regex, Fraction, ceil to 1n."""
    sign, whole, frac, suffix = REFERENCE.fullmatch(text).groups()
    number = Fraction(int(whole or "0")) + (Fraction(int(frac), 10 ** len(frac)) if frac else 0)
    fmt = DSI
    if suffix in BINARY_EXP:
        number *= 2 ** BINARY_EXP[suffix]
        fmt = BSI
    elif suffix in DECIMAL_EXP:
        number *= Fraction(10) ** DECIMAL_EXP[suffix]
    else:
        number *= Fraction(10) ** int(suffix[1:])
        fmt = DEXP
    nanos = math.ceil(number * 10**9)  # finer values round up (away from zero) to 1n
    if fmt == BSI:
        nanos = min(nanos, MAX_INT64 * 10**9)  # BinarySI is capped at 2^63-1
        if 0 < nanos < 10**9:
            fmt = DSI
    return (-1 if sign == "-" else 1) * Fraction(nanos, 10**9), fmt


SUFFIXES = st.sampled_from([*DECIMAL_EXP, *BINARY_EXP]) | st.builds(
    lambda e, sign, n: f"{e}{sign}{n}", st.sampled_from("eE"), st.sampled_from(["", "+", "-"]), st.integers(0, 30)
)


@st.composite
def quantity_texts(draw, signs=("", "+", "-")):
    """Strings from the quantity grammar with at least one digit."""
    whole = draw(st.text("0123456789", max_size=22))
    frac = draw(st.none() | st.text("0123456789", max_size=14))
    if not whole and not frac:
        whole = draw(st.text("0123456789", min_size=1, max_size=3))
    number = whole if frac is None else f"{whole}.{frac}"
    return draw(st.sampled_from(signs)) + number + draw(SUFFIXES)


@settings(max_examples=400)
@given(quantity_texts())
@example("1.5Gi")
@example(".000000000001Ki")
@example("9Ei")
def test_exact_value_and_format_match_the_reference(text):
    q = parse_quantity(text)
    assert (q.exact, q.format) == reference(text)


@settings(max_examples=400)
@given(quantity_texts(signs=("", "+")))
@example("1594123456n")
@example("9223372036854775n")
def test_milli_value_and_value_are_ceilings_below_overflow(text):
    exact, _ = reference(text)
    q = parse_quantity(text)
    if exact * 1000 <= MAX_INT64:
        assert q.milli_value() == math.ceil(exact * 1000)
    if exact <= MAX_INT64:
        assert q.value() == math.ceil(exact)


@settings(max_examples=300)
@given(quantity_texts())
def test_string_reparses_to_the_same_value(text):
    q = parse_quantity(text)
    if q.format == DSI and abs(q.exact) >= 10**21:
        return  # no DecimalSI suffix beyond E: Go prints "1000E" as "1"
    again = parse_quantity(str(q))
    assert again == q
    assert str(parse_quantity(str(again))) == str(again)


@settings(max_examples=300)
@given(st.lists(quantity_texts(), max_size=6))
def test_sums_are_exact(texts):
    assert sum_quantities(texts).exact == sum((reference(t)[0] for t in texts), Fraction(0))


ERRORS = {FORMAT_WRONG, NUMERIC, SUFFIX}


@settings(max_examples=500)
@given(st.text() | st.text("0123456789.+-eEinumkKMGTP", max_size=12))
def test_any_text_parses_or_raises_one_of_gos_errors(text):
    try:
        q = parse_quantity(text)
    except QuantityError as err:
        assert str(err) in ERRORS
    else:
        assert isinstance(q, Quantity)


SIMPLE = st.from_regex(r"\A[0-9]{1,24}(|n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti)\Z")


@settings(max_examples=400)
@given(SIMPLE)
@example("1000000000000000000")
@example("99999999999Ki")
@example("999999999999Ki")
def test_fast_paths_agree_with_the_general_parser(text):
    fast, slow = parse_quantity(text), _parse_general(text)
    assert (fast._u, fast._e, fast._dec, fast.format, str(fast)) == (slow._u, slow._e, slow._dec, slow.format, str(slow))
    assert (fast.milli_value(), fast.value()) == (slow.milli_value(), slow.value())


# -- Fast integer paths against the exact path ---------------------------------

# What metrics-server and manifests send, plus sizes around int64's limits.
METRICS_SERVER = (
    st.builds(lambda n: f"{n}n", st.integers(0, 10**12))
    | st.builds(lambda n: f"{n}Ki", st.integers(0, 10**10))
    | st.builds(str, st.integers(0, 10**13))
    | st.builds(lambda n, s: f"{n}{s}", st.integers(0, 10**6), st.sampled_from(["m", "Mi", "Gi", "k", "M", "G", ""]))
)
HUGE = st.from_regex(r"\A[0-9]{15,24}(|n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)\Z")
ODD = st.sampled_from(["", "n", "Ki", "+1", "-1", "1.5", "1e3", "1E", "15e-1", "125u", "0.5Ki", "6GiB", "1 ", "١٢٣", "x"])
ANY_QUANTITY = METRICS_SERVER | SIMPLE | HUGE | quantity_texts() | ODD


def _exact_nanos(text: str) -> int:
    return parse_quantity(text).nanos


@settings(max_examples=600)
@given(ANY_QUANTITY | st.text(max_size=8))
@example("9223372036854775807")
@example("99999999999999999999999Ei")
@example("00000000000000000000000000000000000000001Ki")
def test_simple_nanos_is_the_exact_value_or_declines(text):
    fast = simple_nanos(text)
    if fast is None:
        return
    q = parse_quantity(text)  # a simple shape always parses
    if fast <= MAX_MILLI_NANOS:
        assert fast == q.nanos
    else:  # equal, or Go capped a BinarySI value at 2^63-1; the callers take the exact path then
        assert fast == q.nanos or (q.format == BSI and q.exact == MAX_INT64)


def test_simple_nanos_declines_every_other_spelling():
    for text in ["", "n", "Ki", "+1", "-1n", "1.5", "1e3", "15e-1", "0.5Ki", "6GiB", "1 ", " 1", "١٢٣n", "1x", "1K"]:
        assert simple_nanos(text) is None, text
    assert simple_nanos("1" * 41) is None  # long digit strings take the exact path


def test_simple_nanos_of_metrics_server_shapes():
    assert simple_nanos("243381306n") == 243381306
    assert simple_nanos("3096552Ki") == 3096552 * 1024 * 10**9
    assert simple_nanos("12345678") == 12345678 * 10**9
    assert simple_nanos("250m") == 250 * 10**6
    assert simple_nanos("2") == 2 * 10**9
    assert simple_nanos("1k") == 10**12


@settings(max_examples=400)
@given(st.lists(METRICS_SERVER | SIMPLE | HUGE, max_size=6))
def test_fast_sums_round_like_gos_exact_sum(texts):
    nanos = [simple_nanos(t) for t in texts]
    assert None not in nanos
    total = sum(nanos)
    exact = sum_quantities(texts)
    if total <= MAX_MILLI_NANOS:
        # Below MaxInt64 millis, MilliValue() and Value() of the exact sum are ceilings.
        assert nanos_to_milli(total) == exact.milli_value()
        assert nanos_to_value(total) == exact.value()


def _usage_lists(draw_cpu, draw_mem):
    return st.lists(
        st.fixed_dictionaries({}, optional={"cpu": draw_cpu, "memory": draw_mem}), max_size=5
    )


@settings(max_examples=600)
@given(_usage_lists(ANY_QUANTITY, ANY_QUANTITY) | _usage_lists(METRICS_SERVER | HUGE, METRICS_SERVER | HUGE))
@example([{"cpu": "9223372036854775n", "memory": "9007199254740991Ki"}])
@example([{"cpu": "9223372036854775807m"}, {"cpu": "1n"}])
@example([{"memory": "9223372036854775807"}, {"memory": "9223372036854775807"}])
@example([{"cpu": "5000000000000000000"}, {"cpu": "5000000000000000000"}])  # int64 Add overflows in Go
def test_usage_of_fast_path_equals_the_exact_path(lists):
    fast_problems, exact_problems = {}, {}
    fast = usage_of(lists, fast_problems)
    exact = exact_usage_of(lists, exact_problems)
    assert fast == exact
    assert fast_problems == exact_problems


def test_usage_of_sums_exactly_then_rounds_once():
    lists = [{"cpu": "1500000n", "memory": "1536"}, {"cpu": "1500000n", "memory": "1536"}]
    usage = usage_of(lists, {})
    assert (usage.cpu_milli, usage.mem_bytes, usage.mem_milli) == (3, 3072, 3072000)
    assert usage_of([{"cpu": "1500001n"}, {"cpu": "1500000n"}], {}).cpu_milli == 4
