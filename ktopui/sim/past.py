"""The simulated cluster's past, as an engine scraping its kubelets' cAdvisor would hold it.

`write(cluster, out, history)` writes the samples of the last `history` seconds: every node's
collections (every metric resolution), the rows its /metrics/cadvisor would have served at each
(cadvisor.py: containers, pod cgroups, pause sandboxes, the root cgroup, the CFS counters), for
the pods the cluster still knows that ran then, with the labels the `kubelet` job gives them
(prometheus.py). Values are those the live endpoint serves at the same collections: the usage
functions evaluated with numpy (usage_arrays.py), counters started by cadvisor.py's own
functions, and the cluster's `counters_from` moved back to the past's start first, so the live
counters continue the generated ones without a reset or a jump. The live endpoint is then handed
the totals at the last generated collection and goes on from there.

The start can only move back before the first cAdvisor scrape (after it, counters would jump):
later, the past is shortened to where counters are exact. It is bounded to MAX_SAMPLES too (a
huge cluster gets a shorter past, or none); `Past.note` says why it is shorter than asked.

Two formats: OpenMetrics (timestamps in seconds, `# EOF`), what promtool turns into blocks, and
the Prometheus text format with millisecond timestamps, what VictoriaMetrics imports.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TextIO

import numpy as np

from ktopui.sim import render, usage_arrays
from ktopui.sim.cadvisor import (
    PAUSE_BYTES,
    PAUSE_IMAGE,
    PAUSE_NANOCORES,
    PERIODS_PER_SECOND,
    PodTotals,
    _escape,
    _labels,
    _qos_path,
    _seconds,
    first_scrape,
    pod_counters_start,
    root_counter_start,
)
from ktopui.sim.cluster import SimCluster
from ktopui.sim.world import Node, Pod

# What promtool turns into blocks in about 15 s (the text is about 450 bytes a sample): a
# bigger cluster's past is shorter, and none when not even MIN_COLLECTIONS fit.
MAX_SAMPLES = 4_000_000
MIN_COLLECTIONS = 20
CPU = "container_cpu_usage_seconds_total"
MEMORY = "container_memory_working_set_bytes"
PERIODS = "container_cpu_cfs_periods_total"
THROTTLED = "container_cpu_cfs_throttled_periods_total"
KUBELET_PORT = 10250


@dataclass(frozen=True)
class Past:
    start: float  # cluster time the past begins at (its first collections are at or after it)
    end: float  # one resolution before it was generated: the last collection of each node at or before it
    series: int
    samples: int
    note: str  # why the past is shorter than asked ("" when it is not)


@dataclass(frozen=True)
class _Life:
    """A pod's span on its node, read under the cluster's lock: its first and last collection."""
    pod: Pod
    first: int
    last: int


def write(cluster: SimCluster, out: TextIO, history: float, *, openmetrics: bool = True) -> Past:
    """Write the past `history` seconds to `out` (OpenMetrics, else Prometheus text with ms)."""
    res = cluster.resolution
    with cluster.lock:
        cluster.sync()
        # One collection short of now: an engine started next scrapes the current one, which
        # Prometheus's head refuses when blocks hold it already (as too old).
        end = cluster.now() - res
        nodes = [node for node in cluster.nodes if node.ready]
        lives = {node.name: _lives(cluster, node, end) for node in nodes}
        asked = max(0.0, float(history))
        series = sum(_series_count(node_lives) for node_lives in lives.values())
        note = ""
        length = asked
        if series * (asked / res) > MAX_SAMPLES:
            length = MAX_SAMPLES // series * res
            if length < MIN_COLLECTIONS * res:
                length = 0.0
            note = (f"the past is {_duration(length) if length else 'left out'}, not {_duration(asked)}: "
                    f"{series} series × one sample per {res:g} s is bounded to {MAX_SAMPLES} samples")
        start = end - length
        if not any(node.cadvisor is not None for node in cluster.nodes):
            cluster.counters_from = min(cluster.counters_from, start)
        elif cluster.counters_from > start:
            length = end - cluster.counters_from
            note = (f"the past is {_duration(length)}, not {_duration(asked)}: cAdvisor was scraped "
                    "before it was generated")
            start = cluster.counters_from
        counters_from = cluster.counters_from
    stamp = _stamps_openmetrics if openmetrics else _stamps_ms
    samples = 0
    for node in nodes:
        samples += _Node(cluster, node, lives[node.name], counters_from, start, end, stamp, out).write()
    if openmetrics:
        out.write("# EOF\n")
    return Past(start, end, series, samples, note)


def _lives(cluster: SimCluster, node: Node, end: float) -> list[_Life]:
    """The node's pods that ran by `end`, as pods_at_scrape counts them at each collection."""
    res = cluster.resolution
    last_scrape = cluster.kubelet_scrape(node, end)
    lives = []
    for pod in itertools.chain(node.pods.values(), node.gone):
        if pod.started is None:
            continue
        stops = [t for t in (pod.finished, pod.deleted) if t is not None]
        last = min(last_scrape, math.ceil((min(stops) - node.phase) / res) - 1) if stops else last_scrape
        first = first_scrape(node, pod.started, res)
        if first <= last:
            lives.append(_Life(pod, first, last))
    return sorted(lives, key=lambda life: (life.pod.namespace, life.pod.name))


