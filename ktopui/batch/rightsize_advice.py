"""The suggestion per workload container from Prometheus's series, by model/suggestions.py's rule.

Every pod's container series of a workload (listed pods and gone ones) is one row of
the arrays the rule reduces. A namespace's series are reduced to their figures (each
series' percentile, peak, count and span) as soon as they are read; the groups take
the largest of their series' figures once all namespaces are in.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import msgspec
import numpy as np

from ktopui.batch.pod_workloads import workload_key
from ktopui.batch.prom_command import WorkloadScope
from ktopui.batch.usage_history import Usage
from ktopui.model.pod_info import SpecMemo, pod_info
from ktopui.model.suggestions import SeriesStats, series_stats, suggest

_FINISHED = ("Succeeded", "Failed")


class RightsizeRow(msgspec.Struct, frozen=True, gc=False):
    """One container of one workload; amounts in millicores and bytes (None: not set, or no suggestion)."""

    namespace: str
    kind: str
    name: str
    container: str
    inferred: bool  # some of its history came from pods attributed by name
    request_cpu_milli: int | None
    request_mem_bytes: int | None
    limit_cpu_milli: int | None
    limit_mem_bytes: int | None
    cpu_milli: int | None  # suggested
    mem_bytes: int | None
    samples: int
    span: float  # seconds from the first sample to the last
    pods: int  # pods with samples
    provisional: bool

    @property
    def cpu_change(self) -> int | None:
        """The suggestion less today's request (negative: ask for less)."""
        return None if self.cpu_milli is None or self.request_cpu_milli is None else self.cpu_milli - self.request_cpu_milli

    @property
    def mem_change(self) -> int | None:
        return None if self.mem_bytes is None or self.request_mem_bytes is None else self.mem_bytes - self.request_mem_bytes


def _largest(values: Sequence[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def _int(x: float) -> int | None:
    return None if np.isnan(x) else int(x)


class Groups:
    """The workload containers to advise on (the groups of the rule), from the pods in scope:
    each with today's requests and limits of its unfinished pods."""

    def __init__(self, scope: WorkloadScope) -> None:
        keep = scope.keep()
        memo = SpecMemo()
        # (namespace, kind, name, container) -> [its pods' (cpu req, mem req, cpu lim, mem lim)]
        self.specs: dict[tuple[str, str, str, str], list[tuple]] = {}
        order: dict[tuple[str, str, str], list[str]] = {}
        for pod in scope.selected:
            info = pod_info(pod, memo)
            if info.phase in _FINISHED:
                continue
            workload = scope.workloads.of(info.namespace, info.name)
            if not keep(workload):
                continue
            names = order.setdefault(workload_key(workload), [])
            for c in info.spec.containers:
                if c.role == "init":
                    continue
                if c.name not in names:
                    names.append(c.name)
                self.specs.setdefault((*workload_key(workload), c.name), []).append(
                    (c.requests.cpu_milli, c.requests.mem_bytes, c.limits.cpu_milli, c.limits.mem_bytes))
        self.keys = [(*key, name) for key in sorted(order) for name in order[key]]
        self.number = {group: i for i, group in enumerate(self.keys)}
        self.workloads = scope.workloads


class Figures(NamedTuple):
    """Series of some namespaces reduced by the rule's first step, with their groups."""

    stats: SeriesStats
    group: np.ndarray  # each series' group number (Groups.keys)
    inferred: np.ndarray  # by group: a pod of it was attributed by name


def figures(groups: Groups, usage: Usage) -> Figures:
    """Each series of `usage` that belongs to a group, reduced to its figures (series_stats):
    what is kept of a namespace's samples once read, so a cluster's week is never held at once."""
    keys, group_of, inferred = [], [], np.zeros(len(groups.keys), dtype=bool)
    for key in usage.series_keys():
        namespace, pod, container = key
        workload = groups.workloads.of(namespace, pod)
        at = groups.number.get((*workload_key(workload), container))
        if at is not None:
            keys.append(key)
            group_of.append(at)
            inferred[at] |= workload.inferred
    width = len(usage.window.times)
    blank = np.full(width, np.nan)
    cpu = np.array([usage.cpu.get(k, blank) for k in keys]).reshape(len(keys), width)
    mem = np.array([usage.memory.get(k, blank) for k in keys]).reshape(len(keys), width)
    held = ~(np.isnan(cpu) & np.isnan(mem))
    times = np.broadcast_to(usage.window.times, cpu.shape)
    return Figures(series_stats(cpu, mem, times, held), np.array(group_of, dtype=np.int64), inferred)


def advise(groups: Groups, parts: Sequence[Figures]) -> list[RightsizeRow]:
    """A row per group (by namespace, workload, then spec order): the rule over all its series."""
    stats = SeriesStats(*(np.concatenate([getattr(f.stats, field) for f in parts] or [np.zeros(0)])
                          for field in SeriesStats._fields))
    group = np.concatenate([f.group for f in parts] or [np.zeros(0, dtype=np.int64)])
    inferred = np.logical_or.reduce([f.inferred for f in parts]) if parts else np.zeros(len(groups.keys), bool)
    s = suggest(stats, group, len(groups.keys))
    provisional = s.provisional()
    rows = []
    for i, key in enumerate(groups.keys):
        spec = groups.specs[key]
        rows.append(RightsizeRow(
            *key[:3], key[3], bool(inferred[i]),
            *(_largest([p[j] for p in spec]) for j in range(4)),
            _int(s.cpu_milli[i]), _int(s.mem_bytes[i]), int(s.samples[i]), float(s.span[i]), int(s.pods[i]),
            bool(provisional[i]),
        ))
    return rows
