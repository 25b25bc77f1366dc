"""CPU and memory line charts of one pod's history (this session's, or a range from
Prometheus with its request and limit as lines), drawn with plotext into rich Text.

plotext keeps a single master figure (and a terminal object holding size limits)
at module level, so every render runs under a lock, starts from a cleared figure
and clears it again afterwards: nothing carries over from one call to the next.
The figure is only ever built into a matrix and turned into a string; nothing is
printed, since the Textual app owns the screen.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import plotext
from rich.text import Text

from ktopui.live.ranges import RangeUsage
from ktopui.model import history_keys
from ktopui.model.amounts import Amounts
from ktopui.model.history import CPU, MEMORY, History
from ktopui.safe_text import escape_controls

COLLECTING_MESSAGE = (
    "Collecting history: charts appear after the second metrics sample "
    "(metrics-server updates every 15-60 s)."
)

SIDE_BY_SIDE_MIN_WIDTH = 100
MIN_CHART_WIDTH = 24  # below this the tick labels leave almost no canvas
MIN_CHART_HEIGHT = 8  # title, frame (2), x ticks, axis labels, and 3 canvas rows
MIB = 1024 * 1024
SECONDS_AXIS_MAX_SPAN = 120  # shorter windows are labelled in seconds, longer in minutes

POD_COLOR = 14  # 256-colour codes; bright ones read well on dark and light backgrounds
LEVEL_COLORS = {"request": 7, "limit": 9, "allocatable": 9}
CONTAINER_COLORS = (10, 13, 11, 9, 12, 2, 5, 3, 6, 1, 4)
LEGEND_SWATCH = "━━"

_LOCK = threading.Lock()  # plotext's master figure is shared, global state


@dataclass(frozen=True)
class _Metric:
    index: int
    name: str
    unit: str
    short_unit: str  # y axis label when the full one would run into the x axis label
    scale: float  # divides the stored value into the unit


_METRICS = (
    _Metric(CPU, "CPU", "millicores", "mCPU", 1.0),
    _Metric(MEMORY, "Memory", "MiB", "MiB", float(MIB)),
)


@dataclass
class _Series:
    label: str
    color: int
    times: np.ndarray  # epoch seconds, oldest first
    values: dict[int, np.ndarray]  # metric index -> stored values (NaN gaps)


@dataclass
class _Level:
    """A horizontal line: the pod's request or limit."""

    label: str
    color: int
    values: dict[int, float | None]  # metric index -> stored value (None: not set)


# A range's x axis: (unit in seconds, its name) for ranges up to the first figure.
RANGE_UNITS = ((3600.0, 60.0, "minutes ago"), (2 * 86400.0, 3600.0, "hours ago"), (math.inf, 86400.0, "days ago"))


def usage_charts(
    history: History,
    namespace: str,
    pod: str,
    containers: list[str],
    *,
    width: int,
    height: int,
    history_key: Callable[[str], tuple] | None = None,
) -> Text:
    """CPU and memory charts of a pod and its containers over the history window.

    Side by side when `width >= 100`, stacked otherwise, in about `width` x `height`
    cells, with a colour legend on top. The x axis counts back from the newest
    sample (0) in minutes, or in seconds for windows under two minutes.
    """
    series = [_Series("pod", POD_COLOR, *_read(history, history_keys.pod(namespace, pod)))]
    for i, name in enumerate(containers):
        color = CONTAINER_COLORS[i % len(CONTAINER_COLORS)]
        key = history_key(name) if history_key else history_keys.container(namespace, pod, name)
        series.append(_Series(name, color, *_read(history, key)))

    samples = max(len(s.times) for s in series)
    if samples < 2:
        return Text(COLLECTING_MESSAGE, style="dim")

    # Only samples with a valid time set the window; the newest is "0".
    stamps = np.concatenate([s.times[np.isfinite(s.times)] for s in series])
    newest, oldest = float(stamps.max()), float(stamps.min())
    span = max(newest - oldest, 1.0)
    in_seconds = span < SECONDS_AXIS_MAX_SPAN
    unit_seconds = 1.0 if in_seconds else 60.0
    return _charts(series, [], newest=newest, span=span, unit_seconds=unit_seconds,
                   x_label="seconds ago" if in_seconds else "minutes ago", window=_format_window(span),
                   samples=samples, width=width, height=height)


