"""Pods summed by group (their workload, their namespace), with numpy, not a loop per pod.

A pod view's lists (keys, PodInfos, PodSamples) are read into number columns
(`PodNumbers`: C-level maps over the lists; what a pod's spec gives is read
once per distinct spec, which replicas share), and kept: a view patched by
watch events is followed pod by pod where it changed, and only a new metrics
list reads every pod again. A grouping gives each pod a group number, and
`add_up_columns` adds every column up per group, exactly (numpy's bincount, see there).

Usage adds up as `kubectl top pods --sum` does: the exact nano cores (and
milli bytes) of every container of every pod, rounded once at the end
(SPEC §2.5 item 6), not each pod's rounded cell.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat
from operator import attrgetter, eq, is_not

import msgspec
import numpy as np

from ktopui.model.amounts import Amounts, Usage, pct
from ktopui.model.pods import LimitShare
from ktopui.model.samples import used_milli


class SummedRow(msgspec.Struct, gc=False):
    """What a row summed from pods (a workload's, a namespace's) tells of its own fields
    (`usage`, `measured_requests`, the limit shares, `running`, `pods`: its subclass's)."""

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


# What a summed row (a workload's, a namespace's: the same fields) sorts by, besides its names.
SUMMED_VALUES = {
    "pods": attrgetter("pods"),
    "running": attrgetter("running"),
    "restarts": attrgetter("restarts"),
    "oom_kills": attrgetter("oom_kills"),
    "cpu": attrgetter("usage.cpu_milli"),
    "mem": attrgetter("usage.mem_bytes"),
    "cpu_req_pct": attrgetter("cpu_req_pct"),
    "mem_req_pct": attrgetter("mem_req_pct"),
    "cpu_lim_pct": attrgetter("cpu_lim_pct"),
    "mem_lim_pct": attrgetter("mem_lim_pct"),
    "cpu_req": attrgetter("requests.cpu_milli"),
    "mem_req": attrgetter("requests.mem_bytes"),
    "cpu_lim": attrgetter("limits.cpu_milli"),
    "mem_lim": attrgetter("limits.mem_bytes"),
    "reclaim_cpu": attrgetter("reclaim_cpu_milli"),
    "reclaim_mem": attrgetter("reclaim_mem_bytes"),
}

_spec = attrgetter("spec")
_owner = attrgetter("owner")
_phase = attrgetter("phase")
_restarts = attrgetter("restarts")
_cpu_nanos = attrgetter("cpu_nanos")
_mem_milli = attrgetter("usage.mem_milli")
_oom_kills = attrgetter("oom_kills")
_NANOS_PER_MILLI = 1_000_000
_FINISHED = frozenset(("Succeeded", "Failed"))


def _or_zero(value: int | None) -> int:
    return 0 if value is None else value


# What a pod's PodInfo gives (bool or int64), and what its sample gives (with its spec).
INFO_COLUMNS = ("listed", "running", "restarts", "oom_kills", "cpu_req", "mem_req", "cpu_lim", "mem_lim",
                "cpu_bounded", "cpu_partial", "cpu_limit", "mem_bounded", "mem_partial", "mem_limit")
SAMPLE_COLUMNS = ("has_sample", "measured", "cpu_nanos", "mem_milli", "cpu_partial_used", "mem_partial_used")
_BOOLS = frozenset(("listed", "running", "cpu_bounded", "cpu_partial", "mem_bounded", "mem_partial",
                    "has_sample", "measured"))


def _info_columns(infos: Sequence) -> dict[str, np.ndarray]:
    """INFO_COLUMNS of these pods (None: a pod known only from its metrics: all zero)."""
    n = len(infos)
    present = np.fromiter(map(is_not, infos, repeat(None)), dtype=bool, count=n)
    listed = infos if present.all() else list(filter(None, infos))  # (structs are true)
    at = np.flatnonzero(present)

    def by_listed(values: np.ndarray, dtype: type = np.int64) -> np.ndarray:
        out = np.zeros(n, dtype=dtype)
        out[at] = values
        return out

    count = len(listed)
    phases = list(map(_phase, listed))
    out = {"listed": present,
           "running": by_listed(np.fromiter(map(eq, phases, repeat("Running")), dtype=bool, count=count), bool),
           "restarts": by_listed(np.fromiter(map(_restarts, listed), dtype=np.int64, count=count)),
           "oom_kills": by_listed(np.fromiter(map(_oom_kills, listed), dtype=np.int64, count=count))}
    # A pod that has finished reserves nothing (as `kubectl describe node` counts).
    finished = np.fromiter(map(_FINISHED.__contains__, phases), dtype=bool, count=count)
    # What a spec gives, once per distinct spec (replicas share one object).
    specs = list(map(_spec, listed))
    distinct = dict(zip(map(id, specs), specs))
    number = dict(zip(distinct, range(len(distinct))))
    ids = np.fromiter(map(number.__getitem__, map(id, specs)), dtype=np.int64, count=count)
    table = np.array([_spec_numbers(spec) for spec in distinct.values()], dtype=np.int64).reshape(-1, 10)[ids]
    table[finished] = 0
    for i, name in enumerate(("cpu_req", "mem_req", "cpu_lim", "mem_lim", "cpu_bounded", "cpu_partial", "cpu_limit",
                              "mem_bounded", "mem_partial", "mem_limit")):
        out[name] = by_listed(table[:, i], bool if name in _BOOLS else np.int64)
    return out


def _sample_columns(infos: Sequence, samples: Sequence, cpu_bounded: np.ndarray, cpu_partial: np.ndarray,
                    mem_bounded: np.ndarray, mem_partial: np.ndarray, known: dict, kept: dict) -> dict[str, np.ndarray]:
    """SAMPLE_COLUMNS of these pods (the bounded/partial flags: their INFO_COLUMNS).

    `known`: the usage of the limited containers of pods where only some set a limit,
    by (resource, spec, sample) identity, from before; what is used is put in `kept`."""
    n = len(samples)
    has_sample = np.fromiter(map(is_not, samples, repeat(None)), dtype=bool, count=n)
    present = samples if has_sample.all() else list(filter(None, samples))
    cpu = np.fromiter(map(_cpu_nanos, present), dtype=np.int64, count=len(present))
    mems = list(map(_mem_milli, present))
    if None in mems:  # (an invalid memory quantity: rare, no data)
        mems = list(map(_or_zero, mems))
    out = {"has_sample": has_sample, "measured": np.zeros(n, dtype=bool),
           "cpu_nanos": np.zeros(n, dtype=np.int64), "mem_milli": np.zeros(n, dtype=np.int64)}
    # Measured: a sample whose CPU could be read (an invalid quantity is no data).
    out["measured"][has_sample] = cpu >= 0
    out["cpu_nanos"][has_sample] = np.maximum(cpu, 0)
    out["mem_milli"][has_sample] = np.fromiter(mems, dtype=np.int64, count=len(mems))
    # The usage of the containers that set a limit, where only some do: counted container
    # by container (a few pods: sidecars without limits), kept while spec and sample are.
    for resource, bounded, partial in (("cpu", cpu_bounded, cpu_partial), ("mem", mem_bounded, mem_partial)):
        used = out[f"{resource}_partial_used"] = np.zeros(n, dtype=np.int64)
        names_of = attrgetter(f"{resource}_bounded")
        for i in np.flatnonzero(bounded & partial & has_sample).tolist():
            spec, sample = infos[i].spec, samples[i]
            key = (resource, id(spec), id(sample))
            found = known.get(key)
            if found is None:  # (the objects are kept with it: their ids are not reused meanwhile)
                found = (spec, sample, used_milli(sample, names_of(spec), resource) or 0)
            kept[key] = found
            used[i] = found[2]
    return out


class PodNumbers:
    """The numbers rollups add up, one entry per pod of a view, kept from view to view.

    A pod keeps its entry while it stays in the view (`at`: each position's entry),
    so a view patched by a watch event is followed by looking at the pods it names
    (`follow`), not at all 150,000; a new metrics list reads every sample again.
    Free entries are all zero (not listed, not measured).

    CPU usage in nano cores and memory in milli bytes (exact); requests and
    limits in millicores and bytes (0: not set). For limit percentages, the
    usage of only the containers that set a limit over those limits, as pods
    count them (pods.LimitShare).
    """

    def __init__(self, infos: Sequence, samples: Sequence) -> None:
        n = len(infos)
        self.at = np.arange(n, dtype=np.int64)
        self.free: list[int] = []
        self.partial_usage: dict = {}  # see _sample_columns
        for name, values in _info_columns(infos).items():
            setattr(self, name, values)
        self._read_samples(infos, samples)

    @property
    def size(self) -> int:
        """Entries, free ones included."""
        return len(self.listed)

    def _read_samples(self, infos: Sequence, samples: Sequence) -> None:
        """Every position's sample read again (a new metrics list)."""
        kept: dict = {}
        for name, values in self._sample_columns(self.at, infos, samples, kept).items():
            column = np.zeros(self.size, dtype=values.dtype)
            column[self.at] = values
            setattr(self, name, column)
        self.partial_usage = kept

    def _sample_columns(self, entries: np.ndarray, infos: Sequence, samples: Sequence, kept: dict) -> dict:
        """SAMPLE_COLUMNS of these entries' pods (given their PodInfos and samples)."""
        return _sample_columns(infos, samples, self.cpu_bounded[entries], self.cpu_partial[entries],
                               self.mem_bounded[entries], self.mem_partial[entries], self.partial_usage, kept)

    def follow(self, edit, view) -> tuple[np.ndarray, np.ndarray, list[int], np.ndarray]:
        """Follow the pod view `view` made from the last one by `edit` (pod_view_join.ViewEdit).

        Returns the entries freed (their pods gone: all zero now); the entries and
        positions of the pods the edit touched that are in the view; and, for those
        two sets of entries in that order, what `columns` gave before."""
        staying = None  # (positions in the view before)
        gone = np.zeros(0, dtype=np.int64)
        if edit.keep is not None:
            keep = np.frombuffer(bytes(edit.keep), dtype=bool)
            gone = self.at[~keep]
            staying = np.flatnonzero(keep)
            self.at = self.at[staying]
        if edit.insert_at:
            taken = self._take(len(edit.insert_at))
            where = np.asarray(edit.insert_at, dtype=np.int64)
            self.at = np.insert(self.at, where if staying is None else np.searchsorted(staying, where), taken)
        positions = sorted(at for at in map(view.index_of, edit.touched) if at is not None)
        entries = self.at[positions]
        before = self.columns(np.concatenate((gone, entries)))
        self._clear(gone)
        self.free.extend(gone.tolist())
        if positions:
            infos = list(map(view.infos.__getitem__, positions))
            for name, values in _info_columns(infos).items():
                getattr(self, name)[entries] = values
            if not edit.new_samples:
                kept: dict = {}
                samples = list(map(view.samples.__getitem__, positions))
                for name, values in self._sample_columns(entries, infos, samples, kept).items():
                    getattr(self, name)[entries] = values
                self.partial_usage.update(kept)
        if edit.new_samples:
            self._read_samples(view.infos, view.samples)
        return gone, entries, positions, before

    def _take(self, count: int) -> list[int]:
        """`count` free entries, the columns grown when there are not enough."""
        if len(self.free) < count:
            size = self.size
            grown = max(size + size // 2, size + count - len(self.free), 64)
            for name in (*INFO_COLUMNS, *SAMPLE_COLUMNS):
                column = getattr(self, name)
                setattr(self, name, np.concatenate((column, np.zeros(grown - size, dtype=column.dtype))))
            self.free.extend(range(grown - 1, size - 1, -1))
        taken = self.free[-count:]
        del self.free[-count:]
        return taken

    def _clear(self, entries: np.ndarray) -> None:
        for name in (*INFO_COLUMNS, *SAMPLE_COLUMNS):
            getattr(self, name)[entries] = 0

    def columns(self, entries: np.ndarray) -> np.ndarray:
        """What rollups add up (Sums' fields, in order) of these entries: a row each."""
        return np.column_stack(self._columns(entries)).astype(np.int64)

    def _columns(self, entries: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
        """What rollups add up (Sums' fields, in order), a column each, of `entries` (None: all)."""
        def of(name: str) -> np.ndarray:
            column = getattr(self, name)
            return column if entries is None else column[entries]

        measured, cpu_bounded, mem_bounded = of("measured"), of("cpu_bounded"), of("mem_bounded")
        cpu_partial, mem_partial = of("cpu_partial"), of("mem_partial")
        cpu_req, mem_req, cpu_nanos, mem_milli = of("cpu_req"), of("mem_req"), of("cpu_nanos"), of("mem_milli")
        # Usage of the containers that set a limit: the whole pod's when all of them do.
        cpu_used = np.where(cpu_bounded & ~cpu_partial & measured, -(-cpu_nanos // _NANOS_PER_MILLI),
                            np.where(cpu_bounded & cpu_partial, of("cpu_partial_used"), 0))
        mem_used = np.where(mem_bounded & ~mem_partial & measured, mem_milli,
                            np.where(mem_bounded & mem_partial, of("mem_partial_used"), 0))
        cpu_bounded, mem_bounded = cpu_bounded & measured, mem_bounded & measured
        listed = of("listed")
        return (
            listed, of("running"), measured, of("restarts"), of("oom_kills"), cpu_nanos, mem_milli,
            cpu_req, mem_req, of("cpu_lim"), of("mem_lim"),
            # Percentages of requests divide the usage of the pods measured by their requests...
            np.where(measured, cpu_req, 0), np.where(measured, mem_req, 0),
            # ... and of limits, only the measured pods' containers that set one.
            cpu_bounded, cpu_partial & measured, np.where(cpu_bounded, of("cpu_limit"), 0), cpu_used,
            mem_bounded, mem_partial & measured, np.where(mem_bounded, of("mem_limit"), 0), mem_used,
            listed | of("has_sample"),
        )

    def add_up(self, group: np.ndarray, groups: int) -> np.ndarray:
        """Every entry's columns added up by its group (-1: none): a row per group.
        (Column by column: a table of all of them would be ~25 MB at 150,000 pods.)"""
        return add_up_columns(self._columns(), group, groups)


def _spec_numbers(spec) -> tuple[int, ...]:
    requests, limits = spec.requests, spec.limits
    return (
        _or_zero(requests.cpu_milli), _or_zero(requests.mem_bytes),
        _or_zero(limits.cpu_milli), _or_zero(limits.mem_bytes),
        bool(spec.cpu_bounded), spec.cpu_partial, spec.cpu_limit_milli,
        bool(spec.mem_bounded), spec.mem_partial, spec.mem_limit_milli,
    )


class Sums(msgspec.Struct, gc=False):
    """Each column of PodNumbers added up per group (arrays by group number)."""

    pods: np.ndarray
    running: np.ndarray
    measured: np.ndarray  # pods with usage
    restarts: np.ndarray
    oom_kills: np.ndarray
    cpu_nanos: np.ndarray
    mem_milli: np.ndarray
    cpu_req: np.ndarray
    mem_req: np.ndarray
    cpu_lim: np.ndarray
    mem_lim: np.ndarray
    cpu_req_measured: np.ndarray  # requests of the pods with usage
    mem_req_measured: np.ndarray
    cpu_bounded: np.ndarray  # measured pods with a CPU limit on some container
    cpu_partial: np.ndarray  # ... on some containers only
    cpu_limit_measured: np.ndarray  # limits of the measured pods' containers that set one
    cpu_bounded_used_milli: np.ndarray  # ... and those containers' usage
    mem_bounded: np.ndarray
    mem_partial: np.ndarray
    mem_limit_measured: np.ndarray
    mem_bounded_used_milli: np.ndarray
    members: np.ndarray  # pods, listed or known only from their metrics

    @classmethod
    def of(cls, table: np.ndarray) -> Sums:
        """The Sums of a table of them (a row per group, a column per field)."""
        return cls(*table.T)


def add_up(table: np.ndarray, group: np.ndarray, groups: int) -> np.ndarray:
    """Each column of `table` (int64, a row per entry) added up per group (group -1: left
    out), exactly: a row per group."""
    return add_up_columns(tuple(np.asfortranarray(table).T), group, groups)


def add_up_columns(columns: tuple[np.ndarray, ...], group: np.ndarray, groups: int) -> np.ndarray:
    """Each column (bool or int64, an entry each) added up per group (group -1: left out),
    exactly: a row per group, a column per column.

    bincount adds in float64, exact for integers below 2**53: a column that may
    hold more (nano cores, milli bytes) is added as its high and low 32 bits,
    exact for up to 2**21 entries.
    """
    bucket = group + 1  # (bucket 0: the entries of no group, dropped)
    out = np.zeros((groups, len(columns)), dtype=np.int64)
    if not len(group):
        return out
    for i, values in enumerate(columns):
        if values.dtype == bool or int(values.max()) < 1 << 32:
            out[:, i] = np.rint(np.bincount(bucket, weights=values, minlength=groups + 1)[1:])
            continue
        high = np.bincount(bucket, weights=values >> 32, minlength=groups + 1)[1:]
        low = np.bincount(bucket, weights=values & 0xFFFFFFFF, minlength=groups + 1)[1:]
        out[:, i] = (np.rint(high).astype(np.int64) << 32) + np.rint(low).astype(np.int64)
    return out


def masked(values: np.ndarray, keep: np.ndarray) -> list:
    """values as a list, None where `keep` is False (no data)."""
    out = values.astype(object)
    out[~keep] = None
    return out.tolist()


def owners_of(infos: Sequence) -> list:
    """Each pod's PodOwner (None for a pod known only from its metrics)."""
    if None not in infos:
        return list(map(_owner, infos))
    return [None if info is None else info.owner for info in infos]


class Parts(msgspec.Struct, gc=False):
    """What every rollup row holds, one list entry per group: usage, requests, limits, limit shares."""

    usage: list
    requests: list
    measured_requests: list  # of the pods with usage only: what request percentages divide by
    limits: list
    cpu_limit_share: list
    mem_limit_share: list


def _none_if_zero(values: np.ndarray) -> list:
    return masked(values, values != 0)


def parts(s: Sums) -> Parts:
    """The rows' numbers from the sums, rounded once (ceil to the millicore and to the byte,
    as kubectl rounds its total line); None where no pod gives any."""
    measured = s.measured > 0
    usage = list(map(Usage, masked(-(-s.cpu_nanos // _NANOS_PER_MILLI), measured),
                     masked(-(-s.mem_milli // 1000), measured), masked(s.mem_milli, measured)))
    requests = list(map(Amounts, _none_if_zero(s.cpu_req), _none_if_zero(s.mem_req),
                        _none_if_zero(s.mem_req * 1000)))
    percent_requests = list(map(Amounts, _none_if_zero(s.cpu_req_measured), _none_if_zero(s.mem_req_measured),
                                _none_if_zero(s.mem_req_measured * 1000)))
    limits = list(map(Amounts, _none_if_zero(s.cpu_lim), _none_if_zero(s.mem_lim), _none_if_zero(s.mem_lim * 1000)))

    def shares(bounded: np.ndarray, partial: np.ndarray, limit: np.ndarray, used: np.ndarray) -> list:
        # Partial: some pods' containers set no limit, or some pods set none at all.
        some = (bounded > 0) & (limit > 0)
        return list(map(LimitShare, masked(used, some), masked(limit, some),
                        (some & ((partial > 0) | (bounded < s.measured))).tolist()))

    return Parts(
        usage=usage,
        requests=requests,
        measured_requests=percent_requests,
        limits=limits,
        cpu_limit_share=shares(s.cpu_bounded, s.cpu_partial, s.cpu_limit_measured, s.cpu_bounded_used_milli),
        mem_limit_share=shares(s.mem_bounded, s.mem_partial, s.mem_limit_measured, s.mem_bounded_used_milli),
    )
