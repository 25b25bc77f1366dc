"""The Textual app: the session it shows, the screens, the user's settings and keys.

The app holds the ClusterSession (which polls its cluster off the UI) and
listens to it: each snapshot, failure or missing namespace arrives as a
message and goes to the screen on top. Screens are given the session they
show; the app keeps what is the user's, not the cluster's: settings, keys,
the theme, the input priority every join steps aside for.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from ktopui.config import Settings
from ktopui.kube.errors import KubeError
from ktopui.live.memory import MEMORY
from ktopui.live.session import ClusterSession
from ktopui.model.snapshot import Snapshot
from ktopui.ui.cells import use_server_clock, use_thresholds
from ktopui.ui.columns import Column
from ktopui.ui.dashboard import DashboardScreen
from ktopui.ui.dialogs import DoctorScreen, HelpScreen, NamespaceScreen, key_name
from ktopui.ui.header import ClusterHeader
from ktopui.ui.messages import (
    NamespaceMissing,
    PrometheusChanged,
    RefreshFailed,
    RefreshScheduled,
    SnapshotReady,
)
from ktopui.ui.screens import MainScreen
from ktopui.ui.settings import columns_for

USER_INPUT = (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp)


class KtopApp(App):
    CSS_PATH = "ktopui.tcss"
    TITLE = "ktopui"
    BINDINGS = [
        Binding("space", "pause", "Pause", id="pause", tooltip="pause or resume updates"),
        Binding("question_mark", "help", "Help", id="help", show=False),
        Binding("q", "quit", "Quit", id="quit", tooltip="quit"),
    ]

    def __init__(
        self,
        session: ClusterSession,
        *,
        settings: Settings | None = None,
        theme: str | None = None,
        remember_theme: Callable[[str], None] | None = None,
    ) -> None:
        """`settings`: the config file's; `theme`: the one to start with (default: the
        settings'); `remember_theme` is called with each theme picked in the app."""
        super().__init__()
        self.session = session
        self.settings = settings or Settings()
        self.theme_shown = theme or self.settings.theme  # the last theme set, picked or at start
        self.remember_theme = remember_theme
        use_thresholds(self.settings.thresholds.warning, self.settings.thresholds.critical)
        self.refresh_count = 0  # snapshots shown, for tests and benchmarks
        self.show_seconds = 0.0  # how long the last one took to show, for benchmarks

    def key_for(self, binding_id: str, default: str) -> str:
        """The first key of a binding, as the config file may have remapped it."""
        return self.settings.keys.get(binding_id, default).split(",")[0].strip()

    def columns_for(self, view: str, *, reserved: bool = False, without: tuple[str, ...] = ()) -> list[Column]:
        """The columns of a view (settings.VIEWS) the settings choose (`reserved`: without metrics)."""
        return columns_for(view, self.settings.view_settings(view).columns, reserved=reserved, without=without)

    def server_now(self) -> float:
        """Now by the cluster's clock (its `Date` header), which dates what it reports."""
        snapshot = self.session.snapshot
        return self.session.clock() + (snapshot.clock_offset if snapshot is not None else 0.0)

    def sort_for(self, view: str, without: tuple[str, ...] = ()) -> tuple[str, bool]:
        """The view's sort as the settings have it, in the direction its key sorts unless they say;
        by name where its column is not shown (left out, as the node on a node's pods, or not chosen)."""
        chosen = self.settings.view_settings(view)
        column = next((c for c in self.columns_for(view, without=without) if c.id == chosen.sort), None)
        if column is None:
            return "name", False
        return column.id, not column.ascending_first if chosen.descending is None else chosen.descending

    async def on_mount(self) -> None:
        # The app owns the process: collections must not land in key presses.
        MEMORY.own_process(quiet_for=self.session.priority.quiet_for)
        use_server_clock(self.server_now)
        self.set_keymap(self.settings.keys)
        self.theme = self.theme_shown
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        await self.push_screen(MainScreen(self.session))
        self.session.start(self)
        # The header counts down to the next retry and ages the data between refreshes.
        self.set_interval(1.0, self._tick_headers)

    async def on_event(self, event: events.Event) -> None:
        # A refresh joining in its worker thread steps aside while input is handled.
        if isinstance(event, USER_INPUT) and not event.is_forwarded:
            self.session.priority.input_arrived()
        await super().on_event(event)

    def _theme_changed(self, theme) -> None:
        if self.remember_theme is not None and theme.name != self.theme_shown:
            self.theme_shown = theme.name
            self.remember_theme(theme.name)

    async def on_unmount(self) -> None:
        use_thresholds()  # the marks and the clock belong to this app while it runs
        use_server_clock()
        await self.session.close()

    # -- what the session says (ClusterSession's Listener, as messages) -------------------------

    def snapshot_ready(self, session: ClusterSession, snapshot: Snapshot) -> None:
        self.post_message(SnapshotReady(session, snapshot))

    def refresh_failed(self, session: ClusterSession, message: str) -> None:
        self.post_message(RefreshFailed(session, message))

    def namespace_missing(self, session: ClusterSession, namespace: str) -> None:
        self.post_message(NamespaceMissing(session, namespace))

    def scheduled(self, session: ClusterSession) -> None:
        self.post_message(RefreshScheduled(session))

    def prometheus_changed(self, session: ClusterSession) -> None:
        self.post_message(PrometheusChanged(session))

    def on_prometheus_changed(self, message: PrometheusChanged) -> None:
        screen = self.screen
        if isinstance(screen, DashboardScreen):
            screen.history_filled()
        self._tick_headers()

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        began = time.perf_counter()
        self._show(message.snapshot)
        self.show_seconds = time.perf_counter() - began
        self.refresh_count += 1

    def on_refresh_failed(self, message: RefreshFailed) -> None:
        for header in self.screen.query(ClusterHeader):
            header.note = message.text
            header.refresh()

    def on_namespace_missing(self, message: NamespaceMissing) -> None:
        self.notify(f'Namespace "{message.namespace}" does not exist. Press {self.key_for("namespace", "s")} to '
                    "pick another.", severity="warning", markup=False, timeout=10)
        self._show(self.session.snapshot)

    def on_refresh_scheduled(self, message: RefreshScheduled) -> None:
        self._tick_headers()

    def _tick_headers(self) -> None:
        if not self.screen_stack:  # (a tick while the app shuts down, its screens already gone)
            return
        for header in self.screen.query(ClusterHeader):
            header.refresh()
        if isinstance(self.screen, DashboardScreen):
            self.screen.want_history()  # (rows scrolled into view since)

    def _show(self, snapshot: Snapshot | None) -> None:
        screen = self.screen
        if isinstance(screen, DashboardScreen):
            screen.show(snapshot)

    # -- actions ------------------------------------------------------------

    def action_pause(self) -> None:
        self.session.pause(not self.session.paused)
        self._show(self.session.snapshot)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_doctor(self) -> None:
        self.push_screen(DoctorScreen(self.session))

    def action_pick_namespace(self) -> None:
        self._pick_namespace()

    @work(exclusive=True, group="namespaces")
    async def _pick_namespace(self) -> None:
        session = self.session
        listed = True
        try:
            names = await session.namespaces()
        except KubeError:
            # Not allowed to list namespaces: offer the ones we can see (any other can be typed).
            listed = False
            seen = session.snapshot.pod_namespaces() if session.snapshot else set()
            names = sorted(seen | {ns for ns in (session.scope.namespace, session.conn.namespace) if ns})
        # Preselect the current scope; when showing all, the namespace the context names, if it
        # names one (not the "default" kubectl falls back to), else all namespaces.
        context_ns = session.conn.namespace if session.conn.namespace_source == "context" else ""
        current = session.scope.namespace
        choice = await self.push_screen_wait(NamespaceScreen(names, current or context_ns, listed=listed))
        if choice is not None and choice != session.scope.namespace:
            session.set_namespace(choice)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        def key(binding_id: str, default: str, what: str = "") -> str:
            """The key as the config file may have remapped it, and what it does."""
            shown = key_name(self.key_for(binding_id, default))
            return f"{shown}: {what}" if what else shown

        yield from super().get_system_commands(screen)
        yield SystemCommand("Pause or resume updates", key("pause", "space"), self.action_pause)
        yield SystemCommand("Switch namespace", key("namespace", "s", "pick a namespace, or all"),
                            self.action_pick_namespace)
        yield SystemCommand("Keys", key("help", "question_mark", "every key and what it does"), self.action_help)
        yield SystemCommand("Doctor", key("doctor", "d", "check connection, permissions and the metrics API"),
                            self.action_doctor)
        if isinstance(screen, MainScreen):
            yield SystemCommand("Nodes view", key("view.nodes", "1"), lambda: screen.action_view("nodes"))
            yield SystemCommand("Pods view", key("view.pods", "2"), lambda: screen.action_view("pods"))
            yield SystemCommand("Node pools", key("view.pools", "p", "the nodes grouped by pool, or back"),
                                screen.action_pools)
            yield SystemCommand("Workloads view", key("view.workloads", "3"), lambda: screen.action_view("workloads"))
            yield SystemCommand("Namespaces view", key("view.namespaces", "4"),
                                lambda: screen.action_view("namespaces"))
        if isinstance(screen, DashboardScreen):
            for what, title in (
                ("cpu", "CPU"),
                ("mem", "memory"),
                ("name", "name"),
                ("pct", "% of allocatable"),
                ("req_pct", "% of requests"),
                ("lim_pct", "% of limits"),
            ):
                yield SystemCommand(f"Sort by {title}", "again to reverse", lambda w=what: screen.action_sort(w))
            yield SystemCommand("Filter rows", key("filter", "slash"), screen.action_filter)
