"""cAdvisor's metrics as a node's kubelet serves them at /metrics/cadvisor (reached through the
API server at /api/v1/nodes/NODE/proxy/metrics/cadvisor).

Consistent with the metrics API by construction: a container's CPU counter at its node's scrape
k is the sum over the scrapes it has run of usage rate × resolution, in whole nanoseconds, so
the rate between two consecutive scrapes is exactly the usage metrics-server reports for scrape
k; the working set is the same number. Rows are those cAdvisor has for a node: each running
container, each pod's sandbox (pause) and pod cgroup, and the root cgroup, whose rate is the
node's usage. Containers with a CPU limit have the CFS counters, 10 periods a second.

Counters began before the simulated cluster did: every collection from the cluster's
`counters_from` on (its creation, or earlier when its past was generated for an engine, see
past.py) is added exactly; what a container used before that is estimated once from its
baseline (a function of its start time). The running total is kept on the pod or node, so a
scrape costs O(containers). `pod_counters_start` and `root_counter_start` are that one
definition, shared with past.py. A container that restarts keeps its counter (the simulator
keeps no usage per run).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ktopui.sim import render
from ktopui.sim.cluster import SimCluster
from ktopui.sim.world import Node, Pod

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
PERIODS_PER_SECOND = 10  # the CFS default: a 100 ms period
PAUSE_IMAGE = "registry.k8s.io/pause:3.10"
PAUSE_NANOCORES = 100_000  # the sandbox's own small, steady use
PAUSE_BYTES = 60 * 4096

_FAMILIES = {
    "cpu": ("container_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed in seconds."),
    "memory": ("container_memory_working_set_bytes", "gauge", "Current working set in bytes."),
    "periods": ("container_cpu_cfs_periods_total", "counter", "Number of elapsed enforcement period intervals."),
    "throttled": ("container_cpu_cfs_throttled_periods_total", "counter", "Number of throttled period intervals."),
}


@dataclass(slots=True)
class PodTotals:
    """A pod's running counters as of its node's scrape `k`, per running container."""
    k: int
    cpu_ns: list[int]
    throttled: list[int]


def throttled_periods(nanocores: int, limit_millicores: int, periods: int) -> int:
    """Periods of a window throttled at a usage against a limit: none below 60 % of the limit,
    rising to most of them at the limit, nine in ten far above it."""
    ratio = nanocores / (limit_millicores * 1_000_000)
    if ratio <= 0.6:
        return 0
    share = 0.6 * (ratio - 0.6) / 0.4 if ratio < 1 else min(0.9, 0.6 + 0.3 * (ratio - 1))
    return round(periods * share)


def first_scrape(node: Node, started: float, resolution: float) -> int:
    """The node's first collection at or after `started`: a counter's zero."""
    return math.ceil((started - node.phase) / resolution)


def pod_counters_start(pod: Pod, k0: int, since: int, resolution: float, periods: int) -> PodTotals:
    """A pod's counters at its node's collection max(k0, since), where k0 is its first and
    `since` the first counted exactly: the collections before, at the containers' baselines."""
    begin = max(k0, since)
    before = begin - k0
    cpu = [round(base * resolution) * before for base in pod.cpu_base]
    throttled = [0 if spec.cpu_lim is None else throttled_periods(round(base), spec.cpu_lim, periods) * before
                 for base, spec in zip(pod.cpu_base, pod.running_specs)]
    return PodTotals(begin, cpu, throttled)


def root_counter_start(cluster: SimCluster, node: Node, since: int) -> tuple[int, int]:
    """(collection, CPU nanoseconds) of the node's root cgroup where exact counting begins: the
    collections since its boot before it, at that collection's usage."""
    booted = first_scrape(node, node.created, cluster.resolution)
    begin = max(booted, since)
    return begin, round(cluster.node_usage(node, begin)[0] * cluster.resolution) * (begin - booted)


def exposition(cluster: SimCluster, node_name: str) -> bytes | None:
    """The node's /metrics/cadvisor text at the cluster's current time; None: no such node."""
    with cluster.lock:
        cluster.sync()
        node = cluster.node_named(node_name)
        if node is None:
            return None
        return _Scrape(cluster, node).text()


