"""What every dashboard screen is: a header, a breadcrumb, tables, a filter line, the footer.

A dashboard screen is given the ClusterSession it shows and shows its
snapshots (screens.py has the nodes and pods, a node's pods, one pod); none
fetches anything. Leaving a screen with Esc returns to the previous one
exactly as it was (its widgets are kept), so row, sort and filter come back
with it.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input, Static

from ktopui.live.export import EXPORTED, FILL_MOST, export, export_path, keys_of
from ktopui.live.session import ClusterSession
from ktopui.model.nodes import NODES
from ktopui.model.pods import PODS, PodRow
from ktopui.model.snapshot import Snapshot
from ktopui.ui.columns import picked, sort_choices
from ktopui.ui.columns.throttle import pod_key, throttle, workload_key
from ktopui.ui.footer import KeysFooter
from ktopui.ui.header import ClusterHeader
from ktopui.ui.table import RowTable

if TYPE_CHECKING:
    from ktopui.ui.app import KtopApp

# Sort keys: none needs Shift, so they work inside tmux and screen.
# `a`, `r`, `l` sort by the percentage of the resource picked last with c/m.
SORT_BINDINGS = [
    Binding("c", "sort('cpu')", "CPU", id="sort.cpu", tooltip="sort by CPU usage"),
    Binding("m", "sort('mem')", "Mem", id="sort.memory", tooltip="sort by memory usage"),
    Binding("a", "sort('pct')", "%Alloc", id="sort.allocatable", tooltip="sort by % of allocatable (nodes)"),
    Binding("r", "sort('req_pct')", "%Req", id="sort.requests", tooltip="sort by % of requests"),
    Binding("l", "sort('lim_pct')", "%Lim", id="sort.limits", tooltip="sort by % of limits"),
    Binding("n", "sort('name')", "Name", id="sort.name", show=False, tooltip="sort by name"),
    Binding("t", "sort('restarts')", "Restarts", id="sort.restarts", show=False, tooltip="sort by restarts (pods, workloads)"),
    Binding("w", "sort('reclaim')", "Waste", id="sort.reclaim", show=False,
            tooltip="sort by reclaimable requests (workloads, namespaces)"),
    Binding("o", "sort('pods')", "Pods", id="sort.pods", show=False, tooltip="sort by pod count (nodes, workloads, namespaces)"),
]



class DashboardScreen(Screen):
    """Header, breadcrumb, a body with tables, a filter line and the footer."""

    BINDINGS = [
        Binding("question_mark", "app.help", "Help", id="help", tooltip="this list of keys"),
        *SORT_BINDINGS,
        # A priority binding: handled before the key goes to the focused table's
        # queue, so letters typed right after `/` land in the field even while
        # the table is busy.
        Binding("slash", "filter", "Filter", id="filter", tooltip="filter rows as you type", priority=True),
        Binding("escape", "back", "Back", id="back", show=False),
        Binding("s", "namespace", "Namespace", id="namespace", tooltip="pick a namespace, or all"),
        Binding("d", "app.doctor", "Doctor", id="doctor", show=False, tooltip="diagnose: connection, permissions, metrics API"),
        Binding("e", "export", "Export", id="export", show=False,
                tooltip="export the rows shown and their history to a CSV file"),
    ]

    app: KtopApp

    def __init__(self, session: ClusterSession) -> None:
        super().__init__()
        self.session = session
        self.resource = "cpu"  # which resource a/r/l refer to
        self._crumbs_shown: Text | None = None
        self._history_wanted: tuple = ()  # the history keys last asked to be filled from Prometheus
        self._throttle_shown = False  # THROTTLE% is among the columns set
        self._members_of = None  # the snapshot's workload members that _members holds names of
        self._members: dict[tuple, list[str]] = {}  # a visible workload's key -> its pods' names
        self._mounted = False  # its widgets are all there (until then a snapshot waits for on_mount)

    def compose(self) -> ComposeResult:
        yield ClusterHeader(self.session)
        yield Static(id="crumbs")
        yield from self.compose_body()
        yield Input(placeholder="filter rows (Enter keeps it, Esc clears it)", id="filter")
        yield KeysFooter(compact=True, show_command_palette=False)

    def compose_body(self) -> ComposeResult:
        raise NotImplementedError

    def on_mount(self) -> None:
        self._mounted = True
        self.query_one("#filter", Input).display = False
        self.show(self.session.snapshot)

    def on_screen_resume(self) -> None:
        # (A screen under another is not shown new snapshots: it catches up here.)
        self.show(self.session.snapshot)

    # -- what every screen does with a snapshot ----------------------------

    def show(self, snapshot: Snapshot | None) -> None:
        if not self._mounted:
            # Pushed but not composed yet (a refresh landed right after Enter):
            # on_mount shows the latest snapshot.
            return
        self.query_one(ClusterHeader).show(snapshot.summary() if snapshot else None, scope=self.scope_text())
        self.show_crumbs()
        if snapshot is not None:
            self.show_rows(snapshot)
            self.want_history()

    def show_rows(self, snapshot: Snapshot) -> None:
        raise NotImplementedError

    def history_filled(self) -> None:
        """History or throttling came from Prometheus (or it said something): the lines on screen are
        formatted again, and rows still wanted are asked for."""
        if self._throttle_shown != (self.session.prom is not None and self.session.prom.throttling is not None):
            self.show(self.session.snapshot)  # Prometheus opened: its column comes
        table = self.active_table()
        if table is not None:
            table.forget_lines()
            table.refresh()
        self.want_history()

    def want_history(self) -> None:
        """Ask for the history the visible rows draw to be filled from Prometheus (where it is
        there): their trend columns' keys, and a workload's pods (whose series add up to its)."""
        backfill = self.session.prom.backfill if self.session.prom is not None else None
        table = self.active_table()
        if backfill is None or table is None or not self._mounted:
            return
        key_fns = list(dict.fromkeys(c.history_key for c in table.columns if c.history_key is not None))
        shown = table.shown_rows()
        keys = tuple(key_of(row) for row in shown for key_of in key_fns)
        if keys == self._history_wanted:
            return
        self._history_wanted = keys
        snapshot = self.session.snapshot
        members = {}
        if snapshot is not None:
            if self._members_of is not snapshot.members:  # (a workload's pods change only with its members)
                self._members_of, self._members = snapshot.members, {}
            for key in dict.fromkeys(keys):
                if key[0] == "workload":
                    names = self._members.get(key)
                    if names is None:  # (its pods' names, without making their rows)
                        names = self._members[key] = [k[1] for k in snapshot.workload_pods(key[1:]).keys]
                    members[key] = names
        self.session.want_history(keys, members)
        self.session.want_throttling([(r.namespace, r.name) for r in shown if isinstance(r, PodRow)], members)

    def _start_over(self, empty_message: str, sort: tuple[str, bool]) -> None:
        """A reused screen about to show another node or pod: nothing of the last one stays."""
        field = self.query_one("#filter", Input)
        field.value, field.display = "", False
        table = self.query_one("#table", RowTable)
        table.empty_message = empty_message
        table.start_over([], sort=sort)
        table.focus()

    def crumbs(self) -> Text:
        return Text()

    def show_crumbs(self) -> None:
        """The breadcrumb line, updated only when its text changes, and without
        a layout pass (it is one line high): Static.update lays out the whole
        screen again, ~40 ms at every refresh."""
        crumbs = self.crumbs()
        if crumbs != self._crumbs_shown:
            self._crumbs_shown = crumbs
            self.query_one("#crumbs", Static).update(crumbs, layout=False)

    def scope_text(self) -> str:
        """`namespace web · -l app=api`, and whether that namespace exists."""
        scope = self.session.scope
        text = f"namespace {scope.namespace}" if scope.namespace else "all namespaces"
        if self.session.namespace_missing:
            text += f" (does not exist: {self.app.key_for('namespace', 's')} picks another)"
        return f"{text} · -l {scope.label_selector}" if scope.label_selector else text

    def drill_crumbs(self, trail: str, subject: str, what: str) -> Text:
        """` Nodes › NAME › pods   Esc: back` for a screen drilled into: `subject` is shown
        text (escaped by the caller), `what` the rows it lists."""
        text = Text(f" {trail} › ", style="dim")
        text.append(subject, style="bold")
        text.append(f" › {what}", style="bold")
        text.append("   Esc: back", style="dim")
        return self.reserved_note(text)

    def reserved_note(self, text: Text) -> Text:
        snapshot = self.session.snapshot
        if snapshot is not None and snapshot.metrics_error is not None:
            text.append("   no usage: showing requests and limits", style="bold yellow")
        return text

    def pod_columns(self, snapshot: Snapshot, without: tuple[str, ...] = ()) -> list:
        columns = self.app.columns_for("pods", reserved=snapshot.metrics_error is not None, without=without)
        return self.with_throttle(columns, pod_key)

    def workload_columns(self, snapshot: Snapshot, without: tuple[str, ...] = ()) -> list:
        columns = self.app.columns_for("workloads", reserved=snapshot.metrics_error is not None, without=without)
        return self.with_throttle(columns, workload_key)

    def with_throttle(self, columns: list, key_of) -> list:
        """THROTTLE% after the columns, while Prometheus is there."""
        throttling = self.session.prom.throttling if self.session.prom is not None else None
        self._throttle_shown = throttling is not None
        return columns if throttling is None else [*columns, throttle(throttling, key_of)]

    @staticmethod
    def explain_empty(table: RowTable, snapshot: Snapshot, source: str, default: str) -> None:
        """An empty table says why when the list itself failed."""
        error = snapshot.health[source].error
        table.empty_message = f"Cannot show {source}: {error.message}" if error and not table.rows else default

    def active_table(self) -> RowTable | None:
        try:
            return self.query_one(f"#{self.active_table_id()}", RowTable)
        except Exception:
            return None

    def active_table_id(self) -> str:
        return "table"

    # -- actions -------------------------------------------------------------

    def action_sort(self, what: str) -> None:
        table = self.active_table()
        if table is None:
            return
        if what in ("cpu", "mem"):
            self.resource = what
        column = picked(table.columns, what, self.resource)
        if column is None:
            wanted = sort_choices(what, self.resource)[0]
            self.notify(f"This table has no {' '.join(filter(None, wanted[::-1])).replace('_', ' ')} column.",
                        timeout=2)
            return
        table.pick_sort(column.id)

    def on_row_table_sort_requested(self, message: RowTable.SortRequested) -> None:
        message.table.pick_sort(message.column_id)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # `/` is a priority binding, so letters typed right after it (queued
        # before it is handled) already go to the filter. In the filter itself
        # it is a character: the binding steps aside (None: shown, dimmed) and
        # the key takes its turn in the field's queue, after the letters before it.
        if action == "filter" and self.focused is not None and self.focused.id == "filter":
            return None
        return True

    def action_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.display = True
        table = self.active_table()
        field.value = table.filter_text if table else ""
        # At once, not after the queued messages (Widget.focus defers): letters
        # typed right after `/` while a refresh is busy must reach the field.
        self.set_focus(field)

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter" and (table := self.active_table()) is not None:
            table.set_filter(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            event.input.display = bool(event.value)
            if (table := self.active_table()) is not None:
                table.focus()

    def action_back(self) -> None:
        field = self.query_one("#filter", Input)
        table = self.active_table()
        if field.has_focus or (table is not None and table.filter_text):
            field.value = ""
            field.display = False
            if table is not None:
                table.set_filter("")
                table.focus()
            return
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()

    def action_namespace(self) -> None:
        self.app.action_pick_namespace()

    def action_export(self) -> None:
        table = self.active_table()
        rows = table.rows if table is not None else []
        if not rows or type(rows[0]) not in EXPORTED:
            self.notify("Nothing to export here: the nodes, pods and workloads tables export their rows.",
                        timeout=4)
            return
        self._export(rows, EXPORTED[type(rows[0])])

    @work(exclusive=True, group="export")
    async def _export(self, rows, view: str) -> None:
        path = export_path(view, time.time())
        filled = len(rows) <= FILL_MOST and self.session.prom is not None and self.session.prom.backfill is not None
        if filled:
            self.notify(f"Asking Prometheus for the history of {len(rows)} {view}…", timeout=3)
            await self.session.fill_history(*keys_of(rows, self.session.snapshot))
        try:
            lines = await asyncio.to_thread(export, self.session.history, list(rows), path)
        except OSError as err:
            self.notify(f"Export failed: {path}: {err.strerror or err}", severity="error", timeout=8, markup=False)
            return
        source = "" if filled or self.session.prom is None or self.session.prom.backfill is None else (
            f"; Prometheus's history only for the rows that were on screen (more than {FILL_MOST})")
        self.notify(f"Exported {len(rows)} {view} ({lines} lines of history{source}) to {path.resolve()}",
                    timeout=15, markup=False)


def node_table(screen: DashboardScreen, table_id: str = "nodes", empty: str = "No nodes (yet).") -> RowTable:
    """A nodes table, as the settings have it."""
    app = screen.app
    table = RowTable(
        app.columns_for("nodes"),
        kind=NODES,
        history=screen.session.history,
        empty_message=empty,
        id=table_id,
    )
    table.sort_by(*app.sort_for("nodes"))
    return table


def pod_table(screen: DashboardScreen, table_id: str, empty: str, *, without: tuple[str, ...] = ()) -> RowTable:
    """A pods table, as the settings have it (`without` some column)."""
    app = screen.app
    table = RowTable(
        app.columns_for("pods", without=without),
        kind=PODS,
        history=screen.session.history,
        empty_message=empty,
        id=table_id,
    )
    table.sort_by(*app.sort_for("pods", without))
    return table
