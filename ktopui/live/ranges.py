"""A pod's usage over a chosen range, from Prometheus: what a detail's charts draw at 15m ... 7d.

Three queries per range (CPU, memory and CFS throttling per container), with
the step `promql.step_for` picks for the range, the range's end on the step's
grid so that a repeat within a step is the client's cache's to answer.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import numpy as np

from ktopui.kube.prometheus import PromClient, QueryResult
from ktopui.model import promql

# The ranges a detail offers, shortest first: (name, seconds).
RANGES = (("15m", 900.0), ("1h", 3600.0), ("6h", 21600.0), ("24h", 86400.0), ("7d", 604800.0))


@dataclass(frozen=True)
class RangeUsage:
    """One pod's containers over a range, on one grid of times (NaN: no data at that step)."""

    name: str  # "24h"
    seconds: float
    end: float
    step: float
    times: np.ndarray
    cpu: dict[str, np.ndarray] = field(default_factory=dict)  # container -> millicores
    memory: dict[str, np.ndarray] = field(default_factory=dict)  # container -> bytes
    throttled: dict[str, np.ndarray] = field(default_factory=dict)  # container -> share of CFS periods (0-1)
    warnings: tuple[str, ...] = ()

    def pod(self, metric: dict[str, np.ndarray]) -> np.ndarray:
        """The containers summed (NaN where none had data)."""
        if not metric:
            return np.full(len(self.times), np.nan)
        stacked = np.vstack(list(metric.values()))
        summed = np.nansum(stacked, axis=0)
        summed[np.isnan(stacked).all(axis=0)] = np.nan
        return summed


async def pod_usage(client: PromClient, namespace: str, pod: str, name: str, now: float) -> RangeUsage:
    """The pod's usage over the range `name` (one of RANGES) up to `now` (PromError if it fails)."""
    seconds = dict(RANGES)[name]
    step = promql.step_for(seconds)
    end = now // step * step
    start = end - seconds
    rules = client.rules
    cpu, memory, throttled = await asyncio.gather(
        client.query_range(promql.pod_cpu(namespace, [pod], promql.cpu_window(step, rules), rules), start, end, step),
        client.query_range(promql.pod_memory(namespace, [pod], rules), start, end, step),
        client.query_range(promql.pod_throttle(namespace, [pod], promql.rate_window(step)), start, end, step),
    )
    times = start + step * np.arange(round(seconds / step) + 1)
    return RangeUsage(name, seconds, end, step, times, _by_container(cpu, times, step),
                      _by_container(memory, times, step), _by_container(throttled, times, step),
                      tuple(dict.fromkeys(cpu.warnings + memory.warnings + throttled.warnings)))


def _by_container(result: QueryResult, times: np.ndarray, step: float) -> dict[str, np.ndarray]:
    by: dict[str, np.ndarray] = {}
    for series in result.series:
        values = by.setdefault(series.labels.get("container", ""), np.full(len(times), np.nan))
        at = np.rint((series.times - times[0]) / step).astype(np.int64)
        ok = (at >= 0) & (at < len(times))
        values[at[ok]] = series.values[ok]
    return by