def _series_count(lives: list[_Life]) -> int:
    """Series per family summed: each pod's cgroup and sandbox (CPU and memory), each container's
    CPU and memory and, with a CPU limit, its two CFS counters; the root cgroup's two."""
    count = 2
    for life in lives:
        specs = life.pod.running_specs
        count += 4 + 2 * len(specs) + 2 * sum(spec.cpu_lim is not None for spec in specs)
    return count


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{seconds / 3600:g}h"
    return f"{seconds / 60:g}m" if seconds >= 60 else f"{seconds:g}s"


def _stamps_openmetrics(ms: np.ndarray) -> list[str]:
    return [f"{m // 1000}.{m % 1000:03d}" for m in ms.tolist()]


def _stamps_ms(ms: np.ndarray) -> list[str]:
    return [str(m) for m in ms.tolist()]


def throttled_periods(nanocores: np.ndarray, limit_millicores: int, periods: int) -> np.ndarray:
    """cadvisor.throttled_periods for each usage (int64), in the same float operations."""
    ratio = nanocores.astype(np.float64) / (limit_millicores * 1_000_000)
    rising = 0.6 * (ratio - 0.6) / 0.4
    above = np.minimum(0.9, 0.6 + 0.3 * (ratio - 1))
    share = np.where(ratio < 1, rising, above)
    return np.where(ratio <= 0.6, 0, np.rint(periods * share)).astype(np.int64)


def _nanoseconds(nanocores: np.ndarray, resolution: float) -> np.ndarray:
    """round(rate * resolution) for each rate, as cadvisor.py adds a collection."""
    return np.rint(nanocores.astype(np.float64) * resolution).astype(np.int64)


