"""Workloads: the row of one Deployment, StatefulSet, CronJob... summed from its pods, and what sorts it.

A workload is the top of its pods' owner chains (owners.py). Its usage is
the sum of its pods' usage, rounded once as `kubectl top pods -l SELECTOR
--sum` rounds its total line; its requests and limits are the sums of its
running pods' effective requests and limits. Percentages divide the usage of
the pods that report it by those pods' requests, and by the limits of only
the containers that set one (`LimitShare.partial` when some do not), so a
workload half without metrics does not read as half idle.

The rows are made from the pod view's numbers (rollup.py), followed from
refresh to refresh where pods and owners changed (WorkloadRollup).
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from itertools import repeat
from operator import attrgetter

import msgspec
import numpy as np

from ktopui.model import history_keys
from ktopui.model.amounts import Amounts, Usage
from ktopui.model.kinds import Kind
from ktopui.model.owners import OwnerMap, changed_entries, resolve
from ktopui.model.pod_view import PodRowsView
from ktopui.model.pod_view_join import ViewEdit
from ktopui.model.pods import LimitShare
from ktopui.model.rollup import (
    SUMMED_VALUES,
    PodNumbers,
    SummedRow,
    Sums,
    add_up,
    owners_of,
    parts,
)

_key = attrgetter("key")
_MEMBERS = Sums.__struct_fields__.index("members")


class WorkloadRow(SummedRow, gc=False):
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
    """Makes each refresh's Rollup of a pod view, following the view from refresh to refresh.

    What a refresh costs is what changed: the pods a watch event touched
    (PodNumbers.follow) change the sums of their owners (a pod's numbers
    taken out of its old owner's, put into its new owner's), owners whose
    map entries changed are resolved again (_Owners), and the owners' sums
    are added up by workload and namespace (a few thousand rows, not every
    pod). A new metrics list adds every pod up again; a view made afresh,
    or too many owners of pods long gone, start it all again.
    """

    def __init__(self) -> None:
        self.numbers: PodNumbers | None = None
        self.started = 0  # rollups made from every pod, not followed: for tests and benchmarks
        self._view: PodRowsView | None = None  # the view `numbers` are of
        self._owners = _Owners({})
        self._owner_of = np.zeros(0, dtype=np.int64)  # each entry's owner number (-1: a free entry)
        self._owner_sums = np.zeros((0, len(Sums.__struct_fields__)), dtype=np.int64)  # by owner number
        self._ordered: tuple = (None, [], [])  # (the workload groups with pods, in name order; their history keys)
        self._namespaces: tuple = (None, [], None)  # (the groups with members, their namespaces, each group's)
        # (The groups' sums and inferred marks the rows were made of, each group's row, the figures on them.)
        self._rows: tuple = (None, None, [], None)
        # Reclaimable CPU and memory by workload history key, put on rows as they are made (reclaim.Figures).
        self.figures = None

    def update(self, view: PodRowsView, maps: Mapping[str, OwnerMap | None], edit: ViewEdit | None = None) -> Rollup:
        """The rollup of `view`; `edit`: how it was made from the view of the last update (None: made afresh)."""
        owners = self._owners
        # (`_view` is held: no other object can have its id.)
        if (edit is None or self.numbers is None or edit.before != id(self._view)
                or len(owners) > 2 * len(view.keys) + 1000):  # (owners of pods long gone: start again)
            self._start(view, maps)
        else:
            self._follow(view, maps, edit)
        self._view = view
        return self._rollup()

    def _start(self, view: PodRowsView, maps: Mapping[str, OwnerMap | None]) -> None:
        self.started += 1
        self.numbers = PodNumbers(view.infos, view.samples)
        self._owners = owners = _Owners(maps)
        self._owner_of = owners.numbers(view.keys, view.infos)
        self._add_all()

    def _add_all(self) -> None:
        """Every pod's numbers added up by owner."""
        self._owner_sums = self.numbers.add_up(self._owner_of, len(self._owners))

    def _follow(self, view: PodRowsView, maps: Mapping[str, OwnerMap | None], edit: ViewEdit) -> None:
        numbers, owners = self.numbers, self._owners
        gone, entries, positions, before = numbers.follow(edit, view)
        owner_of = self._owner_of
        if len(owner_of) < numbers.size:
            owner_of = np.concatenate((owner_of, np.full(numbers.size - len(owner_of), -1, dtype=np.int64)))
        touched = np.concatenate((gone, entries))
        owners_before = owner_of[touched]
        owner_of[gone] = -1
        if positions:
            owner_of[entries] = owners.numbers(list(map(view.keys.__getitem__, positions)),
                                               list(map(view.infos.__getitem__, positions)))
        self._owner_of = owner_of
        if edit.new_samples:
            self._add_all()
        else:
            sums = self._owner_sums
            if len(sums) < len(owners):
                sums = self._owner_sums = np.concatenate(
                    (sums, np.zeros((len(owners) - len(sums), sums.shape[1]), dtype=np.int64)))
            at = owners_before >= 0
            np.subtract.at(sums, owners_before[at], before[at])
            np.add.at(sums, owner_of[entries], numbers.columns(entries))
        owners.follow(maps)

    def _rollup(self) -> Rollup:
        owners = self._owners
        group_of, inferred_of, workloads = owners.arrays()
        groups = len(workloads)
        owner_sums = self._owner_sums[: len(owners)]
        table = add_up(owner_sums, group_of, groups)
        s = Sums.of(table)
        # Inferred: a workload some of whose pods' owner chains were guessed.
        alive = owner_sums[:, _MEMBERS] > 0  # (owners of pods gone stay numbered until a restart)
        inferred = np.bincount(group_of, weights=inferred_of * alive, minlength=groups) > 0
        # Rows: the workloads with listed pods (not the groups of pods known only from metrics).
        shown = np.flatnonzero(owners.is_workload[:groups] & (s.pods > 0))
        if self._ordered[0] is None or not np.array_equal(self._ordered[0], shown):
            self._ordered = self._order(shown, workloads)
        _, order, history = self._ordered
        rows = self._workload_rows(table, order, inferred)
        row_of = np.full(groups + 1, -1, dtype=np.int64)  # (the last: no group)
        row_of[order] = np.arange(len(order))
        owner_of = self._owner_of
        group = np.where(owner_of >= 0, np.append(group_of, -1)[owner_of], -1)
        of_pod = row_of[group[self.numbers.at]]
        # Namespaces: their groups' sums added up (pods known only from metrics too).
        space_of = owners.namespace_of[:groups]
        live = np.unique(space_of[s.members > 0])
        if self._namespaces[0] is None or not np.array_equal(self._namespaces[0], live):
            names = owners.namespaces
            namespaces = sorted(names[i] for i in live.tolist())
            rank = np.full(len(names), -1, dtype=np.int64)
            rank[[owners.namespace_number[name] for name in namespaces]] = np.arange(len(namespaces))
            self._namespaces = (live, namespaces, rank)
        _, namespaces, rank = self._namespaces
        if len(rank) < len(owners.namespaces):  # (namespaces seen since, with no members)
            rank = np.concatenate((rank, np.full(len(owners.namespaces) - len(rank), -1, dtype=np.int64)))
        in_namespace = np.where(s.members > 0, rank[space_of], -1)
        return Rollup(Workloads(rows, of_pod, history), namespaces,
                      Sums.of(add_up(table, in_namespace, len(namespaces))))

    def _order(self, shown: np.ndarray, workloads: list[tuple]) -> tuple:
        """The groups `shown` in name order, and their history keys: those of the last
        order with the groups gone taken out and the new ones put in (a few, usually)."""
        before, order, _ = self._ordered

        def by_name(g: int) -> tuple[str, str, str]:
            return _name_order(workloads[g])

        if before is None:
            ordered = sorted(shown.tolist(), key=by_name)
        else:
            added, gone = np.setdiff1d(shown, before), np.setdiff1d(before, shown)
            if len(added) + len(gone) > 1000:
                ordered = sorted(shown.tolist(), key=by_name)
            else:
                ordered = order.tolist()
                if len(gone):
                    dropped = set(gone.tolist())
                    ordered = [g for g in ordered if g not in dropped]
                for g in added.tolist():
                    bisect.insort(ordered, g, key=by_name)
        return shown, np.asarray(ordered, dtype=np.int64), list(map(self._owners.history.__getitem__, ordered))

    def _workload_rows(self, table: np.ndarray, order: np.ndarray, inferred: np.ndarray) -> list[WorkloadRow]:
        """The rows of the groups `order` names, in that order: a group whose sums did not
        change since the last rows keeps its row, the others are made again."""
        before, marks, by_group, figures = self._rows
        if before is None or figures is not self.figures:
            changed = order
        else:
            known = min(len(before), len(table))
            same = np.zeros(len(table), dtype=bool)
            same[:known] = (before[:known] == table[:known]).all(axis=1) & (marks[:known] == inferred[:known])
            changed = order[~same[order]]
        by_group.extend([None] * (len(table) - len(by_group)))  # (groups added since)
        for group, row in zip(changed.tolist(), self._make_rows(table[changed], changed, inferred[changed])):
            by_group[group] = row
        self._rows = (table, inferred, by_group, self.figures)
        return list(map(by_group.__getitem__, order.tolist()))

    def refigure(self, figures) -> list[WorkloadRow]:
        """The last rows made again with these figures on them (reclaim.Figures; None: none)."""
        self.figures = figures
        table, inferred, _, _ = self._rows
        if table is None:  # (no rollup made yet)
            return []
        self._rows = (None, None, [], None)
        return self._workload_rows(table, self._ordered[1], inferred)

    def _make_rows(self, table: np.ndarray, order: np.ndarray, inferred: np.ndarray) -> list:
        s = Sums.of(table)
        p = parts(s)
        groups = order.tolist()
        kinds, spaces, names = zip(*map(self._owners.workloads.__getitem__, groups)) if groups else ((), (), ())
        if self.figures is None:
            cpu = mem = repeat(None)
        else:
            keys = list(map(self._owners.history.__getitem__, groups))
            cpu, mem = map(self.figures.workload_cpu.get, keys), map(self.figures.workload_mem.get, keys)
        return list(map(WorkloadRow, kinds, spaces, names, s.pods.tolist(), s.running.tolist(),
                        s.restarts.tolist(), s.oom_kills.tolist(), p.usage, p.requests, p.measured_requests,
                        p.limits, p.cpu_limit_share, p.mem_limit_share, inferred.tolist(), cpu, mem))


