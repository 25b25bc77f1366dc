"""The workloads and namespaces tables, and the screens their Enter leads to: a workload's pods,
a namespace's workloads.

The tables themselves live on the main screen (views `3` and `4`, screens.py);
each screen here is made once per session and pointed at its next workload
or namespace (screens.drill).
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical

from ktopui.live.ranges import RangeUsage
from ktopui.live.session import ClusterSession
from ktopui.model.amounts import Amounts
from ktopui.model.namespaces import NAMESPACES
from ktopui.model.snapshot import Snapshot
from ktopui.model.workloads import WORKLOADS, WorkloadRow
from ktopui.safe_text import escape_controls
from ktopui.ui.advice_panel import AdvicePanel, commands
from ktopui.ui.dashboard import DashboardScreen, pod_table
from ktopui.ui.ranged import (
    RANGE_BINDINGS,
    Charts,
    RangedScreen,
    range_pane,
    show_range_pane,
)
from ktopui.ui.table import RowTable


def workload_table(screen: DashboardScreen, table_id: str, empty: str, *, without: tuple[str, ...] = ()) -> RowTable:
    """A workloads table, as the settings have it (`without` some column)."""
    app = screen.app
    table = RowTable(app.columns_for("workloads", without=without), kind=WORKLOADS,
                     history=screen.session.history, empty_message=empty, id=table_id)
    table.sort_by(*app.sort_for("workloads", without))
    return table


def namespace_table(screen: DashboardScreen, table_id: str) -> RowTable:
    """The namespaces table, as the settings have it."""
    app = screen.app
    table = RowTable(app.columns_for("namespaces"), kind=NAMESPACES, history=screen.session.history,
                     empty_message="No namespaces with pods in this scope (yet).", id=table_id)
    table.sort_by(*app.sort_for("namespaces"))
    return table


def workload_title(row: WorkloadRow | tuple[str, str, str]) -> str:
    kind, namespace, name = row.key if isinstance(row, WorkloadRow) else row
    return escape_controls(f"{kind} {namespace}/{name}")


class WorkloadPodsScreen(RangedScreen):
    """The pods of one workload, and what to request for its containers above them (and, over a
    range picked, its containers' usage charted, summed over its pods)."""

    BINDINGS = [
        Binding("y", "copy_requests", "Copy kubectl", id="copy.requests",
                tooltip="copy a workload's kubectl set resources lines"),
        *RANGE_BINDINGS,
    ]
    TOTAL = "workload"

    def __init__(self, session: ClusterSession, key: tuple[str, str, str], *, via_namespace: bool) -> None:
        super().__init__(session)
        self.key = key
        self.via_namespace = via_namespace

    def compose_body(self) -> ComposeResult:
        with Vertical(id="workload-body"):
            yield AdvicePanel(id="advice")
            # A workload is in one namespace: the breadcrumb says it once.
            yield pod_table(self, "table", self._empty(), without=("namespace",))
            yield range_pane(self)

    def _row(self) -> WorkloadRow | None:
        snapshot = self.session.snapshot
        return next((w for w in snapshot.workloads if w.key == self.key), None) if snapshot else None

    def range_subject(self) -> tuple:
        return self.key

    async def ask_range(self, name: str) -> RangeUsage:
        snapshot = self.session.snapshot
        pods = [pod.name for pod in snapshot.workload_pods(self.key)] if snapshot else []
        return await self.session.workload_usage(self.key[1], pods, name)

    def range_levels(self) -> tuple[list[str], list[tuple[str, Amounts]]]:
        row = self._row()
        return [], [("request", row.requests), ("limit", row.limits)] if row is not None else []

    def range_changed(self) -> None:
        show_range_pane(self)

    def _empty(self) -> str:
        return f"No pods of {workload_title(self.key)} in this scope."

    def retarget(self, key: tuple[str, str, str], *, via_namespace: bool) -> None:
        """Show another workload's pods (the screen is reused: see screens.drill)."""
        self.key, self.via_namespace = key, via_namespace
        self.query_one(AdvicePanel).forget()
        self._start_over(self._empty(), self.app.sort_for("pods", ("namespace",)))
        self.forget_range_data()

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#table", RowTable).focus()

    def crumbs(self) -> Text:
        return self.drill_crumbs("Namespaces" if self.via_namespace else "Workloads", workload_title(self.key), "pods")

    def show_rows(self, snapshot: Snapshot) -> None:
        table = self.query_one("#table", RowTable)
        table.set_columns(self.pod_columns(snapshot, without=("namespace",)))
        pods = snapshot.workload_pods(self.key)
        table.set_rows(pods, in_name_order=True)
        self.query_one(AdvicePanel).show(self.session.history, self.key, pods, self.app.key_for("copy.requests", "y"))
        if self.range_name:
            self.draw_range(self.query_one("#charts", Charts))

    def action_copy_requests(self) -> None:
        lines = commands(*self.key, self.query_one(AdvicePanel).containers)
        if not lines:
            self.notify("Nothing to copy: no suggestion for this workload that kubectl set resources can set.",
                        severity="warning", timeout=3)
            return
        self.app.copy_to_clipboard("\n".join(lines))
        self.notify(f"Copied {len(lines)} kubectl set resources line{'s' * (len(lines) > 1)} to the clipboard.",
                    timeout=3)

    def on_row_table_activated(self, message: RowTable.Activated) -> None:
        from ktopui.ui.screens import (  # (screens.py leads here: imported when used)
            PodScreen,
            drill,
        )

        row = message.row
        drill(self, PodScreen, row.namespace, row.name, via_node=None)


class NamespaceWorkloadsScreen(DashboardScreen):
    """The workloads of one namespace."""

    def __init__(self, session: ClusterSession, namespace: str) -> None:
        super().__init__(session)
        self.namespace = namespace

    def compose_body(self) -> ComposeResult:
        yield workload_table(self, "table", self._empty(), without=("namespace",))

    def _empty(self) -> str:
        return f"No workloads in {escape_controls(self.namespace)} in this scope."

    def retarget(self, namespace: str) -> None:
        """Show another namespace's workloads (the screen is reused: see screens.drill)."""
        self.namespace = namespace
        self._start_over(self._empty(), self.app.sort_for("workloads", ("namespace",)))

    def on_mount(self) -> None:
        super().on_mount()
        self.query_one("#table", RowTable).focus()

    def crumbs(self) -> Text:
        return self.drill_crumbs("Namespaces", escape_controls(self.namespace), "workloads")

    def show_rows(self, snapshot: Snapshot) -> None:
        table = self.query_one("#table", RowTable)
        table.set_columns(self.workload_columns(snapshot, without=("namespace",)))
        namespace = self.namespace
        table.set_rows([w for w in snapshot.workloads if w.namespace == namespace], in_name_order=True)

    def on_row_table_activated(self, message: RowTable.Activated) -> None:
        from ktopui.ui.screens import (
            drill,  # (screens.py leads here: imported when used)
        )

        drill(self, WorkloadPodsScreen, message.row.key, via_namespace=True)
