"""Usage series read from Prometheus for the batch commands, on one time grid.

One query per metric per namespace (and per batch of names where a selection
lists pods: promql.batches), never one per pod; the client keeps at most 4 in
flight. Where a namespace's answer would be large (many containers over many
points: a week of a big namespace at 5 minutes), its range is read in
consecutive parts of about SAMPLES_PER_QUERY samples each, so each answer stays
around ten megabytes; the points are the same as in one query. Every series is placed on the grid `start, start + step, ... end`
(query_range answers at exactly those times), so CPU and memory, and the pods
of a workload, line up by position.

The window's start is a multiple of the step: the same command run twice in a
step reads the same points, and times print as whole seconds.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ktopui.kube.prometheus import PromClient, QueryResult, Series
from ktopui.model import promql

POD_LABELS = ("namespace", "pod", "container")
NODE_LABELS = ("node",)
SAMPLES_PER_QUERY = 250_000  # about 10 MB of JSON in an answer


class Window(NamedTuple):
    start: float
    end: float
    step: float

    @property
    def step_seconds(self) -> int | float:
        """The step for JSON: whole seconds as an integer."""
        return int(self.step) if self.step.is_integer() else self.step

    @property
    def times(self) -> np.ndarray:
        return self.start + self.step * np.arange(round((self.end - self.start) / self.step) + 1)


def window(since: float, step: float | None, now: float) -> Window:
    """The last `since` seconds before `now`, at `step` (default: promql.step_for), aligned to the step."""
    step = step or promql.step_for(since)
    end = math.floor(now / step) * step
    return Window(end - math.ceil(since / step) * step, end, step)


class Usage(NamedTuple):
    """Series on a window's grid: per key (the label values), CPU millicores and memory bytes (NaN: none)."""

    window: Window
    cpu: dict[tuple[str, ...], np.ndarray]
    memory: dict[tuple[str, ...], np.ndarray]
    warnings: list[str]

    def series_keys(self) -> list[tuple[str, ...]]:
        return sorted(self.cpu.keys() | self.memory.keys())

    def rows(self) -> list[tuple]:
        """(time, *key, cpu, memory) for every key and step where either number is there."""
        times = self.window.times
        blank = np.full(len(times), np.nan)
        out = []
        for key in self.series_keys():
            cpu, mem = self.cpu.get(key, blank), self.memory.get(key, blank)
            for i in np.flatnonzero(~(np.isnan(cpu) & np.isnan(mem))).tolist():
                out.append((float(times[i]), *key, _value(cpu[i]), _value(mem[i])))
        return out


def _value(x: float) -> float | None:
    return None if math.isnan(x) else float(x)


def parts(win: Window, series: int, samples_per_query: int = SAMPLES_PER_QUERY) -> list[tuple[float, float]]:
    """(start, end) of consecutive runs of the window's points, each run at most `samples_per_query`
    samples for `series` series (at least one point)."""
    points = len(win.times)
    per = max(1, samples_per_query // max(series, 1))
    return [(win.start + i * win.step, win.start + (min(i + per, points) - 1) * win.step)
            for i in range(0, points, per)]


def on_grid(series: Sequence[Series], labels: Sequence[str], win: Window) -> dict[tuple[str, ...], np.ndarray]:
    """Each series' values at the grid's positions (NaN where it has none), by its label values;
    two series of one key (a store with replicas) keep the larger value."""
    width = len(win.times)
    out: dict[tuple[str, ...], np.ndarray] = {}
    for s in series:
        key = tuple(s.labels.get(label, "") for label in labels)
        at = np.rint((s.times - win.start) / win.step).astype(np.int64)
        inside = (at >= 0) & (at < width)
        row = out.get(key)
        if row is None:
            row = out[key] = np.full(width, np.nan)
        np.fmax.at(row, at[inside], s.values[inside])
    return out


def memory_peak(namespace: str | None, pods: Sequence[str] | None, window_text: str) -> str:
    """Bytes per (namespace, pod, container): the highest working set in the `window_text` before
    each point, so a peak between two points is not lost (rightsizing takes the maximum)."""
    where = promql.CONTAINERS
    if namespace is not None:
        where += f", namespace={promql.quote(namespace)}"
    if pods is not None:
        where += f", pod=~{promql.quote(promql.regex_alternation(pods))}"
    return (f"max by ({promql.BY_CONTAINER}) "
            f"(max_over_time({promql.MEMORY_SERIES}{{{where}}}[{window_text}]))")


# Where a selection names pods: namespace -> their names; None: every pod of the namespace.
Selection = dict[str, list[str] | None]
# Series a namespace's query is expected to answer where nothing says (no pod list read).
GUESSED_SERIES = 200


async def pod_usage(client: PromClient, selection: Selection, win: Window, *, peaks: bool = False,
                    series: dict[str, int] | None = None, samples_per_query: int = SAMPLES_PER_QUERY) -> Usage:
    """CPU and memory per (namespace, pod, container) of the selection; `peaks`: memory as the
    highest value in each step (memory_peak) instead of the value at each point. `series`: how
    many container series each namespace's query may answer (it sizes the parts of the range)."""
    rules = client.rules  # (kube-prometheus's recording rules where they mean the same)
    cpu_window = promql.cpu_window(win.step, rules)
    queries: list[tuple[str, str, tuple[float, float]]] = []
    for namespace, pods in sorted(selection.items(), key=lambda item: item[0] or ""):
        for names in ([None] if pods is None else promql.batches(pods)):
            expected = (series or {}).get(namespace, GUESSED_SERIES) if names is None else 2 * len(names)
            cpu = promql.pod_cpu(namespace, names, cpu_window, rules)
            memory = (memory_peak(namespace, names, promql.format_duration(win.step)) if peaks
                      else promql.pod_memory(namespace, names, rules))
            for span in parts(win, expected, samples_per_query):
                queries += [("cpu", cpu, span), ("memory", memory, span)]
    return await _usage(client, queries, POD_LABELS, win)


async def node_usage(client: PromClient, nodes: list[str] | None, win: Window) -> Usage:
    """CPU and memory per node (`nodes` None: every node)."""
    queries = []
    whole = (win.start, win.end)
    for names in ([None] if nodes is None else promql.batches(nodes)):
        queries.append(("cpu", promql.node_cpu(names, promql.rate_window(win.step)), whole))
        queries.append(("memory", promql.node_memory(names), whole))
    return await _usage(client, queries, NODE_LABELS, win)


async def _usage(client: PromClient, queries: list[tuple[str, str, tuple[float, float]]], labels: Sequence[str],
                 win: Window) -> Usage:
    results: list[QueryResult] = await asyncio.gather(
        *(client.query_range(expr, start, end, win.step) for _, expr, (start, end) in queries))
    cpu: dict = {}
    memory: dict = {}
    warnings: list[str] = []
    for (metric, _, _), result in zip(queries, results):
        found = cpu if metric == "cpu" else memory
        for key, values in on_grid(result.series, labels, win).items():
            before = found.get(key)
            found[key] = values if before is None else np.fmax(before, values)  # (parts of one range)
        warnings.extend(w for w in result.warnings if w not in warnings)
    return Usage(win, cpu, memory, warnings)
