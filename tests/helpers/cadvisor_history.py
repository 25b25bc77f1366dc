"""Generated cAdvisor history for a simulated cluster's pods, written as OpenMetrics for the real engines.

Every series is known in advance: a container's CPU is constant within each hour
(a counter rising at that rate), its memory too; one container carries a memory spike
of a single sample. Pods that are gone (an old ReplicaSet's, a Deployment's
ReplicaSet deleted since, a pod of nobody) have history in the first hours only.
Beside the containers, the rows cAdvisor also exports and ktopui must leave out: the
pod cgroup (`container=""`), the pause sandbox, and each node's root cgroup (`id="/"`),
which is the node's usage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

SCRAPE = 15.0
HOUR = 3600.0
PAUSE_IMAGE = "registry.k8s.io/pause:3.10"
MI = 1 << 20


@dataclass
class Container:
    namespace: str
    pod: str
    name: str
    node: str
    start: float  # first sample
    end: float  # last sample
    cpu_blocks: list[float]  # millicores in each hour from the data's start
    mem_blocks: list[float]  # bytes in each hour
    spike: tuple[float, float] | None = None  # (time, bytes): one sample above the rest

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.namespace, self.pod, self.name)


@dataclass
class History:
    t0: float  # the data's first sample time (a multiple of an hour)
    hours: int
    containers: list[Container] = field(default_factory=list)
    nodes: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)  # node -> cpu, mem blocks

    @property
    def end(self) -> float:
        return self.t0 + self.hours * HOUR - SCRAPE

    def block(self, t: float) -> int:
        return int((t - self.t0) // HOUR)

    def sample_times(self, start: float, end: float) -> np.ndarray:
        return np.arange(start, end + SCRAPE / 2, SCRAPE)

    def memory_at(self, c: Container, t: float) -> float:
        if c.spike is not None and c.spike[0] == t:
            return c.spike[1]
        return c.mem_blocks[self.block(t)]

    def openmetrics(self) -> str:
        cpu_lines: list[str] = []
        mem_lines: list[str] = []
        for i, c in enumerate(self.containers):
            labels = (f'container="{c.name}",id="/kubepods/pod{i}/{c.name}",image="example/{c.name}:1",'
                      f'name="{c.name}-{i}",namespace="{c.namespace}",pod="{c.pod}",')
            self._series(cpu_lines, mem_lines, labels, c.node, c.start, c.end,
                         lambda t, c=c: c.cpu_blocks[self.block(t)], lambda t, c=c: self.memory_at(c, t))
            if i == 0:  # the pod's own cgroup and its pause sandbox, as cAdvisor exports them
                pod_labels = f'namespace="{c.namespace}",pod="{c.pod}",'
                for extra in (f'container="",id="/kubepods/pod{i}",image="",name="",{pod_labels}',
                              f'container="",id="/kubepods/pod{i}/pause",image="{PAUSE_IMAGE}",name="pause",{pod_labels}'):
                    self._series(cpu_lines, mem_lines, extra, c.node, c.start, c.end,
                                 lambda t: 5000.0, lambda t: 9e9)
        for node, (cpu, mem) in self.nodes.items():
            self._series(cpu_lines, mem_lines, 'container="",id="/",image="",name="",namespace="",pod="",', node,
                         self.t0, self.end, lambda t, cpu=cpu: cpu[self.block(t)],
                         lambda t, mem=mem: mem[self.block(t)])
        return "\n".join(cpu_lines + mem_lines + ["# EOF", ""])

    def _series(self, cpu_lines: list[str], mem_lines: list[str], labels: str, node: str, start: float, end: float,
                cpu_milli, memory) -> None:
        common = f'{labels}instance="{node}",job="kubelet",metrics_path="/metrics/cadvisor",node="{node}"'
        counter = 1000.0  # (not zero: a counter seen mid-life)
        for t in self.sample_times(start, end):
            cpu_lines.append(f"container_cpu_usage_seconds_total{{{common}}} {counter!r} {t:.3f}")
            mem_lines.append(f"container_memory_working_set_bytes{{{common}}} {memory(t)!r} {t:.3f}")
            counter += cpu_milli(t) / 1000 * SCRAPE


def blocks(hours: int, base: float, seed: int) -> list[float]:
    """Hourly values with one largest block (hour 2 of the data), fractions that round visibly."""
    rng = np.random.default_rng(seed)
    values = [round(base * (0.4 + 0.4 * rng.random()), 1) + 0.4 for _ in range(hours)]
    values[2] = round(base * 1.3, 1) + 0.4
    return values


def hour_start(t: float) -> float:
    return math.floor(t / HOUR) * HOUR


GONE_HOURS = 4  # gone pods have history in the data's first hours only
DATA_HOURS = 12


def for_cluster(pods: list[dict], replicasets: list[dict], nodes: list[str], now: float) -> tuple[History, dict]:
    """History for the running pods of `pods` (the API's JSON) in the namespaces web and payments,
    for every node, and for the gone pods of `names` (what each is there to show):

    * "old_replicaset": a pod of frontend's old ReplicaSet (still listed, scaled to 0);
    * "deleted_replicaset": a pod of api whose ReplicaSet is gone (attributed by the pattern);
    * "longest_name": a pod of ledger-replay, not of ledger;
    * "nobody": a pod no workload's pattern matches (a workload of its own).

    The live frontend pod starts when the old one went (a rollout)."""
    history = History(t0=hour_start(now) - DATA_HOURS * HOUR, hours=DATA_HOURS)
    gone_end = history.t0 + GONE_HOURS * HOUR - SCRAPE
    live = [p for p in pods if p["metadata"]["namespace"] in ("web", "payments") and p["status"]["phase"] == "Running"]
    live_rs = {ref["name"] for p in pods for ref in p["metadata"].get("ownerReferences", [])}
    old = next(r["metadata"]["name"] for r in replicasets
               if r["metadata"]["namespace"] == "web" and r["metadata"]["name"].startswith("frontend-")
               and r["metadata"]["name"] not in live_rs)
    names = {"old_replicaset": f"{old}-aaaaa", "deleted_replicaset": "api-zzzzzzzzzz-bbbbb",
             "longest_name": "ledger-replay-qqqqqqqqqq-ccccc", "nobody": "ghost-ddddd"}
    seed = 0
    for p in live:
        meta = p["metadata"]
        start = history.t0 + GONE_HOURS * HOUR if meta["name"].startswith("frontend-") else history.t0
        for c in p["spec"]["containers"]:
            seed += 1
            history.containers.append(Container(
                meta["namespace"], meta["name"], c["name"], p["spec"]["nodeName"], start, history.end,
                blocks(DATA_HOURS, 50.0 * seed, seed), [float(round(b * MI)) for b in blocks(DATA_HOURS, 40.0 * seed, seed + 100)]))
    gone = [("web", names["old_replicaset"], "nginx"), ("web", names["deleted_replicaset"], "api"),
            ("payments", names["longest_name"], "replay"), ("web", names["nobody"], "app")]
    for namespace, pod, container in gone:
        seed += 1
        history.containers.append(Container(
            namespace, pod, container, nodes[0], history.t0, gone_end,
            blocks(DATA_HOURS, 60.0 * seed, seed), [float(round(b * MI)) for b in blocks(DATA_HOURS, 30.0 * seed, seed + 100)]))
    first = history.containers[0]
    first.spike = (history.t0 + 5 * HOUR + SCRAPE, max(first.mem_blocks) * 3 + 12345)
    for i, node in enumerate(nodes):
        history.nodes[node] = (blocks(DATA_HOURS, 900.0 + 100 * i, 500 + i),
                               [float(round(b * MI)) for b in blocks(DATA_HOURS, 4000.0 + 100 * i, 600 + i)])
    return history, names
