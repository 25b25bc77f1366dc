"""`ktopui top workloads`: usage summed per workload, once, in kubectl's table style (or as JSON).

The rows are the dashboard's own (model/workloads.py, model/namespaces.py),
made from one LIST of pods, of pod metrics, and of the ReplicaSets' and
Jobs' metadata: a workload's CPU and MEMORY are what `kubectl top pods -n NS
-l SELECTOR --sum` prints on its total line for the same pods. Where the
ReplicaSets or Jobs may not be listed, their owners are inferred from the
pods' labels and names, those rows are marked `*`, and stderr says why.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Sequence

import msgspec

from ktopui.batch.output import Result, cpu_cell, json_list, mem_cell, render_escaped
from ktopui.kube.api import KubeAPI, qualified
from ktopui.kube.errors import APIError
from ktopui.kube.objects import (
    PodSampleMetrics,
    RawList,
    ResourceQuota,
    decoded_batches,
)
from ktopui.kube.watch import METADATA_ONLY, WatchSettings
from ktopui.model.amounts import Usage
from ktopui.model.owners import OwnerMap, controller_of
from ktopui.model.pod_info import SpecMemo, pod_info
from ktopui.model.pod_view import PodRowsView
from ktopui.model.pod_view_join import PodViewJoin
from ktopui.model.pods import LimitShare
from ktopui.model.samples import pod_samples
from ktopui.model.workloads import WorkloadRollup, WorkloadRow
from ktopui.safe_text import escape_controls

INFERRED_MARK = "*"
METADATA_PAGE = WatchSettings().metadata_page_size
# Refusals that leave the owners to be inferred: not allowed, not served, not as metadata.
_UNREADABLE = (403, 404, 405, 406)


class Cluster(msgspec.Struct):
    """What one pass read: the pods (as a view), the owner maps, the quotas, and what could not be read."""

    view: PodRowsView
    owners: dict
    quotas: list[ResourceQuota] | None
    refused: list[str]


async def owner_map(api: KubeAPI, resource: str, namespace: str, refused: list[str]) -> OwnerMap | None:
    """The owners of every ReplicaSet or Job (`resource`) in `namespace` ("" all), from their
    metadata; None, and why added to `refused`, where they may not be read."""
    owners: dict = {}
    token = ""
    try:
        while True:  # (in pages, as the dashboard's watch lists them: each within its size limit)
            page = await api.list_metadata(resource, namespace=namespace, limit=METADATA_PAGE, continue_=token)
            owners.update(((o.metadata.namespace, o.metadata.name), controller_of(o.metadata)) for o in page.items)
            token = page.metadata.continue_
            if not token:
                return owners
    except APIError as err:
        if err.status not in _UNREADABLE:
            raise
        refused.append(f"{qualified(resource)}: {escape_controls(err.message)}")
        return None


async def read_cluster(api: KubeAPI, namespace: str, selector: str, *, owners: bool, quotas: bool) -> Cluster:
    await api.metrics_version()
    refused: list[str] = []

    async def quota_list() -> list[ResourceQuota] | None:
        try:
            return (await api.list_resource_quotas(namespace=namespace)).items
        except APIError as err:
            if err.status not in _UNREADABLE:
                raise
            refused.append(f"resourcequotas: {escape_controls(err.message)}")
            return None

    pods, metrics, *rest = await asyncio.gather(
        api.list_pods(namespace=namespace, label_selector=selector),
        api.list_pod_metrics(namespace=namespace, label_selector=selector, shape=RawList),
        *([owner_map(api, resource, namespace, refused) for resource in METADATA_ONLY] if owners else []),
        *([quota_list()] if quotas else []),
    )
    memo = SpecMemo()
    infos = {(p.metadata.namespace, p.metadata.name): pod_info(p, memo) for p in pods.items}
    del pods
    samples = pod_samples(m for batch in decoded_batches(metrics.items, PodSampleMetrics, what="pod metrics")
                          for m in batch)
    view = PodViewJoin().update(infos, samples)
    return Cluster(
        view=view,
        owners=dict(zip(METADATA_ONLY, rest[: len(METADATA_ONLY)])) if owners else {},
        quotas=rest[-1] if quotas else None, refused=refused,
    )


async def top_workloads(api: KubeAPI, args: argparse.Namespace, namespace: str) -> Result:
    scope = "" if args.all_namespaces else namespace
    cluster = await read_cluster(api, scope, args.selector, owners=True, quotas=False)
    if not cluster.view.keys:
        return nothing_found(scope)
    rows = WorkloadRollup().update(cluster.view, cluster.owners).workloads.rows
    stderr = warnings(cluster)
    if any(row.inferred for row in rows):
        stderr += (f"Warning: rows marked {INFERRED_MARK} are inferred from pod labels and names "
                   "(their ReplicaSets or Jobs could not be read)\n")
    if args.output == "json":
        return Result(stdout=workloads_json(rows), stderr=stderr)
    return Result(stdout=workload_table(rows, all_namespaces=args.all_namespaces, sort_by=args.sort_by,
                                        no_headers=args.no_headers), stderr=stderr)


def nothing_found(namespace: str) -> Result:
    """kubectl's answer when there is nothing to show: on stderr, exit 0."""
    return Result(stderr=f"No resources found{f' in {namespace} namespace.' if namespace else ''}\n")


