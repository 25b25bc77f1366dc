"""Cell text for the dashboard: the same digits as kubectl top, plus sparklines.

Pure functions of numbers, so screens, tests and screenshots agree.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

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


# The server's clock, for the ages of what the cluster dates (a container's last
# exit): the running app's session's, set as the thresholds are.
_server_now: Callable[[], float] = time.time


def use_server_clock(now: Callable[[], float] = time.time) -> None:
    """Tell ages by `now()`, the server's time (this machine's clock without arguments)."""
    global _server_now
    _server_now = now


def server_now() -> float:
    return _server_now()


def cpu_text(milli: int | None, problem: str | None = None) -> str:
    if problem:
        return "?"
    return "-" if milli is None else format_cpu(milli)


def mem_text(nbytes: int | None, problem: str | None = None) -> str:
    if problem:
        return "?"
    return "-" if nbytes is None else format_memory(nbytes)


def pct_text(value: int | None, *, partial: bool = False, marks: bool = True) -> str:
    """`57%`; `!`/`!!` mark the warning/critical thresholds so the levels read without colour too
    (not with `marks=False`, for a percentage where high is normal).

    `~` marks a percentage that covers only part of what it is of: a limit percentage only
    the containers that set a limit, a pool's usage only its nodes that report it.
    """
    if value is None:
        return "-"
    mark = "" if not marks else "!!" if value >= _crit else "!" if value >= _warn else ""
    return f"{'~' if partial else ''}{value}%{mark}"


def level(value: int | None) -> str:
    """"crit", "warn" or "" for a percentage."""
    if value is None:
        return ""
    return "crit" if value >= _crit else "warn" if value >= _warn else ""


def sparkline(values: np.ndarray, width: int, top: float | None = None) -> str:
    """The last `width` samples as block characters from zero up to `top` (the
    row's capacity: allocatable, a limit), or up to the highest sample shown
    when there is none; above `top` is a full block. Gaps stay blank.

    From zero, so a flat 18.3-19.9 cores draws flat, and rows with a capacity
    compare: half high is half of it.
    """
    if width <= 0:
        return ""
    shown = values[-width:]
    finite = shown[np.isfinite(shown)]
    if finite.size == 0:
        return " " * width
    scale = top if top is not None and top > 0 else float(finite.max())
    steps = len(SPARK) - 1
    chars = []
    for v in shown:
        if not math.isfinite(v):
            chars.append(" ")
        elif scale <= 0:
            chars.append(SPARK[0])
        else:
            chars.append(SPARK[min(steps, max(0, int(round(v / scale * steps))))])
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
