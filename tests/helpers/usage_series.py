"""cAdvisor-style history generated for a set of pods and nodes, as OpenMetrics for an engine,
with the numbers ktopui should read back from it.

Each container's CPU counter grows at a constant rate (so `rate()` over any window is that
rate, exactly, in Prometheus and VictoriaMetrics alike) and its working set changes at every
sample (so a backfill taking the wrong sample shows). Samples lie on a 15 s grid, as queries'
steps do. A node's root cgroup (`id="/"`) is the sum of its pods'.
"""

from __future__ import annotations

from dataclasses import dataclass, field

STEP = 15


@dataclass(frozen=True)
class Container:
    namespace: str
    pod: str
    name: str
    node: str
    cores: float  # CPU used all along (the counter's rate), in cores: exact in binary
    memory_base: int  # bytes; the working set moves around it
    throttled: float = 0.0  # share of CFS periods throttled, all along (0: no CPU limit, no counters)

    def memory_at(self, i: int) -> float:
        """The working set at the i-th sample (steps of 4 KiB, as a page-sized reading)."""
        return float(self.memory_base + ((i * 7 + len(self.pod)) % 23) * 4096)


@dataclass
class Generated:
    start: float  # the first sample's time (a multiple of `step`)
    end: float  # the last sample's time
    containers: list[Container] = field(default_factory=list)
    step: float = STEP  # seconds between samples

    def times(self) -> list[float]:
        return [self.start + i * self.step for i in range(int((self.end - self.start) // self.step) + 1)]

    def index(self, t: float) -> int:
        """The sample in force at `t` (the latest at or before it)."""
        return int((t - self.start) // self.step)

    def cpu_milli(self, namespace: str, pod: str, container: str | None = None) -> float:
        """Millicores of a pod (its containers summed) or of one of its containers, at any time."""
        return sum(c.cores * 1000 for c in self._of(namespace, pod, container))

    def memory(self, namespace: str, pod: str, t: float, container: str | None = None) -> float:
        return sum(c.memory_at(self.index(t)) for c in self._of(namespace, pod, container))

    def node_cpu_milli(self, node: str) -> float:
        return sum(c.cores * 1000 for c in self.containers if c.node == node)

    def node_memory(self, node: str, t: float) -> float:
        return sum(c.memory_at(self.index(t)) for c in self.containers if c.node == node)

    def _of(self, namespace: str, pod: str, container: str | None) -> list[Container]:
        return [c for c in self.containers if (c.namespace, c.pod) == (namespace, pod)
                and (container is None or c.name == container)]

    def openmetrics(self) -> str:
        """The samples as OpenMetrics text (timestamps in seconds), for promtool or an import."""
        times = self.times()
        lines = ["# TYPE container_cpu_usage_seconds counter"]
        for c in self.containers:
            labels = (f'container="{c.name}",id="/kubepods/{c.pod}/{c.name}",image="example/{c.name}:1",'
                      f'namespace="{c.namespace}",node="{c.node}",pod="{c.pod}"')
            lines += [f"container_cpu_usage_seconds_total{{{labels}}} {c.cores * (t - self.start + 3600):.6f} {t:.0f}"
                      for t in times]
        for node in sorted({c.node for c in self.containers}):
            cores = self.node_cpu_milli(node) / 1000
            lines += [f'container_cpu_usage_seconds_total{{id="/",node="{node}"}} '
                      f"{cores * (t - self.start + 3600):.6f} {t:.0f}" for t in times]
        for name, share in (("container_cpu_cfs_periods", lambda c: 1.0), ("container_cpu_cfs_throttled_periods",
                                                                          lambda c: c.throttled)):
            lines.append(f"# TYPE {name} counter")
            for c in (c for c in self.containers if c.throttled):
                labels = f'container="{c.name}",image="example/{c.name}:1",namespace="{c.namespace}",pod="{c.pod}"'
                # 10 periods a second (the kernel's 100 ms CFS period).
                lines += [f"{name}_total{{{labels}}} {10 * share(c) * (t - self.start + 3600):.3f} {t:.0f}"
                          for t in times]
        lines.append("# TYPE container_memory_working_set_bytes gauge")
        for c in self.containers:
            labels = (f'container="{c.name}",id="/kubepods/{c.pod}/{c.name}",image="example/{c.name}:1",'
                      f'namespace="{c.namespace}",node="{c.node}",pod="{c.pod}"')
            lines += [f"container_memory_working_set_bytes{{{labels}}} {c.memory_at(i):.0f} {t:.0f}"
                      for i, t in enumerate(times)]
        for node in sorted({c.node for c in self.containers}):
            lines += [f'container_memory_working_set_bytes{{id="/",node="{node}"}} {self.node_memory(node, t):.0f} '
                      f"{t:.0f}" for t in times]
        return "\n".join([*lines, "# EOF", ""])
