"""A refresh's Inputs joined into a Snapshot: rows, history and totals, in a worker thread.

The join is CPU work proportional to the cluster (seconds at 150,000 pods), so
it runs off the event loop and steps aside at checkpoints while the user's
input is handled (priority.py). What it keeps from one refresh to the next
is what makes a refresh cheap: a number (slot) per pod, the summed pod
metrics by slot, the node rows' inputs, the pod view's lists. Only pods and
nodes whose inputs changed are looked at again; only samples that are new
are recorded in history.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import chain, compress, repeat
from operator import attrgetter
from types import MappingProxyType

import msgspec
import numpy as np

from ktopui.kube.errors import MalformedResponse
from ktopui.kube.objects import PodSampleMetrics, decoded_batches
from ktopui.live.feed import Inputs
from ktopui.live.memory import MEMORY, Disposer, dispose, release_free_memory
from ktopui.live.priority import InputPriority
from ktopui.model import history_keys, reclaim
from ktopui.model.history import History, epoch
from ktopui.model.namespaces import NamespaceRow, namespace_rows, quotas_by_namespace
from ktopui.model.nodes import NodeCache, NodeRow, node_rows
from ktopui.model.pacing import paced_batches
from ktopui.model.pod_view import PodRowsView
from ktopui.model.pod_view_join import PodViewJoin
from ktopui.model.pools import PoolJoin
from ktopui.model.samples import BATCH as SUM_BATCH
from ktopui.model.samples import (
    NewSamples,
    PodSample,
    SampleTable,
    container_numbers,
    sample_table_of_batches,
)
from ktopui.model.slots import ContainerRings, Slots
from ktopui.model.snapshot import Coverage, Snapshot, Totals
from ktopui.model.status import POOL_LABELS
from ktopui.model.workloads import WorkloadRollup, Workloads

log = logging.getLogger("ktopui.live")

# Samples kept per key (one per metrics resolution, usually 15 s): 30
# minutes for nodes and the cluster, 15 for pods and containers, of which a
# big cluster has a hundred thousand or more (about 100 MB per 150,000 at 60).
POD_HISTORY = 60
RECORD_BATCH = 10_000  # pods recorded between two pauses for the user's input

_timestamp = attrgetter("timestamp")
_names = attrgetter("names")
_row_name = attrgetter("name")
_has_metrics = attrgetter("has_metrics")
_available_cpu, _available_mem = attrgetter("available.cpu_milli"), attrgetter("available.mem_bytes")
_packed = attrgetter("packed")  # (a pod of several containers with simple spellings)
_cpu_milli = attrgetter("usage.cpu_milli")
_mem_bytes = attrgetter("usage.mem_bytes")


@dataclass
class StepTimes:
    """Where a step's time went (seconds): for benchmarks."""

    summing: float = 0.0  # a new pod metrics list decoded and summed
    nodes: float = 0.0  # node rows and pools
    pods: float = 0.0  # the pod view
    history: float = 0.0
    rollups: float = 0.0  # workloads and namespaces
    reclaim: float = 0.0  # their reclaimable CPU and memory put on the rows ...
    reclaim_made: float = 0.0  # ... of which made again from the history (about once a minute)
    total: float = 0.0  # wall time of the whole step
    thread: float = 0.0  # CPU time of the step's thread (the collector's work after it included)


def _same_objects(before: tuple, now: tuple) -> bool:
    (pods, owners, quotas), (pods_now, owners_now, quotas_now) = before, now
    return (pods is pods_now and quotas is quotas_now and owners.keys() == owners_now.keys()
            and all(owners[k] is owners_now[k] for k in owners))


def _namespace_key(row: NamespaceRow) -> tuple:
    return history_keys.namespace(row.namespace)


def _namespace_of(key: tuple) -> str:
    """The namespace of a workload's or a namespace's history key."""
    return key[2] if key[0] == "workload" else key[1]


def new_history() -> History:
    return History(capacities={"pod": POD_HISTORY, "container": POD_HISTORY, "workload": POD_HISTORY})


