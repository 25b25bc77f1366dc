"""What one refresh shows: node rows, node pools, the pods, each list's health, totals. Frozen once made.

The UI reads a snapshot while the next join runs; nothing changes it, and
nothing has to hand it back. Screens keep the rows their tables show and a
Summary for their header (a few numbers and words), never the snapshot: what
a pod view held is freed off the UI thread once the last table lets go of it
(live/memory.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

from ktopui.kube.errors import KubeError, MetricsUnavailable
from ktopui.model.namespaces import NamespaceRow
from ktopui.model.nodes import NodeRow
from ktopui.model.pod_view import PodRowsView
from ktopui.model.pods import PodRow
from ktopui.model.pools import PoolRow
from ktopui.model.workloads import WorkloadRow, Workloads

SOURCES = ("nodes", "pods", "node metrics", "pod metrics")


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Totals:
    cpu_milli: int = 0
    cpu_allocatable_milli: int = 0
    mem_bytes: int = 0
    mem_allocatable_bytes: int = 0


class Coverage(NamedTuple):
    """How much of the cluster reports usage."""

    nodes_measured: int = 0
    pods_measured: int = 0
    pods_running: int = 0


def _metrics_error(health: Mapping[str, SourceHealth]) -> MetricsUnavailable | None:
    for source in ("node metrics", "pod metrics"):
        error = health[source].error
        if isinstance(error, MetricsUnavailable):
            return error
    return None


def _errors(health: Mapping[str, SourceHealth]) -> dict[str, KubeError]:
    return {name: h.error for name, h in health.items() if h.error is not None}


@dataclass(frozen=True)
class Summary:
    """What a header says of a snapshot, without its rows."""

    nodes: int
    pods: int
    health: Mapping[str, SourceHealth]
    newest_metrics: float | None
    clock_offset: float
    totals: Totals
    loading: tuple[str, ...]
    coverage: Coverage
    not_ready: tuple[str, ...]
    notices: tuple[str, ...] = ()

    @property
    def metrics_error(self) -> MetricsUnavailable | None:
        return _metrics_error(self.health)

    @property
    def errors(self) -> dict[str, KubeError]:
        return _errors(self.health)


@dataclass(frozen=True, slots=True)
class Snapshot:
    nodes: Sequence[NodeRow]
    pods: PodRowsView  # in (name, namespace) order, the order tables show ties in; rows made as looked at
    health: Mapping[str, SourceHealth]
    newest_metrics: float | None = None  # epoch seconds of the newest metrics timestamp
    clock_offset: float = 0.0  # the server's clock less ours: ages are told by the server's clock
    totals: Totals = Totals()
    loading: tuple[str, ...] = ()  # lists whose first LIST has not arrived yet
    coverage: Coverage = Coverage()
    not_ready: tuple[str, ...] = ()  # the nodes whose Ready condition is not True
    workloads: Sequence[WorkloadRow] = ()  # in (name, namespace, kind) order
    namespaces: Sequence[NamespaceRow] = ()  # in name order
    # What the views lack and why, in plain words ("Deployments inferred from pod labels: ...").
    notices: tuple[str, ...] = ()
    # Which workload each pod of `pods` is in (for a workload's pods).
    members: Workloads | None = None
    pools: Sequence[PoolRow] = ()  # the listed nodes grouped by pool, in no particular order

    def summary(self) -> Summary:
        return Summary(len(self.nodes), len(self.pods), self.health, self.newest_metrics, self.clock_offset,
                       self.totals, self.loading, self.coverage, self.not_ready, self.notices)

    def workload_pods(self, key: tuple[str, str, str]) -> PodRowsView:
        """The pods of the workload `key` (kind, namespace, name), in the order of `pods`."""
        if self.members is None:
            return PodRowsView([], [], [])
        return self.pods.subset(self.members.positions(key))

    def pod(self, namespace: str, name: str) -> PodRow | None:
        return self.pods.pod(namespace, name)

    def pods_on(self, node: str) -> PodRowsView:
        """The pods of one node, in the order of `pods` (the same view when asked again)."""
        return self.pods.on_node(node)

    def pod_namespaces(self) -> set[str]:
        """The namespaces the pods are in."""
        return self.pods.namespaces()

    def in_namespace(self, namespace: str) -> Snapshot:
        """This snapshot with only the pods of one namespace ("": all of them)."""
        if not namespace:
            return self
        pods = self.pods.in_namespace(namespace)
        return replace(self, pods=pods, coverage=Coverage(self.coverage.nodes_measured, *pods.coverage()),
                       workloads=[w for w in self.workloads if w.namespace == namespace],
                       namespaces=[n for n in self.namespaces if n.namespace == namespace])

    @property
    def metrics_error(self) -> MetricsUnavailable | None:
        return _metrics_error(self.health)

    @property
    def errors(self) -> dict[str, KubeError]:
        return _errors(self.health)
