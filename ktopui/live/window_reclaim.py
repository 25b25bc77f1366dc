"""RECLAIM CPU and MEM of the workloads on screen over Prometheus's window.

The suggestions are the workload detail's (window_advice: `ktopui rightsize`'s
rule over 7d, a namespace at a time, kept KEEP_SECONDS); a workload's figure is
the sum over its unfinished pods' running containers of today's request less
the suggestion where positive, as model/reclaim.py sums it over the session's
history. Only the workloads on screen, a namespace at most every KEEP_SECONDS:
the refresh path does nothing here, and the other rows keep the session's figure.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable, Sequence

from ktopui.kube.errors import KubeError
from ktopui.kube.prometheus import PromError
from ktopui.live.window_advice import KEEP_SECONDS, AdviceFromPrometheus, WindowAdvice
from ktopui.model.snapshot import Snapshot

log = logging.getLogger("ktopui.live")

RETRY_AFTER = 60.0  # seconds before a namespace that failed is asked again
_FINISHED = ("Succeeded", "Failed")


class WindowReclaim:
    """Figures by workload history key (("workload", kind, namespace, name)) in `cpu` and `mem`
    (millicores, bytes; None: no gap known), for the keys wanted since their namespace was read
    that Prometheus has series for (the others are not there: their session's figure stands)."""

    def __init__(self, advice: AdviceFromPrometheus, snapshot: Callable[[], Snapshot | None], *,
                 told: Callable[[], None], spawn: Callable[[Awaitable], None]) -> None:
        self.advice, self.snapshot, self.told, self.spawn = advice, snapshot, told, spawn
        self.cpu: dict[Hashable, int | None] = {}
        self.mem: dict[Hashable, int | None] = {}
        self._wanted: list[tuple] = []
        self._read: dict[str, tuple[float, WindowAdvice]] = {}  # namespace -> (the loop's time, advice)
        self._failed: dict[str, float] = {}  # namespace -> when it last failed
        self._figured: set[tuple] = set()  # keys figured from their namespace's last read
        self._running = False

    def want(self, keys: Sequence[Hashable]) -> None:
        """These history keys are on screen (the workloads' are kept)."""
        self._wanted = [k for k in keys if isinstance(k, tuple) and k[0] == "workload"]
        if self._wanted and not self._running:
            self._running = True
            self.spawn(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._wanted:
                now = loop.time()
                namespaces = dict.fromkeys(k[2] for k in self._wanted)
                for namespace in namespaces:
                    read = self._read.get(namespace)
                    stale = read is None or now - read[0] >= KEEP_SECONDS
                    if stale and now - self._failed.get(namespace, -RETRY_AFTER) >= RETRY_AFTER:
                        try:
                            read = self._read[namespace] = (now, await self.advice.namespace(namespace))
                        except (PromError, KubeError) as err:
                            self._failed[namespace] = now
                            log.warning("reclaimable over Prometheus's window: %s", err.message)
                            continue
                        self._figure(namespace, read[1], [k for k in self._wanted if k[2] == namespace], True)
                    elif read is not None:
                        self._figure(namespace, read[1], [k for k in self._wanted if k[2] == namespace], False)
                await asyncio.sleep(5.0)
        finally:
            self._running = False

    def _figure(self, namespace: str, advice: WindowAdvice, keys: list[tuple], again: bool) -> None:
        """The figures of `keys` not figured from this read yet (`again`: a new read); told if any."""
        snapshot = self.snapshot()
        if again:  # (a new read: the figures of its workloads not on screen now are old)
            self._figured = {k for k in self._figured if k[2] != namespace}
        keys = [k for k in keys if k not in self._figured]
        if snapshot is None or not keys:
            return
        for key in keys:
            self._figured.add(key)
            _, kind, _, name = key
            rows = advice.rows.get((namespace, kind, name))
            if not rows or not any(r.samples for r in rows):
                self.cpu.pop(key, None)
                self.mem.pop(key, None)
                continue
            suggested = {r.container: (r.cpu_milli, r.mem_bytes) for r in rows}
            cpu = mem = None
            for info in snapshot.workload_pods((kind, namespace, name)).infos:
                if info is None or info.phase in _FINISHED:
                    continue
                for c in info.spec.containers:
                    if c.role == "init":
                        continue
                    s_cpu, s_mem = suggested.get(c.name, (None, None))
                    if s_cpu is not None and c.requests.cpu_milli is not None:
                        cpu = (cpu or 0) + max(0, c.requests.cpu_milli - s_cpu)
                    if s_mem is not None and c.requests.mem_bytes is not None:
                        mem = (mem or 0) + max(0, c.requests.mem_bytes - s_mem)
            self.cpu[key], self.mem[key] = cpu, mem
        self.told()
