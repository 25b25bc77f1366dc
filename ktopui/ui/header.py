"""The header: where we are, how big it is, how busy, and how fresh the data is."""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from rich.text import Text
from textual.widget import Widget

from ktopui.kube.errors import CredentialError, Forbidden, MetricsUnavailable
from ktopui.live.state import CLUSTER_KEY, Snapshot
from ktopui.model.history import CPU, MEMORY, History
from ktopui.model.quantity import percent
from ktopui.ui.cells import age_text, cores_text, gib_text, level, sparkline

HEADER_SPARK = 16


@dataclass
class Place:
    """What the header says about the connection; fixed for a session."""

    context: str
    server: str
    version: str = ""


class ClusterHeader(Widget):
    DEFAULT_CSS = "ClusterHeader { height: 3; }"

    def __init__(
        self, place: Place, history: History, *, clock: Callable[[], float] = time.time, id: str | None = None
    ) -> None:
        super().__init__(id=id)
        self.place = place
        self.history = history
        self.clock = clock
        self.snapshot: Snapshot | None = None
        self.scope = "all namespaces"
        self.paused = False
        self.interval = 2.0
        self.note = ""  # a transient message (e.g. "namespace switched")
        self.next_refresh_at: float | None = None
        # The line is redrawn every second. Its snapshot is held weakly: the one
        # replaced must die in the app's worker thread, not here at the next
        # redraw (freeing 150,000 pods' rows took 5-30 ms of the UI thread).
        self._coverage_of: tuple[weakref.ref[Snapshot], Text] | None = None

    def show(self, snapshot: Snapshot | None, *, scope: str, paused: bool, interval: float) -> None:
        self.snapshot, self.scope, self.paused, self.interval = snapshot, scope, paused, interval
        self.refresh()

    def let_go(self) -> None:
        """Drop the snapshot (its screen is put away): show() brings the current one."""
        self.snapshot, self._coverage_of = None, None

    def render(self) -> Text:
        text = Text("\n").join([self._identity(), self._usage(), self._status()])
        text.no_wrap = True
        text.overflow = "ellipsis"
        return text

    def _identity(self) -> Text:
        s = self.snapshot
        line = Text()
        line.append(" ktopui ", style="bold reverse")
        line.append(f" {self.place.context or '(in-cluster)'} ", style="bold")
        line.append("│ ", style="dim")
        line.append(self.scope, style="bold")
        if s is not None:
            line.append(f" │ {len(s.nodes)} nodes · {len(s.pods)} pods", style="")
        # Least important last: a narrow terminal cuts these first.
        line.append(f" │ {self.place.version} {self.place.server}", style="dim")
        return line

    def _usage(self) -> Text:
        s = self.snapshot
        line = Text()
        if s is None:
            line.append(" connecting…", style="dim")
            return line
        if self.paused:
            # First on the line, so a narrow terminal never cuts it off.
            line.append(" ⏸ PAUSED (space resumes) ", style="bold reverse yellow")
        t = s.totals
        for label, used, total, text, metric in (
            ("CPU", t.cpu_milli, t.cpu_allocatable_milli, lambda v: f"{cores_text(v)} cores", CPU),
            ("MEM", t.mem_bytes, t.mem_allocatable_bytes, lambda v: f"{gib_text(v)} GiB", MEMORY),
        ):
            line.append(f" {label} ", style="bold")
            if s.metrics_error is not None or not any(n.has_metrics for n in s.nodes):
                line.append("usage n/a", style="dim")
            else:
                share = percent(used * 1000, total * 1000) if total else None
                line.append(f"{text(used).split()[0]}/{text(total)} ")
                lvl = level(share)
                line.append(f"{share}%" if share is not None else "-", style={"crit": "bold red", "warn": "yellow"}.get(lvl, "bold"))
                spark = sparkline(self.history.last(CLUSTER_KEY, metric, HEADER_SPARK), HEADER_SPARK)
                line.append(f" {spark}", style="cyan")
            line.append("  │", style="dim")
        if s.newest_metrics is None:
            line.append(" no metrics yet", style="dim")
        else:
            age = self.clock() - s.newest_metrics
            line.append(f" metrics {age_text(age)} old", style="dim" if age < 120 else "yellow")
        line.append(f" · every {self.interval:g}s", style="dim")
        return line

    def _status(self) -> Text:
        s = self.snapshot
        line = Text()
        if self.note:
            line.append(f" {self.note}", style="italic")
            return line
        if s is None:
            return line
        metrics = s.metrics_error
        problems = {k: e for k, e in s.errors.items() if not isinstance(e, MetricsUnavailable)}
        if problems:
            return self._problem(s, problems)
        relisting = Text(" │ ", style="dim").join(self._relisting(s))
        if metrics is not None:
            line.append(" ⚠ no usage: ", style="bold yellow")
            line.append(metrics.message, style="yellow")
            if metrics.hint:
                line.append(f" {metrics.hint}", style="dim")
            return line + Text(" │ ", style="dim") + relisting if relisting else line
        if s.loading:
            line.append(f" loading {' and '.join(s.loading)}… (the first list of a large cluster takes a while)",
                        style="italic yellow")
            return line
        if relisting:
            return Text(" ") + relisting + Text(" │", style="dim") + self._coverage(s)
        return self._coverage(s)

    def _relisting(self, s: Snapshot) -> list[Text]:
        """Nodes or pods listed periodically because their watch cannot work: why, how often,
        and how old the last list is (a state to know about, not an error)."""
        lists: dict[str, list[str]] = {}
        for source in ("nodes", "pods"):
            health = s.health.get(source)
            if health is not None and health.relisting:
                age = "" if health.listed_at is None else f", listed {age_text(self.clock() - health.listed_at)} ago"
                lists.setdefault(health.relisting, []).append(f"{source} every {health.relist_every:.0f}s{age}")
        return [Text(f"↻ {reason}: re-listing {'; '.join(sources)}", style="yellow")
                for reason, sources in lists.items()]

    def _problem(self, s: Snapshot, problems: dict) -> Text:
        """The first failing list: what failed, since when the data is stale, when we retry."""
        source, error = next(iter(problems.items()))
        line = Text()
        if isinstance(error, Forbidden):
            line.append(f" ⚠ {source}: permission denied: ", style="bold red")
            line.append(error.message, style="red")
            if source == "pods" and not self.scope.startswith("namespace"):
                line.append(" — press s to pick a namespace you may read", style="bold")
            return line
        line.append(f" ⚠ {source}: refresh failed: ", style="bold red")
        line.append(error.message, style="red")
        if isinstance(error, CredentialError) and error.hint:
            # What the plugin said (its stderr) is what tells the user what to do.
            line.append(" — " + " ".join(error.hint.split()), style="bold red")
        ok_at = s.health[source].ok_at
        if ok_at is None:
            line.append(" — no data yet", style="red")
        else:
            since = time.strftime("%H:%M:%S", time.localtime(ok_at))
            line.append(f" — data from {since} ({age_text(self.clock() - ok_at)} ago)", style="red")
        if self.next_refresh_at is not None:
            wait = max(0.0, self.next_refresh_at - self.clock())
            line.append(f"; retry in {wait:.0f}s", style="bold")
        if len(problems) > 1:
            line.append(f" (+{len(problems) - 1} more)", style="red")
        return line

    def _coverage(self, s: Snapshot) -> Text:
        """How much of the cluster reports usage: silent gaps are what k9s hides."""
        if self._coverage_of is not None and self._coverage_of[0]() is s:
            return self._coverage_of[1].copy()
        nodes, pods, running = s.coverage()
        line = Text(" usage reported by ", style="dim")
        line.append(f"{nodes}/{len(s.nodes)}", style="bold" if nodes == len(s.nodes) else "bold yellow")
        line.append(" nodes, ", style="dim")
        line.append(f"{pods}/{running}", style="bold" if pods >= running else "bold yellow")
        line.append(" running pods", style="dim")
        not_ready = [n.name for n in s.nodes if n.status.startswith(("NotReady", "Unknown"))]
        if not_ready:
            line.append(f" │ {len(not_ready)} node{'s' if len(not_ready) > 1 else ''} not ready", style="bold red")
        self._coverage_of = (weakref.ref(s), line.copy())
        return line
