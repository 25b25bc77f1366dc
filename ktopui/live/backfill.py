"""Sparklines filled from Prometheus: the history the session did not see.

A screen says which history keys its visible rows draw (`Backfill.want`); the
keys not filled yet are asked of Prometheus in batches, never per row: one
query per metric for the nodes on screen, one for the pods and containers on
screen whatever their namespaces, one per namespace for workloads, one for all
namespaces and one for the cluster. A namespace's workloads with few pods have
them named and summed here; with more, Prometheus sums per owner prefix
(model/pod_owners, which says what that misattributes) and each workload adds
up the prefixes of its current pods: one series per workload, never per pod. Each key gets its kind's span (the ring's capacity times the
metrics resolution) at the resolution's step, cut before the key's first live
sample, and goes in through `History.ingest`, which merges by time: the live
samples stay and go on after it.

It runs as one task of the session's event loop (the numbers are sorted into
keys in a worker thread), its batches at once (the client keeps at most 4
queries in flight), so refreshes never wait for it. A failure ingests nothing of its batch, is said once (`error`) and is
tried again only after a backoff (prom_retry; RETRY_AFTER for a failure that will not pass on its own).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ktopui.kube.prometheus import PromClient, PromError, QueryResult
from ktopui.live.prom_retry import retry_delay
from ktopui.model import history_keys, promql
from ktopui.model.history import History
from ktopui.model.pod_owners import owner_prefix

log = logging.getLogger("ktopui.live")

RETRY_AFTER = 60.0  # seconds before keys are asked for again after a failure
# The workloads on screen have their pods named in the query up to this many in all;
# more, and Prometheus sums them per owner prefix.
MOST_PODS_NAMED = 200
MIN_STEP = 15.0  # seconds: finer than cAdvisor's usual scrape would repeat samples


@dataclass
class Batch:
    """One pair of queries (CPU, memory) and the keys its series fill."""

    cpu: str
    memory: str
    span_key: Hashable  # a key of the kind whose capacity sets the span
    # A series' labels to the keys it adds to (a workload's pods add up).
    keys_of: Callable[[Mapping[str, str]], Iterable[Hashable]]
    keys: set = field(default_factory=set)  # every key the batch answers for (filled even without data)


@dataclass(frozen=True)
class Outcome:
    """What one batch did: how many keys got samples, or why none did."""

    filled: int
    error: PromError | None = None
    warnings: tuple[str, ...] = ()


class Backfill:
    """Fills the history keys screens show from one PromClient, each key once."""

    def __init__(self, client: PromClient, history: History, *, clock: Callable[[], float],
                 resolution: Callable[[], float], told: Callable[[Outcome], None],
                 spawn: Callable[[Awaitable], None]) -> None:
        """`resolution`: the metrics resolution now (seconds between samples); `told` hears of
        each batch; `spawn` runs a coroutine as a task of the session's."""
        self.client = client
        self.history = history
        self.clock = clock
        self.resolution = resolution
        self.told = told
        self.spawn = spawn
        self.error: PromError | None = None  # the last batch's failure, until one succeeds
        self.filled: set[Hashable] = set()
        self._wanted: list[Hashable] = []
        self._members: dict[Hashable, Sequence[str]] = {}
        self._running = False
        self._quiet_until = 0.0
        self._failures = 0  # batches failed in a row

    @property
    def busy(self) -> bool:
        """Keys are being filled (or wait for the pause after a failure)."""
        return self._running

    def want(self, keys: Iterable[Hashable], members: Mapping[Hashable, Sequence[str]] | None = None) -> None:
        """These keys are on screen (`members`: a workload key's pod names): fill those not filled.
        The latest call replaces what an earlier one wanted and is not done yet."""
        wanted = [k for k in dict.fromkeys(keys) if k not in self.filled]
        self._wanted = wanted
        self._members = dict(members or {})
        if wanted and not self._running:
            self._running = True
            self.spawn(self._run())

    async def _run(self) -> None:
        try:
            while self._wanted:
                wait = self._quiet_until - asyncio.get_running_loop().time()
                if wait > 0:
                    await asyncio.sleep(wait)
                    continue
                batches = self._batches(self._wanted, self._members)
                if not batches:
                    break
                # All at once: the client keeps at most 4 queries in flight, the rows' first.
                await asyncio.gather(*(self._fill_and_tell(batch) for batch in batches))
                self._wanted = [k for k in self._wanted if k not in self.filled]
        finally:
            self._running = False

    async def fill(self, keys: Iterable[Hashable], members: Mapping[Hashable, Sequence[str]] | None = None) -> None:
        """Fill these keys now, beside what screens want (the export key's rows); returns when done
        (a failure is told, as any batch's)."""
        wanted = [k for k in dict.fromkeys(keys) if k not in self.filled]
        if wanted and asyncio.get_running_loop().time() >= self._quiet_until:
            await asyncio.gather(*(self._fill_and_tell(b) for b in self._batches(wanted, members or {})))

    async def _fill_and_tell(self, batch: Batch) -> None:
        outcome = await self._fill(batch)
        if outcome.error is None:
            self.filled |= batch.keys
            self.error = None
            self._failures = 0
        else:
            now = asyncio.get_running_loop().time()
            if now >= self._quiet_until:  # (the first failure of a round: its batches fail together)
                self._failures += 1
                self._quiet_until = now + (retry_delay(outcome.error, self._failures) or RETRY_AFTER)
            if self.error is None or type(self.error) is not type(outcome.error):
                log.warning("backfill from Prometheus failed: %s", outcome.error.message)
            self.error = outcome.error
        self.told(outcome)

    # -- what to ask ---------------------------------------------------------------

    def _batches(self, keys: Sequence[Hashable], members: Mapping[Hashable, Sequence[str]]) -> list[Batch]:
        """The queries that fill `keys`, the rows' before the cluster's."""
        step = self._step()
        rules = self.client.rules
        window = promql.cpu_window(step, rules)
        node_window = promql.rate_window(step)
        nodes = [k[1] for k in keys if k[0] == "node"]
        pods = {(k[1], k[2]) for k in keys if k[0] in ("pod", "container")}
        workloads = [k for k in keys if k[0] == "workload"]
        namespaces = [k for k in keys if k[0] == "namespace"]
        batches: list[Batch] = []
        for batch in promql.batches(nodes):  # (the page on screen: one; an export's: a few)
            batches.append(Batch(promql.node_cpu(batch, node_window), promql.node_memory(batch),
                                 history_keys.node(batch[0]), _node_keys, {history_keys.node(n) for n in batch}))
        for in_namespaces, names in promql.page_batches(sorted(pods)):  # (split only at a URL's length)
            spaces, named = set(in_namespaces), set(names)
            wanted = {k for k in keys if k[0] in ("pod", "container") and k[1] in spaces and k[2] in named}
            batches.append(Batch(promql.pod_cpu(in_namespaces, names, window, rules),
                                 promql.pod_memory(in_namespaces, names, rules),
                                 history_keys.pod(*min((k[1], k[2]) for k in wanted)), _pod_keys(wanted), wanted))
        if workloads:
            batches.extend(self._workload_batches(workloads, members, window, rules))
        if namespaces:
            wanted = set(namespaces)
            batches.append(Batch(f"sum by (namespace) ({promql.pod_cpu(None, None, window, rules)})",
                                 f"sum by (namespace) ({promql.pod_memory(None, None, rules)})",
                                 namespaces[0], lambda labels: _only(wanted, history_keys.namespace(
                                     labels.get("namespace", ""))), wanted))
        if history_keys.CLUSTER in keys:  # (the header's: after the rows)
            batches.append(Batch(f"sum({promql.node_cpu(None, node_window)})", f"sum({promql.node_memory(None)})",
                                 history_keys.CLUSTER, lambda labels: (history_keys.CLUSTER,), {history_keys.CLUSTER}))
        return batches

    @staticmethod
    def _workload_batches(group: list[Hashable], members: Mapping[Hashable, Sequence[str]],
                          window: str, rules: promql.RecordingRules) -> list[Batch]:
        """The workloads on screen, whatever their namespaces: up to MOST_PODS_NAMED pods in all
        are named and summed here; more, and Prometheus sums per owner prefix (one series per
        prefix). Either way one query per metric, split only at a URL's length; the matchers cross
        namespaces, so series are kept by (namespace, name)."""
        workload_of = {(key[2], pod): key for key in group for pod in members.get(key, ())}
        if len(workload_of) <= MOST_PODS_NAMED:
            def keys_of(labels: Mapping[str, str]) -> Iterable[Hashable]:
                key = workload_of.get((labels.get("namespace", ""), labels.get("pod", "")))
                return () if key is None else (key,)

            return [Batch(f"sum by (namespace, pod) ({promql.pod_cpu(spaces, names, window, rules)})",
                          f"sum by (namespace, pod) ({promql.pod_memory(spaces, names, rules)})",
                          group[0], keys_of, {key for key in group if key[2] in spaces})
                    for spaces, names in promql.page_batches(sorted(workload_of))]
        workloads_of: dict[tuple[str, str], set[Hashable]] = defaultdict(set)  # (namespace, owner prefix) -> keys
        for (namespace, pod), key in workload_of.items():
            workloads_of[(namespace, owner_prefix(pod))].add(key)

        def owner_keys(labels: Mapping[str, str]) -> Iterable[Hashable]:
            return workloads_of.get((labels.get("namespace", ""), labels.get("owner", "")), ())

        return [Batch(promql.by_owner("sum", promql.pod_cpu(spaces, None, window, rules, owners=owners)),
                      promql.by_owner("sum", promql.pod_memory(spaces, None, rules, owners=owners)),
                      group[0], owner_keys, {key for key in group if key[2] in spaces})
                for spaces, owners in promql.page_batches(sorted(workloads_of))]

    def _step(self) -> float:
        return max(MIN_STEP, float(self.resolution()))

    # -- asking and ingesting ------------------------------------------------------

    async def _fill(self, batch: Batch) -> Outcome:
        step = self._step()
        end = self.clock() // step * step  # on the step's grid: the client's cache answers a repeat
        start = end - (self.history.capacity_for(batch.span_key) - 1) * step
        try:
            cpu, memory = await asyncio.gather(self.client.query_range(batch.cpu, start, end, step),
                                               self.client.query_range(batch.memory, start, end, step))
        except PromError as err:
            return Outcome(0, err)
        filled = await asyncio.to_thread(self._ingest, batch, cpu, memory, start, step)
        return Outcome(filled, None, tuple(dict.fromkeys(cpu.warnings + memory.warnings)))

    def _ingest(self, batch: Batch, cpu: QueryResult, memory: QueryResult, start: float, step: float) -> int:
        """The series summed into their keys on the query's grid, each key cut before its first
        live sample (live samples are the metrics API's own: they stay as they were)."""
        points = int(self.history.capacity_for(batch.span_key))
        sums: dict[Hashable, np.ndarray] = {}  # key -> [2, points] (CPU, memory), NaN where no series had data
        for metric, result in enumerate((cpu, memory)):
            for series in result.series:
                at = np.rint((series.times - start) / step).astype(np.int64)
                ok = (at >= 0) & (at < points) & np.isfinite(series.values)
                for key in batch.keys_of(series.labels):
                    grid = sums.get(key)
                    if grid is None:
                        grid = sums[key] = np.full((2, points), np.nan)
                    row = grid[metric]
                    row[at[ok]] = np.where(np.isnan(row[at[ok]]), 0.0, row[at[ok]]) + series.values[ok]
        times = start + step * np.arange(points)
        filled = 0
        for key, grid in sums.items():
            live = self.history.times(key)
            keep = np.isfinite(grid).any(axis=0)
            if len(live):
                keep &= times < live[0]
            if keep.any() and self.history.ingest(key, times[keep], grid[0, keep], grid[1, keep]):
                filled += 1
        return filled


def _node_keys(labels: Mapping[str, str]) -> Iterable[Hashable]:
    node = labels.get("node")
    return (history_keys.node(node),) if node else ()


def _pod_keys(wanted: set) -> Callable[[Mapping[str, str]], Iterable[Hashable]]:
    """A container's series adds to its pod's key and is its own container key, where wanted."""

    def keys_of(labels: Mapping[str, str]) -> Iterable[Hashable]:
        namespace, pod, container = labels.get("namespace", ""), labels.get("pod", ""), labels.get("container", "")
        keys = [history_keys.pod(namespace, pod)] if history_keys.pod(namespace, pod) in wanted else []
        own = history_keys.container(namespace, pod, container)
        if own in wanted:
            keys.append(own)
        return keys

    return keys_of


def _only(wanted: set, key: Hashable) -> Iterable[Hashable]:
    return (key,) if key in wanted else ()
