"""One cluster, live: its connection, HTTP client, API, feed, joiner, history, scope and poll loop.

A ClusterSession is everything that belongs to one cluster and nothing that
belongs to the screen: the app holds the session it shows (another cluster
is another session), each screen is given the session it shows, and two
sessions share no mutable state (only the process's memory policy and the
user's input priority, which are the process's). The poll loop awaits each refresh before it waits again, so polls
never pile up on a slow API server, and backs off while requests fail for
reasons that may pass. Each Snapshot goes to the listener, which the app
turns into a message.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import httpx
import numpy as np

from ktopui.config import MIN_INTERVAL
from ktopui.kube.api import KubeAPI
from ktopui.kube.backoff import next_delay
from ktopui.kube.connection import ClusterConnection, load_connection, make_http_client
from ktopui.kube.errors import Forbidden, KubeError, MetricsUnavailable
from ktopui.kube.prometheus_settings import PromSettings
from ktopui.kube.watch import WatchSettings
from ktopui.live import ranges
from ktopui.live.feed import DEFAULT_RESOLUTION, ApiFeed, Feed, Scope
from ktopui.live.joiner import Joiner, new_history
from ktopui.live.memory import Disposer
from ktopui.live.priority import InputPriority
from ktopui.live.prom_link import PromLink
from ktopui.live.ranges import RangeUsage
from ktopui.model import history_keys
from ktopui.model.history import History
from ktopui.model.snapshot import Snapshot
from ktopui.model.status import POOL_LABELS

log = logging.getLogger("ktopui.live")
# A hung request must not freeze the dashboard for long; kubectl waits forever.
REQUEST_TIMEOUT = 15.0
LOADING_INTERVAL = 0.5


@dataclass
class Place:
    """Where a session is connected: what the header says about it."""

    context: str
    server: str
    version: str = ""


class Listener(Protocol):
    """Who hears from a session (the app, posting each to itself as a message)."""

    def snapshot_ready(self, session: ClusterSession, snapshot: Snapshot) -> None:
        """A refresh is done."""

    def refresh_failed(self, session: ClusterSession, message: str) -> None:
        """A refresh failed on a bug of ktopui's own (the next one is tried after a backoff)."""

    def namespace_missing(self, session: ClusterSession, namespace: str) -> None:
        """The namespace in scope does not exist (known only to a user who may list namespaces)."""

    def scheduled(self, session: ClusterSession) -> None:
        """The next refresh is due at `session.next_refresh_at` (None: paused)."""

    def prometheus_changed(self, session: ClusterSession) -> None:
        """`session.prom` says something new, or filled history from Prometheus."""


