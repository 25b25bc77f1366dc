"""Pods' usage series summed per workload, step by step (`ktopui history workloads`).

At each step a workload's CPU and memory are the sums of its containers'
values there; a container without a value at that step (a pod not yet
started, or gone) adds nothing, and a step where none has one is missing.
Namespaces are read two at a time and summed as soon as each is in (a workload
lives in one namespace), so a cluster's pods' series are never held at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from ktopui.batch.pod_workloads import PodWorkloads, workload_key
from ktopui.batch.usage_history import Usage, Window, pod_usage
from ktopui.model.owners import WorkloadId

if TYPE_CHECKING:
    from ktopui.batch.prom_command import WorkloadScope
    from ktopui.kube.prometheus import PromClient

NAMESPACES_AT_ONCE = 2


class Summed(NamedTuple):
    rows: list[tuple]  # (time, namespace, kind, workload, cpu, memory)
    by_name: int  # pods no longer listed, attributed by their names

    @property
    def notes(self) -> list[str]:
        """For stderr: what the attribution rests on."""
        n = self.by_name
        return [f"{n} pod{'s' * (n != 1)} no longer listed attributed to workloads by name pattern"] if n else []


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
    return Summed(rows, len(by_name))


async def summed_by_namespace(client: PromClient, scope: WorkloadScope, win: Window,
                              keep: Callable[[WorkloadId], bool]) -> tuple[Summed, list[str]]:
    """summed() of every namespace of the scope, each read and summed on its own; and
    Prometheus's warnings."""
    busy = asyncio.Semaphore(NAMESPACES_AT_ONCE)
    warnings: list[str] = []

    async def namespace(name: str | None, pods: list[str] | None) -> Summed:
        async with busy:
            usage = await pod_usage(client, {name: pods}, win, series=scope.series)
            warnings.extend(w for w in usage.warnings if w not in warnings)
            return summed(usage, scope.workloads, keep)

    done = await asyncio.gather(*(namespace(name, pods) for name, pods in scope.selection.items()))
    return Summed([row for part in done for row in part.rows], sum(part.by_name for part in done)), warnings
