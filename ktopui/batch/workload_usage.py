"""Pods' usage series summed per workload, step by step (`ktopui history workloads`).

At each step a workload's CPU and memory are the sums of its containers'
values there; a container without a value at that step (a pod not yet
started, or gone) adds nothing, and a step where none has one is missing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ktopui.batch.pod_workloads import PodWorkloads, workload_key
from ktopui.batch.usage_history import Usage
from ktopui.model.owners import WorkloadId


class Summed(NamedTuple):
    rows: list[tuple]  # (time, namespace, kind, workload, cpu, memory)
    notes: list[str]  # for stderr: what the attribution rests on


def _add(sums: dict, key: tuple, values: np.ndarray) -> None:
    total = sums.get(key)
    if total is None:
        sums[key] = values.copy()
    else:  # NaN + x is x; NaN only while both are
        np.copyto(total, np.where(np.isnan(total), values, total + np.nan_to_num(values)))


def summed(usage: Usage, workloads: PodWorkloads, keep: Callable[[WorkloadId], bool]) -> Summed:
    """The series of the workloads `keep` accepts, each its containers' sums."""
    cpu: dict[tuple[str, str, str], np.ndarray] = {}  # by (namespace, kind, name)
    memory: dict[tuple[str, str, str], np.ndarray] = {}
    by_name: set[tuple[str, str]] = set()
    for source, sums in ((usage.cpu, cpu), (usage.memory, memory)):
        for (namespace, pod, _container), values in source.items():
            workload = workloads.of(namespace, pod)
            if not keep(workload):
                continue
            if workload.inferred:
                by_name.add((namespace, pod))
            _add(sums, workload_key(workload), values)
    times = usage.window.times
    blank = np.full(len(times), np.nan)
    rows = []
    for key in sorted(cpu.keys() | memory.keys()):
        c, m = cpu.get(key, blank), memory.get(key, blank)
        for i in np.flatnonzero(~(np.isnan(c) & np.isnan(m))).tolist():
            rows.append((float(times[i]), *key,
                         None if np.isnan(c[i]) else float(c[i]), None if np.isnan(m[i]) else float(m[i])))
    notes = [(f"{len(by_name)} pod{'s' * (len(by_name) != 1)} no longer listed attributed to workloads by "
              "name pattern")] if by_name else []
    return Summed(rows, notes)