def warnings(cluster: Cluster) -> str:
    return "".join(f"Warning: {why}\n" for why in cluster.refused)


# -- tables -------------------------------------------------------------------


def usage_cells(usage: Usage) -> tuple[str, str]:
    return ("-" if usage.cpu_milli is None else cpu_cell(usage.cpu_milli),
            "-" if usage.mem_bytes is None else mem_cell(usage.mem_bytes))


def percent_cell(value: int | None, partial: bool = False) -> str:
    """`40%`; `~40%` when only some containers set the limit; `-` for no data (never 0%)."""
    return "-" if value is None else f"{'~' if partial else ''}{value}%"


def share_cell(share: LimitShare) -> str:
    return percent_cell(share.pct, share.partial)


def by_usage(rows: Sequence, sort_by: str, name: Callable) -> list:
    """Rows in `name` order, then by usage (descending) with --sort-by cpu|memory."""
    ordered = sorted(rows, key=name)
    if sort_by == "cpu":
        ordered.sort(key=lambda r: -(r.usage.cpu_milli if r.usage.cpu_milli is not None else -1))
    elif sort_by == "memory":
        ordered.sort(key=lambda r: -(r.usage.mem_bytes if r.usage.mem_bytes is not None else -1))
    return ordered


WORKLOAD_HEADER = ["KIND", "NAME", "PODS", "RESTARTS", "CPU(cores)", "%CPU/R", "%CPU/L", "MEMORY(bytes)", "%MEM/R",
                   "%MEM/L"]


def workload_table(rows: Sequence[WorkloadRow], *, all_namespaces: bool = False, sort_by: str = "",
                   no_headers: bool = False) -> str:
    """The workloads, by name (by namespace first with -A), or by usage with --sort-by; ties by name."""
    if not rows:
        return ""
    order = (lambda r: (r.namespace, r.name, r.kind)) if all_namespaces else (lambda r: (r.name, r.kind))
    table: list[Sequence[str]] = []
    if not no_headers:
        table.append((["NAMESPACE"] if all_namespaces else []) + WORKLOAD_HEADER)
    for r in by_usage(rows, sort_by, order):
        cpu, mem = usage_cells(r.usage)
        cells = [r.kind + (INFERRED_MARK if r.inferred else ""), r.name, r.pods_text, str(r.restarts),
                 cpu, percent_cell(r.cpu_req_pct), share_cell(r.cpu_limit_share),
                 mem, percent_cell(r.mem_req_pct), share_cell(r.mem_limit_share)]
        table.append(([r.namespace] if all_namespaces else []) + cells)
    return render_escaped(table)


# -- -o json --------------------------------------------------------------------


class _Share(msgspec.Struct):
    usedMilli: int | None
    limitMilli: int | None
    partial: bool


class _WorkloadOut(msgspec.Struct):
    kind: str
    namespace: str
    name: str
    inferred: bool
    pods: int
    running: int
    restarts: int
    cpuMillicores: int | None
    memoryBytes: int | None
    requests: dict[str, int | None]
    limits: dict[str, int | None]
    cpuLimitShare: _Share
    memoryLimitShare: _Share


def amounts_json(amounts) -> dict[str, int | None]:
    return {"cpuMillicores": amounts.cpu_milli, "memoryBytes": amounts.mem_bytes}


def _share(share: LimitShare) -> _Share:
    return _Share(share.used_milli, share.limit_milli, share.partial)


def workloads_json(rows: Sequence[WorkloadRow]) -> str:
    items = [_WorkloadOut(r.kind, r.namespace, r.name, r.inferred, r.pods, r.running, r.restarts, r.usage.cpu_milli,
                          r.usage.mem_bytes, amounts_json(r.requests), amounts_json(r.limits), _share(r.cpu_limit_share),
                          _share(r.mem_limit_share))
             for r in sorted(rows, key=lambda r: (r.namespace, r.name, r.kind))]
    return json_list("WorkloadUsageList", items)
