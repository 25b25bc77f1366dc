"""The numbers every kind of row holds: usage, requests, limits, as kubectl rounds them.

They are msgspec Structs without garbage-collector tracking (they never form
cycles): 150,000 of them then cost no collector passes. Integers are exactly
what `kubectl top` computes (CPU in millicores rounded up, memory in bytes
rounded up, percentages truncated), so every view sorts by number and formats
the same way; `None` means "no data".
"""

from __future__ import annotations

import msgspec

from ktopui.model.quantity import percent

MEBIBYTE = 1024 * 1024


class Usage(msgspec.Struct, gc=False):
    """Usage of one resource holder, as kubectl rounds it."""

    cpu_milli: int | None = None  # MilliValue(): ceil to the millicore
    mem_bytes: int | None = None  # Value(): ceil to the byte
    mem_milli: int | None = None  # MilliValue() of memory: what percentages divide


class Amounts(msgspec.Struct, gc=False):
    """Requests or limits of one resource holder (None: not set)."""

    cpu_milli: int | None = None
    mem_bytes: int | None = None
    mem_milli: int | None = None


def pct(used: int | None, of: int | None) -> int | None:
    if used is None or of is None:
        return None
    return percent(used, of)
