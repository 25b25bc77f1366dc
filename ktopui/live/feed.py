"""What the cluster says, refresh by refresh: the one seam between it and what is shown.

The feed follows nodes and pods with watch caches (one LIST, then a WATCH;
periodic LISTs where the watch cannot work) and polls the metrics API, which
cannot be watched: node metrics every refresh, the big pod metrics list at
most once per metrics resolution. It keeps the last good copy of anything
whose request failed (a failed refresh never empties a table) and says how
each list is doing. Each refresh it hands the joiner one `Inputs`.

Inputs are all a join reads. `Feed` is what a session needs of a feed; a
recording replayed, or another source of the same lists, is another Feed of
Inputs. Nothing past the feed talks to the API server.

The owners' metadata and the quotas are followed beside nodes and pods by an
OwnersAndQuotas (owners_and_quotas.py: their watches, quota list, refusals
and retries); the feed puts what it holds into the same Inputs.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from operator import attrgetter
from types import MappingProxyType
from typing import Protocol

import msgspec

from ktopui.kube.api import KubeAPI
from ktopui.kube.errors import KubeError, MetricsUnavailable
from ktopui.kube.objects import (
    Node,
    NodeSampleMetrics,
    NodeSampleMetricsList,
    RawList,
    ResourceQuota,
)
from ktopui.kube.watch import WatchCache, WatchSettings
from ktopui.live.owners_and_quotas import OwnersAndQuotas
from ktopui.live.watches import Watches
from ktopui.model.history import epoch
from ktopui.model.owners import OwnerMap
from ktopui.model.pod_info import Key, PodChanges, PodInfo, SpecMemo, pod_info
from ktopui.model.snapshot import SOURCES, SourceHealth
from ktopui.model.status import POOL_LABELS, lean_node

log = logging.getLogger("ktopui.live")
# On the first refresh, how long to wait for the pod list before showing nodes
# alone (a small cluster's comes at once; 150,000 pods take seconds).
FIRST_PODS_WAIT = 1.0
FIRST_NODES_WAIT = 15.0
DEFAULT_RESOLUTION = 15.0  # metrics-server's usual --metric-resolution
# One number and unit of a Go duration (longer units first: "ms" is not "m" then "s").
_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(h|ms|us|µs|μs|ns|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ns": 1e-9}
# The longest metrics resolution believed: a window of hours (or 1e30 hours)
# is a broken server, and trusting it would stop the pod metrics list from
# being fetched again.
MAX_RESOLUTION = 300.0

_timestamp = attrgetter("timestamp")


def metrics_resolution(node_metrics: Sequence[NodeSampleMetrics]) -> float:
    """Seconds between two scrapes of a node, as the node metrics' windows say."""
    windows = [w for w in (window_seconds(m.window) for m in node_metrics[:50]) if w]
    # (Capped: an absurd window must not stop the pod metrics from being fetched again.)
    return min(max(windows), MAX_RESOLUTION) if windows else DEFAULT_RESOLUTION


def window_seconds(window: str) -> float | None:
    """Go's Duration.String() (`15.032s`, `1m0.5s`, `500ms`) in seconds; None when it is not
    one, or not a positive finite one (kubectl ignores the window: one it cannot read is skipped)."""
    if not window or len(window) > 40:
        return None
    parts = _DURATION_PART.findall(window)
    if not parts or sum(len(n) + len(u) for n, u in parts) != len(window):
        return None
    seconds = sum(float(n) * _UNIT_SECONDS[u] for n, u in parts)
    return seconds if 0 < seconds < math.inf else None


@dataclass(frozen=True)
class Scope:
    """What is listed: a namespace ("" for all) and a label selector."""

    namespace: str = ""
    label_selector: str = ""


class Undecoded:
    """A list's items left undecoded, to be taken once: the body they are views of is tens
    of MB at 150,000 pods, and must die as soon as the joiner has summed it."""

    __slots__ = ("_items",)

    def __init__(self, items: list[msgspec.Raw]) -> None:
        self._items: list[msgspec.Raw] | None = items

    def take(self) -> list[msgspec.Raw]:
        items, self._items = self._items, None
        if items is None:
            raise RuntimeError("these items were taken already")
        return items