def range_charts(usage: RangeUsage, total: str, containers: list[str], levels: list[tuple[str, Amounts]], *,
                 width: int, height: int, notes: list[Text] | None = None) -> Text:
    """CPU and memory over a range from Prometheus: the whole (`total`: "pod", "workload", "node")
    and each container, with `levels` (request, limit, allocatable) as lines where set; `notes`
    go under the legend."""
    names = [n for n in dict.fromkeys([*containers, *sorted(usage.cpu.keys() | usage.memory.keys())]) if n]
    series = [_Series(total, POD_COLOR, usage.times, {CPU: usage.total(usage.cpu), MEMORY: usage.total(usage.memory)})]
    for i, name in enumerate(names):
        empty = np.full(len(usage.times), np.nan)
        series.append(_Series(name, CONTAINER_COLORS[i % len(CONTAINER_COLORS)], usage.times,
                              {CPU: usage.cpu.get(name, empty), MEMORY: usage.memory.get(name, empty)}))
    lines = [_Level(label, LEVEL_COLORS.get(label, 7), {CPU: amounts.cpu_milli, MEMORY: amounts.mem_bytes})
             for label, amounts in levels if amounts.cpu_milli is not None or amounts.mem_bytes is not None]
    unit_seconds, x_label = next((unit, label) for most, unit, label in RANGE_UNITS if usage.seconds <= most)
    samples = int(max(np.isfinite(v).sum() for s in series for v in s.values.values()))
    return _charts(series, lines, newest=usage.end, span=usage.seconds, unit_seconds=unit_seconds, x_label=x_label,
                   window=usage.name, samples=samples, width=width, height=height, notes=notes or [],
                   source="from Prometheus")


