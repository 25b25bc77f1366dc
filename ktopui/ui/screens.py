"""Screens: nodes and pods (the main screen), a node's pods, one pod, help, namespaces.

Every screen shows the app's latest Snapshot; none fetches anything. Leaving
a screen with Esc returns to the previous one exactly as it was (its widgets
are kept), so row, sort and filter come back with it.
"""

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
from textual.css.query import NoMatches
from textual.screen import ModalScreen, Screen
from textual.widgets import ContentSwitcher, Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from ktopui.live.state import Snapshot
from ktopui.model import history_keys
from ktopui.model.names import namespace_name_problem
from ktopui.model.containers import CONTAINERS
from ktopui.model.nodes import NODES, NodeRow
from ktopui.model.pods import PODS, PodRow
from ktopui.safe_text import escape_controls
from ktopui.ui.charts import usage_charts
from ktopui.ui.cells import thresholds
from ktopui.ui.columns import Column, containers, picked, sort_choices
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
    Binding("t", "sort('restarts')", "Restarts", id="sort.restarts", show=False, tooltip="sort by restarts (pods)"),
    Binding("o", "sort('pods')", "Pods", id="sort.pods", show=False, tooltip="sort by pod count (nodes)"),
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
    ]

    app: KtopApp

    def __init__(self) -> None:
        super().__init__()
        self.resource = "cpu"  # which resource a/r/l refer to
        self._crumbs_shown: Text | None = None

    def compose(self) -> ComposeResult:
        yield ClusterHeader(self.app.place, self.app.history, clock=self.app.clock)
        yield Static(id="crumbs")
        yield from self.compose_body()
        yield Input(placeholder="filter rows (Enter keeps it, Esc clears it)", id="filter")
        yield KeysFooter(compact=True, show_command_palette=False)

    def compose_body(self) -> ComposeResult:
        raise NotImplementedError

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.show(self.app.snapshot)

    def on_screen_resume(self) -> None:
        self.show(self.app.snapshot)

    def on_screen_suspend(self) -> None:
        # A screen under another, or put away for reuse, is not shown new
        # snapshots: its header must not keep an old one (and its 150,000 pods'
        # samples) alive. Resuming shows the current one.
        for header in self.query(ClusterHeader):
            header.let_go()

    # -- what every screen does with a snapshot ----------------------------

    def show(self, snapshot: Snapshot | None) -> None:
        try:
            header = self.query_one(ClusterHeader)
        except NoMatches:
            # Pushed but not composed yet (a refresh landed right after Enter):
            # on_mount shows the latest snapshot.
            return
        header.show(
            snapshot, scope=self.app.scope_text, paused=self.app.paused, interval=self.app.interval
        )
        self.show_crumbs()
        if snapshot is not None:
            self.show_rows(snapshot)

    def show_rows(self, snapshot: Snapshot) -> None:
        raise NotImplementedError

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

    def reserved_note(self, text: Text) -> Text:
        snapshot = self.app.snapshot
        if snapshot is not None and snapshot.metrics_error is not None:
            text.append("   no usage: showing requests and limits", style="bold yellow")
        return text

    def pod_columns(self, snapshot: Snapshot, without: tuple[str, ...] = ()) -> list:
        return self.app.columns_for("pods", reserved=snapshot.metrics_error is not None, without=without)

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


def _node_table(app: KtopApp) -> RowTable:
    table = RowTable(
        app.columns_for("nodes"),
        kind=NODES,
        history=app.history,
        empty_message="No nodes (yet).",
        id="nodes",
    )
    table.sort_by(*app.sort_for("nodes"))
    return table


def _pod_table(app: KtopApp, table_id: str, empty: str, *, without: tuple[str, ...] = ()) -> RowTable:
    table = RowTable(
        app.columns_for("pods", without=without),
        kind=PODS,
        history=app.history,
        empty_message=empty,
        id=table_id,
    )
    table.sort_by(*_pod_sort(app, without))
    return table


def _pod_sort(app: KtopApp, without: tuple[str, ...] = ()) -> tuple[str, bool]:
    """The pods view's sort; by name where that column is left out (the node, on a node's pods)."""
    sort = app.sort_for("pods")
    return ("name", False) if sort[0] in without else sort