@dataclass(frozen=True)
class Inputs:
    """One refresh's worth of the cluster: everything a join reads."""

    scope: Scope
    nodes: Sequence[Node] | None  # lean Node objects (None: not listed yet, or never could be)
    pods: Mapping[Key, PodInfo] | None  # pod summaries by key (None: not listed yet)
    pod_changes: PodChanges | None  # which pods may differ from the pods of the Inputs before
    node_metrics: Sequence[NodeSampleMetrics] | None  # None: none yet, or the metrics API is gone
    pod_metrics: Undecoded | None  # a new pod metrics list; None: none new
    pod_metrics_kept: bool  # False: the pod metrics had before no longer stand (the API is gone, a new scope)
    health: Mapping[str, SourceHealth]
    loading: tuple[str, ...]  # lists whose first LIST has not arrived yet
    clock_offset: float = 0.0  # the server's clock less ours
    # The controllers of ReplicaSets and of Jobs, by source ("replicasets", "jobs");
    # None: not readable (yet), the workloads are then inferred.
    owners: Mapping[str, OwnerMap | None] = field(default_factory=lambda: MappingProxyType({}))
    quotas: Sequence[ResourceQuota] | None = None  # None: not listed (yet), or not readable
    notices: tuple[str, ...] = ()  # what the views lack and why, in plain words, said once

    @property
    def nodes_current(self) -> bool:
        """Whether `nodes` is the cluster's node list now (nodes missing from it are gone)."""
        return self.nodes is not None and self.health["nodes"].error is None


@dataclass
class _Health:
    """How one list is doing, as the feed keeps it (Inputs carry frozen copies)."""

    ok_at: float | None = None
    error: KubeError | None = None
    failures: int = 0
    relisting: str = ""
    relist_every: float = 0.0
    listed_at: float | None = None

    def frozen(self) -> SourceHealth:
        return SourceHealth(self.ok_at, self.error, self.failures, self.relisting, self.relist_every, self.listed_at)


@dataclass
class _Pods:
    """The pods as last handed out: a copy of the watch cache's items taken when they
    changed (the watch keeps writing to its own while a join reads this one)."""

    items: dict[Key, PodInfo] | None = None
    version: int = -1
    changes: PodChanges | None = None


class Feed(Protocol):
    """Where a session's Inputs come from."""

    async def collect(self) -> Inputs:
        """The next refresh's Inputs."""

    def set_scope(self, scope: Scope) -> None:
        """Collect this scope from the next refresh on."""

    def pod_metrics_unreadable(self, error: KubeError) -> None:
        """The pod metrics of the last Inputs could not be read: ask again."""

    async def server_version(self) -> str:
        """The server's version ("" when it will not say)."""

    async def namespaces(self) -> list[str]:
        """The cluster's namespaces; a KubeError when they may not be listed."""

    async def close(self) -> None:
        """Stop whatever runs in the background."""


