"""Namespaces: the row of one namespace summed from its pods, its ResourceQuota use, and what sorts it.

Usage is the sum of the namespace's pods' usage, rounded once as `kubectl
top pods -n NS --sum` rounds its total line (pods known only from their
metrics count too, as they do there). Where ResourceQuotas limit
`requests.cpu`, `requests.memory`, `limits.cpu` or `limits.memory`, the row
holds what the quota says is used of its hard limit (the tightest quota of
several).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import attrgetter

import msgspec

from ktopui.kube.objects import ResourceQuota
from ktopui.model.amounts import Amounts, Usage, pct
from ktopui.model.kinds import Kind
from ktopui.model.pods import LimitShare
from ktopui.model.quantity import QuantityError, parse_cached
from ktopui.model.rollup import SUMMED_VALUES, SummedRow, Sums, parts

QUOTA_RESOURCES = ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory")


class QuotaUse(msgspec.Struct, frozen=True, gc=False):
    """One quota'd resource: used and hard, in millicores (CPU) or bytes (memory)."""

    used: int
    hard: int

    @property
    def pct(self) -> int | None:
        return pct(self.used, self.hard)


class Quota(msgspec.Struct, frozen=True, gc=False):
    """A namespace's quota on the four compute resources (None: no quota sets it)."""

    requests_cpu: QuotaUse | None = None
    requests_memory: QuotaUse | None = None
    limits_cpu: QuotaUse | None = None
    limits_memory: QuotaUse | None = None


class NamespaceRow(SummedRow, gc=False):
    namespace: str
    pods: int = 0
    running: int = 0
    restarts: int = 0
    oom_kills: int = 0
    usage: Usage = msgspec.field(default_factory=Usage)
    requests: Amounts = msgspec.field(default_factory=Amounts)
    measured_requests: Amounts = msgspec.field(default_factory=Amounts)
    limits: Amounts = msgspec.field(default_factory=Amounts)
    cpu_limit_share: LimitShare = msgspec.field(default_factory=LimitShare)
    mem_limit_share: LimitShare = msgspec.field(default_factory=LimitShare)
    quota: Quota | None = None  # None: no quota on these resources (or quotas may not be read)
    reclaim_cpu_milli: int | None = None  # the sums of its workloads' (reclaim.py)
    reclaim_mem_bytes: int | None = None

    @property
    def key(self) -> str:
        return self.namespace

    @property
    def name(self) -> str:
        return self.namespace

    def quota_pct(self, resource: str) -> int | None:
        """Percent of the quota's hard `resource` (requests.cpu, ...) used; None: no such quota."""
        use = None if self.quota is None else getattr(self.quota, resource.replace(".", "_"))
        return None if use is None else use.pct


def _quota_value(resource: str):
    return lambda row: row.quota_pct(resource)


VALUES = {
    "namespace": attrgetter("namespace"),
    "name": attrgetter("namespace"),
    **SUMMED_VALUES,
    **{f"quota_{resource.replace('.', '_')}_pct": _quota_value(resource) for resource in QUOTA_RESOURCES},
}

NAMESPACES = Kind(
    name="namespaces",
    key=attrgetter("namespace"),
    order=attrgetter("namespace"),
    filter_text=attrgetter("namespace"),
    values=VALUES,
)


def quotas_by_namespace(quotas: Sequence[ResourceQuota] | None) -> dict[str, Quota]:
    """Each namespace's use of its tightest quota per compute resource (a value that is not
    a quantity is left out, as if that quota did not set it)."""
    out: dict[str, dict[str, QuotaUse]] = {}
    for quota in quotas or ():
        status = quota.status
        mine = out.setdefault(quota.metadata.namespace, {})
        for resource in QUOTA_RESOURCES:
            hard_text = status.hard.get(resource)
            if hard_text is None:
                continue
            try:
                hard, used = parse_cached(hard_text), parse_cached(status.used.get(resource, "0"))
            except QuantityError:
                continue
            value = (lambda q: q.milli_value()) if resource.endswith("cpu") else (lambda q: q.value())
            use = QuotaUse(value(used), value(hard))
            if resource not in mine or use.hard < mine[resource].hard:
                mine[resource] = use
    return {ns: Quota(**{r.replace(".", "_"): u for r, u in uses.items()}) for ns, uses in out.items() if uses}


def namespace_rows(names: Sequence[str], s: Sums, quota_of: Mapping[str, Quota]) -> list[NamespaceRow]:
    """One row per namespace, in name order, from the sums of its pods (rollup.regroup) and
    its quota use (quotas_by_namespace)."""
    p = parts(s)
    return list(map(NamespaceRow, names, s.pods.tolist(), s.running.tolist(), s.restarts.tolist(),
                    s.oom_kills.tolist(), p.usage, p.requests, p.measured_requests, p.limits, p.cpu_limit_share,
                    p.mem_limit_share, map(quota_of.get, names)))
