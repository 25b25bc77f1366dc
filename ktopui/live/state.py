"""The live view of a cluster: the latest lists, their health, and history.

Nodes and pods come from watch caches (one LIST, then a WATCH: the API
server sends only changes; periodic LISTs where the watch cannot work); the
metrics API cannot be watched, so `LiveCluster.refresh()` polls it, keeps the
last good copy of anything whose request failed (a failed refresh never
empties a table), joins everything into rows and records history. It knows nothing about the screen: the UI
calls refresh() from a worker and shows the Snapshot.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import math
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import chain, compress, repeat
from operator import attrgetter

import numpy as np

from ktopui.kube.api import KubeAPI
from ktopui.kube.watch import WatchCache, WatchSettings
from ktopui.kube.errors import KubeError, MalformedResponse, MetricsUnavailable
from ktopui.kube.objects import (
    Node,
    NodeSampleMetrics,
    NodeSampleMetricsList,
    PodSampleMetrics,
    RawList,
    decoded_batches,
)
from ktopui.live.memory import Collector, dispose, release_free_memory
from ktopui.live.priority import InputPriority
from ktopui.model import history_keys
from ktopui.model.history import History, epoch
from ktopui.model.nodes import NodeCache, NodeRow, node_rows
from ktopui.model.samples import BATCH as SUM_BATCH
from ktopui.model.samples import NewSamples, PodSample, SampleTable, container_numbers, sample_table_of_batches
from ktopui.model.slots import ContainerRings, Slots
from ktopui.model.pacing import paced_batches
from ktopui.model.pod_info import PodChanges, PodInfo, SpecMemo, pod_info
from ktopui.model.pod_view import PodRowsView
from ktopui.model.pod_view_join import PodViewJoin
from ktopui.model.pods import PodRow
from ktopui.model.status import lean_node

SOURCES = ("nodes", "pods", "node metrics", "pod metrics")
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


# Samples kept per entity (one per metrics resolution, usually 15 s): 30
# minutes for nodes and the cluster, 15 for pods and containers, of which a
# big cluster has a hundred thousand or more (about 100 MB per 150,000 at 60).
POD_HISTORY = 60
RECORD_BATCH = 10_000  # pods recorded between two pauses for the user's input


def new_history() -> History:
    return History(capacities={"pod": POD_HISTORY, "container": POD_HISTORY})


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


_timestamp = attrgetter("timestamp")
_names = attrgetter("names")
_row_name = attrgetter("name")
_has_metrics = attrgetter("has_metrics")
_available_cpu, _available_mem = attrgetter("available.cpu_milli"), attrgetter("available.mem_bytes")
_packed = attrgetter("packed")  # (a pod of several containers with simple spellings)
_cpu_milli = attrgetter("usage.cpu_milli")
_mem_bytes = attrgetter("usage.mem_bytes")


@dataclass
class SourceHealth:
    """How the last request for one list went."""

    ok_at: float | None = None  # wall-clock time of the last success
    error: KubeError | None = None
    failures: int = 0  # consecutive
    # Nodes and pods whose watch cannot work are listed every `relist_every`
    # seconds instead; `relisting` says why in plain words ("" while watched).
    relisting: str = ""
    relist_every: float = 0.0
    listed_at: float | None = None  # wall-clock time of the last complete LIST


@dataclass
class Totals:
    cpu_milli: int = 0
    cpu_allocatable_milli: int = 0
    mem_bytes: int = 0
    mem_allocatable_bytes: int = 0


@dataclass
class Snapshot:
    nodes: list[NodeRow]
    pods: Sequence[PodRow]  # a PodRowsView from LiveCluster: rows made as they are looked at
    health: dict[str, SourceHealth]
    newest_metrics: float | None  # epoch seconds of the newest metrics timestamp
    clock_offset: float = 0.0  # the server's clock less ours: ages are told by the server's clock
    totals: Totals = field(default_factory=Totals)
    loading: tuple[str, ...] = ()  # lists whose first LIST has not arrived yet
    pods_in_name_order: bool = False  # pods sorted by (name, namespace), as tables show ties
    metrics_serial: int = 0  # which pod metrics list its pods' samples are from (LiveCluster's count)
    # The join's own index of `pods` by key (None: built on first use).
    pods_by_key: Mapping[tuple[str, str], PodRow] | None = field(default=None, repr=False)
    _by_node: dict[str, list[PodRow]] | None = field(default=None, init=False, repr=False)
    _coverage: tuple[int, int, int] | None = field(default=None, init=False, repr=False)

    def coverage(self) -> tuple[int, int, int]:
        """(nodes with metrics, pods with metrics, running pods), counted once per snapshot."""
        if self._coverage is None:
            if isinstance(self.pods, PodRowsView):
                measured, running = self.pods.coverage()
            else:
                measured = sum(1 for p in self.pods if p.has_metrics)
                running = sum(1 for p in self.pods if p.status == "Running")
            self._coverage = (sum(map(_has_metrics, self.nodes)), measured, running)
        return self._coverage

    def pod(self, namespace: str, name: str) -> PodRow | None:
        if isinstance(self.pods, PodRowsView):
            return self.pods.pod(namespace, name)
        if self.pods_by_key is None:
            self.pods_by_key = {(p.namespace, p.name): p for p in self.pods}
        return self.pods_by_key.get((namespace, name))

    def pods_on(self, node: str) -> Sequence[PodRow]:
        """The pods of one node, in the order of `pods` (the same sequence when asked again)."""
        # One scan per node asked for: at 150,000 pods a scan is ~13 ms, an
        # index of every node ~65 ms, and a node's screen asks for one node.
        if self._by_node is None:
            self._by_node = {}
        found = self._by_node.get(node)
        if found is None:
            if isinstance(self.pods, PodRowsView):
                found = self._by_node[node] = self.pods.on_node(node)
            else:
                found = self._by_node[node] = [p for p in self.pods if p.node == node]
        return found

    def namespaces(self) -> set[str]:
        """The namespaces the pods are in."""
        if isinstance(self.pods, PodRowsView):
            return {key[0] for key in self.pods.keys}
        return {p.namespace for p in self.pods}

    def pods_in(self, namespace: str) -> Sequence[PodRow]:
        """The pods of one namespace ("": all), in the order of `pods`."""
        if not namespace:
            return self.pods
        if isinstance(self.pods, PodRowsView):
            return self.pods.in_namespace(namespace)
        return [p for p in self.pods if p.namespace == namespace]

    @property
    def metrics_error(self) -> MetricsUnavailable | None:
        for source in ("node metrics", "pod metrics"):
            error = self.health[source].error
            if isinstance(error, MetricsUnavailable):
                return error
        return None

    @property
    def errors(self) -> dict[str, KubeError]:
        return {name: h.error for name, h in self.health.items() if h.error is not None}


class LiveCluster:
    def __init__(
        self,
        api: KubeAPI,
        *,
        namespace: str = "",
        label_selector: str = "",
        history: History | None = None,
        clock: Callable[[], float] = time.time,
        priority: InputPriority | None = None,
        collector: Collector | None = None,
        watch: WatchSettings | None = None,
    ) -> None:
        self.api = api
        self.watch_settings = watch or WatchSettings()
        # The join waits at its checkpoints while the user's input is handled.
        self.priority = priority if priority is not None else InputPriority()
        self.collector = collector  # the process's owner may keep joins out of the collector's sight
        self.clock = clock
        self._watchers: dict[str, WatchCache] = {}
        self._tasks: dict[str, asyncio.Task] = {}
        self.namespace = namespace
        self.label_selector = label_selector
        self.history = history if history is not None else new_history()
        self.health = {name: SourceHealth() for name in SOURCES}
        self._nodes: list[Node] | None = None
        # A copy of the pod watch cache's items, taken when it changed (the
        # watch keeps writing to its own while a join reads this one).
        self._pods: dict[tuple[str, str], PodInfo] | None = None
        self._pods_version = -1
        self._node_names: set[str] = set()
        self._node_rows_recorded: dict[str, NodeRow] = {}  # the node rows history last saw, by name
        self._node_metrics: list[NodeSampleMetrics] | None = None
        self._pod_metrics: SampleTable | None = None
        self._metrics_serial = 0  # counts the changes of _pod_metrics (see _dispose_retired)
        self._serial_of: object = None  # the _pod_metrics that serial is of
        self._slots = Slots()  # a number per pod, kept across lists and scopes
        # A pod's history ring is its slot, and its containers' rings are found by
        # it: recording a list looks no key up.
        index = self._slots.index
        self._container_rings = rings = ContainerRings(self._slots)
        self.history.number("pod", lambda key: index.get(key[1:]))
        self.history.clock("container", "pod", rings.locate, rings.live, rings.rings_of)
        self._memo = SpecMemo()
        self._node_cache = NodeCache()
        self._pod_changes: PodChanges | None = None
        self._pod_view = PodViewJoin()
        self._new_samples = NewSamples()
        # The full pod metrics list is tens of MB on a big cluster and changes
        # only as nodes scrape: fetch it at most once per metrics resolution
        # of cluster time (node metrics, small, still come every refresh).
        self._pods_fetched_at: float | None = None  # newest node metrics time at the last good fetch
        self.pod_metrics_fetches = 0
        # Snapshots the screen has let go of, freed by the next join (see retire()).
        self._retired: list[Snapshot] = []

    def retire(self, snapshot: Snapshot) -> None:
        """The UI no longer shows this snapshot: its rows are freed off the UI thread.

        Without this, the UI thread drops the last references to the rows and
        samples of the refresh before (150,000 of each after a pod metrics
        list) as its tables take the new rows, and frees them all in one go.
        """
        self._retired.append(snapshot)

    async def release_retired(self) -> None:
        """Free what retire() was given now, in a worker thread, rather than at the
        start of the next join: between refreshes, one pod metrics list's samples
        are alive, not two (46 MB each at 150,000 pods)."""
        if self._retired:
            await asyncio.to_thread(self._release_retired)

    def _release_retired(self) -> None:
        if self._dispose_retired():
            release_free_memory()

    def _dispose_retired(self) -> bool:
        """Free the retired snapshots; True if a pod metrics list's samples went with them."""
        samples_freed = False
        while self._retired:
            snapshot = self._retired.pop()
            # A list of its rows, so dropping the snapshot's own lists and
            # dicts frees no row; then the rows go a batch at a time. Samples
            # of the metrics list still in use die later, not here: touching
            # 150,000 of them for nothing cost ~30 ms of every steady refresh.
            pods = snapshot.pods
            if not isinstance(pods, PodRowsView):
                rows = [*snapshot.nodes, *pods]
                samples_freed = True
            elif snapshot.metrics_serial != self._metrics_serial:
                rows = [*snapshot.nodes, *pods.samples]
                samples_freed = True
            else:
                rows = list(snapshot.nodes)
            pods = None
            snapshot = None
            dispose(rows, self.priority.checkpoint)
        return samples_freed

    def _pod_metrics_due(self, node_metrics: list[NodeSampleMetrics] | None, newest: float | None) -> bool:
        if self._pod_metrics is None or self._pods_fetched_at is None or not node_metrics or newest is None:
            return True
        resolution = metrics_resolution(node_metrics)
        # A window is the measured interval between two scrapes, a little longer
        # than the scrape period itself (15.032s for 15s): allow for that.
        return newest - self._pods_fetched_at >= 0.9 * resolution

    def set_scope(self, *, namespace: str | None = None, label_selector: str | None = None) -> None:
        """Change what is listed; the pods are watched anew from the next refresh."""
        log.info("scope: namespace %r, label selector %r", namespace, label_selector)
        if namespace is not None:
            self.namespace = namespace
        if label_selector is not None:
            self.label_selector = label_selector
        self._pods = self._pod_metrics = None
        self._pods_version = -1
        self._pods_fetched_at = None
        self._stop("pods")

    def _watch(self, source: str) -> WatchCache:
        cache = self._watchers.get(source)
        if cache is None:
            scoped: dict = {"transform": lean_node}
            if source == "pods":
                memo = self._memo
                scoped = {"namespace": self.namespace, "label_selector": self.label_selector,
                          "transform": lambda pod: pod_info(pod, memo)}
            cache = self._watchers[source] = WatchCache(self.api, source, settings=self.watch_settings,
                                                        clock=self.clock, **scoped)
            self._tasks[source] = asyncio.create_task(cache.run())
        return cache

    def _stop(self, source: str) -> None:
        task = self._tasks.pop(source, None)
        if task is not None:
            task.cancel()
        self._watchers.pop(source, None)

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        for source in list(self._tasks):
            self._stop(source)
        await asyncio.gather(*tasks, return_exceptions=True)

    async def refresh(self) -> Snapshot:
        watched = {source: self._watch(source) for source in ("nodes", "pods")}
        (node_result,), _ = await asyncio.gather(
            asyncio.gather(self.api.list_node_metrics(kind=NodeSampleMetricsList), return_exceptions=True),
            # The first screen (and a new scope) waits for the nodes; a huge pod
            # list may come later.
            asyncio.gather(
                _settled(watched["nodes"], FIRST_NODES_WAIT if self._nodes is None else 0),
                _settled(watched["pods"], FIRST_PODS_WAIT if self._pods is None else 0),
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
        pods_loading = not pods.synced.is_set() and pods.error is None
        due = self._pod_metrics_due(node_items, newest) or self.health["pod metrics"].error is not None
        waiting = pods_loading and self._pod_metrics is None
        if waiting:
            due = False
        if due:
            self.pod_metrics_fetches += 1
            (fetches["pod metrics"],) = await asyncio.gather(
                self.api.list_pod_metrics(
                    namespace=self.namespace, label_selector=self.label_selector, kind=RawList
                ),
                return_exceptions=True,
            )
            if newest is not None and not isinstance(fetches["pod metrics"], BaseException):
                self._pods_fetched_at = newest
        now = self.clock()
        fresh: dict[str, list] = {}
        for source, result in fetches.items():
            health = self.health[source]
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
                fresh[source] = result.items
        # The pod metrics list holds its 53 MB body (its raw items are views of
        # it): only `fresh` may keep it, so the join frees it once summed.
        fetches = result = node_result = None
        loading = []
        for source, cache in watched.items():
            health = self.health[source]
            health.error, health.failures = cache.error, cache.failures
            health.relisting, health.relist_every = cache.relisting, cache.relist_interval
            health.listed_at = cache.listed_at
            if not cache.synced.is_set():
                if cache.error is None:
                    loading.append(source)
                continue
            # A healthy watch is current now; otherwise the cache knows since when.
            health.ok_at = now if cache.error is None and not cache.relisting else cache.ok_at
            if source == "pods":
                if cache.version != self._pods_version:
                    touched, previous = cache.take_changes(), self._pods
                    self._pods, self._pods_version = dict(cache.items), cache.version
                    # The join then looks at these keys only, not at all 150,000.
                    self._pod_changes = PodChanges(previous, self._pods, touched) if touched is not None else None
                items = self._pods
            else:
                items = self._nodes = cache.values()
            if cache.error is None:
                fresh[source] = items
        if waiting:
            loading.append("pod metrics")
        # (New pod metrics are summed in the join's thread: they are big.)
        if "node metrics" in fresh:
            self._node_metrics = fresh["node metrics"]
        # Metrics that are unavailable are dropped, not kept stale: usage
        # from minutes ago must not pass for current.
        for source, attr in (("node metrics", "_node_metrics"), ("pod metrics", "_pod_metrics")):
            if source not in fresh and isinstance(self.health[source].error, MetricsUnavailable):
                setattr(self, attr, None)
        # The join is CPU work proportional to the cluster (seconds at 150,000
        # pods): off the event loop, so keys and scrolling stay responsive.
        snapshot = await asyncio.to_thread(self._snapshot, now, fresh)
        snapshot.loading = tuple(loading)
        return snapshot

    def _snapshot(self, now: float, fresh: dict[str, list]) -> Snapshot:
        # A join allocates about a million short-lived tuples, ints and
        # structs, none in cycles: with the cyclic collector running, its
        # passes over everything alive cost a third of the join.
        enabled = gc.isenabled()
        gc.disable()
        self.priority.join_started()
        new_list = "pod metrics" in fresh
        try:
            return self._join(now, fresh)
        finally:
            if self.collector is not None:
                self.collector.after_join()
            if enabled:
                gc.enable()
            # What a new metrics list's body and decoding held (tens of MB) goes
            # back to the system. A steady refresh frees little, and keeps it:
            # pages given back are faulted in again by the next refresh, at
            # several microseconds each on a virtual machine.
            if new_list:
                release_free_memory()

    def _join(self, now: float, fresh: dict[str, list]) -> Snapshot:
        pause = self.priority.checkpoint
        self._dispose_retired()  # first: the new rows are made with the old ones gone
        if "pod metrics" in fresh:
            # Decoded a batch at a time and summed as it goes: only the
            # summaries outlive this (the decoded list would be >100 MB).
            raws = fresh.pop("pod metrics")
            try:
                self._pod_metrics = sample_table_of_batches(
                    paced_batches(decoded_batches(raws, PodSampleMetrics, batch=SUM_BATCH, what="pod metrics"), pause),
                    self._pod_metrics,
                    self._slots,
                    new=self._new_samples,
                )
                del raws  # and with them the response body
            except MalformedResponse as err:
                self._new_samples = NewSamples()
                log.warning("pod metrics: %s", err)
                health = self.health["pod metrics"]
                health.error, health.failures = err, health.failures + 1
            else:
                fresh["pod metrics"] = []
        pause()
        nodes = node_rows(self._nodes, self._node_metrics, self._pods, cache=self._node_cache, changes=self._pod_changes)
        pods = self._pod_view.update(self._pods, self._pod_metrics, changes=self._pod_changes, pause=pause)
        self._record(nodes, fresh)
        pause()
        # (Sums and timestamps read by C calls: this runs on every refresh, over every node.)
        totals = Totals(
            cpu_milli=sum(filter(None, map(_cpu_milli, nodes))),
            mem_bytes=sum(filter(None, map(_mem_bytes, nodes))),
            cpu_allocatable_milli=sum(filter(None, map(_available_cpu, nodes))),
            mem_allocatable_bytes=sum(filter(None, map(_available_mem, nodes))),
        )
        stamps = set(map(_timestamp, nodes))
        stamps.discard("")
        whens = [when for when in map(epoch, stamps) if when is not None]
        newest = max(whens) if whens else None
        if newest is not None and self._node_metrics is not None:
            self.history.record(history_keys.CLUSTER, max(stamps), totals.cpu_milli, totals.mem_bytes)
        if self._pod_metrics is not self._serial_of:
            self._metrics_serial += 1
            self._serial_of = self._pod_metrics
        snapshot = Snapshot(
            nodes=nodes,
            pods=pods,
            pods_in_name_order=True,
            metrics_serial=self._metrics_serial,
            health={k: replace(v) for k, v in self.health.items()},
            newest_metrics=newest,
            clock_offset=self.api.clock_offset,
            totals=totals,
        )
        pause()
        snapshot.coverage()  # counted here, off the UI thread
        pods.measure_texts()  # (the widths the tables give names: measured here too)
        return snapshot

    def _record(self, nodes: list[NodeRow], fresh: dict[str, list]) -> None:
        """History of what changed: the node metrics, and the pods whose samples are new."""
        history = self.history
        if "nodes" in fresh:
            names = set(map(_row_name, nodes))
            history.forget(history_keys.node(name) for name in self._node_names - names)
            self._node_names = names
        # A row kept from the refresh before has nothing new to record (most, at a 2 s interval).
        recorded = self._node_rows_recorded.get
        shown = [r for r in nodes if r.has_metrics and recorded(r.name) is not r]
        self._node_rows_recorded = dict(zip(map(_row_name, nodes), nodes))
        history.record_many([history_keys.node(r.name) for r in shown], [r.timestamp for r in shown],
                            [r.usage.cpu_milli for r in shown], [r.usage.mem_bytes for r in shown], same_kind=True)
        # Pods outside the current namespace keep their history (switching back finds it).
        ns = self.namespace
        gone = [(key, info, sample) for key, info, sample in self._pod_view.gone if not ns or key[0] == ns]
        # Their slots go to other pods at the next list: their history rings are emptied now.
        gone_slots = self._slots.free(key for key, _, _ in gone)
        history.forget_numbered("pod", gone_slots)
        history.forget_numbered("container", self._container_rings.release(gone_slots))
        new, self._new_samples = self._new_samples, NewSamples()
        slots, samples = new.slots, new.samples
        pause = self.priority.checkpoint
        for start in range(0, len(slots), RECORD_BATCH):
            pause()
            measured, at = samples[start : start + RECORD_BATCH], slots[start : start + RECORD_BATCH]
            stamps = list(map(_timestamp, measured))
            # (attrgetter: no Python call per pod)
            history.record_numbered("pod", at, stamps, list(map(_cpu_milli, measured)), list(map(_mem_bytes, measured)))
            self._record_containers(measured, at)

    def _record_containers(self, measured: list[PodSample], at: list[int]) -> None:
        """History of the containers of pods with more than one (a pod with one has
        that container's numbers: its history serves for both, see history_keys.of_container),
        written where their pod's last record went."""
        history, rings_of = self.history, self._container_rings
        # How many containers each pod measured (PodSample.measured, without a
        # Python call per pod): its names, or else its entries (the exact path's).
        counts = np.fromiter(map(len, map(_names, measured)), dtype=np.int64, count=len(measured))
        for i in np.flatnonzero(counts == 0).tolist():
            counts[i] = len(measured[i].containers)
        # A pod down to one container lets its rings go: they would miss its samples from now on.
        history.forget_numbered("container", rings_of.release_held(list(compress(at, (counts < 2).tolist()))))
        multi = np.flatnonzero(counts > 1).tolist()
        if not multi:
            return
        measured = list(map(measured.__getitem__, multi))
        counts = counts[multi].tolist()
        owners = list(map(at.__getitem__, multi))
        names = [s.names or tuple(entry[0] for entry in s.containers) for s in measured]  # (several: all kept)
        rings, let_go = rings_of.rings(owners, names)
        history.forget_numbered("container", let_go)
        owners = list(chain.from_iterable(map(repeat, owners, counts)))
        if all(s.names for s in measured):  # simple spellings: (CPU nano cores, memory milli bytes) packed
            pairs = np.frombuffer(b"".join(map(_packed, measured)), dtype=np.int64)
            history.record_clocked("container", rings, owners, -(-pairs[0::2] // 1_000_000), -(-pairs[1::2] // 1000))
        else:
            numbers = list(chain.from_iterable(map(container_numbers, measured)))
            history.record_clocked("container", rings, owners, [n[1] for n in numbers], [n[2] for n in numbers])


async def _settled(cache: WatchCache, timeout: float) -> None:
    """Wait until the cache has its first list or has failed, for at most `timeout` s."""
    deadline = time.monotonic() + timeout
    while not cache.synced.is_set() and cache.error is None and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