class ApiFeed:
    """The Inputs of one cluster, from its API server."""

    def __init__(self, api: KubeAPI, scope: Scope = Scope(), *, clock: Callable[[], float] = time.time,
                 watch: WatchSettings | None = None, pool_labels: Sequence[str] = POOL_LABELS) -> None:
        """`pool_labels`: the node labels the nodes' watch keeps besides their roles'."""
        self.api = api
        self.scope = scope
        self.clock = clock
        self.watch_settings = watch or WatchSettings()
        self.memo = SpecMemo()  # spec summaries shared by replicas: this cluster's
        self._lean_node = partial(lean_node, pool_labels=frozenset(pool_labels))
        self._watches = Watches()
        self._health = {name: _Health() for name in SOURCES}
        self._nodes: list[Node] | None = None
        self._pods = _Pods()
        self._node_metrics: list[NodeSampleMetrics] | None = None
        self._has_pod_metrics = False  # a pod metrics list was handed out in this scope, and stands
        self._pod_metrics_dropped = False  # ... and was let go since the last Inputs
        # The full pod metrics list is tens of MB on a big cluster and changes
        # only as nodes scrape: fetch it at most once per metrics resolution
        # of cluster time (node metrics, small, still come every refresh).
        self._pods_fetched_at: float | None = None  # newest node metrics time at the last good fetch
        self.pod_metrics_fetches = 0  # for tests and benchmarks
        self._owners_and_quotas = OwnersAndQuotas(api, scope.namespace, clock=clock, watch=self.watch_settings)

    @property
    def quota_lists(self) -> int:
        """How many times the quotas were listed (for tests)."""
        return self._owners_and_quotas.quota_lists

    def set_scope(self, scope: Scope) -> None:
        """List this from now on; the pods are watched anew from the next refresh."""
        log.info("scope: namespace %r, label selector %r", scope.namespace, scope.label_selector)
        self.scope = scope
        self._pods = _Pods()
        self._drop_pod_metrics()
        self._watches.stop("pods")
        self._owners_and_quotas.set_namespace(scope.namespace)
        # What the pods' lists said of the last scope is not said of this one (a 403 at the
        # cluster scope is not the namespace's); the next answers tell.
        for source in ("pods", "pod metrics"):
            self._health[source] = _Health()

    def pod_metrics_unreadable(self, error: KubeError) -> None:
        """The joiner could not read the pod metrics list it was given: a failed fetch (the
        list before it still stands, and the next refresh asks again)."""
        health = self._health["pod metrics"]
        log.warning("pod metrics: %s", error)
        health.error, health.failures = error, health.failures + 1

    def _drop_pod_metrics(self) -> None:
        if self._has_pod_metrics:
            self._has_pod_metrics, self._pod_metrics_dropped = False, True
        self._pods_fetched_at = None

    async def server_version(self) -> str:
        try:
            return (await self.api.version()).gitVersion
        except KubeError:
            return ""  # the first refresh reports what is wrong

    async def namespaces(self) -> list[str]:
        return await self.api.list_namespaces()

    def listed(self, source: str) -> bool:
        """Whether the first LIST of "nodes" or "pods" (in this scope) is in."""
        cache = self._watches.get(source)
        return cache is not None and cache.synced.is_set()

    def _watch(self, source: str) -> WatchCache:
        def make() -> WatchCache:
            scoped: dict = {"transform": self._lean_node}
            if source == "pods":
                memo = self.memo
                scoped = {"namespace": self.scope.namespace, "label_selector": self.scope.label_selector,
                          "transform": lambda pod: pod_info(pod, memo)}
            return WatchCache(self.api, source, settings=self.watch_settings, clock=self.clock, **scoped)

        return self._watches.start(source, make)

    async def close(self) -> None:
        await asyncio.gather(self._watches.close(), self._owners_and_quotas.close(), return_exceptions=True)

    def _pod_metrics_due(self, node_metrics: list[NodeSampleMetrics] | None, newest: float | None) -> bool:
        if not self._has_pod_metrics or self._pods_fetched_at is None or not node_metrics or newest is None:
            return True
        resolution = metrics_resolution(node_metrics)
        # A window is the measured interval between two scrapes, a little longer
        # than the scrape period itself (15.032s for 15s): allow for that.
        return newest - self._pods_fetched_at >= 0.9 * resolution

    async def collect(self) -> Inputs:
        """This refresh's Inputs: the watches' lists as they are now, the node metrics, and a
        new pod metrics list when one is due."""
        watched = {source: self._watch(source) for source in ("nodes", "pods")}
        owners_and_quotas = self._owners_and_quotas
        owner_caches = owners_and_quotas.watch()
        (node_result,), _ = await asyncio.gather(
            asyncio.gather(self.api.list_node_metrics(shape=NodeSampleMetricsList), return_exceptions=True),
            # The first screen (and a new scope) waits for the nodes; a huge pod
            # list may come later (and so may the owners: their workloads are inferred meanwhile).
            asyncio.gather(
                watched["nodes"].settled(FIRST_NODES_WAIT if self._nodes is None else 0),
                watched["pods"].settled(FIRST_PODS_WAIT if self._pods.items is None else 0),
                owners_and_quotas.settle(owner_caches, FIRST_PODS_WAIT),
            ),
        )
        fetches: dict[str, object] = {"node metrics": node_result}
        node_items = None if isinstance(node_result, BaseException) else node_result.items
        # (Timestamps repeat, one per node scrape: each distinct one is read once.)
        newest = max((epoch(t) or 0.0 for t in set(map(_timestamp, node_items))), default=None) if node_items else None
        if node_items:  # (a watch that cannot work is replaced by a LIST per resolution, at most)
            resolution = metrics_resolution(node_items)
            for cache in watched.values():
                cache.resolution = resolution
        # While the first pod list is still arriving, the screen shows the
        # nodes at once; the (big) pod metrics list waits for the next refresh.
        pods = watched["pods"]
        waiting = not pods.synced.is_set() and pods.error is None and not self._has_pod_metrics
        due = not waiting and (self._pod_metrics_due(node_items, newest)
                               or self._health["pod metrics"].error is not None)
        if due:
            self.pod_metrics_fetches += 1
            (fetches["pod metrics"],) = await asyncio.gather(
                self.api.list_pod_metrics(namespace=self.scope.namespace, label_selector=self.scope.label_selector,
                                          shape=RawList),
                return_exceptions=True,
            )
            if newest is not None and not isinstance(fetches["pod metrics"], BaseException):
                self._pods_fetched_at = newest
        now = self.clock()
        fetched: dict[str, list] = {}
        for source, result in fetches.items():
            health = self._health[source]
            if isinstance(result, KubeError):
                if health.failures == 0 or str(result) != str(health.error):
                    log.warning("%s: %s: %s", source, type(result).__name__, result)
                health.error = result
                health.failures += 1
            elif isinstance(result, BaseException):
                raise result
            else:
                if health.failures:
                    log.info("%s: recovered after %d failed refreshes", source, health.failures)
                health.error = None
                health.failures = 0
                health.ok_at = now
                fetched[source] = result.items
        # The pod metrics list holds its 53 MB body (its raw items are views of
        # it): only `fetched` may keep it, and the Inputs hand it on once.
        fetches = result = node_result = None
        loading = self._follow(watched, now)
        if waiting:
            loading.append("pod metrics")
        owners = owners_and_quotas.follow(owner_caches)
        if "node metrics" in fetched:
            self._node_metrics = fetched["node metrics"]
        # Metrics that are unavailable are dropped, not kept stale: usage
        # from minutes ago must not pass for current.
        if "node metrics" not in fetched and isinstance(self._health["node metrics"].error, MetricsUnavailable):
            self._node_metrics = None
        new_pod_metrics = fetched.pop("pod metrics", None)
        if new_pod_metrics is not None:
            self._has_pod_metrics = True
        elif isinstance(self._health["pod metrics"].error, MetricsUnavailable):
            self._drop_pod_metrics()
        kept, self._pod_metrics_dropped = not self._pod_metrics_dropped, False
        return Inputs(
            scope=self.scope,
            nodes=self._nodes,
            pods=self._pods.items,
            pod_changes=self._pods.changes,
            node_metrics=self._node_metrics,
            pod_metrics=Undecoded(new_pod_metrics) if new_pod_metrics is not None else None,
            pod_metrics_kept=kept,
            health=MappingProxyType({name: health.frozen() for name, health in self._health.items()}),
            loading=tuple(loading),
            clock_offset=self.api.clock_offset,
            owners=MappingProxyType(owners),
            quotas=owners_and_quotas.quotas,
            notices=owners_and_quotas.notices(),
        )

    def _follow(self, watched: dict[str, WatchCache], now: float) -> list[str]:
        """The watch caches' lists and health as they are now; the lists still loading."""
        loading = []
        for source, cache in watched.items():
            health = self._health[source]
            health.error, health.failures = cache.error, cache.failures
            health.relisting, health.relist_every = cache.relisting, cache.relist_interval
            health.listed_at = cache.listed_at
            if not cache.synced.is_set():
                if cache.error is None:
                    loading.append(source)
                continue
            # A healthy watch is current now; otherwise the cache knows since when.
            health.ok_at = now if cache.error is None and not cache.relisting else cache.ok_at
            if source == "nodes":
                self._nodes = cache.values()
            elif cache.version != self._pods.version:
                touched, previous = cache.take_changes(), self._pods.items
                items = dict(cache.items)
                # The join then looks at these keys only, not at all 150,000.
                changes = PodChanges(previous, items, touched) if touched is not None else None
                self._pods = _Pods(items, cache.version, changes)
        return loading
