"""What to request over Prometheus's window, for the dashboard's workload detail.

`ktopui rightsize`'s own code (batch/rightsize.advice: its window, step,
queries, memory peaks between steps, attribution of gone pods, and the rule)
run for one namespace: the workload's pods, its owners' metadata and two
range queries per namespace (more where its answer is large). Asked when a
workload's detail opens, off the UI thread; a namespace's answer is kept
KEEP_SECONDS, so opening its workloads again, or another of them, costs nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import NamedTuple

from ktopui.batch import prom_command, rightsize
from ktopui.batch.rightsize_advice import RightsizeRow
from ktopui.kube.api import KubeAPI
from ktopui.kube.prometheus import PromClient
from ktopui.model import promql
from ktopui.model.workload_advice import ContainerAdvice

KEEP_SECONDS = 600.0
SINCE = rightsize.DEFAULT_SINCE


class WindowAdvice(NamedTuple):
    """A namespace's suggestions over SINCE: rows by workload (namespace, kind, name)."""

    rows: dict[tuple[str, str, str], list[RightsizeRow]]
    since: str
    source: str  # the Prometheus asked, for people
    warnings: list[str]  # its partial answers, sanitised


class AdviceFromPrometheus:
    """The suggestions of namespaces, made by rightsize's code, each kept KEEP_SECONDS; one
    request at a time per namespace, however many screens ask."""

    def __init__(self, client: PromClient, api: KubeAPI, *, clock: Callable[[], float]) -> None:
        """`clock`: now, as the session tells it (the window ends there)."""
        self.client, self.api, self.clock = client, api, clock
        self._made: dict[str, tuple[float, WindowAdvice]] = {}  # namespace -> (the loop's time, advice)
        self._asking: dict[str, asyncio.Task] = {}

    async def namespace(self, namespace: str) -> WindowAdvice:
        """The namespace's advice (PromError, or the API's errors, if it cannot be made)."""
        loop = asyncio.get_running_loop()
        made = self._made.get(namespace)
        if made is not None and loop.time() - made[0] < KEEP_SECONDS:
            return made[1]
        task = self._asking.get(namespace)
        if task is None:
            task = self._asking[namespace] = asyncio.ensure_future(self._make(namespace))
            task.add_done_callback(lambda _: self._asking.pop(namespace, None))
        return await asyncio.shield(task)  # (a screen closed stops waiting, not the others' answer)

    async def close(self) -> None:
        """Stop what is being asked (the session closes)."""
        for task in list(self._asking.values()):
            task.cancel()
        await asyncio.gather(*self._asking.values(), return_exceptions=True)

    async def _make(self, namespace: str) -> WindowAdvice:
        session = prom_command.Session(self.api, self.client, namespace)
        found = await rightsize.advice(session, "", promql.parse_duration(SINCE), self.clock())
        rows: dict[tuple[str, str, str], list[RightsizeRow]] = {}
        for row in found.rows:
            rows.setdefault((row.namespace, row.kind, row.name), []).append(row)
        advice = WindowAdvice(rows, SINCE, self.client.source.name, found.warnings)
        self._made[namespace] = (asyncio.get_running_loop().time(), advice)
        return advice


def containers(rows: list[RightsizeRow]) -> list[ContainerAdvice]:
    """A workload's rightsize rows as the advice panel shows them (and `y` copies them)."""
    return [ContainerAdvice(r.container, r.request_cpu_milli, r.request_mem_bytes, r.cpu_milli, r.mem_bytes,
                            r.samples, r.span, r.pods, r.provisional) for r in rows]
