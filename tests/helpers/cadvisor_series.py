"""cAdvisor-like series for a small cluster, as OpenMetrics text with timestamps, and what they imply.

Every 15 s: per container a CPU counter growing at a constant rate (one of them restarts: a
counter reset) and a working set that changes each scrape; per pod the pod cgroup and the
pause sandbox with large numbers (a query that does not exclude them is visibly wrong); per
node the root cgroup (`id="/"`); CFS counters for a container with a CPU limit; and, when asked,
kube-prometheus's recording rules carrying the same numbers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

SCRAPE = 15
PAUSE = "registry.k8s.io/pause:3.10"


@dataclass
class Window:
    """When the generated scrapes are: set by a fixture as it loads an engine, so that they end a
    minute before it (instant queries at "now" see them), however late in a run it starts."""

    scrapes: int
    start: int = 0

    def begin_now(self) -> Window:
        self.start = (int(time.time()) // SCRAPE) * SCRAPE - SCRAPE * self.scrapes - 60
        return self

    @property
    def end(self) -> int:
        return self.start + SCRAPE * (self.scrapes - 1)

    def scrape(self, t: float) -> int:
        """The index of the scrape at time `t`."""
        return int((t - self.start) // SCRAPE)


@dataclass(frozen=True)
class Container:
    node: str
    namespace: str
    pod: str
    name: str
    millicores: float  # constant usage
    memory_base: int  # working set at the first scrape; grows 4 KiB a scrape
    restart_at: int | None = None  # scrape index where the counter starts again from zero
    cfs_periods: float = 0.0  # periods per second (a CPU limit) and throttled ones
    cfs_throttled: float = 0.0

    def memory(self, k: int) -> int:
        return self.memory_base + 4096 * k

    def counter(self, k: int) -> float:
        start = 0 if self.restart_at is None or k < self.restart_at else self.restart_at - 1
        return self.millicores / 1000 * SCRAPE * (k - start)


CONTAINERS = (
    Container("node-a", "shop", "web-1", "app", 250, 100 << 20),
    Container("node-a", "shop", "web-1", "sidecar", 10, 20 << 20),
    Container("node-b", "shop", "db-0", "db", 1500, 800 << 20, restart_at=200, cfs_periods=10, cfs_throttled=2.5),
    Container("node-b", "other", "web-1", "app", 40, 50 << 20),
    # DNS-subdomain pod names with a dot: `api.v2-0` must not match `apixv2-0` in a regex.
    Container("node-a", "other", "api.v2-0", "api", 300, 60 << 20),
    Container("node-b", "other", "apixv2-0", "api", 700, 70 << 20),
)
NODE_OVERHEAD_MILLICORES = {"node-a": 120, "node-b": 80}
NODE_OVERHEAD_MEMORY = {"node-a": 1 << 30, "node-b": 2 << 30}


def node_millicores(node: str) -> float:
    return NODE_OVERHEAD_MILLICORES[node] + sum(c.millicores for c in CONTAINERS if c.node == node)


def node_memory(node: str, k: int) -> int:
    return NODE_OVERHEAD_MEMORY[node] + sum(c.memory(k) for c in CONTAINERS if c.node == node)


def _labels(**labels: str) -> str:
    return "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}"


def _kubelet(node: str) -> dict[str, str]:
    return {"instance": f"{node}:10250", "job": "kubelet", "metrics_path": "/metrics/cadvisor", "node": node}


def openmetrics(start: int, scrapes: int, *, recording_rules: bool = False) -> str:
    """The series from `start` (seconds, on the 15 s grid) for `scrapes` scrapes, ending in # EOF."""
    times = [start + SCRAPE * k for k in range(scrapes)]
    families: dict[str, list[tuple[str, list[tuple[int, float]]]]] = {
        "container_cpu_usage_seconds_total": [], "container_memory_working_set_bytes": [],
        "container_cpu_cfs_periods_total": [], "container_cpu_cfs_throttled_periods_total": []}
    cpu, mem = families["container_cpu_usage_seconds_total"], families["container_memory_working_set_bytes"]
    for c in CONTAINERS:
        cgroup = f"/kubepods/pod-{c.pod}/{c.name}"
        labels = _labels(container=c.name, id=cgroup, image=f"example/{c.name}:1", name=c.name,
                         namespace=c.namespace, pod=c.pod, **_kubelet(c.node))
        cpu.append((labels, [(t, c.counter(k)) for k, t in enumerate(times)]))
        mem.append((labels, [(t, c.memory(k)) for k, t in enumerate(times)]))
        if c.cfs_periods:
            families["container_cpu_cfs_periods_total"].append(
                (labels, [(t, c.cfs_periods * SCRAPE * k) for k, t in enumerate(times)]))
            families["container_cpu_cfs_throttled_periods_total"].append(
                (labels, [(t, c.cfs_throttled * SCRAPE * k) for k, t in enumerate(times)]))
    for namespace, pod, node in sorted({(c.namespace, c.pod, c.node) for c in CONTAINERS}):
        for image, cgroup in (("", f"/kubepods/pod-{pod}"), (PAUSE, f"/kubepods/pod-{pod}/pause")):
            labels = _labels(container="", id=cgroup, image=image, name="", namespace=namespace, pod=pod,
                             **_kubelet(node))
            cpu.append((labels, [(t, 50.0 * SCRAPE * k) for k, t in enumerate(times)]))
            mem.append((labels, [(t, 9 << 30) for t in times]))
    for node in sorted(NODE_OVERHEAD_MILLICORES):
        labels = _labels(id="/", **_kubelet(node))
        cpu.append((labels, [(t, node_millicores(node) / 1000 * SCRAPE * k) for k, t in enumerate(times)]))
        mem.append((labels, [(t, node_memory(node, k)) for k, t in enumerate(times)]))
    if recording_rules:
        families["node_namespace_pod_container:container_cpu_usage_seconds_total:sum_rate5m"] = [
            (_labels(container=c.name, namespace=c.namespace, node=c.node, pod=c.pod),
             [(t, c.millicores / 1000) for t in times]) for c in CONTAINERS]
        families["node_namespace_pod_container:container_memory_working_set_bytes"] = [
            (_labels(container=c.name, id=f"/kubepods/pod-{c.pod}/{c.name}", image=f"example/{c.name}:1",
                     namespace=c.namespace, node=c.node, pod=c.pod), [(t, c.memory(k)) for k, t in enumerate(times)])
            for c in CONTAINERS]
    lines = []
    for name, series in families.items():
        for labels, points in series:
            lines.extend(f"{name}{labels} {value:.17g} {t}" for t, value in points)
    lines.append("# EOF")
    return "\n".join(lines) + "\n"
