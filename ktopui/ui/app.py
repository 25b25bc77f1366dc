"""The Textual app: one polling worker feeding the screens.

The worker awaits each refresh before sleeping, so polls never pile up on a
slow API server; widgets only ever see finished Snapshots.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from collections.abc import Callable, Iterable

import httpx
from textual import events, work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from ktopui.config import MIN_INTERVAL, Settings
from ktopui.kube.api import KubeAPI
from ktopui.kube.connection import ClusterConnection, make_http_client
from ktopui.kube.errors import Forbidden, KubeError, MetricsUnavailable
from ktopui.kube.backoff import next_delay
from ktopui.kube.watch import WatchSettings
from ktopui.live.memory import Collector, keep_big_blocks_in_the_heap
from ktopui.live.priority import InputPriority
from ktopui.live.state import LiveCluster, Snapshot, new_history
from ktopui.ui.cells import use_thresholds
from ktopui.ui.columns import Column
from ktopui.ui.header import ClusterHeader, Place
from ktopui.ui.screens import DashboardScreen, DoctorScreen, HelpScreen, MainScreen, NamespaceScreen
from ktopui.ui.settings import columns_for

log = logging.getLogger("ktopui.ui")
# A hung request must not freeze the dashboard for long; kubectl waits forever.
REQUEST_TIMEOUT = 15.0
LOADING_INTERVAL = 0.5
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
        conn: ClusterConnection,
        *,
        namespace: str = "",
        label_selector: str = "",
        interval: float = 2.0,
        clock: Callable[[], float] = time.time,
        request_timeout: float = REQUEST_TIMEOUT,
        settings: Settings | None = None,
        theme: str | None = None,
        remember_theme: Callable[[str], None] | None = None,
        watch: WatchSettings | None = None,
    ) -> None:
        """`settings`: the config file's; `theme`: the one to start with (default: the
        settings'); `remember_theme` is called with each theme picked in the app."""
        super().__init__()
        self.settings = settings or Settings()
        self.theme_shown = theme or self.settings.theme  # the last theme set, picked or at start
        self.remember_theme = remember_theme
        use_thresholds(self.settings.thresholds.warning, self.settings.thresholds.critical)
        self.conn = conn
        self.watch_settings = watch  # (None: the defaults; tests and benchmarks shrink the times)
        self.clock = clock
        self.request_timeout = request_timeout
        self.place = Place(context=conn.context, server=conn.server)
        self.history = new_history()
        self.snapshot: Snapshot | None = None
        self.paused = False
        self.interval = max(MIN_INTERVAL, interval)
        self.namespace = namespace
        self.namespace_missing = False  # the namespace in scope is known not to exist
        self.label_selector = label_selector
        self.refresh_count = 0  # finished refreshes, for tests and benchmarks
        self.internal_failures = 0  # consecutive refreshes that failed on a bug
        self.next_refresh_at: float | None = None  # clock() time of the next refresh
        self._wake = asyncio.Event()
        self.http: httpx.AsyncClient | None = None
        self.api: KubeAPI | None = None
        self.live: LiveCluster | None = None
        self.input_priority = InputPriority()

    @property
    def scope_text(self) -> str:
        scope = f"namespace {self.namespace}" if self.namespace else "all namespaces"
        if self.namespace_missing:
            scope += f" (does not exist: {self.key_for('namespace', 's')} picks another)"
        return f"{scope} · -l {self.label_selector}" if self.label_selector else scope

    def key_for(self, binding_id: str, default: str) -> str:
        """The first key of a binding, as the config file may have remapped it."""
        return self.settings.keys.get(binding_id, default).split(",")[0].strip()

    def columns_for(self, view: str, *, reserved: bool = False, without: tuple[str, ...] = ()) -> list[Column]:
        """The columns of the nodes or pods view the settings choose (`reserved`: without metrics)."""
        return columns_for(view, self.settings.view_settings(view).columns, reserved=reserved, without=without)

    def sort_for(self, view: str) -> tuple[str, bool]:
        chosen = self.settings.view_settings(view)
        return chosen.sort, chosen.descending

    async def on_mount(self) -> None:
        keep_big_blocks_in_the_heap()  # (the app owns the process, as with the collector)
        self.set_keymap(self.settings.keys)
        self.theme = self.theme_shown
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self.http = make_http_client(self.conn, timeout=self.request_timeout)
        self.api = KubeAPI(self.http, self.conn.server, clock=self.clock)
        self.live = LiveCluster(
            self.api,
            namespace=self.namespace,
            label_selector=self.label_selector,
            history=self.history,
            clock=self.clock,
            priority=self.input_priority,
            # The app owns the process: collections must not land in key presses.
            collector=Collector(quiet_for=self.input_priority.quiet_for),
            watch=self.watch_settings,
        )
        await self.push_screen(MainScreen())
        self.poll()
        # The header counts down to the next retry and ages the data between refreshes.
        self.set_interval(1.0, self._tick_header)

    async def on_event(self, event: events.Event) -> None:
        # A refresh joining in its worker thread steps aside while input is handled.
        if isinstance(event, USER_INPUT) and not event.is_forwarded:
            self.input_priority.input_arrived()
        await super().on_event(event)

    def _theme_changed(self, theme) -> None:
        if self.remember_theme is not None and theme.name != self.theme_shown:
            self.theme_shown = theme.name
            self.remember_theme(theme.name)

    async def on_unmount(self) -> None:
        use_thresholds()  # the marks belong to this app while it runs
        # A start that failed before on_mount (a missing stylesheet, a terminal
        # error) leaves nothing to close: no second traceback on top of the first.
        if self.live is not None:
            await self.live.close()
        if self.http is not None:
            await self.http.aclose()

    # -- polling ----------------------------------------------------------

    @work(exclusive=True, group="poll")
    async def poll(self) -> None:
        try:
            self.place.version = (await self.api.version()).gitVersion
        except KubeError:
            pass  # the first refresh reports what is wrong
        self.run_worker(self._check_namespace(), group="namespace-check", exclusive=True)
        while True:
            if not self.paused:
                await self.refresh_now()
            delay = self.delay_after(self.snapshot)
            self.next_refresh_at = None if self.paused else self.clock() + delay
            self._tick_header()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            except TimeoutError:
                pass
            self._wake.clear()

    def delay_after(self, snapshot: Snapshot | None) -> float:
        """The interval, or a backoff while requests fail for reasons that may pass.

        A 403 or a missing metrics API is a state, not a hiccup: the other
        lists still refresh at the normal interval. Everything else (server
        down, timeouts, 5xx, 429, broken bodies) backs off for all requests,
        and so does a refresh that failed on a bug of ktopui's own.
        """
        if self.internal_failures:
            return next_delay(self.interval, self.internal_failures)
        if snapshot is None:
            return self.interval
        transient = [
            h for h in snapshot.health.values()
            if h.error is not None and not isinstance(h.error, (Forbidden, MetricsUnavailable))
        ]
        failures = max((h.failures for h in transient), default=0)
        retry_after = max(
            (getattr(h.error, "retry_after", None) or 0 for h in transient), default=0
        )
        if not failures and snapshot.loading:
            return min(self.interval, LOADING_INTERVAL)  # show each list as soon as it is in
        return next_delay(self.interval, failures, retry_after=retry_after or None)

    async def refresh_now(self) -> None:
        try:
            snapshot = await self.live.refresh()
        except Exception as err:  # a bug, not a cluster problem: keep running, say so, back off
            self.internal_failures += 1
            if self.internal_failures == 1:
                log.exception("refresh failed unexpectedly")
            else:
                log.error("refresh failed unexpectedly again (%d in a row): %r", self.internal_failures, err)
            self._show_note(f"internal error during refresh: {err!r}")
            return
        self.internal_failures = 0
        previous, self.snapshot = self.snapshot, snapshot
        if self.namespace_missing and snapshot.pods:
            self.namespace_missing = False  # created since: it has pods now
        self._show(snapshot)
        if previous is not None and previous is not snapshot:
            self.live.retire(previous)
            previous = snapshot = None  # (the retired one must have no other holder here)
            await self.live.release_retired()  # in a worker thread, not this one
        self.refresh_count += 1  # (a refresh is done when what it replaced is freed)

    def _tick_header(self) -> None:
        for header in self.screen.query(ClusterHeader):
            header.next_refresh_at = self.next_refresh_at
            header.refresh()

    def _show(self, snapshot: Snapshot | None) -> None:
        screen = self.screen
        if isinstance(screen, DashboardScreen):
            screen.show(snapshot)

    def _show_note(self, note: str) -> None:
        for header in self.screen.query(ClusterHeader):
            header.note = note
            header.refresh()

    def wake(self) -> None:
        """Refresh now instead of at the next tick."""
        self._wake.set()

    # -- actions ------------------------------------------------------------

    def action_pause(self) -> None:
        self.paused = not self.paused
        log.info("updates %s", "paused" if self.paused else "resumed")
        self._show(self.snapshot)
        if not self.paused:
            self.wake()

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_doctor(self) -> None:
        self.push_screen(DoctorScreen())

    def action_pick_namespace(self) -> None:
        self._pick_namespace()

    @work(exclusive=True, group="namespaces")
    async def _pick_namespace(self) -> None:
        listed = True
        try:
            names = await self.api.list_namespaces()
        except KubeError:
            # Not allowed to list namespaces: offer the ones we can see (any other can be typed).
            listed = False
            seen = self.snapshot.namespaces() if self.snapshot else set()
            names = sorted(seen | {ns for ns in (self.namespace, self.conn.namespace) if ns})
        # Preselect the current scope; when showing all, the namespace the context names, if it
        # names one (not the "default" kubectl falls back to), else all namespaces.
        context_ns = self.conn.namespace if self.conn.namespace_source == "context" else ""
        choice = await self.push_screen_wait(NamespaceScreen(names, self.namespace or context_ns, listed=listed))
        if choice is not None and choice != self.namespace:
            self.set_namespace(choice)

    async def _check_namespace(self) -> None:
        """Say so when the namespace in scope does not exist (only a user who may list namespaces can tell)."""
        namespace = self.namespace
        if not namespace:
            return
        try:
            missing = namespace not in await self.api.list_namespaces()
        except KubeError:
            return
        if missing and namespace == self.namespace:
            self.namespace_missing = True
            self.notify(f'Namespace "{namespace}" does not exist. Press {self.key_for("namespace", "s")} to pick '
                        "another.", severity="warning", markup=False, timeout=10)
            self._show(self.snapshot)

    def set_namespace(self, namespace: str) -> None:
        self.namespace = namespace
        self.namespace_missing = False
        self.run_worker(self._check_namespace(), group="namespace-check", exclusive=True)
        self.live.set_scope(namespace=namespace)
        if self.snapshot is not None:
            self.snapshot = replace(self.snapshot, pods=self.snapshot.pods_in(namespace), pods_by_key=None)
        self._show(self.snapshot)
        self.wake()

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Pause or resume updates", "Space", self.action_pause)
        yield SystemCommand("Switch namespace", "s: pick a namespace, or all", self.action_pick_namespace)
        yield SystemCommand("Keys", "?: every key and what it does", self.action_help)
        yield SystemCommand("Doctor", "d: check connection, permissions and the metrics API", self.action_doctor)
        if isinstance(screen, MainScreen):
            yield SystemCommand("Nodes view", "1", lambda: screen.action_view("nodes"))
            yield SystemCommand("Pods view", "2", lambda: screen.action_view("pods"))
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
            yield SystemCommand("Filter rows", "/", screen.action_filter)