class _Owners:
    """The pods' owners, numbered, and the workload group each resolves to.

    An owner is resolved when first seen and again only when a map entry its
    resolution rests on changes (owners.changed_entries). Pods known only from
    their metrics have an owner of their namespace's (no workload of their own).
    """

    def __init__(self, maps: Mapping[str, OwnerMap | None]) -> None:
        self.maps = dict(maps)
        self.number_of: dict = {}  # PodOwner, or (_UNOWNED, namespace) -> owner number
        self.owners: list = []
        self.group_of: list[int] = []  # by owner number
        self.inferred_of: list[bool] = []
        self.resting_on: dict[tuple, set[int]] = {}  # a map entry -> the owners resolved through it
        self.group: dict[tuple, int] = {}  # a workload key (or a namespace's group of unowned pods) -> group
        self.workloads: list[tuple] = []  # by group
        self.is_workload = np.zeros(64, dtype=bool)  # by group: a workload's (not a namespace's unowned pods)
        self.namespace_of = np.zeros(64, dtype=np.int64)  # by group: its namespace's number
        self.namespace_number: dict[str, int] = {}
        self.namespaces: list[str] = []  # by number
        self.history: list[tuple] = []  # by group: its history key (history_keys.workload)
        self._arrays: tuple | None = None  # group_of and inferred_of as arrays (see arrays)

    def __len__(self) -> int:
        return len(self.owners)

    def numbers(self, keys: Sequence, infos: Sequence) -> np.ndarray:
        """The owner number of each of these pods (given by key and PodInfo)."""
        owners = owners_of(infos)
        if None in owners:
            owners = [(_UNOWNED, keys[i][0]) if owner is None else owner for i, owner in enumerate(owners)]
        found = list(map(self.number_of.get, owners))
        if None in found:
            for i in [i for i, number in enumerate(found) if number is None]:
                found[i] = self.number_of.get(owners[i])
                if found[i] is None:
                    found[i] = self._add(owners[i])
        return np.array(found, dtype=np.int64)

    def _add(self, owner) -> int:
        number = self.number_of[owner] = len(self.owners)
        self.owners.append(owner)
        self.group_of.append(-1)
        self.inferred_of.append(False)
        self._resolve(number)
        return number

    def _resolve(self, number: int) -> None:
        owner = self.owners[number]
        if isinstance(owner, tuple):  # pods of a namespace known only from their metrics
            key, inferred = (_UNOWNED, owner[1], _UNOWNED), False
        else:
            trail: list = []
            top = resolve(owner, self.maps, trail)
            key, inferred = (top.kind, top.namespace, top.name), top.inferred
            for entry in trail:
                self.resting_on.setdefault(entry, set()).add(number)
        group = self.group.get(key)
        if group is None:
            group = self.group[key] = len(self.workloads)
            self.workloads.append(key)
            self.history.append(history_keys.workload(*key))
            if group >= len(self.is_workload):
                self.is_workload = np.concatenate((self.is_workload, np.zeros(group + 1, dtype=bool)))
                self.namespace_of = np.concatenate((self.namespace_of, np.zeros(group + 1, dtype=np.int64)))
            self.is_workload[group] = key[0] != _UNOWNED
            space = self.namespace_number.get(key[1])
            if space is None:
                space = self.namespace_number[key[1]] = len(self.namespaces)
                self.namespaces.append(key[1])
            self.namespace_of[group] = space
        self.group_of[number], self.inferred_of[number] = group, inferred
        self._arrays = None

    def follow(self, maps: Mapping[str, OwnerMap | None]) -> None:
        """Resolve again the owners whose map entries changed."""
        same = self.maps.keys() == maps.keys() and all(self.maps[k] is maps[k] for k in maps)
        if same:
            return
        changed = changed_entries(self.maps, maps)
        self.maps = dict(maps)
        resting_on = self.resting_on
        for number in set().union(*(resting_on.get(entry, ()) for entry in changed)):
            self._resolve(number)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, list[tuple]]:
        """Each owner's group and whether it was inferred, by owner number; the groups' keys
        (the arrays made again only after an owner was added or resolved again)."""
        if self._arrays is None:
            self._arrays = (np.array(self.group_of, dtype=np.int64), np.array(self.inferred_of, dtype=np.float64))
        return (*self._arrays, self.workloads)


def _name_order(key: tuple[str, str, str]) -> tuple[str, str, str]:
    kind, namespace, name = key
    return (name, namespace, kind)
