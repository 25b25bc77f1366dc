"""CPU throttling of the pods and workloads on screen, from cAdvisor's CFS counters in Prometheus.

A pod's THROTTLE% is the share of CFS periods throttled over the last five
minutes of its most throttled container (only containers with a CPU limit
have the counters; a pod with none has no value, not 0); a workload's is the
highest of its pods'. Asked for the visible rows only, and again at most once
a minute: one instant query for the pods on screen and one for the workloads,
whatever their namespaces (split only at a URL's length); for workloads
Prometheus takes the highest per owner prefix (model/pod_owners, which says
what that misattributes), so that no workload costs a series per pod.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable, Mapping, Sequence

from ktopui.kube.prometheus import PromClient, PromError
from ktopui.live.backfill import RETRY_AFTER, Outcome
from ktopui.live.prom_retry import retry_delay
from ktopui.model import history_keys, promql
from ktopui.model.pod_owners import owner_prefix

log = logging.getLogger("ktopui.live")

REFRESH_EVERY = 60.0  # seconds between asks for the same rows


class Throttling:
    """The throttled shares (0-1) of the rows on screen, under their history keys."""

    def __init__(self, client: PromClient, *, clock: Callable[[], float], told: Callable[[Outcome], None],
                 spawn: Callable[[Awaitable], None]) -> None:
        """`clock`: now, as the session tells it (the time the queries are evaluated at)."""
        self.client = client
        self.clock = clock
        self.told = told
        self.spawn = spawn
        self.shares: dict[Hashable, float] = {}
        self._pods: list[tuple[str, str]] = []
        self._workloads: dict[Hashable, Sequence[str]] = {}
        self._asked: dict[Hashable, float] = {}  # key -> when (the loop's clock) it was last asked for
        self._running = False

    def want(self, pods: Sequence[tuple[str, str]], workloads: Mapping[Hashable, Sequence[str]]) -> None:
        """These pods (namespace, name) and workloads (key -> its pods' names) are on screen."""
        self._pods, self._workloads = list(pods), dict(workloads)
        if (pods or workloads) and not self._running:
            self._running = True
            self.spawn(self._run())

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        failures = 0  # asks failed in a row
        try:
            while self._pods or self._workloads:
                now = loop.time()
                due = [p for p in self._pods if now - self._asked.get(history_keys.pod(*p), -1e9) >= REFRESH_EVERY]
                workloads = {k: v for k, v in self._workloads.items()
                             if now - self._asked.get(k, -1e9) >= REFRESH_EVERY}
                if due or workloads:
                    outcome = await self._ask(due, workloads)
                    if outcome.error is None:
                        for key in [history_keys.pod(*p) for p in due] + list(workloads):
                            self._asked[key] = now
                    self.told(outcome)
                    if outcome.error is not None:
                        failures += 1
                        await asyncio.sleep(retry_delay(outcome.error, failures) or RETRY_AFTER)
                        continue
                    failures = 0
                await asyncio.sleep(min(REFRESH_EVERY, 5.0))
        finally:
            self._running = False

    async def _ask(self, pods: list[tuple[str, str]], workloads: Mapping[Hashable, Sequence[str]]) -> Outcome:
        owners = {(key[2], owner_prefix(pod)) for key, members in workloads.items() for pod in members}
        page = list(promql.page_batches(sorted(set(pods))))
        by_owner = list(promql.page_batches(sorted(owners)))
        try:
            at = self.clock()
            answers = await asyncio.gather(
                *(self.client.query(promql.pod_throttle(namespaces, names), at) for namespaces, names in page),
                *(self.client.query(promql.by_owner("max", f"({promql.pod_throttle(namespaces, None, owners=names)})"),
                                    at) for namespaces, names in by_owner))
        except PromError as err:
            return Outcome(0, err)
        worst: dict[tuple[str, str, str], float] = {}  # ("pod" | "owner", namespace, name) -> share
        for answer in answers:
            for series in answer.series:
                if len(series.values) and series.values[-1] == series.values[-1]:  # (NaN: no periods)
                    labels = series.labels
                    what = ("owner", labels.get("namespace", ""), labels["owner"]) if "owner" in labels else \
                        ("pod", labels.get("namespace", ""), labels.get("pod", ""))
                    worst[what] = max(worst.get(what, 0.0), float(series.values[-1]))
        for namespace, pod in pods:  # (the page's matchers cross namespaces: only the pods asked for)
            self._set(history_keys.pod(namespace, pod), worst.get(("pod", namespace, pod)))
        for key, members in workloads.items():
            found = [worst[what] for what in {("owner", key[2], owner_prefix(pod)) for pod in members} if what in worst]
            self._set(key, max(found) if found else None)
        warnings = tuple(dict.fromkeys(w for a in answers for w in a.warnings))
        return Outcome(len(worst), None, warnings)

    def _set(self, key: Hashable, share: float | None) -> None:
        if share is None:
            self.shares.pop(key, None)
        else:
            self.shares[key] = share
