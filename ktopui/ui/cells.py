"""Cell text for the dashboard: the same digits as kubectl top, plus sparklines.

Pure functions of numbers, so screens, tests and screenshots agree.
"""

from __future__ import annotations

import math

import numpy as np

from ktopui.model.quantity import format_cpu, format_memory

SPARK = "▁▂▃▄▅▆▇█"
WARN, CRIT = 70, 90


def cpu_text(milli: int | None, problem: str | None = None) -> str:
    if problem:
        return "?"
    return "-" if milli is None else format_cpu(milli)


def mem_text(nbytes: int | None, problem: str | None = None) -> str:
    if problem:
        return "?"
    return "-" if nbytes is None else format_memory(nbytes)


def pct_text(value: int | None, *, partial: bool = False, marks: bool = True) -> str:
    """`57%`; `!`/`!!` mark 70 %/90 % so the levels read without colour too
    (not with `marks=False`, for a percentage where high is normal).

    `~` marks a limit percentage that covers only some containers.
    """
    if value is None:
        return "-"
    mark = "" if not marks else "!!" if value >= CRIT else "!" if value >= WARN else ""
    return f"{'~' if partial else ''}{value}%{mark}"


def level(value: int | None) -> str:
    """"crit", "warn" or "" for a percentage."""
    if value is None:
        return ""
    return "crit" if value >= CRIT else "warn" if value >= WARN else ""


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


def shorten(text: str, width: int) -> str:
    """A name in `width` cells, cut where names differ least.

    Names that share a start differ at the end (`recommender-ft6ft2g58n-x7k2p`,
    `gke-prod-pool-3f2a1b9c-x7k2`), so the middle goes: `recommender-…-x7k2p`.
    The end kept is the longest run of dash-separated parts that takes at
    most half the room. A dotted name keeps its part before the dot whole
    when it can, since what follows is a domain the other rows share
    (`ip-10-0-1-17.eu-west-1…`).
    """
    if len(text) <= width:
        return text
    if width <= 1:
        return text[:width]
    host, dot, _ = text.partition(".")
    if dot and len(host) < width:
        return text[: width - 1] + "…"
    name = host if dot else text
    room = width - 1
    dash = name.find("-", len(name) - room // 2)
    tail = len(name) - dash if dash > 0 else room // 3
    return name[: room - tail] + "…" + name[len(name) - tail:]


def qualified(prefix: str, name: str, width: int) -> str:
    """`prefix/name` in `width` cells (a namespace before a pod's name): the name keeps
    at least three fifths of them, shortened as names are; the prefix loses its end."""
    whole = f"{prefix}/{name}"
    if len(whole) <= width:
        return whole
    room = width - 1 - min(len(name), max(width - len(prefix) - 1, width * 3 // 5))
    shown = prefix if room >= len(prefix) else prefix[: max(0, room - 1)] + "…"
    return f"{shown}/{shorten(name, width - 1 - len(shown))}"


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
