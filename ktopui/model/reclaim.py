"""Reclaimable CPU and memory of every workload and namespace, from the history rings at once.

A workload's reclaimable CPU (memory) is, over its unfinished pods and their
running containers, the sum of the positive gaps between each container's
request today and the suggestion for that container of the workload
(suggestions.py): what setting the suggested requests would free. A
container without a request has no gap; a namespace's figure is the sum of
its workloads'.

This reads every pod's ring, so it is made at most once per RECLAIM_EVERY
seconds of metrics time, and no more often than keeps it under a
COST_SHARE of the time (on the largest clusters, every few minutes); first
as soon as some pod holds MIN_SAMPLES samples. All in numpy: the pods'
containers are found through their
specs (once per distinct spec) and their rings (a pod's own ring serves for
its one running container, see history_keys.of_container; a pod of several
has a ring per container, slots.ContainerRings). The rows keep the last
figures between two computations; a workload new since has none yet.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from itertools import chain, compress, repeat
from operator import attrgetter, is_not, itemgetter

import msgspec
import numpy as np

from ktopui.model.history import History, epoch
from ktopui.model.namespaces import NamespaceRow
from ktopui.model.rings import CPU, MEMORY, RingArrays
from ktopui.model.rollup import masked
from ktopui.model.slots import ContainerRings, Slots
from ktopui.model.suggestions import (
    MIN_SAMPLES,
    SeriesStats,
    gaps,
    reclaimable,
    series_stats,
    suggest,
)
from ktopui.model.workloads import Workloads

RECLAIM_EVERY = 60.0  # seconds of metrics time between two computations, at least
COST_SHARE = 1 / 600  # ... and at least 600 times what the last one took (bench/RESULTS.md)
CHUNK = 8192  # rings read at once (a chunk's copy of their arrays: a few MB)
_FINISHED = frozenset(("Succeeded", "Failed"))
_NO_RING, _POD_RING, _CONTAINER_RING = 0, 1, 2

_spec = attrgetter("spec")
_phase = attrgetter("phase")
_namespace = attrgetter("namespace")
_names, _rings = itemgetter(0), itemgetter(1)


class Figures(msgspec.Struct, frozen=True, gc=False):
    """Reclaimable CPU (millicores) and memory (bytes) by workload history key (history_keys.workload)
    and by namespace (None: no gap known)."""

    workload_cpu: dict
    workload_mem: dict
    namespace_cpu: dict
    namespace_mem: dict


def _nan_if_none(value: int | None) -> float:
    return np.nan if value is None else float(value)


class _Spec(msgspec.Struct, gc=False):
    """A distinct spec's running containers: name numbers and requests (NaN: not set)."""

    names: tuple[str, ...]
    name_ids: list[int]
    cpu: list[float]
    mem: list[float]


def _specs(specs: list, name_id: dict[str, int]) -> list[_Spec]:
    out = []
    for spec in specs:
        running = [c for c in spec.containers if c.role != "init"]
        names = tuple(c.name for c in running)
        out.append(_Spec(names, [name_id.setdefault(n, len(name_id)) for n in names],
                         [_nan_if_none(c.requests.cpu_milli) for c in running],
                         [_nan_if_none(c.requests.mem_bytes) for c in running]))
    return out


class Entries(msgspec.Struct, gc=False):
    """One entry per running container of each pod counted: where its samples are and what it asks for."""

    workload: np.ndarray  # its workload row
    name: np.ndarray  # its container name's number
    cpu: np.ndarray  # its request (NaN: not set)
    mem: np.ndarray
    source: np.ndarray  # _NO_RING, _POD_RING or _CONTAINER_RING
    ring: np.ndarray  # its ring in that source
    owner: np.ndarray  # its pod's ring (whose times and count a container ring goes by)


