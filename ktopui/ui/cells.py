"""Cell text for the dashboard: the same digits as kubectl top, plus sparklines.

Pure functions of numbers, so screens, tests and screenshots agree.
"""

from __future__ import annotations

import math

import numpy as np

from ktopui.model.quantity import format_cpu, format_memory

SPARK = "▁▂▃▄▅▆▇█"
WARN, CRIT = 70, 90
# The marks in use: the config file's thresholds. Module state because every
# column's cell function reads them, and one dashboard runs per process.
_warn, _crit = WARN, CRIT


def use_thresholds(warning: int = WARN, critical: int = CRIT) -> None:
    """Mark percentages from `warning` with `!` and from `critical` with `!!` (the defaults without arguments)."""
    global _warn, _crit
    _warn, _crit = warning, critical


def thresholds() -> tuple[int, int]:
    return _warn, _crit


def cpu_text(milli: int | None, problem: str | None = None) -> str:
    if problem:
        return "?"
    return "-" if milli is None else format_cpu(milli)


def mem_text(nbytes: int | None, problem: str | None = None) -> str:
    if problem:
        return "?"
    return "-" if nbytes is None else format_memory(nbytes)


def pct_text(value: int | None, *, partial: bool = False) -> str:
    """`57%`; `!`/`!!` mark the warning/critical thresholds so the levels read without colour too.

    `~` marks a limit percentage that covers only some containers.
    """
    if value is None:
        return "-"
    mark = "!!" if value >= _crit else "!" if value >= _warn else ""
    return f"{'~' if partial else ''}{value}%{mark}"


def level(value: int | None) -> str:
    """"crit", "warn" or "" for a percentage."""
    if value is None:
        return ""
    return "crit" if value >= _crit else "warn" if value >= _warn else ""


def sparkline(values: np.ndarray, width: int) -> str:
    """The last `width` samples as block characters; gaps stay blank.

    Scaled to the samples' own range, so a trend shows even on a busy node,
    but the range is at least a tenth of the peak: a flat line stays flat
    instead of amplifying noise into a sawtooth.
    """
    if width <= 0:
        return ""
    shown = values[-width:]
    finite = shown[np.isfinite(shown)]
    if finite.size == 0:
        return " " * width
    top, low = float(finite.max()), float(finite.min())
    span = max(top - low, abs(top) * 0.1)
    bottom = (top + low - span) / 2  # a narrow band sits mid-height
    chars = []
    for v in shown:
        if not math.isfinite(v):
            chars.append(" ")
        elif span <= 0:
            chars.append(SPARK[0])
        else:
            chars.append(SPARK[int(round((v - bottom) / span * (len(SPARK) - 1)))])
    return "".join(chars).rjust(width)


def cores_text(milli: int) -> str:
    """Cluster totals in cores: `12.3`."""
    return f"{milli / 1000:.1f}"


def gib_text(nbytes: int) -> str:
    return f"{nbytes / 1024**3:.1f}"


def age_text(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"