class _Node:
    """One node's series over the past: computed with numpy per pod, written series by series."""

    def __init__(self, cluster: SimCluster, node: Node, lives: list[_Life], counters_from: float,
                 start: float, end: float, stamp, out: TextIO) -> None:
        self.cluster, self.node, self.out = cluster, node, out
        self.res = cluster.resolution
        self.periods = round(self.res * PERIODS_PER_SECOND)
        self.since = cluster.kubelet_scrape(node, counters_from)  # the first collection counted exactly
        self.lives = [life for life in lives if life.last >= max(life.first, self.since)]
        self.end = cluster.kubelet_scrape(node, end)
        booted = first_scrape(node, node.created, self.res)
        self.root_from = max(booted, self.since)  # the root's arrays span root_from..end
        # the first collection written: none before the node's boot
        self.shown = max(self.root_from, math.ceil((start - node.phase) / self.res))
        ks = np.arange(self.root_from, self.end + 1, dtype=np.int64)
        self.ks = ks
        ms = np.rint((ks * self.res + node.phase) * 1000).astype(np.int64)
        self.stamps = stamp(ms)
        extra = (f'instance="{_escape(f"{node.ip}:{KUBELET_PORT}")}",job="kubelet",'
                 f'metrics_path="/metrics/cadvisor",node="{_escape(node.name)}"}} ')
        self.extra = extra
        self.samples = 0

    def write(self) -> int:
        if self.end < self.root_from:
            return 0
        node_cpu = usage_arrays.cpu_nanocores(self.node.sys_cpu, self.node.salt, self.ks)
        node_mem = usage_arrays.memory_bytes(self.node.sys_mem, self.node.salt, self.ks)
        for life in self.lives:
            cpu, mem = self._pod(life)
            lo = max(life.first, self.root_from) - self.root_from
            hi = life.last + 1 - self.root_from
            offset = self.root_from - max(life.first, self.since)
            if hi > lo:
                node_cpu[lo:hi] += cpu[lo + offset:hi + offset]
                node_mem[lo:hi] += mem[lo + offset:hi + offset]
        node_cpu = np.minimum(node_cpu, self.node.cpu_cap * 1_000_000)
        node_mem = np.minimum(node_mem, self.node.mem_cap)
        _, total = root_counter_start(self.cluster, self.node, self.since)
        counter = total + np.concatenate(([0], np.cumsum(_nanoseconds(node_cpu[1:], self.res))))
        root = _labels("", "/", "", "", "", "")
        self._series(CPU, root, self.root_from, _seconds_text(counter))
        self._series(MEMORY, root, self.root_from, node_mem.tolist())
        with self.cluster.lock:  # the live endpoint goes on from the last generated collection
            if self.node.cadvisor is None or self.node.cadvisor[0] < self.end:
                self.node.cadvisor = (self.end, int(counter[-1]))
        return self.samples

    def _pod(self, life: _Life) -> tuple[np.ndarray, np.ndarray]:
        """Write the pod's series; return its containers' summed CPU and memory per collection
        from max(first, since) to its last."""
        pod, res = life.pod, self.res
        start = pod_counters_start(pod, life.first, self.since, res, self.periods)
        ks = np.arange(start.k, life.last + 1, dtype=np.int64)
        salt = pod.salt * 8
        cpus = [usage_arrays.cpu_nanocores(base, salt + i, ks) for i, base in enumerate(pod.cpu_base)]
        mems = [usage_arrays.memory_bytes(base, salt + i, ks) for i, base in enumerate(pod.mem_base)]
        counters = [total + _running(_nanoseconds(cpu[1:], res)) for total, cpu in zip(start.cpu_ns, cpus)]
        pause = round(PAUSE_NANOCORES * res) * (ks - life.first)
        cgroup = f"/kubepods{_qos_path(pod)}/pod{pod.uid}"
        ns, name = pod.namespace, pod.name
        pod_labels = _labels("", cgroup, "", "", ns, name)
        self._series(CPU, pod_labels, start.k, _seconds_text(sum(counters) + pause))
        self._series(MEMORY, pod_labels, start.k, (sum(mems) + PAUSE_BYTES).tolist())
        sandbox = render.container_id(pod.uid, "POD")
        pause_labels = _labels("", f"{cgroup}/{sandbox}", PAUSE_IMAGE, sandbox, ns, name)
        self._series(CPU, pause_labels, start.k, _seconds_text(pause))
        self._series(MEMORY, pause_labels, start.k, [PAUSE_BYTES] * len(ks))
        throttled_now = []
        for i, spec in enumerate(pod.running_specs):
            cid = render.container_id(pod.uid, spec.name)
            labels = _labels(spec.name, f"{cgroup}/{cid}", spec.image, cid, ns, name)
            self._series(CPU, labels, start.k, _seconds_text(counters[i]))
            self._series(MEMORY, labels, start.k, mems[i].tolist())
            throttled = start.throttled[i]
            if spec.cpu_lim is not None:
                self._series(PERIODS, labels, start.k, (self.periods * (ks - life.first)).tolist())
                count = start.throttled[i] + _running(throttled_periods(cpus[i][1:], spec.cpu_lim, self.periods))
                self._series(THROTTLED, labels, start.k, count.tolist())
                throttled = int(count[-1])
            throttled_now.append(throttled)
        with self.cluster.lock:  # the live endpoint goes on from the last generated collection
            if pod.cadvisor is None or pod.cadvisor.k < life.last:
                pod.cadvisor = PodTotals(life.last, [int(c[-1]) for c in counters], throttled_now)
        return sum(cpus), sum(mems)

    def _series(self, family: str, labels: str, first: int, values: list) -> None:
        """One series' samples from collection `first` on, those from `shown` written."""
        skip = max(0, self.shown - first)
        if skip >= len(values):
            return
        prefix = f"{family}{labels[:-1]},{self.extra}"
        at = first - self.root_from + skip
        stamps = self.stamps[at:at + len(values) - skip]
        self.out.write("".join([f"{prefix}{value} {stamp}\n" for value, stamp in zip(values[skip:], stamps)]))
        self.samples += len(stamps)


def _running(added: np.ndarray) -> np.ndarray:
    """A counter's values from its start: 0, then the running sum of what each collection adds."""
    return np.concatenate((np.zeros(1, dtype=np.int64), np.cumsum(added)))


def _seconds_text(nanoseconds: np.ndarray) -> list[str]:
    return [_seconds(value) for value in nanoseconds.tolist()]
