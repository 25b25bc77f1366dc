"""Screens over the dashboard: the keys, the namespace picker, the doctor."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from ktopui.live.ranges import RANGES
from ktopui.live.session import ClusterSession
from ktopui.model.names import namespace_name_problem
from ktopui.safe_text import escape_controls
from ktopui.ui.cells import thresholds
from ktopui.ui.dashboard import SORT_BINDINGS, DashboardScreen
from ktopui.ui.ranged import RANGE_BINDINGS
from ktopui.ui.rollup_screens import WorkloadPodsScreen
from ktopui.ui.screens import MainScreen
from ktopui.ui.table import RowTable

if TYPE_CHECKING:
    from ktopui.ui.app import KtopApp


class HelpScreen(ModalScreen):
    """Every key, from the bindings themselves (remapped ones included), so it cannot drift.

    Taller than 24 lines: it scrolls (↑ ↓ PgUp PgDn Home End, or the wheel).
    """

    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close")]

    app: KtopApp

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(help_text(self.app.settings.keys), id="help-text")

    def on_mount(self) -> None:
        self.query_one("#help").focus()


def help_text(keymap: dict[str, str] | None = None) -> Group:
    """The keys, as `keymap` (binding id -> keys, the config file's) changes them, in a grid,
    so a long description wraps under itself at 80 columns."""
    from ktopui.ui.app import KtopApp

    keymap = keymap or {}
    ids = {b.id: b.key for b in [*MainScreen.BINDINGS, *RowTable.BINDINGS, *DashboardScreen.BINDINGS,
                                 *HelpScreen.BINDINGS, *WorkloadPodsScreen.BINDINGS, *RANGE_BINDINGS] if b.id}

    def keys(*binding_ids: str) -> str:
        return " ".join(key_name(keymap.get(i, ids[i])).replace(", ", " ") for i in binding_ids)

    rows: list[tuple[str, str]] = [
        (f"{keys('view.nodes')} / {keys('view.pods')} / {keys('view.workloads')} / {keys('view.namespaces')}",
         "nodes / pods / workloads / namespaces view"),
        (keys("view.pools"), "nodes grouped by pool (totals, free capacity, pods / allocatable pods), or back; "
                             "Enter on a pool shows its nodes"),
        (keys("cursor.up", "cursor.down", "cursor.page_up", "cursor.page_down", "cursor.first", "cursor.last"),
         "move the selection"),
        (keys("open"), "drill down: (pool → its nodes →) node (or workload) → its pods → a pod's containers "
                       "and charts; namespace → its workloads"),
        (keys("back"), "back one level (or clear the filter)"),
        (f"{keys(*(f'range.{name}' for name, _seconds in RANGES))} / {keys('range.session')}",
         "detail charts: 15m, 1h, 6h, 24h, 7d from Prometheus / back"),
        ("Ctrl+P", "command palette: the same actions by name"),
    ]
    seen = {"view.nodes", "view.pods", "view.workloads", "view.namespaces", "view.pools", "back", "open",
            *(b.id for b in RANGE_BINDINGS)}
    for binding in [*SORT_BINDINGS, *DashboardScreen.BINDINGS, *WorkloadPodsScreen.BINDINGS, *KtopApp.BINDINGS]:
        if binding.id in seen:
            continue
        seen.add(binding.id)
        rows.append((key_name(keymap.get(binding.id, binding.key)), binding.tooltip or binding.description))
    warning, critical = thresholds()
    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True, style="bold cyan")
    grid.add_column(ratio=1)
    for shown, what in rows:
        grid.add_row(shown, what)
    notes = [
        "Sorting: pressing the same key again reverses. a/r/l sort by the percentage (of allocatable, "
        "of requests, of limits) of the resource chosen last with c or m. Click a column header to sort "
        "by it. Ties are ordered by name. The sorted column is always shown, whatever the width.",
        f"Marks: N%! from {warning} % on, N%!! from {critical} % on; ~ on a limit percentage means only some "
        "containers set a limit (the others are left out, not counted as 0). ? marks a value the cluster "
        "sent that is not a valid quantity; - means no data.",
        "Trends: the last samples, one per new metrics timestamp, drawn from zero up to the node's "
        "allocatable or the pod's (or container's) limit, so rows compare; without a limit, up to the "
        "highest sample shown. The header's are up to the cluster's allocatable.",
        "Workloads: each pod counts in the top of its owner chain (a Deployment, not its ReplicaSet); "
        "usage is the sum of its pods', requests and limits those of its unfinished pods. A * after the kind "
        "means the owner was inferred from pod labels (ReplicaSets or Jobs may not be listed). OOM counts "
        "OOM kills.",
        "What to request: RECLAIM CPU and RECLAIM MEM are what a workload's (a namespace's) pods would free "
        "at the suggested requests (CPU: the 95th percentile of each pod's usage, memory: its peak + 15 %, "
        "the largest of its pods), made again once a minute; Enter on a workload shows them per container "
        "with a kubectl set resources line.",
        "Namespaces: Q CPU/R, Q MEM/R, Q CPU/L, Q MEM/L are how much of the namespace's ResourceQuota on "
        "requests.cpu, requests.memory, limits.cpu, limits.memory is used; blank where no quota sets it.",
        "Names too long for their column lose their middle (recommender-…-x7k2p); when the NAMESPACE "
        "column does not fit, names carry it in front (web/redis-0).",
    ]
    *others, last = key_name(keymap.get("help.close", ids["help.close"])).split(", ")
    close = f"{', '.join(others)} or {last}" if others else last
    return Group(
        Text("ktopui keys\n", style="bold"),
        grid,
        *(Text(f"\n{note}", style="dim") for note in notes),
        Text(f"\n↑ ↓ PgUp PgDn End scroll this help; {close} closes it.", style="italic"),
    )


def key_name(key: str) -> str:
    """Textual key names as the help shows them: `slash,f2` is `/, f2`."""
    names = {"slash": "/", "space": "Space", "question_mark": "?", "ctrl+p": "Ctrl+P", "escape": "Esc",
             "enter": "Enter", "up": "↑", "down": "↓", "pageup": "PgUp", "pagedown": "PgDn", "home": "Home",
             "end": "End"}
    return ", ".join(names.get(k.strip(), k.strip()) for k in key.split(","))


class NamespaceScreen(ModalScreen[str | None]):
    """Pick the namespace to show: type to filter, Enter picks; a name typed that is not listed is
    accepted when it is a valid namespace name (a user allowed only some namespaces may not list them).

    Names come from the cluster: they are shown as plain text, never read as markup.
    """

    ALL = "(all namespaces)"
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel", id="namespace.cancel"),
        Binding("up", "move(-1)", "Up", id="namespace.up", show=False),
        Binding("down", "move(1)", "Down", id="namespace.down", show=False),
    ]

    def __init__(self, namespaces: list[str], current: str, *, listed: bool = True) -> None:
        """`current`: the namespace to preselect ("" = all); `listed`: `namespaces` is the cluster's
        whole list (not only the ones seen, when listing namespaces is forbidden)."""
        super().__init__()
        self.namespaces = namespaces
        self.current = current
        self.listed = listed
        self.choices: list[str] = []  # what each option picks ("" = all namespaces)

    def compose(self) -> ComposeResult:
        with Vertical(id="namespace-box"):
            yield Static(" Namespace: type to filter · Enter picks · Esc", id="namespace-title")
            yield Input(placeholder="filter, or any namespace name", id="namespace-filter")
            yield OptionList(id="namespaces")
            yield Static(id="namespace-note")

    def on_mount(self) -> None:
        self._show_matching("")
        if self.current in self.choices:
            self.query_one(OptionList).highlighted = self.choices.index(self.current)
        self.query_one(Input).focus()

    def _show_matching(self, typed: str) -> None:
        wanted = typed.strip()
        needle = wanted.lower()
        matches = [ns for ns in self.namespaces if needle in ns.lower()]
        self.choices = ([""] if not wanted else []) + matches
        options = [Option(Text(self.ALL, style="italic"))] if not wanted else []
        # Text, not a string: an option's string is parsed as markup (a name with
        # `[@click=...]` would run an action when clicked).
        options += [Option(Text(escape_controls(ns))) for ns in matches]
        if wanted and wanted not in matches:
            self.choices.append(wanted)
            options.append(Option(Text.assemble(escape_controls(wanted), (" (not listed)", "dim italic"))))
        option_list = self.query_one(OptionList)
        option_list.clear_options()
        option_list.add_options(options)
        option_list.highlighted = 0 if options else None
        note = "" if self.listed else " You may not list namespaces: these are the ones seen; type any other."
        self.query_one("#namespace-note", Static).update(Text(note, style="italic"))

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._show_matching(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        highlighted = self.query_one(OptionList).highlighted
        if highlighted is not None:
            self._pick(self.choices[highlighted])

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self._pick(self.choices[event.option_index])

    def action_move(self, step: int) -> None:
        option_list = self.query_one(OptionList)
        if option_list.option_count:
            option_list.highlighted = ((option_list.highlighted or 0) + step) % option_list.option_count

    def _pick(self, choice: str) -> None:
        if choice and choice not in self.namespaces and (problem := namespace_name_problem(choice)):
            self.query_one("#namespace-note", Static).update(
                Text.assemble((" Not a namespace name: ", "bold red"), problem))
            return
        self.dismiss(choice)


class DoctorScreen(ModalScreen):
    """`ktopui doctor` inside the dashboard: the same checks, on the session's connection."""

    BINDINGS = [
        Binding("escape,q,d", "dismiss", "Close", id="doctor.close"),
        Binding("r", "run", "Run again", id="doctor.run_again"),
    ]

    findings: list | None = None  # the last run's, once it finished

    def __init__(self, session: ClusterSession) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        # Scrolls with the keys (↑ ↓ PgUp PgDn Home End): the findings outgrow 24 lines.
        with VerticalScroll(id="doctor-box"):
            yield Static(" Checking the connection, permissions and the metrics API…", id="doctor")

    def on_mount(self) -> None:
        self.query_one("#doctor-box").focus()
        self.action_run()

    def action_run(self) -> None:
        self.query_one("#doctor", Static).update(Text(" Checking…", style="italic"))
        self.findings = None
        self._diagnose()

    @work(exclusive=True, thread=True)
    async def _diagnose(self) -> None:
        # In a thread with an event loop (and connections) of its own: the checks
        # read and parse files and build TLS contexts, which must not stall the
        # dashboard. Given up when the worker is cancelled (Esc, `r`, quitting).
        worker = get_current_worker()
        run = asyncio.ensure_future(self.session.diagnose())
        while not run.done():
            if worker.is_cancelled:
                run.cancel()
            await asyncio.wait({run}, timeout=0.1)
        if not run.cancelled() and not worker.is_cancelled:
            self.app.call_from_thread(self._show_findings, run.result())

    def _show_findings(self, findings: list) -> None:
        from ktopui.doctor.report import summary

        if self.is_attached:
            self.query_one("#doctor", Static).update(doctor_text(findings, summary(findings)))
            self.findings = findings


DOCTOR_STYLES = {"ok": ("✔", "green"), "warn": ("⚠", "yellow"), "fail": ("✘", "bold red"), "skip": ("–", "dim")}


def doctor_text(findings, summary_line: str) -> Group:
    """Findings in a grid, so long details wrap under themselves, not under the marks."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(ratio=1)
    for f in findings:
        mark, style = DOCTOR_STYLES.get(f.status, ("?", ""))
        body = Text.assemble((f"{f.check}: ", "bold"), f.detail)
        if f.next_step:
            body.append(f"\n→ {f.next_step}", style="cyan")
        grid.add_row(Text(f"{mark} {f.status.upper():<4}", style=style), body)
    return Group(
        Text("ktopui doctor\n", style="bold"),
        grid,
        Text(f"\n{summary_line}", style="bold"),
        Text("r runs the checks again · ↑ ↓ PgUp PgDn End scroll · Esc closes", style="dim italic"),
    )
