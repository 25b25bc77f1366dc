"""The header: where we are, how big it is, how busy, and how fresh the data is.

Each of its three lines is a list of Parts (parts.py): on a narrow terminal
the least important go first, and the age of the data, an error and its
retry are the last to go.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.widget import Widget

from ktopui.kube.errors import CredentialError, Forbidden, MetricsUnavailable
from ktopui.live.session import ClusterSession
from ktopui.model import history_keys
from ktopui.model.history import CPU, MEMORY
from ktopui.model.quantity import percent
from ktopui.model.snapshot import Summary
from ktopui.safe_text import escape_controls
from ktopui.ui.cells import age_text, cores_text, gib_text, level, sparkline
from ktopui.ui.parts import Part, fit, notice_parts

HEADER_SPARK = 16
STALE_AFTER = 120  # seconds: metrics older than this are shown as stale

# How long each part stays as the terminal narrows (higher: longer).
KEEP_ALWAYS = 100  # the name of the app, a pause, what failed
KEEP_AGE = 95  # how old the data is, when a failed list is retried
KEEP_PLACE = 90  # context and scope
KEEP_COUNTS = 70
KEEP_USAGE = 60
KEEP_DETAIL = 50  # an error's own message (shortened before it goes)
KEEP_EXTRA = 20  # sparklines, hints
KEEP_LEAST = 5  # the server's address, the refresh interval


# Styles by what they mean. Without colour (NO_COLOR, where red turns a dark
# grey) what alarms is drawn reversed, so it stays the most visible thing.
LOOKS = {
    "alarm": "bold red", "crit": "bold red", "error": "red", "warn": "yellow", "warning": "yellow",
    "caution": "bold yellow", "waiting": "italic yellow", "paused": "bold reverse yellow", "spark": "cyan",
    "bold": "bold",
}
LOOKS_WITHOUT_COLOUR = {
    **{name: "" for name in LOOKS}, "alarm": "bold reverse", "crit": "bold reverse", "paused": "bold reverse",
    "warn": "bold", "caution": "bold", "waiting": "italic", "bold": "bold",
}


class ClusterHeader(Widget):
    """What the screen's session is connected to, how busy it is, how fresh its data."""

    DEFAULT_CSS = "ClusterHeader { height: 3; }"

    def __init__(self, session: ClusterSession, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.session = session
        self.place = session.place
        self.history = session.history
        self.clock = session.clock
        # What it says of the snapshot shown: no rows (a screen put away keeps this, which
        # must not keep a metrics list's 150,000 samples alive).
        self.summary: Summary | None = None
        self.scope = "all namespaces"
        self.note = ""  # a transient message (e.g. an internal error)
        self._coverage_of: tuple[Summary, list[Part]] | None = None  # (redrawn every second: made once)

    def show(self, summary: Summary | None, *, scope: str) -> None:
        self.summary, self.scope = summary, scope
        self.refresh()

    def _look(self, meaning: str) -> str:
        return (LOOKS_WITHOUT_COLOUR if self.app.no_color else LOOKS)[meaning]

    def render(self) -> Text:
        # (Before the first layout the width is 0: nothing is dropped then.)
        width = self.size.width or 1000
        lines = [fit(parts, width) for parts in (self._identity(), self._usage(), self._status())]
        text = Text("\n").join(lines)
        text.no_wrap = True
        text.overflow = "ellipsis"
        return text

    # -- line 1: where -------------------------------------------------------

    def _identity(self) -> list[Part]:
        s = self.summary
        parts = [
            Part(Text(" ktopui ", style="bold reverse"), KEEP_ALWAYS),
            # The kubeconfig's context, the namespace picked, the server's version: nobody vouches for them.
            Part(Text(f" {escape_controls(self.place.context or '(in-cluster)')} ", style="bold"), KEEP_PLACE,
                 shrink=8),
            Part(Text(escape_controls(self.scope), style="bold"), KEEP_PLACE, lead="│ ", shrink=10),
        ]
        if s is not None:
            parts.append(Part(self._counts(s), KEEP_COUNTS, lead=" │ "))
        parts.extend(self._prometheus())
        if self.place.version:
            parts.append(Part(Text(escape_controls(self.place.version), style="dim"), KEEP_LEAST + 1, lead=" │ "))
        parts.append(Part(Text(escape_controls(self.place.server), style="dim"), KEEP_LEAST, lead=" " if self.place.version else " │ ",
                          shrink=20))
        return parts

    def _prometheus(self) -> list[Part]:
        """`prom: monitoring/prometheus-k8s` (or `off`, `none found`), and a failure's word after it."""
        prom = self.session.prom
        if prom is None or not (prom.label or prom.failure):
            return []
        text = Text(f"prom: {prom.label}" if prom.label else "prom:", style="dim")
        parts = [Part(text, KEEP_EXTRA + 1, lead=" │ ", shrink=12)]
        if prom.failure:
            parts.append(Part(Text(prom.failure, style=self._look("warn")), KEEP_COUNTS - 1, lead=" "))
        return parts

    @staticmethod
    def _counts(s: Summary) -> Text:
        """`12 nodes · 108 pods`, but only what is known: a list not in yet is not empty."""
        said = []
        for source, count in (("nodes", s.nodes), ("pods", s.pods)):
            health = s.health[source]
            if source in s.loading:
                said.append(f"listing {source}…")
            elif health.ok_at is None and health.error is not None and not count:
                said.append(f"{source} unknown")
            else:
                said.append(f"{count} {source}")
        return Text(" · ".join(said))

    # -- line 2: how busy, how fresh --------------------------------------------

    def _usage(self) -> list[Part]:
        s = self.summary
        if s is None:
            return [Part(Text(" connecting…", style="dim"), KEEP_ALWAYS)]
        parts = []
        if self.session.paused:
            parts.append(Part(Text(" ⏸ PAUSED (space resumes) ", style=self._look("paused")), KEEP_ALWAYS, shrink=9))
        t = s.totals
        measured = s.metrics_error is None and s.coverage.nodes_measured > 0
        for label, used, total, unit, metric in (
            ("CPU", t.cpu_milli, t.cpu_allocatable_milli, lambda v: f"{cores_text(v)} cores", CPU),
            ("MEM", t.mem_bytes, t.mem_allocatable_bytes, lambda v: f"{gib_text(v)} GiB", MEMORY),
        ):
            line = Text(f" {label} ", style="bold")
            lead = "  │" if parts and label == "MEM" else ""
            if not measured:
                line.append("usage n/a", style="dim")
                parts.append(Part(line, KEEP_USAGE, lead=lead))
                continue
            share = percent(used * 1000, total * 1000) if total else None
            line.append(f"{unit(used).split()[0]}/{unit(total)} ")
            line.append(f"{share}%" if share is not None else "-",
                        style=self._look(level(share) or "bold"))
            parts.append(Part(line, KEEP_USAGE, lead=lead))
            spark = sparkline(self.history.last(history_keys.CLUSTER, metric, HEADER_SPARK), HEADER_SPARK, total)
            parts.append(Part(Text(spark, style=self._look("spark")), KEEP_EXTRA, lead=" "))
        parts.append(Part(self._age(s), KEEP_AGE, lead="  │"))
        parts.append(Part(Text(f"every {self.session.interval:g}s", style="dim"), KEEP_LEAST, lead=" · "))
        return parts

    def _age(self, s: Summary) -> Text:
        """How old the newest metrics are; or why there are none."""
        if s.newest_metrics is not None:
            age = self.clock() + s.clock_offset - s.newest_metrics  # (by the server's clock)
            return Text(f" metrics {age_text(age)} old", style="dim" if age < STALE_AFTER else "bold yellow")
        if s.metrics_error is not None:
            return Text(" no metrics API", style=self._look("warning"))
        health = s.health["node metrics"]
        if health.error is not None:
            return Text(" no metrics received", style=self._look("warning"))
        if health.ok_at is None:
            return Text(" waiting for metrics", style="dim")
        return Text(" no metrics reported yet", style="dim")  # the API answers with no samples

    # -- line 3: what is wrong, or how complete ---------------------------------

    def _status(self) -> list[Part]:
        s = self.summary
        if self.note:
            return [Part(Text(f" {self.note}", style="italic"), KEEP_ALWAYS)]
        if s is None:
            return []
        metrics = s.metrics_error
        problems = {k: e for k, e in s.errors.items() if not isinstance(e, MetricsUnavailable)}
        if problems:
            return self._problem(s, problems)
        relisting = self._relisting(s) + notice_parts(s.notices, self._look("warn"), KEEP_DETAIL)
        if metrics is not None:
            parts = [
                Part(Text(" ⚠ no usage: ", style=self._look("caution")), KEEP_ALWAYS),
                Part(Text(metrics.message, style=self._look("warning")), KEEP_DETAIL, shrink=20, middle=True),
            ]
            if metrics.hint:
                parts.append(Part(Text(metrics.hint, style="dim"), KEEP_EXTRA, lead=" ", shrink=20))
            return parts + relisting
        if s.loading:
            return [
                Part(Text(f" loading {' and '.join(s.loading)}…", style=self._look("waiting")), KEEP_ALWAYS),
                Part(Text("(the first list of a large cluster takes a while)", style=self._look("waiting")), KEEP_EXTRA,
                     lead=" "),
            ]
        return relisting + self._coverage(s) + self._prometheus_problem()

    def _prometheus_problem(self) -> list[Part]:
        """Why history from Prometheus failed (or came partial), in its own words."""
        prom = self.session.prom
        if prom is None or not (prom.problem or prom.warning):
            return []
        if prom.problem:
            said = f"history from Prometheus failed: {prom.problem}; sparklines go on from live metrics"
        else:
            said = f"Prometheus answered in part: {prom.warning}"
        return [Part(Text(said, style=self._look("warn")), KEEP_DETAIL, lead=" │ ", shrink=20, middle=True)]

    def _relisting(self, s: Summary) -> list[Part]:
        """Nodes or pods listed periodically because their watch cannot work: why, how often,
        and how old the last list is (a state to know about, not an error: kept as long as an age)."""
        lists: dict[str, list[str]] = {}
        for source in ("nodes", "pods"):
            health = s.health.get(source)
            if health is not None and health.relisting:
                age = "" if health.listed_at is None else f", listed {age_text(self.clock() - health.listed_at)} ago"
                lists.setdefault(health.relisting, []).append(f"{source} every {health.relist_every:.0f}s{age}")
        return [Part(Text(f" ↻ {reason}: re-listing {'; '.join(sources)}", style=self._look("warn")), KEEP_AGE,
                     lead=" │", shrink=24)
                for reason, sources in lists.items()]

    def _problem(self, s: Summary, problems: dict) -> list[Part]:
        """The first failing list: what failed, since when the data is stale, when we retry."""
        source, error = next(iter(problems.items()))
        if isinstance(error, Forbidden):
            parts = [
                Part(Text(f" ⚠ {source}: permission denied: ", style=self._look("alarm")), KEEP_ALWAYS),
                Part(Text(error.message, style=self._look("error")), KEEP_DETAIL, shrink=20, middle=True),
            ]
            if source == "pods" and not self.scope.startswith("namespace"):
                parts.append(Part(Text("press s to pick a namespace you may read", style="bold"), KEEP_AGE,
                                  lead=" — "))
            return parts
        parts = [
            Part(Text(f" ⚠ {source}:", style=self._look("alarm")), KEEP_ALWAYS),
            # (at 80 columns the ⚠ says it failed: the words go once the message is cut short)
            Part(Text("refresh failed:", style=self._look("alarm")), KEEP_DETAIL + 2, lead=" "),
            Part(Text(error.message, style=self._look("error")), KEEP_DETAIL, lead=" ", shrink=12, middle=True),
        ]
        if isinstance(error, CredentialError) and error.hint:
            # What the plugin said (its stderr) is what tells the user what to do.
            parts.append(Part(Text(" ".join(error.hint.split()), style=self._look("alarm")), KEEP_DETAIL + 1,
                              lead=" — ", shrink=20, middle=True))
        ok_at = s.health[source].ok_at
        if ok_at is None:
            parts.append(Part(Text("no data yet", style=self._look("error")), KEEP_AGE, lead=" — "))
        else:
            since, age = time.strftime("%H:%M:%S", time.localtime(ok_at)), age_text(self.clock() - ok_at)
            # The time of day goes before the message is shortened; the age stays.
            short = Part(Text(f"data ({age} ago)", style=self._look("error")), KEEP_AGE, lead=" — ")
            parts.append(Part(Text(f"data from {since} ({age} ago)", style=self._look("error")), KEEP_DETAIL - 2,
                              lead=" — ", instead=short))
        if self.session.next_refresh_at is not None:
            wait = max(0.0, self.session.next_refresh_at - self.clock())
            parts.append(Part(Text(f"retry in {wait:.0f}s", style="bold"), KEEP_AGE, lead="; "))
        if len(problems) > 1:
            parts.append(Part(Text(f"(+{len(problems) - 1} more)", style=self._look("error")), KEEP_DETAIL - 10,
                              lead=" "))
        return parts

    def _coverage(self, s: Summary) -> list[Part]:
        """How much of the cluster reports usage: silent gaps are what k9s hides."""
        if self._coverage_of is not None and self._coverage_of[0] is s:
            return self._coverage_of[1]
        nodes, pods, running = s.coverage
        line = Text(" usage reported by ", style="dim")
        line.append(f"{nodes}/{s.nodes}", style="bold" if nodes == s.nodes else "bold yellow")
        line.append(" nodes, ", style="dim")
        line.append(f"{pods}/{running}", style="bold" if pods >= running else "bold yellow")
        line.append(" running pods", style="dim")
        parts = [Part(line, KEEP_USAGE, lead=" │", shrink=20)]
        not_ready = s.not_ready
        if not_ready:
            text = Text(f"{len(not_ready)} node{'s' if len(not_ready) > 1 else ''} not ready", style=self._look("alarm"))
            parts.append(Part(text, KEEP_AGE, lead=" │ "))
        self._coverage_of = (s, parts)
        return parts
