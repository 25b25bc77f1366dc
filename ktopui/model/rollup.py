"""Pods summed by group (their workload, their namespace), with numpy, not a loop per pod.

A pod view's lists (keys, PodInfos, PodSamples) are read once per view into
number columns (`PodNumbers`: C-level maps over the lists; what a pod's spec
gives is read once per distinct spec, which replicas share). A grouping
gives each pod a group number, and `sums` adds every column up per group,
exactly (numpy's bincount, see there).

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

from ktopui.model.amounts import Amounts, Usage
from ktopui.model.pod_info import PodInfo
from ktopui.model.pods import LimitShare
from ktopui.model.samples import used_milli

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
# OOM kills per pod, where PodInfo counts them (counted as 0 until it does).
_OOM_KILLS = "oom_kills"
_oom_kills = attrgetter(_OOM_KILLS)
_NANOS_PER_MILLI = 1_000_000
_FINISHED = frozenset(("Succeeded", "Failed"))


def _or_zero(value: int | None) -> int:
    return 0 if value is None else value


class InfoNumbers:
    """What the pods' summaries give, one entry per pod of a view: kept while the view's
    PodInfo list is the same object (a new metrics list changes only the samples)."""

    def __init__(self, infos: Sequence) -> None:
        n = len(infos)
        self.infos = infos  # (held: compared by identity)
        self.listed = np.fromiter(map(is_not, infos, repeat(None)), dtype=bool, count=n)
        listed = infos if self.listed.all() else list(filter(None, infos))  # (structs are true)
        at = np.flatnonzero(self.listed)

        def by_listed(values: np.ndarray, dtype: type = np.int64) -> np.ndarray:
            out = np.zeros(n, dtype=dtype)
            out[at] = values
            return out

        count = len(listed)
        phases = list(map(_phase, listed))
        self.running = by_listed(np.fromiter(map(eq, phases, repeat("Running")), dtype=bool, count=count), bool)
        # A pod that has finished reserves nothing (as `kubectl describe node` counts).
        finished = np.fromiter(map(_FINISHED.__contains__, phases), dtype=bool, count=count)
        self.restarts = by_listed(np.fromiter(map(_restarts, listed), dtype=np.int64, count=count))
        self.oom_kills = (by_listed(np.fromiter(map(_oom_kills, listed), dtype=np.int64, count=count))
                          if _OOM_KILLS in PodInfo.__struct_fields__ else np.zeros(n, dtype=np.int64))
        # What a spec gives, once per distinct spec (replicas share one object).
        specs = list(map(_spec, listed))
        distinct = dict(zip(map(id, specs), specs))
        number = dict(zip(distinct, range(len(distinct))))
        ids = np.fromiter(map(number.__getitem__, map(id, specs)), dtype=np.int64, count=count)
        table = np.array([_spec_numbers(spec) for spec in distinct.values()], dtype=np.int64).reshape(-1, 10)[ids]
        table[finished] = 0
        (self.cpu_req, self.mem_req, self.cpu_lim, self.mem_lim, cpu_bounded, cpu_partial, self.cpu_limit,
         mem_bounded, mem_partial, self.mem_limit) = (by_listed(table[:, i]) for i in range(10))
        self.cpu_bounded, self.mem_bounded = cpu_bounded.astype(bool), mem_bounded.astype(bool)
        self.cpu_partial, self.mem_partial = cpu_partial.astype(bool), mem_partial.astype(bool)


class PodNumbers:
    """The numbers rollups add up, one entry per pod of a view (by position).

    CPU usage in nano cores and memory in milli bytes (exact); requests and
    limits in millicores and bytes (0: not set). For limit percentages, the
    usage of only the containers that set a limit over those limits, as pods
    count them (pods.LimitShare).
    """

    def __init__(self, infos: Sequence, samples: Sequence, partial_usage: dict | None = None,
                 known: InfoNumbers | None = None) -> None:
        """`partial_usage`: the last PodNumbers' `partial_usage`, the usage of the containers
        that set a limit in pods where only some do, reused for the same spec and sample;
        `known`: the last PodNumbers' `info`, reused when made of this very PodInfo list."""
        n = len(infos)
        self.count = n
        self.info = info = known if known is not None and known.infos is infos else InfoNumbers(infos)
        self.listed, self.running, self.restarts, self.oom_kills = info.listed, info.running, info.restarts, info.oom_kills
        self.cpu_req, self.mem_req, self.cpu_lim, self.mem_lim = info.cpu_req, info.mem_req, info.cpu_lim, info.mem_lim
        self.cpu_bounded, self.mem_bounded = info.cpu_bounded, info.mem_bounded
        self.cpu_partial, self.mem_partial = info.cpu_partial, info.mem_partial
        has_sample = np.fromiter(map(is_not, samples, repeat(None)), dtype=bool, count=n)
        present = samples if has_sample.all() else list(filter(None, samples))
        cpu = np.fromiter(map(_cpu_nanos, present), dtype=np.int64, count=len(present))
        mems = list(map(_mem_milli, present))
        if None in mems:  # (an invalid memory quantity: rare, no data)
            mems = list(map(_or_zero, mems))
        mem = np.fromiter(mems, dtype=np.int64, count=len(mems))
        # Measured: a sample whose CPU could be read (an invalid quantity is no data).
        self.measured = np.zeros(n, dtype=bool)
        self.measured[has_sample] = cpu >= 0
        self.cpu_nanos = np.zeros(n, dtype=np.int64)
        self.cpu_nanos[has_sample] = np.maximum(cpu, 0)
        self.mem_milli = np.zeros(n, dtype=np.int64)
        self.mem_milli[has_sample] = mem
        # Percentages of requests divide the usage of the pods measured by their requests.
        self.cpu_req_measured = np.where(self.measured, self.cpu_req, 0)
        self.mem_req_measured = np.where(self.measured, self.mem_req, 0)
        # ... and of limits, only the measured pods' containers that set one.
        self.cpu_limit_measured = np.where(self.measured & self.cpu_bounded, info.cpu_limit, 0)
        self.mem_limit_measured = np.where(self.measured & self.mem_bounded, info.mem_limit, 0)
        # Usage of the containers that set a limit: the whole pod's when all of them do,
        # else counted container by container (a few pods: sidecars without limits).
        self.cpu_bounded_used_milli = np.zeros(n, dtype=np.int64)
        self.mem_bounded_used_milli = np.zeros(n, dtype=np.int64)
        full_cpu = self.cpu_bounded & ~self.cpu_partial & self.measured
        self.cpu_bounded_used_milli[full_cpu] = -(-self.cpu_nanos[full_cpu] // _NANOS_PER_MILLI)
        full_mem = self.mem_bounded & ~self.mem_partial & self.measured
        self.mem_bounded_used_milli[full_mem] = self.mem_milli[full_mem]
        # (Kept by the caller from view to view: a pod's sample changes once per metrics list,
        # and a view is made again on every watch event.)
        known_usage, self.partial_usage = partial_usage or {}, {}
        for resource, bounded, partial, used in (
            ("cpu", self.cpu_bounded, self.cpu_partial, self.cpu_bounded_used_milli),
            ("mem", self.mem_bounded, self.mem_partial, self.mem_bounded_used_milli),
        ):
            names_of = attrgetter(f"{resource}_bounded")
            for i in np.flatnonzero(bounded & partial & has_sample).tolist():
                spec, sample = infos[i].spec, samples[i]
                key = (resource, id(spec), id(sample))
                found = known_usage.get(key)
                if found is None:  # (the objects are kept with it: their ids are not reused meanwhile)
                    found = (spec, sample, used_milli(sample, names_of(spec), resource) or 0)
                self.partial_usage[key] = found
                used[i] = found[2]


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


def _add_up(columns: dict[str, np.ndarray], group: np.ndarray, groups: int) -> Sums:
    """Each column added up per group (group -1: left out), exactly.

    bincount adds in float64, exact for integers below 2**53: a column that may
    hold more (nano cores, milli bytes) is added as its high and low 32 bits,
    exact for up to 2**21 entries.
    """
    bucket = group + 1  # (bucket 0: the entries of no group, dropped)

    def total(values: np.ndarray) -> np.ndarray:
        if values.dtype == bool or not len(values) or int(values.max()) < 1 << 32:
            return np.rint(np.bincount(bucket, weights=values, minlength=groups + 1)[1:]).astype(np.int64)
        high = np.bincount(bucket, weights=values >> 32, minlength=groups + 1)[1:]
        low = np.bincount(bucket, weights=values & 0xFFFFFFFF, minlength=groups + 1)[1:]
        return (np.rint(high).astype(np.int64) << 32) + np.rint(low).astype(np.int64)

    return Sums(**{name: total(values) for name, values in columns.items()})


def sums(numbers: PodNumbers, group: np.ndarray, groups: int) -> Sums:
    """The columns of the pods with a group (group >= 0) added up by it."""
    return _add_up({
        "pods": numbers.listed, "running": numbers.running, "measured": numbers.measured,
        "restarts": numbers.restarts, "oom_kills": numbers.oom_kills, "cpu_nanos": numbers.cpu_nanos,
        "mem_milli": numbers.mem_milli, "cpu_req": numbers.cpu_req, "mem_req": numbers.mem_req,
        "cpu_lim": numbers.cpu_lim, "mem_lim": numbers.mem_lim,
        "cpu_req_measured": numbers.cpu_req_measured, "mem_req_measured": numbers.mem_req_measured,
        "cpu_bounded": numbers.cpu_bounded & numbers.measured, "cpu_partial": numbers.cpu_partial & numbers.measured,
        "cpu_limit_measured": numbers.cpu_limit_measured, "cpu_bounded_used_milli": numbers.cpu_bounded_used_milli,
        "mem_bounded": numbers.mem_bounded & numbers.measured, "mem_partial": numbers.mem_partial & numbers.measured,
        "mem_limit_measured": numbers.mem_limit_measured, "mem_bounded_used_milli": numbers.mem_bounded_used_milli,
    }, group, groups)


def regroup(s: Sums, group: np.ndarray, groups: int) -> Sums:
    """Sums of groups added up into coarser ones (workloads into their namespaces): the same
    as summing their pods, for a few thousand entries instead of every pod."""
    return _add_up({name: getattr(s, name) for name in Sums.__struct_fields__}, group, groups)


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
