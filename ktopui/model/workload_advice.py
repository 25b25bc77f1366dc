"""What to request for one workload: per container, today's request, the suggestion, the gap,
the history it rests on, and the `kubectl set resources` line that sets it.

Made for the workload on screen from its pods' rows (a loop over its pods is
fine here; every workload at once is reclaim.py's job), by the same rule
(suggestions.py).
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence

import msgspec
import numpy as np

from ktopui.model.history import CPU, MEMORY, History
from ktopui.model.quantity import format_cpu
from ktopui.model.suggestions import history_text, series_stats, suggest

# Kinds whose pod template `kubectl set resources` changes, as kubectl names them.
SETTABLE = {
    "Deployment": "deployment",
    "StatefulSet": "statefulset",
    "DaemonSet": "daemonset",
    "ReplicaSet": "replicaset",
    "ReplicationController": "replicationcontroller",
    "CronJob": "cronjob",
}


class ContainerAdvice(msgspec.Struct, frozen=True, gc=False):
    """One container of a workload: requests in millicores and bytes (None: not set, or no suggestion)."""

    name: str
    request_cpu_milli: int | None
    request_mem_bytes: int | None
    cpu_milli: int | None  # suggested
    mem_bytes: int | None
    samples: int
    span: float  # seconds of history
    pods: int  # pods with samples
    provisional: bool

    @property
    def cpu_gap(self) -> int | None:
        """Today's request less the suggestion (positive: asks for more than it uses)."""
        return None if self.request_cpu_milli is None or self.cpu_milli is None else self.request_cpu_milli - self.cpu_milli

    @property
    def mem_gap(self) -> int | None:
        return None if self.request_mem_bytes is None or self.mem_bytes is None else self.request_mem_bytes - self.mem_bytes

    @property
    def history(self) -> str:
        return history_text(self.samples, self.span, self.pods)


def _largest(values: list[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def advice(history: History, pods: Sequence) -> list[ContainerAdvice]:
    """Per running container of these pods (PodRows of one workload), in the order of their
    specs. Today's request is the largest its unfinished pods ask for (during a rollout,
    two specs)."""
    names: dict[str, list] = {}  # container -> [(cpu request, memory request)], [(times, cpu, mem)]
    for row in pods:
        info = row.info
        if info is None or info.phase in ("Succeeded", "Failed"):
            continue
        for c in info.spec.containers:
            if c.role == "init":
                continue
            requests, series = names.setdefault(c.name, ([], []))
            requests.append((c.requests.cpu_milli, c.requests.mem_bytes))
            key = row.container_history_key(c.name)
            series.append((history.times(key), history.series(key, CPU), history.series(key, MEMORY)))
    out = []
    for name, (requests, series) in names.items():
        width = max((len(t) for t, _, _ in series), default=0)
        shape = (len(series), max(width, 1))
        cpu, mem, times = np.full(shape, np.nan), np.full(shape, np.nan), np.zeros(shape)
        held = np.zeros(shape, dtype=bool)
        for i, (t, c, m) in enumerate(series):
            cpu[i, : len(c)], mem[i, : len(m)], times[i, : len(t)], held[i, : len(t)] = c, m, t, True
        s = suggest(series_stats(cpu, mem, times, held), np.zeros(len(series), dtype=np.int64), 1)
        out.append(ContainerAdvice(
            name,
            _largest([r[0] for r in requests]),
            _largest([r[1] for r in requests]),
            None if np.isnan(s.cpu_milli[0]) else int(s.cpu_milli[0]),
            None if np.isnan(s.mem_bytes[0]) else int(s.mem_bytes[0]),
            int(s.samples[0]), float(s.span[0]), int(s.pods[0]), bool(s.provisional()[0]),
        ))
    return out


def memory_text(nbytes: int) -> str:
    """Bytes as a spec writes them: whole mebibytes (Mi), or gibibytes when exact."""
    mi = nbytes // (1 << 20)
    return f"{mi // 1024}Gi" if mi % 1024 == 0 and mi else f"{mi}Mi"


def set_resources(kind: str, namespace: str, name: str, container: ContainerAdvice) -> str | None:
    """The kubectl command that sets the suggested requests of one container (None: no
    suggestion, or a kind whose pod template kubectl cannot set)."""
    resource = SETTABLE.get(kind)
    if resource is None or container.cpu_milli is None or container.mem_bytes is None:
        return None
    requests = f"--requests=cpu={format_cpu(container.cpu_milli)},memory={memory_text(container.mem_bytes)}"
    return shlex.join(["kubectl", "set", "resources", f"{resource}/{name}", "-n", namespace, "-c", container.name,
                       requests])


def not_settable(kind: str) -> str | None:
    """Why `kubectl set resources` does not apply to this kind (None: it does)."""
    if kind in SETTABLE:
        return None
    if kind == "Pod":
        return "a bare pod's requests cannot be set: kubectl set resources applies to its controller, and it has none"
    if kind == "Job":
        return "a Job's pod template cannot change: set the requests where the Job is made"
    return f"kubectl set resources does not know {kind}: set the requests in its own resource"