def entries(keys: Sequence, infos: Sequence, of_pod: np.ndarray, slots: Slots, rings: ContainerRings,
            view_slots: Sequence[int] | None = None) -> Entries:
    """The entries of the pods of a view that are in a workload and have not finished
    (`view_slots`: each pod's slot, when the view has them at hand)."""
    of_pod = np.asarray(of_pod)
    listed = np.fromiter(map(is_not, infos, repeat(None)), dtype=bool, count=len(infos))
    picked_at = listed & (of_pod >= 0)
    at = np.flatnonzero(picked_at).tolist()
    picked = list(compress(infos, picked_at.tolist()))
    finished = np.fromiter(map(_FINISHED.__contains__, map(_phase, picked)), dtype=bool, count=len(picked))
    if finished.any():  # (finished pods: some Jobs')
        keep = (~finished).tolist()
        at, picked = list(compress(at, keep)), list(compress(picked, keep))
    if view_slots is not None:
        found = list(map(view_slots.__getitem__, at))
    else:
        found = list(map(slots.index.get, map(keys.__getitem__, at), repeat(-1)))
    n = len(found)
    slot = np.array(found, dtype=np.int64)
    blocks = rings.blocks(found)
    # Per distinct (spec, container rings' names): its containers and where each one's ring is.
    specs = list(map(_spec, picked))
    # Most pods hold no container rings (one container): those that do are picked out in C.
    has = np.fromiter(map(is_not, blocks, repeat(None)), dtype=bool, count=n)
    with_rings = list(compress(blocks, has.tolist()))
    block_names = list(map(_names, with_rings))
    # Each pod's first pod of the same pair, in one pass (setdefault keeps the first's position).
    first_of: dict = {}
    firsts = np.empty(n, dtype=np.int64)
    for mask, names_of in ((~has, repeat(None)), (has, block_names)):
        chosen = mask.tolist()
        firsts[mask] = np.fromiter(map(first_of.setdefault, zip(map(id, compress(specs, chosen)), names_of),
                                       compress(range(n), chosen)), dtype=np.int64, count=int(mask.sum()))
    distinct = list(first_of.values())
    combos = [(specs[i], names) for (_, names), i in zip(first_of, distinct)]
    lookup = np.zeros(n, dtype=np.int64)
    lookup[distinct] = np.arange(len(distinct))
    combo = lookup[firsts]
    name_id: dict[str, int] = {}
    shapes = _specs([spec for spec, _ in combos], name_id)
    width = max((len(s.names) for s in shapes), default=0)
    combo_count = len(combos)
    t_name = np.zeros((combo_count, width), dtype=np.int64)
    t_cpu = np.full((combo_count, width), np.nan)
    t_mem = np.full((combo_count, width), np.nan)
    t_source = np.zeros((combo_count, width), dtype=np.int8)
    t_pos = np.zeros((combo_count, width), dtype=np.int64)
    for c, ((_, names), shape) in enumerate(zip(combos, shapes)):
        k = len(shape.names)
        t_name[c, :k], t_cpu[c, :k], t_mem[c, :k] = shape.name_ids, shape.cpu, shape.mem
        if names is None:
            # No container rings: the pod's own ring is its one running container's.
            t_source[c, :k] = _POD_RING if k == 1 else _NO_RING
        else:
            for j, name in enumerate(shape.names):
                if name in names:
                    t_source[c, j], t_pos[c, j] = _CONTAINER_RING, names.index(name)
    running = np.array([len(s.names) for s in shapes], dtype=np.int64)[combo] if len(specs) else np.zeros(0, np.int64)
    pod = np.repeat(np.arange(len(specs)), running)
    j = np.arange(len(pod)) - np.repeat(np.cumsum(running) - running, running)
    c = combo[pod]
    # The container rings of every pod that has some, one flat list, and where each pod's start.
    held = list(map(_rings, with_rings))
    counts = np.zeros(len(blocks), dtype=np.int64)
    counts[has] = np.fromiter(map(len, held), dtype=np.int64, count=len(held))
    flat = np.fromiter(chain.from_iterable(held), dtype=np.int64, count=int(counts.sum()))
    start = np.cumsum(counts) - counts
    source = t_source[c, j].astype(np.int64)
    source[slot[pod] < 0] = _NO_RING
    owner = slot[pod]
    ring = np.where(source == _POD_RING, owner, -1)
    container = source == _CONTAINER_RING
    ring[container] = flat[start[pod[container]] + t_pos[c[container], j[container]]]
    return Entries(of_pod[np.array(at, dtype=np.int64)][pod], t_name[c, j], t_cpu[c, j], t_mem[c, j], source, ring, owner)


def _held(arrays: RingArrays, owners: np.ndarray) -> np.ndarray:
    """Which positions of these rings hold samples."""
    samples = np.minimum(arrays.count[owners], arrays.capacity)
    return np.arange(arrays.capacity) < samples[:, None]


def _stats(history: History, e: Entries, pause: Callable[[], None]) -> SeriesStats:
    """Each entry's figures but its times (rows say no span), a chunk of rings at a time (an
    entry without a ring: NaN)."""
    pods = history.numbered_rings("pod").arrays
    containers = history.clocked_rings("container")
    n = len(e.source)
    out = SeriesStats(np.full(n, np.nan), np.full(n, np.nan), np.zeros(n, dtype=np.int64), np.full(n, np.nan),
                      np.full(n, np.nan))
    owner_ok = (e.owner >= 0) & (e.owner < len(pods))
    by_source = (
        (np.flatnonzero((e.source == _POD_RING) & owner_ok), pods.values),
        (np.flatnonzero((e.source == _CONTAINER_RING) & owner_ok & (e.ring < containers.ready)), containers.values),
    )
    for which, values in by_source:
        for begin in range(0, len(which), CHUNK):
            part = which[begin : begin + CHUNK]
            rings = e.ring[part]
            found = series_stats(values[rings, CPU], values[rings, MEMORY], None, _held(pods, e.owner[part]))
            for column, got in zip(out, found):
                column[part] = got
            pause()
    return out