class ClusterSession:
    def __init__(
        self,
        conn: ClusterConnection,
        *,
        namespace: str = "",
        label_selector: str = "",
        interval: float = 2.0,
        clock: Callable[[], float] = time.time,
        request_timeout: float = REQUEST_TIMEOUT,
        watch: WatchSettings | None = None,
        priority: InputPriority | None = None,
        feed: Feed | None = None,
        pool_labels: Sequence[str] = POOL_LABELS,
        prometheus: PromSettings | None = None,
    ) -> None:
        """`watch`: None for the defaults (tests and benchmarks shrink the times); `priority`: the
        user's input, which the joins step aside for (shared by the sessions of one app); `feed`:
        where the Inputs come from (default: the API server of `conn`, through an HTTP client
        of the session's own); `pool_labels`: the node labels that name a node's pool;
        `prometheus`: where history beyond the session comes from (None: nowhere, nothing said)."""
        self.conn = conn
        self.place = Place(context=conn.context, server=conn.server)
        self.clock = clock
        self.interval = max(MIN_INTERVAL, interval)
        self.scope = Scope(namespace, label_selector)
        self.namespace_missing = False  # the namespace in scope is known not to exist
        self.priority = priority or InputPriority()
        self.history: History = new_history()
        self.snapshot: Snapshot | None = None  # the latest, handed to the listener
        self.paused = False
        self.refreshes = 0  # finished refreshes
        self.internal_failures = 0  # consecutive refreshes that failed on a bug
        self.next_refresh_at: float | None = None  # clock() time of the next refresh
        self._request_timeout = request_timeout
        self._watch_settings = watch
        self._pool_labels = tuple(pool_labels)
        self._wake = asyncio.Event()
        self._http: httpx.AsyncClient | None = None
        self._api: KubeAPI | None = None
        self.prom: PromLink | None = PromLink(prometheus) if prometheus is not None else None
        self._prom_opening = False
        self.feed: Feed | None = feed
        self.joiner: Joiner | None = None
        self._disposer: Disposer | None = None
        self._listener: Listener | None = None
        self._tasks: set[asyncio.Task] = set()

    @classmethod
    def from_kubeconfig(cls, *, kubeconfig: str | None = None, context: str | None = None,
                        namespace: str | None = None, **options) -> ClusterSession:
        """A session on the connection kubectl would use with these flags (ConfigError if none)."""
        return cls(load_connection(kubeconfig=kubeconfig, context=context, namespace=namespace), **options)

    # -- lifecycle -------------------------------------------------------------------

    def open(self) -> None:
        """The client, API, feed and joiner, without polling (start() polls); in the event loop."""
        if self.joiner is not None:
            return
        if self.feed is None:
            self._http = make_http_client(self.conn, timeout=self._request_timeout)
            api = self._api = KubeAPI(self._http, self.conn.server, clock=self.clock)
            self.feed = ApiFeed(api, self.scope, clock=self.clock, watch=self._watch_settings,
                                pool_labels=self._pool_labels)
        self._disposer = Disposer(asyncio.get_running_loop())
        self.joiner = Joiner(self.history, priority=self.priority, disposer=self._disposer,
                             pool_labels=self._pool_labels)

    def start(self, listener: Listener) -> None:
        """Poll from now on, telling `listener`."""
        self.open()
        self._listener = listener
        self._spawn(self._poll())

    def _spawn(self, work) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self.feed is not None:
            await self.feed.close()
        if self.prom is not None:
            await self.prom.close()
        if self._http is not None:
            await self._http.aclose()
        if self._disposer is not None:
            self._disposer.close()

    # -- refreshing --------------------------------------------------------------------

    async def refresh(self) -> Snapshot:
        """One refresh: the feed's Inputs joined (in a worker thread) into a Snapshot, which
        becomes `snapshot` and goes to the listener."""
        self.open()
        inputs = await self.feed.collect()
        snapshot = await asyncio.to_thread(self.joiner.step, inputs)
        inputs = None  # (its pod metrics body was taken and freed by the join)
        if self.joiner.rejected is not None:
            self.feed.pod_metrics_unreadable(self.joiner.rejected)
        if self.namespace_missing and snapshot.pods:
            self.namespace_missing = False  # created since: it has pods now
        self.snapshot = snapshot
        self.refreshes += 1
        if self._listener is not None:
            self._listener.snapshot_ready(self, snapshot)
        if "nodes" not in snapshot.loading:
            self._open_prometheus()
        return snapshot

    async def _poll(self) -> None:
        self.place.version = await self.feed.server_version()
        self._spawn(self._check_namespace())
        while True:
            if not self.paused:
                await self._refresh_safely()
            delay = self.delay_after(self.snapshot)
            self.next_refresh_at = None if self.paused else self.clock() + delay
            self._listener.scheduled(self)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            except TimeoutError:
                pass
            self._wake.clear()

    async def _refresh_safely(self) -> None:
        try:
            await self.refresh()
        except Exception as err:  # a bug, not a cluster problem: keep running, say so, back off
            self.internal_failures += 1
            if self.internal_failures == 1:
                log.exception("refresh failed unexpectedly")
            else:
                log.error("refresh failed unexpectedly again (%d in a row): %r", self.internal_failures, err)
            self._listener.refresh_failed(self, f"internal error during refresh: {err!r}")
            return
        self.internal_failures = 0

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
        retry_after = max((getattr(h.error, "retry_after", None) or 0 for h in transient), default=0)
        if not failures and snapshot.loading:
            return min(self.interval, LOADING_INTERVAL)  # show each list as soon as it is in
        return next_delay(self.interval, failures, retry_after=retry_after or None)

    def wake(self) -> None:
        """Refresh now instead of at the next tick."""
        self._wake.set()

    def pause(self, paused: bool) -> None:
        self.paused = paused
        log.info("updates %s", "paused" if paused else "resumed")
        if not paused:
            self.wake()

    # -- Prometheus ----------------------------------------------------------------------

    def _open_prometheus(self) -> None:
        """Once, after the first node list (the first screen never waits for it)."""
        if self.prom is None or self._prom_opening or self._api is None:
            return
        self._prom_opening = True
        self._spawn(self.prom.open(self._api, self.conn, self.history, clock=self.clock,
                                   resolution=self.resolution, told=self._prom_told, spawn=self._spawn))

    def _prom_told(self) -> None:
        if self._listener is not None:
            self._listener.prometheus_changed(self)

    def want_history(self, keys: Sequence, members: dict | None = None) -> None:
        """These history keys are on screen (`members`: a workload key's pod names): filled from
        Prometheus where it is there and they are not yet (the cluster's, for the header, too)."""
        if self.prom is not None and self.prom.backfill is not None:
            self.prom.backfill.want([history_keys.CLUSTER, *keys], members)

    async def pod_usage(self, namespace: str, pod: str, range_name: str) -> RangeUsage:
        """A pod's usage over one of ranges.RANGES from Prometheus (PromError if it fails;
        these three only while `prom.client` is there)."""
        return await ranges.pod_usage(self.prom.client, namespace, pod, range_name, self.clock())

    async def workload_usage(self, namespace: str, pods: Sequence[str], range_name: str) -> RangeUsage:
        """A workload's usage (its pods `pods` summed) over a range."""
        return await ranges.workload_usage(self.prom.client, namespace, pods, range_name, self.clock())

    async def node_usage(self, node: str, range_name: str) -> RangeUsage:
        return await ranges.node_usage(self.prom.client, node, range_name, self.clock())

    async def fill_history(self, keys: Sequence, members: dict) -> None:
        """Fill these history keys from Prometheus now, where it is there (the export key's rows)."""
        if self.prom is not None and self.prom.backfill is not None:
            await self.prom.backfill.fill(keys, members)

    def want_throttling(self, pods: Sequence[tuple[str, str]], workloads: dict) -> None:
        """These pods (namespace, name) and workloads (key -> its pods' names) are on screen: their
        CPU throttling from Prometheus, where it is there, in `prom.throttling.shares`."""
        if self.prom is not None and self.prom.throttling is not None:
            self.prom.throttling.want(pods, workloads)

    def resolution(self) -> float:
        """Seconds between metrics samples, as the cluster's history has them."""
        times = self.history.times(history_keys.CLUSTER)[-8:]
        return float(np.median(np.diff(times))) if len(times) > 2 else DEFAULT_RESOLUTION

    # -- scope -------------------------------------------------------------------------

    async def namespaces(self) -> list[str]:
        """The cluster's namespaces (a KubeError when the user may not list them)."""
        self.open()
        return await self.feed.namespaces()

    def set_namespace(self, namespace: str) -> None:
        """Show this namespace ("" for all) from now on: at once what the latest snapshot has of
        it, the next refresh all of it."""
        self.scope = Scope(namespace, self.scope.label_selector)
        self.namespace_missing = False
        self._spawn(self._check_namespace())
        if self.feed is not None:
            self.feed.set_scope(self.scope)
        if self.snapshot is not None:
            self.snapshot = self.snapshot.in_namespace(namespace)
            if self._listener is not None:
                self._listener.snapshot_ready(self, self.snapshot)
        self.wake()

    async def _check_namespace(self) -> None:
        """Say so when the namespace in scope does not exist (only a user who may list namespaces can tell)."""
        namespace = self.scope.namespace
        if not namespace:
            return
        try:
            missing = namespace not in await self.namespaces()
        except KubeError:
            return
        if missing and namespace == self.scope.namespace:
            self.namespace_missing = True
            if self._listener is not None:
                self._listener.namespace_missing(self, namespace)

    async def diagnose(self) -> list:
        """`ktopui doctor` on this session's connection and namespace (its own requests)."""
        from ktopui.doctor import diagnose

        return await diagnose(self.conn, namespace=self.scope.namespace, clock=self.clock)