def _charts(series: list[_Series], levels: list[_Level], *, newest: float, span: float, unit_seconds: float,
            x_label: str, window: str, samples: int, width: int, height: int, notes: list[Text] | None = None,
            source: str = "") -> Text:
    """Both charts under a legend, in about `width` x `height` cells."""
    width = max(int(width), MIN_CHART_WIDTH)
    side_by_side = width >= SIDE_BY_SIDE_MIN_WIDTH
    legend = _legend(series, levels, width) + list(notes or [])
    charts_height = max(int(height) - len(legend), 0)
    if side_by_side:
        chart_height = max(charts_height, MIN_CHART_HEIGHT)
        chart_width = width // 2
    else:
        chart_height = max(charts_height // 2, MIN_CHART_HEIGHT)
        chart_width = width

    ansi = _render(
        series,
        levels,
        newest=newest,
        span=span / unit_seconds,
        unit_seconds=unit_seconds,
        x_label=x_label,
        window=f"{window} {source}" if source else window,
        samples=samples,
        side_by_side=side_by_side,
        chart_width=chart_width,
        chart_height=chart_height,
    )

    text = Text(no_wrap=True, overflow="crop")
    for line in legend:
        text.append_text(line)
        text.append("\n")
    text.append_text(Text.from_ansi(ansi, no_wrap=True))
    text.rstrip()
    return text


def _read(history: History, key: tuple) -> tuple[np.ndarray, dict[int, np.ndarray]]:
    times = history.times(key)
    values = {m.index: history.series(key, m.index) for m in _METRICS}
    return times, values


def _render(
    series: list[_Series],
    levels: list[_Level],
    *,
    newest: float,
    span: float,
    unit_seconds: float,
    x_label: str,
    window: str,
    samples: int,
    side_by_side: bool,
    chart_width: int,
    chart_height: int,
) -> str:
    """Build both charts on plotext's figure and return them as one ANSI string."""
    with _LOCK:
        figure, terminal = plotext.figure, plotext.terminal
        figure.interactive(False)  # interactive mode would print on every change
        figure.clear()
        # The terminal object caps the figure at the real terminal size by default;
        # the size here is the widget's, which the app has already measured.
        terminal.limit(False, False)
        try:
            rows, cols = (1, 2) if side_by_side else (2, 1)
            figure.plot_size(chart_width * cols, chart_height * rows)
            figure.subplots(rows, cols)
            figure.theme("simple")  # no backgrounds: the app's own colours show through
            for n, metric in enumerate(_METRICS):
                plot = figure.subplot(1, n + 1) if side_by_side else figure.subplot(n + 1, 1)
                _draw_chart(
                    plot, metric, series, levels,
                    newest=newest, span=span, unit_seconds=unit_seconds, x_label=x_label,
                    window=window, samples=samples, width=chart_width, height=chart_height,
                )
            return figure.build().string()
        finally:
            figure.clear()
            terminal.limit()


def _draw_chart(
    plot,
    metric: _Metric,
    series: list[_Series],
    levels: list[_Level],
    *,
    newest: float,
    span: float,
    unit_seconds: float,
    x_label: str,
    window: str,
    samples: int,
    width: int,
    height: int,
) -> None:
    top = 0.0
    # Containers first, so the pod total is drawn over them where lines overlap.
    for s in series[1:] + series[:1]:
        x, y, breaks = _points(s.times, s.values[metric.index], newest, unit_seconds, metric.scale)
        if not x:
            continue
        top = max(top, max(y))
        signal = plot.signal(x, y, marker=plotext.marker("braille", pixel=s.color)).lines()
        for index in breaks:
            signal.line(index, False)
        plot.draw(signal)
    for level in levels:
        value = level.values[metric.index]
        if value is not None:
            top = max(top, value / metric.scale)
            plot.line(value / metric.scale, pixel=level.color, style="dotted")

    plot.title(_title(metric, window, samples, width))
    plot.label(x_label, axis="x")
    # Both axis labels share the bottom row: the y one on the left, the x one centred.
    room = (width - len(x_label)) // 2 - 1
    plot.label(metric.unit if len(metric.unit) <= room else metric.short_unit, axis="y")

    canvas_rows = max(height - 5, 1)
    y_ticks = _nice_ticks(top, max(2, min(6, canvas_rows // 2 + 1)))
    plot.ruler("y").lim(0, y_ticks[-1])
    plot.ruler("y").ticks(y_ticks, _tick_labels(y_ticks))

    x_ticks = _time_ticks(span, max(2, min(8, (width - 8) // 8)), seconds=unit_seconds == 1.0)
    plot.ruler("x").lim(-span, 0)
    plot.ruler("x").ticks(x_ticks, _tick_labels(x_ticks))


def _points(
    times: np.ndarray, values: np.ndarray, newest: float, unit_seconds: float, scale: float
) -> tuple[list[float], list[float], list[int]]:
    """Finite points as (x, y) lists, plus the indices whose segment to the previous point is a gap.

    NaN must never reach plotext (its C kernel aborts the process on it), so
    missing samples are dropped here and the line is broken across them. A line is
    also broken where samples stopped arriving for a while (three times the usual
    interval), rather than drawn straight across the silence.
    """
    n = min(len(times), len(values))
    times, values = times[:n], values[:n].astype(np.float64)
    ok = np.isfinite(times) & np.isfinite(values)
    kept = np.flatnonzero(ok)
    if kept.size == 0:
        return [], [], []
    t = times[kept]
    gap = np.diff(kept) > 1  # a missing sample between two kept ones
    steps = np.diff(t)
    if steps.size >= 2:
        gap |= steps > 3 * float(np.median(steps))
    breaks = (np.flatnonzero(gap) + 1).tolist()
    x = ((t - newest) / unit_seconds).tolist()
    y = (values[kept] / scale).tolist()
    return x, y, breaks


def _title(metric: _Metric, window: str, samples: int, width: int) -> str:
    noun = "sample" if samples == 1 else "samples"
    options = (
        f"{metric.name} ({metric.unit}), last {window}, {samples} {noun}",
        f"{metric.name} ({metric.unit}), last {window}",
        f"{metric.name}, last {window}",
    )
    return next((t for t in options if len(t) <= width - 2), options[-1])


def _format_window(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < SECONDS_AXIS_MAX_SPAN:
        return f"{seconds}s"
    minutes = int(round(seconds / 60))
    if minutes < 60:
        return f"{minutes}m"
    return f"{minutes // 60}h{minutes % 60:02d}m"


def _nice_ticks(top: float, most: int) -> list[float]:
    """Evenly spaced round ticks from 0 up to at least `top`, at most `most` of them."""
    if not math.isfinite(top) or top <= 0:
        top = 1.0
    raw = top / max(most - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    count = max(1, math.ceil(top / step - 1e-9))
    return [i * step for i in range(count + 1)]


def _time_ticks(span: float, most: int, *, seconds: bool) -> list[float]:
    """Round ticks from -span (or just inside it) to 0, counting back from 0."""
    steps = (5, 10, 15, 20, 30, 60) if seconds else (1, 2, 5, 10, 15, 20, 30, 60, 120, 240)
    step = next((s for s in steps if math.floor(span / s + 1e-9) + 1 <= most), steps[-1])
    count = math.floor(span / step + 1e-9)
    return [-(count - i) * step for i in range(count + 1)]


def _tick_labels(ticks: list[float]) -> list[str]:
    """Shortest exact labels; thousands and millions as k and M to keep the y axis narrow."""
    biggest = max(abs(t) for t in ticks)
    divisor, suffix = (1e6, "M") if biggest >= 1e7 else (1e3, "k") if biggest >= 1e4 else (1.0, "")
    scaled = [t / divisor for t in ticks]
    for decimals in range(5):
        labels = [f"{t:.{decimals}f}" for t in scaled]
        if all(abs(float(label) - t) < 1e-9 * max(1.0, abs(t)) for label, t in zip(labels, scaled)):
            break
    return ["0" if float(label) == 0 else label + suffix for label in labels]


def _legend(series: list[_Series], levels: list[_Level], width: int) -> list[Text]:
    """Colour swatches and names, wrapped to `width`."""
    lines: list[Text] = []
    line = Text()
    entries = [(s.label, s.color, any(np.isfinite(v).any() for v in s.values.values()) and len(s.times) > 0)
               for s in series] + [(level.label, level.color, True) for level in levels]
    for label, color, has_data in entries:
        name = escape_controls(label) if has_data else f"{escape_controls(label)} (no data)"
        room = width - len(LEGEND_SWATCH) - 2
        if len(name) > room:
            name = name[: max(room - 1, 1)] + "…"
        entry = Text.assemble((LEGEND_SWATCH, f"color({color})"), " ", name)
        if line.cell_len and line.cell_len + 3 + entry.cell_len > width:
            lines.append(line)
            line = Text()
        if line.cell_len:
            line.append("   ")
        line.append_text(entry)
    if line.cell_len:
        lines.append(line)
    return lines
