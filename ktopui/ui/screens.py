"""The dashboard's screens: nodes (or node pools), pods, workloads and namespaces (the main
screen), a pool's nodes, a node's pods, one pod.

A workload's pods and a namespace's workloads are in rollup_screens.py.

Each is a DashboardScreen (dashboard.py) of the session it was given.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import ContentSwitcher, Input, Static

from ktopui.live.ranges import RangeUsage
from ktopui.live.session import ClusterSession
from ktopui.model import history_keys
from ktopui.model.amounts import Amounts
from ktopui.model.containers import CONTAINERS
from ktopui.model.namespaces import NamespaceRow
from ktopui.model.nodes import NodeRow
from ktopui.model.pods import PodRow
from ktopui.model.pools import POOLS, PoolRow
from ktopui.model.snapshot import Snapshot
from ktopui.model.workloads import WorkloadRow
from ktopui.safe_text import escape_controls
from ktopui.ui.charts import usage_charts
from ktopui.ui.columns import Column, containers, pools
from ktopui.ui.dashboard import DashboardScreen, node_table, pod_table
from ktopui.ui.ranged import (
    RANGE_BINDINGS,
    Charts,
    RangedScreen,
    range_pane,
    show_range_pane,
)
from ktopui.ui.rollup_screens import (
    NamespaceWorkloadsScreen,
    WorkloadPodsScreen,
    namespace_table,
    workload_table,
)
from ktopui.ui.table import RowTable


class MainScreen(DashboardScreen):
    """Nodes (`1`, grouped by pool with `p`), pods (`2`), workloads (`3`) and namespaces (`4`) of the whole scope."""

    BINDINGS = [
        Binding("1", "view('nodes')", "Nodes", id="view.nodes"),
        Binding("2", "view('pods')", "Pods", id="view.pods"),
        Binding("p", "pools", "Pools", id="view.pools", tooltip="group the nodes by pool, or back to the nodes"),
        Binding("3", "view('workloads')", "Workloads", id="view.workloads"),
        Binding("4", "view('namespaces')", "Namespaces", id="view.namespaces"),
    ]

    def compose_body(self) -> ComposeResult:
        with ContentSwitcher(initial=self.app.settings.view, id="views"):
            yield node_table(self)
            yield pool_table(self)
            yield pod_table(self, "pods", "No pods in this scope (yet).")
            yield workload_table(self, "workloads", "No workloads in this scope (yet).",
                                 without=self._one_namespace())
            yield namespace_table(self, "namespaces")

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

    def action_pools(self) -> None:
        self.action_view("nodes" if self.active_table_id() == "pools" else "pools")

    def crumbs(self) -> Text:
        view = self.active_table_id()
        text = Text(" ")
        for at, (view_id, title) in enumerate(VIEW_TITLES.items()):
            text.append("  " if at else "")
            text.append(title, style="bold" if view == view_id or (view, view_id) == ("pools", "nodes") else "dim")
            if view == "pools" and view_id == "nodes":
                text.append(" by pool", style="bold")
        text.append(f"   ({self.scope_text()})   Enter: drill down", style="dim")
        return self.reserved_note(text)

    def show_rows(self, snapshot: Snapshot) -> None:
        nodes = self.query_one("#nodes", RowTable)
        nodes.set_columns(self.app.columns_for("nodes", reserved=snapshot.metrics_error is not None))
        nodes.set_rows(snapshot.nodes)
        self.explain_empty(nodes, snapshot, "nodes", "No nodes (yet).")
        node_pools = self.query_one("#pools", RowTable)
        node_pools.set_columns(pools.RESERVED if snapshot.metrics_error is not None else pools.COLUMNS)
        node_pools.set_rows(snapshot.pools)
        self.explain_empty(node_pools, snapshot, "nodes", "No nodes (yet).")
        pods = self.query_one("#pods", RowTable)
        pods.set_columns(self.pod_columns(snapshot))
        pods.set_rows(snapshot.pods, in_name_order=True)
        self.explain_empty(pods, snapshot, "pods", "No pods in this scope (yet).")
        reserved = snapshot.metrics_error is not None
        table = self.query_one("#workloads", RowTable)
        table.set_columns(self.workload_columns(snapshot, without=self._one_namespace()))
        table.set_rows(snapshot.workloads, in_name_order=True)
        self.explain_empty(table, snapshot, "pods", "No workloads in this scope (yet).")
        table = self.query_one("#namespaces", RowTable)
        table.set_columns(self.app.columns_for("namespaces", reserved=reserved))
        table.set_rows(snapshot.namespaces, in_name_order=True)
        self.explain_empty(table, snapshot, "pods", "No namespaces with pods in this scope (yet).")

    def _one_namespace(self) -> tuple[str, ...]:
        """Columns left out: the namespace, when the scope is one."""
        return ("namespace",) if self.session.scope.namespace else ()

    def on_row_table_activated(self, message: RowTable.Activated) -> None:
        row = message.row
        if isinstance(row, NodeRow):
            drill(self, NodePodsScreen, row.name)
        elif isinstance(row, PoolRow):
            drill(self, PoolNodesScreen, row.name)
        elif isinstance(row, PodRow):
            drill(self, PodScreen, row.namespace, row.name, via_node=None)
        elif isinstance(row, WorkloadRow):
            drill(self, WorkloadPodsScreen, row.key, via_namespace=False)
        elif isinstance(row, NamespaceRow):
            drill(self, NamespaceWorkloadsScreen, row.namespace)


def pool_table(screen: DashboardScreen) -> RowTable:
    """The node pools table: pools in name order, the nodes without a pool last."""
    table = RowTable(pools.COLUMNS, kind=POOLS, history=screen.session.history, empty_message="No nodes (yet).",
                     id="pools")
    table.sort_by("name", False)
    return table


VIEW_TITLES = {"nodes": "Nodes", "pods": "Pods", "workloads": "Workloads", "namespaces": "Namespaces"}


def drill(screen: DashboardScreen, kind: type[DashboardScreen], *args, **kwargs) -> None:
    """Push the screen of one pool's nodes, one node's (or workload's) pods, one pod, one namespace's
    workloads, of the same session: made once, then reused.

    Composing, mounting and styling a new screen cost about 60 ms of each
    drill-down; a reused one is only pointed at its new node or pod.
    """
    app, session = screen.app, screen.session
    name = f"{kind.__name__}-{id(session)}"
    if app.is_screen_installed(name):
        app.get_screen(name).retarget(*args, **kwargs)
    else:
        app.install_screen(kind(session, *args, **kwargs), name)
    app.push_screen(name)


class PoolNodesScreen(DashboardScreen):
    """The nodes of one pool: the nodes table, with only them."""

    def __init__(self, session: ClusterSession, pool: str) -> None:
        super().__init__(session)
        self.pool = pool

    def compose_body(self) -> ComposeResult:
        yield node_table(self, "table", self._empty())

    def _empty(self) -> str:
        return f"No nodes in pool {self.pool} (any more)."

    def retarget(self, pool: str) -> None:
        """Show another pool's nodes (the screen is reused: see drill)."""
        self.pool = pool
        self._start_over(self._empty(), self.app.sort_for("nodes"))

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#table", RowTable).focus()

    def crumbs(self) -> Text:
        return self.drill_crumbs("Nodes by pool", escape_controls(self.pool), "nodes")

    def show_rows(self, snapshot: Snapshot) -> None:
        table = self.query_one("#table", RowTable)
        table.set_columns(self.app.columns_for("nodes", reserved=snapshot.metrics_error is not None))
        pool = next((p for p in snapshot.pools if p.name == self.pool), None)
        table.set_rows(pool.nodes if pool is not None else [])
        self.explain_empty(table, snapshot, "nodes", self._empty())

    def on_row_table_activated(self, message: RowTable.Activated) -> None:
        drill(self, NodePodsScreen, message.row.name)


class NodePodsScreen(RangedScreen):
    """The pods running on one node (and, over a range picked, the node's usage charted)."""

    BINDINGS = RANGE_BINDINGS
    TOTAL = "node"

    def __init__(self, session: ClusterSession, node: str) -> None:
        super().__init__(session)
        self.node = node

    def compose_body(self) -> ComposeResult:
        with Vertical(id="node-body"):
            # Every row would repeat the node's name: the breadcrumb says it once.
            yield pod_table(self, "table", self._empty(), without=("node",))
            yield range_pane(self)

    def range_subject(self) -> tuple:
        return (self.node,)

    async def ask_range(self, name: str) -> RangeUsage:
        return await self.session.node_usage(self.node, name)

    def range_levels(self) -> tuple[list[str], list[tuple[str, Amounts]]]:
        row = next((n for n in self.session.snapshot.nodes if n.name == self.node), None) if self.session.snapshot \
            else None
        return [], [("allocatable", row.available)] if row is not None else []

    def range_changed(self) -> None:
        show_range_pane(self)

    def _empty(self) -> str:
        return f"No pods on {self.node} in this scope."

    def retarget(self, node: str) -> None:
        """Show another node's pods (the screen is reused: see drill)."""
        self.node = node
        self._start_over(self._empty(), self.app.sort_for("pods", ("node",)))
        self.forget_range_data()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#table", RowTable).focus()

    def crumbs(self) -> Text:
        return self.drill_crumbs("Nodes", escape_controls(self.node), "pods")

    def show_rows(self, snapshot: Snapshot) -> None:
        table = self.query_one("#table", RowTable)
        table.set_columns(self.pod_columns(snapshot, without=("node",)))
        table.set_rows(snapshot.pods_on(self.node), in_name_order=True)
        if self.range_name:
            self.draw_range(self.query_one("#charts", Charts))

    def on_row_table_activated(self, message: RowTable.Activated) -> None:
        row = message.row
        drill(self, PodScreen, row.namespace, row.name, via_node=self.node)


CONTAINER_SORT = ("name", False)

class PodScreen(RangedScreen):
    """One pod: its containers, and charts of its history (this session's, or a range from Prometheus)."""

    BINDINGS = RANGE_BINDINGS

    def __init__(self, session: ClusterSession, namespace: str, name: str, *, via_node: str | None) -> None:
        super().__init__(session)
        self.namespace = namespace
        self.pod = name
        self.via_node = via_node
        self.row: PodRow | None = None
        self._drawn: tuple = ()  # (width, height, row, history stamps) of the charts on screen

    def retarget(self, namespace: str, name: str, *, via_node: str | None) -> None:
        """Show another pod (the screen is reused: see drill), over the same range."""
        self.namespace, self.pod, self.via_node = namespace, name, via_node
        self.row, self._drawn = None, ()
        self.query_one("#table", RowTable).set_columns(self._columns())
        self._start_over("No containers reported.", CONTAINER_SORT)
        self.forget_range_data()

    def range_subject(self) -> tuple:
        return (self.namespace, self.pod)

    async def ask_range(self, name: str) -> RangeUsage:
        return await self.session.pod_usage(self.namespace, self.pod, name)

    def range_levels(self) -> tuple[list[str], list[tuple[str, Amounts]]]:
        if self.row is None:
            return [], []
        return [c.name for c in self.row.containers], [("request", self.row.requests), ("limit", self.row.limits)]

    def range_changed(self) -> None:
        self._drawn = ()
        self._draw_charts()

    def compose_body(self) -> ComposeResult:
        with Vertical(id="pod-body"):
            yield Static(id="pod-summary")
            table = RowTable(
                self._columns(),
                kind=CONTAINERS,
                history=self.session.history,
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
        if self.range_name:
            self.draw_range(charts)
            return
        containers = [c.name for c in self.row.containers if c.has_metrics] if self.row else []
        # The same row, history and size make the same picture (each costs ~10 ms).
        history = self.session.history
        stamps = (history.stamp(history_keys.pod(self.namespace, self.pod)),
                  *(history.stamp(self.history_key(name)) for name in containers))
        drawn = self._drawn
        if drawn and drawn[:2] == (width, height) and drawn[2] is self.row and drawn[3] == stamps:
            return
        self._drawn = (width, height, self.row, stamps)
        charts.update(
            usage_charts(self.session.history, self.namespace, self.pod, containers, width=width, height=height,
                         history_key=self.history_key)
        )

    def history_filled(self) -> None:
        super().history_filled()
        self._draw_charts()

    def history_key(self, container: str) -> tuple:
        if self.row is None:
            return history_keys.container(self.namespace, self.pod, container)
        return self.row.container_history_key(container)