class MainScreen(DashboardScreen):
    """Nodes (`1`) and pods (`2`) of the whole scope."""

    BINDINGS = [
        Binding("1", "view('nodes')", "Nodes", id="view.nodes"),
        Binding("2", "view('pods')", "Pods", id="view.pods"),
    ]

    def compose_body(self) -> ComposeResult:
        with ContentSwitcher(initial=self.app.settings.view, id="views"):
            yield _node_table(self.app)
            yield _pod_table(self.app, "pods", "No pods in this scope (yet).")

    def active_table_id(self) -> str:
        return self.query_one("#views", ContentSwitcher).current or "nodes"

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one(f"#{self.app.settings.view}", RowTable).focus()

    def action_view(self, view: str) -> None:
        self.query_one("#views", ContentSwitcher).current = view
        table = self.query_one(f"#{view}", RowTable)
        table.catch_up()
        table.focus()
        self.query_one("#filter", Input).display = bool(table.filter_text)
        self.show_crumbs()

    def crumbs(self) -> Text:
        view = self.active_table_id()
        text = Text(" ")
        text.append("Nodes", style="bold" if view == "nodes" else "dim")
        text.append("  ")
        text.append("Pods", style="bold" if view == "pods" else "dim")
        text.append(f"   ({self.app.scope_text})   Enter: drill down", style="dim")
        return self.reserved_note(text)

    def show_rows(self, snapshot: Snapshot) -> None:
        nodes = self.query_one("#nodes", RowTable)
        nodes.set_columns(self.app.columns_for("nodes", reserved=snapshot.metrics_error is not None))
        nodes.set_rows(snapshot.nodes)
        self.explain_empty(nodes, snapshot, "nodes", "No nodes (yet).")
        pods = self.query_one("#pods", RowTable)
        pods.set_columns(self.pod_columns(snapshot))
        pods.set_rows(snapshot.pods, in_name_order=snapshot.pods_in_name_order)
        self.explain_empty(pods, snapshot, "pods", "No pods in this scope (yet).")

    def on_row_table_activated(self, message: RowTable.Activated) -> None:
        row = message.row
        if isinstance(row, NodeRow):
            drill(self.app, NodePodsScreen, row.name)
        elif isinstance(row, PodRow):
            drill(self.app, PodScreen, row.namespace, row.name, via_node=None)


def drill(app: KtopApp, kind: type[NodePodsScreen | PodScreen], *args, **kwargs) -> None:
    """Push the screen of one node's pods, or of one pod: made once, then reused.

    Composing, mounting and styling a new screen cost about 60 ms of each
    drill-down; a reused one is only pointed at its new node or pod.
    """
    name = kind.__name__
    if app.is_screen_installed(name):
        app.get_screen(name).retarget(*args, **kwargs)
    else:
        app.install_screen(kind(*args, **kwargs), name)
    app.push_screen(name)


class NodePodsScreen(DashboardScreen):
    """The pods running on one node."""

    def __init__(self, node: str) -> None:
        super().__init__()
        self.node = node

    def compose_body(self) -> ComposeResult:
        # Every row would repeat the node's name: the breadcrumb says it once.
        yield _pod_table(self.app, "table", self._empty(), without=("node",))

    def _empty(self) -> str:
        return f"No pods on {self.node} in this scope."

    def retarget(self, node: str) -> None:
        """Show another node's pods (the screen is reused: see drill)."""
        self.node = node
        self._start_over(self._empty(), _pod_sort(self.app, ("node",)))

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#table", RowTable).focus()

    def crumbs(self) -> Text:
        text = Text(" Nodes › ", style="dim")
        text.append(escape_controls(self.node), style="bold")
        text.append(" › pods", style="bold")
        text.append("   Esc: back", style="dim")
        return self.reserved_note(text)

    def show_rows(self, snapshot: Snapshot) -> None:
        table = self.query_one("#table", RowTable)
        table.set_columns(self.pod_columns(snapshot, without=("node",)))
        table.set_rows(snapshot.pods_on(self.node), in_name_order=snapshot.pods_in_name_order)

    def on_row_table_activated(self, message: RowTable.Activated) -> None:
        row = message.row
        drill(self.app, PodScreen, row.namespace, row.name, via_node=self.node)


class Charts(Static):
    """The pod's charts: drawn when the widget has its size (first layout, a resize)."""

    def __init__(self, draw, **kwargs) -> None:
        super().__init__(**kwargs)
        self._draw = draw

    def on_resize(self) -> None:
        self._draw()


CONTAINER_SORT = ("name", False)


