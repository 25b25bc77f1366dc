"""Usage over a chosen range, from Prometheus: what a detail's charts draw at 15m ... 7d.

A pod's containers, a workload's containers (summed over its pods) or a node,
with the step `promql.step_for` picks for the range and the range's end on
the step's grid, so that a repeat within a step is the client's cache's to
answer. A workload's pods are named in batches (`promql.batches`), one query
per metric per batch, summed here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ktopui.kube.prometheus import PromClient, QueryResult
from ktopui.model import promql

# The ranges a detail offers, shortest first: (name, seconds).
RANGES = (("15m", 900.0), ("1h", 3600.0), ("6h", 21600.0), ("24h", 86400.0), ("7d", 604800.0))
NODE = ""  # a node's usage is one series, under this name


@dataclass(frozen=True)
class RangeUsage:
    """Series over a range on one grid of times (NaN: no data at that step), by container
    (NODE for a node's own)."""

    name: str  # "24h"
    seconds: float
    end: float
    step: float
    times: np.ndarray
    cpu: dict[str, np.ndarray] = field(default_factory=dict)  # millicores
    memory: dict[str, np.ndarray] = field(default_factory=dict)  # bytes
    throttled: dict[str, np.ndarray] = field(default_factory=dict)  # share of CFS periods throttled (0-1)
    warnings: tuple[str, ...] = ()

    def total(self, metric: dict[str, np.ndarray]) -> np.ndarray:
        """The series summed (NaN where none had data)."""
        if not metric:
            return np.full(len(self.times), np.nan)
        stacked = np.vstack(list(metric.values()))
        summed = np.nansum(stacked, axis=0)
        summed[np.isnan(stacked).all(axis=0)] = np.nan
        return summed


@dataclass(frozen=True)
class _Grid:
    name: str
    seconds: float
    start: float
    end: float
    step: float

    @classmethod
    def of(cls, name: str, now: float) -> _Grid:
        seconds = dict(RANGES)[name]
        step = promql.step_for(seconds)
        end = now // step * step
        return cls(name, seconds, end - seconds, end, step)

    @property
    def times(self) -> np.ndarray:
        return self.start + self.step * np.arange(round(self.seconds / self.step) + 1)

    async def ask(self, client: PromClient, expr: str) -> QueryResult:
        return await client.query_range(expr, self.start, self.end, self.step)

    def usage(self, cpu: list[QueryResult], memory: list[QueryResult], throttled: list[QueryResult],
              label: str) -> RangeUsage:
        times, results = self.times, [*cpu, *memory, *throttled]
        warnings = tuple(dict.fromkeys(w for r in results for w in r.warnings))
        return RangeUsage(self.name, self.seconds, self.end, self.step, times, _summed(cpu, times, label),
                          _summed(memory, times, label), _summed(throttled, times, label), warnings)


async def pod_usage(client: PromClient, namespace: str, pod: str, name: str, now: float) -> RangeUsage:
    """A pod's containers over the range `name` (one of RANGES) up to `now` (PromError if it fails)."""
    grid, rules = _Grid.of(name, now), client.rules
    cpu, memory, throttled = await asyncio.gather(
        grid.ask(client, promql.pod_cpu(namespace, [pod], promql.cpu_window(grid.step, rules), rules)),
        grid.ask(client, promql.pod_memory(namespace, [pod], rules)),
        grid.ask(client, promql.pod_throttle(namespace, [pod], promql.rate_window(grid.step))),
    )
    return grid.usage([cpu], [memory], [throttled], "container")


async def workload_usage(client: PromClient, namespace: str, pods: Sequence[str], name: str,
                         now: float) -> RangeUsage:
    """A workload's containers, summed over its pods `pods`, over the range `name`."""
    grid, rules = _Grid.of(name, now), client.rules
    window = promql.cpu_window(grid.step, rules)
    batches = list(promql.batches(sorted(pods)))
    cpu = [grid.ask(client, f"sum by (container) ({promql.pod_cpu(namespace, b, window, rules)})") for b in batches]
    memory = [grid.ask(client, f"sum by (container) ({promql.pod_memory(namespace, b, rules)})") for b in batches]
    answers = await asyncio.gather(*cpu, *memory)
    return grid.usage(answers[:len(batches)], answers[len(batches):], [], "container")


async def node_usage(client: PromClient, node: str, name: str, now: float) -> RangeUsage:
    """A node's own usage (its root cgroup) over the range `name`."""
    grid = _Grid.of(name, now)
    cpu, memory = await asyncio.gather(grid.ask(client, promql.node_cpu([node], promql.rate_window(grid.step))),
                                       grid.ask(client, promql.node_memory([node])))
    return grid.usage([cpu], [memory], [], "")


def _summed(results: list[QueryResult], times: np.ndarray, label: str) -> dict[str, np.ndarray]:
    """The series on the grid by the value of `label` ("": all as one), those of a name added up."""
    by: dict[str, np.ndarray] = {}
    step = times[1] - times[0] if len(times) > 1 else 1.0
    for result in results:
        for series in result.series:
            values = by.setdefault(series.labels.get(label, "") if label else NODE, np.full(len(times), np.nan))
            at = np.rint((series.times - times[0]) / step).astype(np.int64)
            ok = (at >= 0) & (at < len(times)) & np.isfinite(series.values)
            values[at[ok]] = np.where(np.isnan(values[at[ok]]), 0.0, values[at[ok]]) + series.values[ok]
    return by