class Joiner:
    """Turns each refresh's Inputs into a Snapshot, and records history on the way."""

    def __init__(self, history: History, *, priority: InputPriority | None = None,
                 disposer: Disposer | None = None, pool_labels: Sequence[str] = POOL_LABELS) -> None:
        """`pool_labels`: the node labels that name a node's pool, the first one present."""
        self.history = history
        self.priority = priority or InputPriority()
        # Frees what a pod view held once no table shows it (None: where it dies).
        self._disposer = disposer
        self.slots = Slots()  # a number per pod, kept across lists and scopes
        # A pod's history ring is its slot, and its containers' rings are found by
        # it: recording a list looks no key up.
        index = self.slots.index
        self._container_rings = rings = ContainerRings(self.slots)
        history.number("pod", lambda key: index.get(key[1:]))
        history.clock("container", "pod", rings.locate, rings.live, rings.rings_of)
        self._nodes = NodeCache()
        self._pool_labels = tuple(pool_labels)
        self._pools = PoolJoin()
        self._pods = PodViewJoin()
        self._pod_metrics: SampleTable | None = None
        self._serial = 0  # counts the changes of _pod_metrics (which list a snapshot's samples are of)
        self._serial_of: SampleTable | None = None
        self._node_rows_recorded: dict[str, NodeRow] = {}  # the node rows history last saw, by name
        self._node_names: set[str] = set()
        self._workload_rollup = WorkloadRollup()
        self._reclaim = reclaim.Reclaim()
        # The rollups, and the inputs they were made from (made again only when those change).
        self._rollups: tuple[tuple, Workloads, list[NamespaceRow]] | None = None
        # The workload and namespace history keys of the rows last recorded.
        self._rollup_keys: tuple[list, list] = ([], [])
        self._quota_of: tuple = (None, {})  # the quota list last read, and its use by namespace
        self.rejected: MalformedResponse | None = None  # the last step's pod metrics list, if unreadable
        self.times = StepTimes()  # the last step's
        self.thread_seconds = 0.0  # CPU time of every step's thread so far (for benchmarks)

    def step(self, inputs: Inputs) -> Snapshot:
        """The Snapshot of these Inputs (run it in a worker thread: it takes a while)."""
        began, cpu = time.perf_counter(), time.thread_time()
        self.times = times = StepTimes()
        with MEMORY.join(release=inputs.pod_metrics is not None):
            snapshot = self._step(inputs, self.priority.join(), times)
        times.total, times.thread = time.perf_counter() - began, time.thread_time() - cpu
        self.thread_seconds += times.thread
        return snapshot

    def _step(self, inputs: Inputs, pause: Callable[[], None], times: StepTimes) -> Snapshot:
        self.rejected = None
        mark = time.perf_counter()
        if not inputs.pod_metrics_kept:
            self._pod_metrics = None
        health = inputs.health
        new = NewSamples()
        if inputs.pod_metrics is not None:
            # Decoded a batch at a time and summed as it goes: only the summaries
            # outlive this (the decoded list would be >100 MB), and the body goes
            # as soon as it is summed.
            raws = inputs.pod_metrics.take()
            try:
                table = sample_table_of_batches(
                    paced_batches(decoded_batches(raws, PodSampleMetrics, batch=SUM_BATCH, what="pod metrics"), pause),
                    self._pod_metrics, self.slots, new=new,
                )
            except MalformedResponse as err:
                new, self.rejected = NewSamples(), err
                was = health["pod metrics"]
                health = MappingProxyType({**health, "pod metrics": replace(was, error=err, failures=was.failures + 1)})
            else:
                self._pod_metrics = table
            del raws
        if self._pod_metrics is not self._serial_of:
            self._serial += 1
            self._serial_of = self._pod_metrics
        pause()
        mark, times.summing = time.perf_counter(), time.perf_counter() - mark
        nodes = node_rows(inputs.nodes, inputs.node_metrics, inputs.pods, pool_labels=self._pool_labels,
                          cache=self._nodes, changes=inputs.pod_changes)
        pools = self._pools.update(nodes)
        mark, times.nodes = time.perf_counter(), time.perf_counter() - mark
        view_before = self._pods.view
        pods = self._pods.update(inputs.pods, self._pod_metrics, changes=inputs.pod_changes, pause=pause)
        mark, times.pods = time.perf_counter(), time.perf_counter() - mark
        self._record(nodes, inputs, new, pause)
        mark, times.history = time.perf_counter(), time.perf_counter() - mark
        pause()
        members, namespaces, fresh = self._rollup(pods, inputs)
        if fresh or new.samples:
            self._record_rollups(members, namespaces, inputs, new)
        mark, times.rollups = time.perf_counter(), time.perf_counter() - mark
        members, namespaces = self._reclaimable(members, namespaces, pods, new, fresh, pause)
        times.reclaim = time.perf_counter() - mark
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
        if newest is not None and inputs.node_metrics is not None:
            self.history.record(history_keys.CLUSTER, max(stamps), totals.cpu_milli, totals.mem_bytes)
        pause()
        snapshot = Snapshot(
            nodes=nodes,
            pods=pods,
            health=health,
            newest_metrics=newest,
            clock_offset=inputs.clock_offset,
            totals=totals,
            loading=inputs.loading,
            # Counted here, off the UI thread.
            coverage=Coverage(sum(map(_has_metrics, nodes)), *pods.coverage()),
            not_ready=tuple(r.name for r in nodes if r.status.startswith(("NotReady", "Unknown"))),
            workloads=members.rows,
            namespaces=namespaces,
            notices=inputs.notices,
            members=members,
            pools=pools,
        )
        pods.measure_texts()  # (the widths the tables give names: measured here too)
        if self._disposer is not None and pods is not view_before:
            self._disposer.when_gone(pods, self._free, [pods.samples, pods.keys, pods.infos, self._serial])
        return snapshot

    def _rollup(self, pods: PodRowsView, inputs: Inputs) -> tuple[Workloads, list[NamespaceRow], bool]:
        """The workloads and namespaces of this pod view, and whether they are new.

        Made again when the pod view, the owners of ReplicaSets and Jobs or the quotas
        changed; following the view where a watch event changed it (WorkloadRollup).
        """
        made_of = (pods, dict(inputs.owners), inputs.quotas)
        if self._rollups is not None and _same_objects(self._rollups[0], made_of):
            return self._rollups[1], self._rollups[2], False
        rollup = self._workload_rollup.update(pods, inputs.owners, self._pods.edit)
        members = rollup.workloads
        if self._quota_of[0] is not inputs.quotas:  # (parsed once per quota list)
            self._quota_of = (inputs.quotas, quotas_by_namespace(inputs.quotas))
        namespaces = namespace_rows(rollup.namespaces, rollup.namespace_sums, self._quota_of[1])
        self._rollups = (made_of, members, namespaces)
        return members, namespaces, True

    def _reclaimable(self, members: Workloads, namespaces: list[NamespaceRow], view: PodRowsView, new: NewSamples,
                     fresh: bool, pause: Callable[[], None]) -> tuple[Workloads, list[NamespaceRow]]:
        """The rows with their reclaimable CPU and memory, made again from the history when a
        new pod metrics list makes them due (reclaim.py)."""
        if new.samples:
            # (Every 64th sample: one list's timestamps lie within a scrape of each other.)
            newest = max(map(_timestamp, new.samples[::64]))
            if self._reclaim.due(self.history, newest):
                began = time.perf_counter()
                figures = reclaim.compute(self.history, view.keys, view.infos, members, namespaces, self.slots,
                                          self._container_rings, pause, self._pods.slots_of(view))
                self.times.reclaim_made = time.perf_counter() - began
                self._reclaim.update(figures, newest, self.times.reclaim_made)
        if self._reclaim.figures is not self._workload_rollup.figures:
            members = msgspec.structs.replace(members, rows=self._workload_rollup.refigure(self._reclaim.figures))
        namespaces = self._reclaim.namespace_rows(namespaces, fresh)
        if self._rollups is not None:  # (what a refresh with the same inputs hands out again)
            self._rollups = (self._rollups[0], members, namespaces)
        return members, namespaces

    def _record_rollups(self, workloads: Workloads, namespaces: list[NamespaceRow], inputs: Inputs,
                        new: NewSamples) -> None:
        """History of workloads and namespaces: a sample per new pod metrics list, at its newest
        timestamp (their sums are of that list). Those gone from the scope shown are forgotten."""
        spaces = list(map(_namespace_key, namespaces))
        if new.samples:
            stamp = max(set(map(_timestamp, new.samples)))
            for rows, keys in ((workloads.rows, workloads.history_keys), (namespaces, spaces)):
                measured = list(compress(range(len(rows)), map(_has_metrics, rows)))
                rows = list(map(rows.__getitem__, measured))
                self.history.record_many(list(map(keys.__getitem__, measured)), [stamp] * len(rows),
                                         list(map(_cpu_milli, rows)), list(map(_mem_bytes, rows)), same_kind=True)
        if inputs.pods is not None and inputs.health["pods"].error is None and (
                workloads.history_keys is not self._rollup_keys[0] or spaces != self._rollup_keys[1]):
            now = set(workloads.history_keys).union(spaces)
            namespace = inputs.scope.namespace
            before = set(self._rollup_keys[0]).union(self._rollup_keys[1])
            gone = [key for key in before - now if not namespace or _namespace_of(key) == namespace]
            if gone:
                self.history.forget(gone)
            self._rollup_keys = (workloads.history_keys, spaces)

    def _free(self, parts: list) -> None:
        """What a pod view held, now that no table shows it: its lists (150,000 entries each)
        and, when a newer pod metrics list replaced its samples, those, a batch at a time
        (see memory.dispose)."""
        samples, keys, infos, serial = parts
        parts.clear()
        del keys, infos
        # Samples of the metrics list still in use die later, not here: touching
        # 150,000 of them for nothing cost ~30 ms of every steady refresh.
        samples_freed = serial != self._serial
        rows = list(samples) if samples_freed else []
        samples = None
        dispose(rows, self.priority.join())
        if samples_freed:
            release_free_memory()

    def _record(self, nodes: list[NodeRow], inputs: Inputs, new: NewSamples, pause: Callable[[], None]) -> None:
        """History of what changed: the node metrics, and the pods whose samples are new."""
        history = self.history
        if inputs.nodes_current:
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
        namespace = inputs.scope.namespace
        gone = [pod.key for pod in self._pods.gone if not namespace or pod.key[0] == namespace]
        # Their slots go to other pods at the next list: their history rings are emptied now.
        gone_slots = self.slots.free(gone)
        history.forget_numbered("pod", gone_slots)
        history.forget_numbered("container", self._container_rings.release(gone_slots))
        slots, samples = new.slots, new.samples
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
