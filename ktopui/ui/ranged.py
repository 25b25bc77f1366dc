"""A detail's charts over a range from Prometheus (a pod's, a workload's, a node's).

The keys 5 to 9 pick 15m, 1h, 6h, 24h, 7d (digits: a detail binds no view
key), 0 goes back to what the detail showed before. The data comes from the
session (its Prometheus client), in a worker: the screen keeps responding,
and a range or subject picked meanwhile wins over an answer that comes late.
Without Prometheus the keys say so and nothing changes.
"""

from __future__ import annotations

import numpy as np
from rich.text import Text
from textual import work
from textual.binding import Binding
from textual.widgets import Static

from ktopui.kube.prometheus import PromError
from ktopui.live.ranges import RANGES, RangeUsage
from ktopui.model.amounts import Amounts
from ktopui.safe_text import escape_controls
from ktopui.ui.charts import range_charts
from ktopui.ui.dashboard import DashboardScreen

RANGE_KEYS = ("5", "6", "7", "8", "9")
RANGE_BINDINGS = [
    Binding(key, f"range('{name}')", name, id=f"range.{name}", show=False,
            tooltip=f"charts over the last {name}, from Prometheus")
    for key, (name, _seconds) in zip(RANGE_KEYS, RANGES, strict=True)
] + [Binding("0", "range('')", "session", id="range.session", show=False,
             tooltip="back from a range to this session's samples")]


class Charts(Static):
    """Charts, drawn when the widget has its size (first layout, a resize)."""

    def __init__(self, draw, **kwargs) -> None:
        super().__init__(**kwargs)
        self._draw = draw

    def on_resize(self) -> None:
        self._draw()


class RangedScreen(DashboardScreen):
    """A detail whose charts can show a range from Prometheus. Subclasses say what the range is
    of (`range_subject`, `ask_range`, `range_levels`) and draw `draw_range` into their Charts."""

    TOTAL = "pod"  # what the summed line is called

    def __init__(self, session) -> None:
        super().__init__(session)
        self.range_name = ""  # the range picked ("": none)
        self.range_usage: RangeUsage | None = None  # its data, once Prometheus answered
        self._range_problem = ""  # why the range has no data (Prometheus's failure)
        self._range_drawn: tuple = ()

    def range_subject(self) -> tuple:
        """Who the range is of (a later answer for another is dropped)."""
        raise NotImplementedError

    async def ask_range(self, name: str) -> RangeUsage:
        raise NotImplementedError

    def range_levels(self) -> tuple[list[str], list[tuple[str, Amounts]]]:
        """The containers to list first, and the lines (request, limit, allocatable) to draw."""
        return [], []

    def range_changed(self) -> None:
        """A range was picked or dropped: draw again."""

    def forget_range_data(self) -> None:
        """Another subject: its range is asked for again."""
        self.range_usage, self._range_problem, self._range_drawn = None, "", ()
        if self.range_name:
            self._fetch_range()

    def action_range(self, name: str) -> None:
        prom = self.session.prom
        if name and (prom is None or prom.client is None):
            said = f" ({prom.label})" if prom is not None and prom.label else ""
            self.notify(f"History from Prometheus is off{said}: the charts show this session's samples.",
                        timeout=4, markup=False)
            return
        self.range_name = name
        self.forget_range_data()
        self.range_changed()

    @work(exclusive=True, group="range")
    async def _fetch_range(self) -> None:
        name, subject = self.range_name, self.range_subject()
        try:
            usage, problem = await self.ask_range(name), ""
        except PromError as err:
            usage, problem = None, err.message
        if (name, subject) != (self.range_name, self.range_subject()):
            return  # another range or subject was picked meanwhile
        if problem:
            self.notify(f"Prometheus: {problem}", severity="warning", timeout=6, markup=False)
        self.range_usage, self._range_problem, self._range_drawn = usage, problem, ()
        self.range_changed()

    def draw_range(self, charts: Static) -> None:
        if not charts.size.width:
            return  # not laid out yet: drawn when it gets its size
        width, height = max(20, charts.size.width), max(6, charts.size.height or 12)
        usage = self.range_usage
        if usage is None:
            charts.update(Text(self._range_problem or f"asking Prometheus for the last {self.range_name}…",
                               style="dim"))
            self._range_drawn = ()
            return
        if usage.end + usage.step <= self.session.clock():
            self._fetch_range()  # a step has passed: the next point (the rest is the client's cache)
        containers, levels = self.range_levels()
        drawn = (width, height, usage, containers, levels)
        if self._range_drawn == drawn:
            return
        self._range_drawn = drawn
        charts.update(range_charts(usage, self.TOTAL, containers, levels, width=width, height=height,
                                   notes=range_notes(usage)))


def range_pane(screen: RangedScreen) -> Charts:
    """Charts under a detail's table, shown while a range is picked."""
    pane = Charts(lambda: show_range_pane(screen), id="charts")
    pane.display = False
    return pane


def show_range_pane(screen: RangedScreen) -> None:
    pane = screen.query_one("#charts", Charts)
    pane.display = bool(screen.range_name)
    if screen.range_name:
        screen.draw_range(pane)


def range_notes(usage: RangeUsage) -> list[Text]:
    """Under a range's legend: each throttled container's share of CFS periods throttled, last and
    most over the range (only containers with a CPU limit have the counters); Prometheus's warnings."""
    notes = []
    throttled = []
    for name, shares in sorted(usage.throttled.items()):
        seen = shares[np.isfinite(shares)]
        if seen.size:
            throttled.append(f"{escape_controls(name)} {seen[-1] * 100:.0f}% (most {seen.max() * 100:.0f}%)")
    if throttled:
        notes.append(Text("CPU throttled: " + ", ".join(throttled), style="dim"))
    for warning in usage.warnings:
        notes.append(Text(f"Prometheus answered in part: {escape_controls(warning)}", style="yellow"))
    return notes
