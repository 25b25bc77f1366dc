"""Workloads: the row of one Deployment, StatefulSet, CronJob... summed from its pods, and what sorts it.

A workload is the top of its pods' owner chains (owners.py). Its usage is
the sum of its pods' usage, rounded once as `kubectl top pods -l SELECTOR
--sum` rounds its total line; its requests and limits are the sums of its
running pods' effective requests and limits. Percentages divide the usage of
the pods that report it by those pods' requests, and by the limits of only
the containers that set one (`LimitShare.partial` when some do not), so a
workload half without metrics does not read as half idle.

The rows are made from the pod view's numbers in one pass per refresh
(rollup.py); the resolution of owners to workloads is kept from one refresh
to the next while the ReplicaSets' and Jobs' owners stay the same.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import attrgetter

import msgspec
import numpy as np

from ktopui.model import history_keys
from ktopui.model.amounts import Amounts, Usage, pct
from ktopui.model.kinds import Kind
from ktopui.model.owners import OwnerMap, PodOwner, resolve
from ktopui.model.pods import LimitShare
from ktopui.model.rollup import (
    SUMMED_VALUES,
    PodNumbers,
    Sums,
    owners_of,
    parts,
    regroup,
    sums,
)

_key = attrgetter("key")


class WorkloadRow(msgspec.Struct, gc=False):
    kind: str  # Deployment, StatefulSet, DaemonSet, CronJob, Job, ReplicaSet, ReplicationController, Pod, a custom kind
    namespace: str
    name: str
    pods: int = 0  # listed pods (finished ones too)
    running: int = 0
    restarts: int = 0
    oom_kills: int = 0
    usage: Usage = msgspec.field(default_factory=Usage)  # None: no pod reports usage
    requests: Amounts = msgspec.field(default_factory=Amounts)  # of its unfinished pods (None: none set)
    measured_requests: Amounts = msgspec.field(default_factory=Amounts)  # of its pods with usage
    limits: Amounts = msgspec.field(default_factory=Amounts)
    cpu_limit_share: LimitShare = msgspec.field(default_factory=LimitShare)
    mem_limit_share: LimitShare = msgspec.field(default_factory=LimitShare)
    inferred: bool = False  # the owner chain was guessed from names and labels (owners.py)
    # What setting the suggested requests would free (reclaim.py; None: no gap known).
    reclaim_cpu_milli: int | None = None
    reclaim_mem_bytes: int | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.kind, self.namespace, self.name)

    @property
    def has_metrics(self) -> bool:
        return self.usage.cpu_milli is not None

    @property
    def pods_text(self) -> str:
        return f"{self.running}/{self.pods}"

    @property
    def cpu_req_pct(self) -> int | None:
        return pct(self.usage.cpu_milli, self.measured_requests.cpu_milli)

    @property
    def mem_req_pct(self) -> int | None:
        return pct(self.usage.mem_milli, self.measured_requests.mem_milli)

    @property
    def cpu_lim_pct(self) -> int | None:
        return self.cpu_limit_share.pct

    @property
    def mem_lim_pct(self) -> int | None:
        return self.mem_limit_share.pct


def filter_text(row: WorkloadRow) -> str:
    return f"{row.namespace}/{row.name} {row.kind}"


VALUES = {
    "kind": attrgetter("kind"),
    "namespace": attrgetter("namespace"),
    "name": attrgetter("name"),
    **SUMMED_VALUES,
}

WORKLOADS = Kind(
    name="workloads",
    key=_key,
    order=attrgetter("name", "namespace", "kind"),
    filter_text=filter_text,
    values=VALUES,
)


class Workloads(msgspec.Struct, gc=False):
    """One refresh's workloads in name order, and which of them each pod of the view is in."""

    rows: list[WorkloadRow]
    of_pod: np.ndarray  # by position in the pod view: the row's position (-1: none, a pod known from metrics only)
    history_keys: list = []  # each row's history key (history_keys.workload), the same list while the rows' keys are

    def positions(self, key: tuple[str, str, str]) -> list[int]:
        """The positions, in the pod view, of the pods of the workload `key`."""
        at = next((i for i, row in enumerate(self.rows) if row.key == key), None)
        return [] if at is None else np.flatnonzero(self.of_pod == at).tolist()


class Rollup(msgspec.Struct, gc=False):
    """The workloads, and the sums of every namespace the pods are in (by namespace name, sorted)."""

    workloads: Workloads
    namespaces: list[str]
    namespace_sums: Sums


# The group of the pods of a namespace known only from their metrics (no owner to tell):
# counted in their namespace, no workload of their own.
_UNOWNED = ""