class _Scrape:
    def __init__(self, cluster: SimCluster, node: Node) -> None:
        self.cluster = cluster
        self.node = node
        self.res = cluster.resolution
        self.k = cluster.kubelet_scrape(node, cluster.now())
        self.since = cluster.kubelet_scrape(node, cluster.counters_from)
        self.periods = round(self.res * PERIODS_PER_SECOND)
        self.stamp = f" {round(cluster.scrape_time(node, self.k) * 1000)}\n"
        self.rows: dict[str, list[str]] = {family: [] for family in _FAMILIES}

    def text(self) -> bytes:
        cluster, node, k = self.cluster, self.node, self.k
        if node.ready:
            memory = cluster.node_usage(node, k)[1]
            root = _labels("", "/", "", "", "", "")
            self._row("cpu", root, _seconds(self._root_total()))
            self._row("memory", root, str(memory))
            for pod in sorted(cluster.pods_at_scrape(node, k), key=lambda p: (p.namespace, p.name)):
                self._pod(pod)
        out = []
        for family, (name, kind, help_text) in _FAMILIES.items():
            out.append(f"# HELP {name} {help_text}\n# TYPE {name} {kind}\n")
            out.extend(f"{name}{row}" for row in self.rows[family])
        return "".join(out).encode()

    def _row(self, family: str, labels: str, value: str) -> None:
        self.rows[family].append(f"{labels} {value}{self.stamp}")

    def _pod(self, pod: Pod) -> None:
        k0 = first_scrape(self.node, pod.started, self.res)
        totals = self._pod_totals(pod, k0)
        usage = self.cluster.pod_usage(pod, self.k)
        cgroup = f"/kubepods{_qos_path(pod)}/pod{pod.uid}"
        pause_ns = round(PAUSE_NANOCORES * self.res) * (self.k - k0)
        ns, name = pod.namespace, pod.name
        self._row("cpu", _labels("", cgroup, "", "", ns, name), _seconds(sum(totals.cpu_ns) + pause_ns))
        self._row("memory", _labels("", cgroup, "", "", ns, name), str(sum(m for _, m in usage) + PAUSE_BYTES))
        sandbox = render.container_id(pod.uid, "POD")
        pause = _labels("", f"{cgroup}/{sandbox}", PAUSE_IMAGE, sandbox, ns, name)
        self._row("cpu", pause, _seconds(pause_ns))
        self._row("memory", pause, str(PAUSE_BYTES))
        for i, spec in enumerate(pod.running_specs):
            cid = render.container_id(pod.uid, spec.name)
            labels = _labels(spec.name, f"{cgroup}/{cid}", spec.image, cid, ns, name)
            self._row("cpu", labels, _seconds(totals.cpu_ns[i]))
            self._row("memory", labels, str(usage[i][1]))
            if spec.cpu_lim is not None:
                self._row("periods", labels, str(self.periods * (self.k - k0)))
                self._row("throttled", labels, str(totals.throttled[i]))

    def _pod_totals(self, pod: Pod, k0: int) -> PodTotals:
        totals = pod.cadvisor
        limits = [spec.cpu_lim for spec in pod.running_specs]
        if totals is None or totals.k > self.k:
            totals = pod.cadvisor = pod_counters_start(pod, k0, self.since, self.res, self.periods)
        for j in range(totals.k + 1, self.k + 1):
            for i, (rate, _) in enumerate(self.cluster.pod_usage(pod, j)):
                totals.cpu_ns[i] += round(rate * self.res)
                if limits[i] is not None:
                    totals.throttled[i] += throttled_periods(rate, limits[i], self.periods)
        totals.k = self.k
        return totals

    def _root_total(self) -> int:
        node, cluster = self.node, self.cluster
        state = node.cadvisor
        if state is None or state[0] > self.k:
            state = root_counter_start(cluster, node, self.since)
        k, total = state
        for j in range(k + 1, self.k + 1):
            total += round(cluster.node_usage(node, j)[0] * self.res)
        node.cadvisor = (self.k, total)
        return total


def _qos_path(pod: Pod) -> str:
    qos = render.qos_class(pod)
    return "" if qos == "Guaranteed" else f"/{qos.lower()}"


def _seconds(nanoseconds: int) -> str:
    whole, part = divmod(nanoseconds, 1_000_000_000)
    return f"{whole}.{part:09d}"


def _labels(container: str, cgroup: str, image: str, name: str, namespace: str, pod: str) -> str:
    return (f'{{container="{_escape(container)}",id="{_escape(cgroup)}",image="{_escape(image)}",'
            f'name="{_escape(name)}",namespace="{_escape(namespace)}",pod="{_escape(pod)}"}}')


def _escape(value: str) -> str:
    """A label value as the text format writes it: backslash, double quote and newline escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
