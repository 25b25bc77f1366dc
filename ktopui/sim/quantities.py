"""Quantity, duration and time strings exactly as Go Kubernetes code prints them.

metrics-server builds CPU as NewScaledQuantity(nanocores, -9) (DecimalSI) and memory
as NewScaledQuantity(bytes, 0) with BinarySI; `String()` then canonicalises them
(apimachinery quantity.go). The quirky variants are other valid spellings real
clusters send, for exercising parsers.
"""

from __future__ import annotations

import time

_DECIMAL_SUFFIX = {-9: "n", -6: "u", -3: "m", 0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P", 18: "E"}
_BINARY_SUFFIX = ("", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei")


def decimal_si(mantissa: int, exponent: int) -> str:
    """Canonical DecimalSI string of mantissa * 10**exponent (Go int64Amount.AsCanonicalBytes)."""
    if mantissa == 0:
        return "0"
    sign = "-" if mantissa < 0 else ""
    mantissa = abs(mantissa)
    while mantissa % 10 == 0:
        mantissa //= 10
        exponent += 1
    shift = exponent % 3  # Python's modulo floors, so this lowers to a multiple of 3
    mantissa *= 10**shift
    exponent -= shift
    return f"{sign}{mantissa}{_DECIMAL_SUFFIX.get(exponent, '')}"


def cpu(nanocores: int) -> str:
    """metrics-server CPU: `243381306n`, `250m`, `2`."""
    return decimal_si(nanocores, -9)


def memory(nbytes: int) -> str:
    """metrics-server memory: `3096552Ki` when divisible by 1024, else plain bytes; DecimalSI below 1024."""
    if nbytes < 1024:
        return decimal_si(nbytes, 0)
    power = 0
    while nbytes % 1024 == 0 and power < 6:
        nbytes //= 1024
        power += 1
    return f"{nbytes}{_BINARY_SUFFIX[power]}"


def millicores(milli: int) -> str:
    """A request/limit/allocatable CPU as a manifest would write it: `250m`, `2`, `3920m`."""
    return decimal_si(milli, -3)


def _trim(value: float, digits: int) -> str:
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return text or "0"


def quirky_cpu(nanocores: int, variant: int) -> str:
    """Valid but unusual CPU spellings: `15e-1`, `125u`, `1500m`, `1.5`, canonical."""
    match variant % 5:
        case 0:  # `15e-1`; finer exponents keep small values from rounding to zero
            exponent = -1 if nanocores >= 1e9 else -3 if nanocores >= 1e7 else -6
            return f"{round(nanocores / 10 ** (9 + exponent))}e{exponent}"
        case 1:
            return f"{round(nanocores / 1e3)}u"
        case 2:
            return f"{round(nanocores / 1e6)}m"
        case 3:
            return _trim(nanocores / 1e9, 3)
        case _:
            return cpu(nanocores)


def quirky_memory(nbytes: int, variant: int) -> str:
    """Valid but unusual memory spellings: `1.5Gi`, `8e9`, `512Mi`, `300M`, plain bytes, canonical."""
    match variant % 6:
        case 0:
            if nbytes >= 2**30:
                return f"{_trim(nbytes / 2**30, 2)}Gi"
            return f"{_trim(nbytes / 2**20, 1)}Mi"
        case 1:  # `8e9`-style: a mantissa with a decimal exponent
            exponent = 9 if nbytes >= 1e10 else 6 if nbytes >= 1e7 else 3
            return f"{round(nbytes / 10 ** exponent)}e{exponent}"
        case 2:
            return f"{round(nbytes / 2**20)}Mi"
        case 3:
            return f"{round(nbytes / 1e6)}M"
        case 4:
            return str(nbytes)
        case _:
            return memory(nbytes)


def quirky_millicores(milli: int, variant: int) -> str:
    """Manifest-style CPU written oddly but exactly: `1.5`, `500m`, `0.25`, `2000m`."""
    if variant % 2 == 0:
        return _trim(milli / 1000, 3)
    return f"{milli}m"


def quirky_bytes(nbytes: int, variant: int) -> str:
    """Manifest-style memory written oddly but exactly where possible: `2Gi`, `1e9`, `1G`, `512Mi`."""
    options = []
    for unit, suffix in ((2**30, "Gi"), (2**20, "Mi"), (10**9, "G"), (10**6, "M")):
        if nbytes % unit == 0:
            options.append(f"{nbytes // unit}{suffix}")
    if nbytes % 10**9 == 0:
        options.append(f"{nbytes // 10**9}e9")
    if nbytes % 2**29 == 0 and nbytes % 2**30:
        options.append(f"{nbytes / 2**30:g}Gi")  # 1.5Gi
    options.append(str(nbytes))
    return options[variant % len(options)]


def go_duration(seconds: float) -> str:
    """Go time.Duration.String() of a non-negative duration: `15.032s`, `1m0.5s`, `500ms`."""
    ns = round(seconds * 1e9)
    if 1_000_000_000 <= ns < 60_000_000_000 and ns % 1_000_000 == 0:  # the usual metrics window
        whole, ms = divmod(ns // 1_000_000, 1000)
        return f"{whole}.{ms:03d}".rstrip("0") + "s" if ms else f"{whole}s"
    if ns == 0:
        return "0s"
    if ns < 1_000_000_000:
        for unit, scale in (("ns", 1), ("µs", 1_000), ("ms", 1_000_000)):
            if ns < scale * 1000:
                whole, frac = divmod(ns, scale)
                digits = len(str(scale)) - 1
                tail = f"{frac:0{digits}d}".rstrip("0") if digits else ""
                return f"{whole}{'.' + tail if tail else ''}{unit}"
    secs, frac = divmod(ns, 1_000_000_000)
    hours, secs = divmod(secs, 3600)
    minutes, secs = divmod(secs, 60)
    tail = f"{frac:09d}".rstrip("0")
    text = f"{secs}{'.' + tail if tail else ''}s"
    if hours:
        return f"{hours}h{minutes}m{text}"
    if minutes:
        return f"{minutes}m{text}"
    return text


def rfc3339(epoch: float) -> str:
    """metav1.Time as JSON: whole seconds, UTC, `2026-08-01T11:59:51Z`."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(epoch // 1)))