def compute(history: History, keys: Sequence, infos: Sequence, workloads: Workloads, namespaces: list[NamespaceRow],
            slots: Slots, rings: ContainerRings, pause: Callable[[], None] = lambda: None,
            view_slots: Sequence[int] | None = None) -> Figures:
    """Every workload's and namespace's reclaimable CPU and memory, from the history held now
    (`view_slots`: see entries)."""
    rows = workloads.rows
    e = entries(keys, infos, workloads.of_pod, slots, rings, view_slots)
    stats = _stats(history, e, pause)
    names = int(e.name.max()) + 1 if len(e.name) else 1
    groups, group = np.unique(e.workload * names + e.name, return_inverse=True)
    s = suggest(stats, group, len(groups), spans=False)
    # A namespace's figures: the sums of its workloads' (None when none of them has one).
    spaces = list(map(_namespace, namespaces))
    number = dict(zip(spaces, range(len(spaces))))
    space_of = np.fromiter(map(number.get, map(_namespace, rows), repeat(-1)), dtype=np.int64, count=len(rows))
    in_space = space_of >= 0
    figures = {}
    for resource, requests, suggested in (("cpu", e.cpu, s.cpu_milli), ("mem", e.mem, s.mem_bytes)):
        total, known = reclaimable(gaps(requests, suggested[group]), e.workload, len(rows))
        total = total.astype(np.int64)
        of_space = np.bincount(space_of[in_space], weights=total[in_space], minlength=len(spaces))
        space_known = np.bincount(space_of[in_space], weights=known[in_space], minlength=len(spaces)) > 0
        figures[resource] = (masked(total, known), masked(np.rint(of_space).astype(np.int64), space_known))
    keys = workloads.history_keys
    return Figures(dict(zip(keys, figures["cpu"][0])), dict(zip(keys, figures["mem"][0])),
                   dict(zip(spaces, figures["cpu"][1])), dict(zip(spaces, figures["mem"][1])))


class Reclaim:
    """Keeps the last figures, says when they are due again, and puts them on the rows."""

    def __init__(self) -> None:
        self.figures: Figures | None = None
        self._made_at: float | None = None  # the metrics time of the samples they were made from
        self._every = RECLAIM_EVERY  # seconds from then until they are due again
        self._shown: tuple = ()  # (namespace rows, figures) in, and the rows out

    def due(self, history: History, newest: str) -> bool:
        """Whether a list whose newest sample is at `newest` (RFC 3339) calls for new figures."""
        when = epoch(newest) if newest else None
        if when is None:
            return False
        if self._made_at is None:
            counts = history.numbered_rings("pod").arrays.count
            return bool(len(counts)) and int(counts.max()) >= MIN_SAMPLES
        return when - self._made_at >= self._every

    def update(self, figures: Figures, newest: str, seconds: float) -> None:
        """New figures, from samples as new as `newest`, that took `seconds` to make."""
        self.figures, self._made_at = figures, epoch(newest)
        self._every = max(RECLAIM_EVERY, seconds / COST_SHARE)

    def namespace_rows(self, namespaces: list[NamespaceRow], fresh: bool) -> list[NamespaceRow]:
        """The namespace rows with the last figures on them: rows just made (`fresh`) are given
        them in place, rows a snapshot already showed are copied. (A workload's figures are put
        on its row as it is made: WorkloadRollup.figures.)"""
        figures = self.figures
        if figures is None:
            return namespaces
        shown = self._shown
        if shown and shown[0] is namespaces and shown[1] is figures:
            return shown[2]
        given = namespaces
        if not fresh:
            namespaces = list(map(msgspec.structs.replace, namespaces))
        spaces = list(map(_namespace, namespaces))
        _set(_SET_NAMESPACE_CPU, namespaces, list(map(figures.namespace_cpu.get, spaces)))
        _set(_SET_NAMESPACE_MEM, namespaces, list(map(figures.namespace_mem.get, spaces)))
        self._shown = (given, figures, namespaces)
        return namespaces


_SET_NAMESPACE_CPU, _SET_NAMESPACE_MEM = NamespaceRow.reclaim_cpu_milli.__set__, NamespaceRow.reclaim_mem_bytes.__set__


def _set(setter: Callable, rows: list, values: list) -> None:
    deque(map(setter, rows, values), maxlen=0)