class WorkloadRollup:
    """Makes each refresh's Rollup; keeps what owners resolve to while the owner maps stay."""

    def __init__(self) -> None:
        self._maps: dict = {}
        self._resolved: dict[PodOwner, tuple] = {}
        self._grouping: _Grouping | None = None

    def rows(self, keys: Sequence[tuple[str, str]], infos: Sequence, numbers: PodNumbers,
             maps: Mapping[str, OwnerMap | None]) -> Rollup:
        # The feed hands out the same map while the owners are the same (compared by identity,
        # the maps kept: an id may be reused once its object is gone).
        same = self._maps.keys() == maps.keys() and all(self._maps[k] is maps[k] for k in maps)
        grouping = self._grouping
        if not same or grouping is None or grouping.keys is not keys or grouping.infos is not infos:
            # (A new metrics list for the same pods keeps the grouping: only the sums change.)
            grouping = self._grouping = self._group(keys, infos, numbers, maps, same)
        group, groups, ordered, ids = grouping.group, grouping.groups, grouping.ordered, grouping.ids
        s = sums(numbers, group, len(groups))
        # Namespaces: their workloads' sums added up (and those of pods known only from metrics).
        namespace_sums = regroup(s, grouping.in_namespace, len(grouping.namespaces))
        shown = len(ordered)
        p = parts(s)
        kinds, spaces, names = zip(*ordered) if ordered else ((), (), ())
        rows = list(map(WorkloadRow, kinds, spaces, names, s.pods[:shown].tolist(), s.running[:shown].tolist(),
                        s.restarts[:shown].tolist(), s.oom_kills[:shown].tolist(), p.usage, p.requests,
                        p.measured_requests, p.limits, p.cpu_limit_share, p.mem_limit_share,
                        map(ids.__getitem__, ordered)))
        return Rollup(Workloads(rows, np.where(group < shown, group, -1), grouping.history), grouping.namespaces,
                      namespace_sums)

    def _group(self, keys: Sequence[tuple[str, str]], infos: Sequence, numbers: PodNumbers,
               maps: Mapping[str, OwnerMap | None], same: bool) -> _Grouping:
        owners = owners_of(infos)
        distinct = dict(zip(map(id, owners), owners))
        if not same or len(self._resolved) > 2 * len(distinct) + 1000:  # (pods come and go)
            self._maps, self._resolved = dict(maps), {}
        resolved = self._resolved
        # Each distinct owner's workload, as (kind, namespace, name) and inferred (once per
        # distinct owner, not per pod).
        workload_of: dict[int, tuple | None] = {}
        for number, owner in distinct.items():
            if owner is None:
                workload_of[number] = None
                continue
            found = resolved.get(owner)
            if found is None:
                top = resolve(owner, maps)
                found = resolved[owner] = ((top.kind, top.namespace, top.name), top.inferred)
            workload_of[number] = found
        # One row per workload key; inferred when any of its pods' chains was.
        ids: dict[tuple[str, str, str], bool] = {}
        for found in workload_of.values():
            if found is not None and not ids.get(found[0]):
                ids[found[0]] = found[1]
        unowned = np.flatnonzero(~numbers.listed).tolist()
        spare = sorted({(_UNOWNED, keys[i][0], _UNOWNED) for i in unowned} - ids.keys())
        ordered = sorted(ids, key=_name_order)
        groups = ordered + spare
        number_of = dict(zip(groups, range(len(groups))))
        group_of = {number: (-1 if found is None else number_of[found[0]]) for number, found in workload_of.items()}
        group = np.fromiter(map(group_of.__getitem__, map(id, owners)), dtype=np.int64, count=len(owners))
        for i in unowned:
            group[i] = number_of[(_UNOWNED, keys[i][0], _UNOWNED)]
        namespaces = sorted({namespace for _, namespace, _ in groups})
        namespace_of = dict(zip(namespaces, range(len(namespaces))))
        in_namespace = np.fromiter((namespace_of[namespace] for _, namespace, _ in groups), dtype=np.int64,
                                   count=len(groups))
        history = [history_keys.workload(*key) for key in ordered]
        return _Grouping(keys, infos, group, groups, ordered, ids, namespaces, in_namespace, history)


class _Grouping(msgspec.Struct, gc=False):
    """Which group each pod of a view is in (kept while its keys and PodInfos are the same lists)."""

    keys: Sequence
    infos: Sequence
    group: np.ndarray
    groups: list  # workload keys in name order, then a group per namespace for pods known only by metrics
    ordered: list  # the workload keys alone
    ids: dict  # workload key -> inferred
    namespaces: list[str]  # sorted
    in_namespace: np.ndarray  # each group's namespace, by position in `namespaces`
    history: list  # each workload's history key, in `ordered` order


def _name_order(key: tuple[str, str, str]) -> tuple[str, str, str]:
    kind, namespace, name = key
    return (name, namespace, kind)