class PodScreen(DashboardScreen):
    """One pod: its containers, and charts of its history."""

    def __init__(self, namespace: str, name: str, *, via_node: str | None) -> None:
        super().__init__()
        self.namespace = namespace
        self.pod = name
        self.via_node = via_node
        self.row: PodRow | None = None
        self._drawn: tuple = ()  # (width, height, row, history stamps) of the charts on screen

    def retarget(self, namespace: str, name: str, *, via_node: str | None) -> None:
        """Show another pod (the screen is reused: see drill)."""
        self.namespace, self.pod, self.via_node = namespace, name, via_node
        self.row, self._drawn = None, ()
        self.query_one("#table", RowTable).set_columns(self._columns())
        self._start_over("No containers reported.", CONTAINER_SORT)

    def compose_body(self) -> ComposeResult:
        with Vertical(id="pod-body"):
            yield Static(id="pod-summary")
            table = RowTable(
                self._columns(),
                kind=CONTAINERS,
                history=self.app.history,
                empty_message="No containers reported.",
                id="table",
            )
            table.sort_by(*CONTAINER_SORT)
            yield table
            yield Charts(self._draw_charts, id="charts")

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#table", RowTable).focus()

    def _columns(self) -> list[Column]:
        return containers.columns(self.history_key)

    def crumbs(self) -> Text:
        text = Text(" ", style="dim")
        if self.via_node:
            text.append(f"Nodes › {escape_controls(self.via_node)} › ", style="dim")
        else:
            text.append("Pods › ", style="dim")
        text.append(escape_controls(f"{self.namespace}/{self.pod}"), style="bold")
        text.append("   Esc: back", style="dim")
        return self.reserved_note(text)

    def show_rows(self, snapshot: Snapshot) -> None:
        self.row = snapshot.pod(self.namespace, self.pod)
        summary = self.query_one("#pod-summary", Static)
        table = self.query_one("#table", RowTable)
        if self.row is None:
            summary.update(Text(" This pod is gone (deleted, or out of scope). History is kept while the app runs.", style="yellow"))
            table.set_rows([])
        else:
            r = self.row
            summary.update(
                Text.assemble(
                    (" node ", "dim"), (escape_controls(r.node or "-"), "bold"),
                    ("  status ", "dim"), (escape_controls(r.status or "-"), "bold"),
                    ("  ready ", "dim"), (r.ready or "-", "bold"),
                    ("  restarts ", "dim"), (str(r.restarts), "bold"),
                    ("  metrics window ", "dim"), (escape_controls(r.window or "-"), "bold"),
                )
            )
            table.set_rows(r.containers)
        self._draw_charts()

    def _draw_charts(self) -> None:
        charts = self.query_one("#charts", Charts)
        if not charts.size.width:
            return  # not laid out yet: drawn when it gets its size
        width, height = max(20, charts.size.width), max(6, charts.size.height or 12)
        containers = [c.name for c in self.row.containers if c.has_metrics] if self.row else []
        # The same row, history and size make the same picture (each costs ~10 ms).
        history = self.app.history
        stamps = (history.stamp(history_keys.pod(self.namespace, self.pod)),
                  *(history.stamp(self.history_key(name)) for name in containers))
        drawn = self._drawn
        if drawn and drawn[:2] == (width, height) and drawn[2] is self.row and drawn[3] == stamps:
            return
        self._drawn = (width, height, self.row, stamps)
        charts.update(
            usage_charts(self.app.history, self.namespace, self.pod, containers, width=width, height=height,
                         history_key=self.history_key)
        )

    def history_key(self, container: str) -> tuple:
        if self.row is None:
            return history_keys.container(self.namespace, self.pod, container)
        return self.row.container_history_key(container)


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
    from ktopui.ui.table import RowTable

    keymap = keymap or {}
    ids = {b.id: b.key for b in [*MainScreen.BINDINGS, *RowTable.BINDINGS, *DashboardScreen.BINDINGS,
                                 *HelpScreen.BINDINGS] if b.id}

    def keys(*binding_ids: str) -> str:
        return " ".join(_key_name(keymap.get(i, ids[i])).replace(", ", " ") for i in binding_ids)

    rows: list[tuple[str, str]] = [
        (f"{keys('view.nodes')} / {keys('view.pods')}", "nodes view / pods view"),
        (keys("cursor.up", "cursor.down", "cursor.page_up", "cursor.page_down", "cursor.first", "cursor.last"),
         "move the selection"),
        (keys("open"), "drill down: node → its pods → a pod's containers and charts"),
        (keys("back"), "back one level (or clear the filter)"),
        ("Ctrl+P", "command palette: the same actions by name"),
    ]
    seen = {"view.nodes", "view.pods", "back", "open"}
    for binding in [*SORT_BINDINGS, *DashboardScreen.BINDINGS, *KtopApp.BINDINGS]:
        if binding.id in seen:
            continue
        seen.add(binding.id)
        rows.append((_key_name(keymap.get(binding.id, binding.key)), binding.tooltip or binding.description))
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
        "Names too long for their column lose their middle (recommender-…-x7k2p); when the NAMESPACE "
        "column does not fit, names carry it in front (web/redis-0).",
    ]
    *others, last = _key_name(keymap.get("help.close", ids["help.close"])).split(", ")
    close = f"{', '.join(others)} or {last}" if others else last
    return Group(
        Text("ktopui keys\n", style="bold"),
        grid,
        *(Text(f"\n{note}", style="dim") for note in notes),
        Text(f"\n↑ ↓ PgUp PgDn End scroll this help; {close} closes it.", style="italic"),
    )


def _key_name(key: str) -> str:
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
    """`ktopui doctor` inside the dashboard: the same checks, over the app's own connection."""

    BINDINGS = [
        Binding("escape,q,d", "dismiss", "Close", id="doctor.close"),
        Binding("r", "run", "Run again", id="doctor.run_again"),
    ]

    app: KtopApp
    findings: list | None = None  # the last run's, once it finished

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
        from ktopui.doctor import diagnose

        worker = get_current_worker()
        run = asyncio.ensure_future(diagnose(self.app.conn, namespace=self.app.namespace, clock=self.app.clock))
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
