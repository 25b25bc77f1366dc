"""What to request, above a workload's pods: per container, today's request, the suggestion,
the gap, the history it rests on, and the `kubectl set resources` lines (`y` copies them)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from ktopui.model import history_keys
from ktopui.model.history import History
from ktopui.model.workload_advice import (
    ContainerAdvice,
    advice,
    memory_text,
    not_settable,
    set_resources,
)
from ktopui.safe_text import escape_controls
from ktopui.ui.cells import cpu_text, mem_text

HEADINGS = ("CONTAINER", "REQUEST CPU", "MEM", "SUGGESTED CPU", "MEM", "GAP CPU", "MEM", "HISTORY")


def _gap(value: int | None, requested: int | None, text) -> tuple[str, str]:
    """A gap's text and style: `not set` without a request, `-` without a suggestion."""
    if requested is None:
        return "not set", "dim"
    if value is None:
        return "-", "dim"
    return (text(value), "bold green") if value >= 0 else (f"-{text(-value)}", "bold yellow")


def _suggested_mem(value: int | None) -> str:
    return "-" if value is None else memory_text(value)


def commands(kind: str, namespace: str, name: str, containers: Sequence[ContainerAdvice]) -> list[str]:
    """The kubectl lines of the containers that have a suggestion (escaped: cluster text)."""
    lines = (set_resources(kind, namespace, name, c) for c in containers)
    return [escape_controls(line) for line in lines if line is not None]


def advice_text(key: tuple[str, str, str], containers: Sequence[ContainerAdvice], copy_key: str,
                basis: str = "") -> Group:
    kind, namespace, name = key
    grid = Table.grid(padding=(0, 2))
    for i, _ in enumerate(HEADINGS):
        grid.add_column(justify="left" if i in (0, len(HEADINGS) - 1) else "right", no_wrap=i < len(HEADINGS) - 1)
    grid.add_row(*(Text(h, style="bold dim") for h in HEADINGS))
    for c in containers:
        cpu_gap, cpu_style = _gap(c.cpu_gap, c.request_cpu_milli, cpu_text)
        mem_gap, mem_style = _gap(c.mem_gap, c.request_mem_bytes, mem_text)
        grid.add_row(
            Text(escape_controls(c.name), style="bold"),
            "not set" if c.request_cpu_milli is None else cpu_text(c.request_cpu_milli),
            "not set" if c.request_mem_bytes is None else mem_text(c.request_mem_bytes),
            Text(cpu_text(c.cpu_milli), style="bold"),
            Text(_suggested_mem(c.mem_bytes), style="bold"),
            Text(cpu_gap, style=cpu_style),
            Text(mem_gap, style=mem_style),
            Text(c.history, style="yellow" if c.provisional else ""),
        )
    title = Text.assemble((" What to request", "bold"),
                          (("  CPU: the 95th percentile of each pod's usage, memory: its peak + 15 %, "
                            "the largest of its pods"), "dim"))
    said = [Text(f" {basis}", style="dim")] if basis else []
    parts: list = [title, *said, grid]
    if not containers:
        parts = [title, *said, Text(" No running containers with history yet.", style="dim")]
    lines = commands(kind, namespace, name, containers)
    why = not_settable(kind)
    if why is not None:
        parts.append(Text(f" {why}.", style="dim"))
    elif lines:
        parts += [Text.assemble((" $ ", "dim"), (line, "")) for line in lines]
        parts.append(Text(f" {copy_key}: copy the kubectl line{'s' * (len(lines) > 1)}", style="dim"))
    elif containers:
        parts.append(Text(" No suggestion yet: it needs a minute of samples.", style="dim"))
    return Group(*parts)


class AdvicePanel(Static):
    """Redrawn only when the workload, its number of pods or its history changed: reading
    every pod's history is ~0.1-0.3 s for a DaemonSet of 5,000 pods (on the UI thread), so
    once per metrics list (the workload's own history stamp), not on every refresh.

    With Prometheus, the suggestion is `ktopui rightsize`'s over its window (`from_window`);
    the session's history stands in while it is asked for, or when it has none to give."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.containers: list[ContainerAdvice] = []
        self._made_of: tuple = ()
        self._window: list[ContainerAdvice] | None = None  # the suggestion over Prometheus's window
        self._basis = ""  # what the suggestion rests on, in one line ("": nothing to say)

    def from_window(self, containers: list[ContainerAdvice], basis: str) -> None:
        """Show these (Prometheus's window) instead of the session's history, from now on."""
        self._window, self._basis, self._made_of = containers, basis, ()

    def from_session(self, basis: str) -> None:
        """Show the session's history, saying why in one line (`basis`)."""
        self._window, self._basis, self._made_of = None, basis, ()

    def show(self, history: History, key: tuple[str, str, str], pods, copy_key: str) -> None:
        if self._window is not None:
            made_of = (key, "window")
            if made_of != self._made_of:
                self._made_of, self.containers = made_of, self._window
                self.update(advice_text(key, self.containers, copy_key, self._basis))
            return
        made_of = (key, len(pods), history.stamp(history_keys.workload(*key)))
        if made_of == self._made_of:
            return
        self._made_of = made_of
        self.containers = advice(history, pods)
        self.update(advice_text(key, self.containers, copy_key, self._basis))

    def forget(self) -> None:
        self._made_of, self.containers, self._window, self._basis = (), [], None, ""
        self.update("")
