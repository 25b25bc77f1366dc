"""`ktopui top namespaces`: usage summed per namespace, with its ResourceQuota use, once, in
kubectl's table style (or as JSON).

A namespace's CPU and MEMORY are what `kubectl top pods -n NS --sum` prints
on its total line; the QUOTA columns are the share of each hard limit of the
namespace's tightest quota that the quota says is used (`-`: none sets it).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import msgspec

from ktopui.batch.output import Result, json_list, render_escaped
from ktopui.batch.workloads import (
    amounts_json,
    by_usage,
    nothing_found,
    percent_cell,
    read_cluster,
    share_cell,
    usage_cells,
    warnings,
)
from ktopui.kube.api import KubeAPI
from ktopui.model.namespaces import (
    QUOTA_RESOURCES,
    NamespaceRow,
    namespace_rows,
    quotas_by_namespace,
)
from ktopui.model.workloads import WorkloadRollup


async def top_namespaces(api: KubeAPI, args: argparse.Namespace) -> Result:
    cluster = await read_cluster(api, "", args.selector, owners=False, quotas=True)
    if not cluster.view.keys:
        return nothing_found("")
    rollup = WorkloadRollup().update(cluster.view, {})
    rows = namespace_rows(rollup.namespaces, rollup.namespace_sums, quotas_by_namespace(cluster.quotas))
    stderr = warnings(cluster)
    if args.output == "json":
        return Result(stdout=namespaces_json(rows), stderr=stderr)
    return Result(stdout=namespace_table(rows, sort_by=args.sort_by, no_headers=args.no_headers), stderr=stderr)


NAMESPACE_HEADER = ["NAME", "PODS", "CPU(cores)", "%CPU/R", "%CPU/L", "MEMORY(bytes)", "%MEM/R", "%MEM/L",
                    "QUOTA(CPU/R)", "QUOTA(MEM/R)", "QUOTA(CPU/L)", "QUOTA(MEM/L)"]


def namespace_table(rows: Sequence[NamespaceRow], *, sort_by: str = "", no_headers: bool = False) -> str:
    """The namespaces, with the share of each ResourceQuota hard limit used (`-`: no quota sets it)."""
    if not rows:
        return ""
    table: list[Sequence[str]] = [] if no_headers else [NAMESPACE_HEADER]
    for r in by_usage(rows, sort_by, lambda r: r.namespace):
        cpu, mem = usage_cells(r.usage)
        table.append([r.namespace, r.pods_text, cpu, percent_cell(r.cpu_req_pct), share_cell(r.cpu_limit_share),
                      mem, percent_cell(r.mem_req_pct), share_cell(r.mem_limit_share),
                      *(percent_cell(r.quota_pct(resource)) for resource in QUOTA_RESOURCES)])
    return render_escaped(table)


# -- -o json --------------------------------------------------------------------


class _QuotaOut(msgspec.Struct):
    used: int
    hard: int


class _NamespaceOut(msgspec.Struct):
    name: str
    pods: int
    running: int
    cpuMillicores: int | None
    memoryBytes: int | None
    requests: dict[str, int | None]
    limits: dict[str, int | None]
    quota: dict[str, _QuotaOut]


def namespaces_json(rows: Sequence[NamespaceRow]) -> str:
    def quota(row: NamespaceRow) -> dict[str, _QuotaOut]:
        if row.quota is None:
            return {}
        uses = {resource: getattr(row.quota, resource.replace(".", "_")) for resource in QUOTA_RESOURCES}
        return {resource: _QuotaOut(use.used, use.hard) for resource, use in uses.items() if use is not None}

    items = [_NamespaceOut(r.namespace, r.pods, r.running, r.usage.cpu_milli, r.usage.mem_bytes, amounts_json(r.requests),
                           amounts_json(r.limits), quota(r)) for r in rows]
    return json_list("NamespaceUsageList", items)
