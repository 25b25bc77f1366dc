"""`ktopui top pods`: kubectl's pod table, byte for byte (SPEC Part B §2.1, §2.3-2.7), or its JSON form.

Deliberate differences from kubectl (SPEC Part A §3): ties are ordered by
name; an invalid quantity spoils only its own cell (`?`); `--field-selector`
selects pods through the core API (as kubectl does after 1.36).

A table needs only names and usage: the metrics are decoded lean
(PodUsageList), summed into one tuple per pod (pod_usage_lines) and sorted
and printed from those, without a row object per pod.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import datetime, timezone
from operator import itemgetter

import msgspec

from ktopui.batch.output import (
    Result,
    TopError,
    cpu_cell,
    json_list,
    mem_cell,
    render_escaped,
)
from ktopui.kube.api import KubeAPI
from ktopui.kube.objects import PodMetricsList, PodUsageList
from ktopui.model.amounts import Usage
from ktopui.model.pods import PodRow, pod_rows
from ktopui.model.quantity import format_memory
from ktopui.model.top_lines import (
    ContainerUsageLine,
    PodUsageLine,
    container_usage_lines,
    pod_usage_lines,
)
from ktopui.model.usage import usage_of

UNDERLINE = "________"


async def top_pods(api: KubeAPI, args: argparse.Namespace, namespace: str) -> Result:
    await api.metrics_version()
    scope = "" if args.all_namespaces else namespace
    table = args.output != "json"
    if args.name:
        metrics = [await api.get_pod_metrics(scope, args.name)]
    else:
        # A table needs only names and usage: decode just those.
        shape = PodUsageList if table else PodMetricsList
        metrics = (
            await api.list_pod_metrics(namespace=scope, label_selector=args.selector, shape=shape)
        ).items
    if metrics and args.field_selector:
        # The metrics API only knows metadata.name/namespace field selectors;
        # like kubectl after 1.36, select the pods in the core API instead.
        pods = await api.list_pods(
            namespace=scope, label_selector=args.selector, field_selector=args.field_selector
        )
        wanted = {(p.metadata.namespace, p.metadata.name) for p in pods.items}
        metrics = [m for m in metrics if (m.metadata.namespace, m.metadata.name) in wanted]
    if not metrics:
        return await _explain_empty_pod_metrics(api, args, namespace)
    total = None
    if args.sum:
        problems: dict[str, str] = {}
        total = (usage_of([c.usage for m in metrics for c in m.containers], problems), problems)
    if not table:
        return Result(stdout=pods_json(pod_rows(None, metrics), total=total))
    lines = pod_usage_lines(metrics, containers=args.containers)
    del metrics  # freed here: the lines keep only what the table prints
    text = pod_usage_table(
        lines,
        all_namespaces=args.all_namespaces,
        containers=args.containers,
        sort_by=args.sort_by,
        no_headers=args.no_headers,
        total=total,
    )
    return Result(stdout=text)


async def _explain_empty_pod_metrics(api: KubeAPI, args: argparse.Namespace, namespace: str) -> Result:
    """kubectl's verifyEmptyMetrics: tell "no pods" from "no metrics yet"."""
    # kubectl looks in the context namespace even with -A; so do we.
    pods = (
        await api.list_pods(
            namespace=namespace, label_selector=args.selector, field_selector=args.field_selector
        )
    ).items
    if not pods:
        where = "" if args.all_namespaces else f" in {namespace} namespace."
        return Result(stderr=f"No resources found{where}\n")
    now = datetime.now(timezone.utc)
    for pod in pods:
        created = parse_time(pod.metadata.creationTimestamp)
        if created is not None and (now - created).total_seconds() > 120:
            age = go_duration((now - created).total_seconds())
            raise TopError(
                f"Metrics not available for pod {pod.metadata.namespace}/{pod.metadata.name}, age: {age}"
            )
    raise TopError("metrics not available yet")


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def go_duration(seconds: float) -> str:
    """Go's time.Duration.String() for durations of a second or more."""
    nanos = round(seconds * 1e9)
    hours, rest = divmod(nanos, 3600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    whole, frac = divmod(rest, 10**9)
    secs = f"{whole}.{frac:09d}".rstrip("0").rstrip(".") if frac else str(whole)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


# -- the table -----------------------------------------------------------------


_NAMESPACE = itemgetter(0)
_NAME = itemgetter(1)
_NAME_OF_CONTAINER = itemgetter(0)
_NOTHING = float("-inf")  # sorts after every usage, descending


def _cpu_key(line: PodUsageLine) -> float | int:
    return _NOTHING if line[2] is None else line[2]


def _mem_key(line: PodUsageLine) -> float | int:
    return _NOTHING if line[3] is None else line[3]


def _container_cpu_key(line: ContainerUsageLine) -> float | int:
    return _NOTHING if line[1] is None else line[1]


def _container_mem_key(line: ContainerUsageLine) -> float | int:
    return _NOTHING if line[2] is None else line[2]


def sort_pod_lines(lines: list[PodUsageLine], sort_by: str, *, all_namespaces: bool) -> None:
    """In place: by name (namespace first with -A), then by usage, largest first; unknown last."""
    # Two stable passes (name, then namespace) order like one pass by
    # (namespace, name), and sort unordered input faster than tuple keys.
    lines.sort(key=_NAME)
    if all_namespaces:
        lines.sort(key=_NAMESPACE)
    # reverse=True keeps equal keys in their (name) order: the sort stays stable.
    if sort_by == "cpu":
        lines.sort(key=_cpu_key, reverse=True)
    elif sort_by == "memory":
        lines.sort(key=_mem_key, reverse=True)


def _container_order(containers: list[ContainerUsageLine], sort_by: str) -> list[ContainerUsageLine]:
    containers = sorted(containers, key=_NAME_OF_CONTAINER)
    if sort_by == "cpu":
        containers.sort(key=_container_cpu_key, reverse=True)
    elif sort_by == "memory":
        containers.sort(key=_container_mem_key, reverse=True)
    return containers


def _cpu_text(milli: int | None) -> str:
    return "?" if milli is None else f"{milli}m"


def _mem_text(nbytes: int | None) -> str:
    if nbytes is None:
        return "?"
    return f"{nbytes >> 20}Mi" if nbytes >= 0 else format_memory(nbytes)


def _usage_cells(usage: Usage, problems: dict[str, str]) -> list[str]:
    return [
        cpu_cell(usage.cpu_milli, problems.get("cpu")),
        mem_cell(usage.mem_bytes, problems.get("memory")),
    ]


def pod_usage_table(
    lines: list[PodUsageLine],
    *,
    all_namespaces: bool = False,
    containers: bool = False,
    sort_by: str = "",
    no_headers: bool = False,
    total: tuple[Usage, dict[str, str]] | None = None,
) -> str:
    """The `kubectl top pod` table from pod_usage_lines (sorted here, in place)."""
    if not lines:
        return ""
    sort_pod_lines(lines, sort_by, all_namespaces=all_namespaces)
    table: list[Sequence[str]] = []
    # kubectl widens the --sum lines for NAMESPACE/POD only when it prints
    # headers (metrics_printer.go); reproduced, misalignment and all.
    column_width = 3
    if not no_headers:
        header = ["NAME", "CPU(cores)", "MEMORY(bytes)"]
        if containers:
            header.insert(0, "POD")
            column_width += 1
        if all_namespaces:
            header.insert(0, "NAMESPACE")
            column_width += 1
        table.append(header)
    if containers:
        for ns, name, _, _, pod_containers in lines:
            prefix = (ns, name) if all_namespaces else (name,)
            for c_name, cpu, mem in _container_order(container_usage_lines(pod_containers), sort_by):
                table.append((*prefix, c_name, _cpu_text(cpu), _mem_text(mem)))
    elif all_namespaces:
        table.extend(
            [
                (
                    ns,
                    name,
                    f"{cpu}m" if cpu is not None else "?",
                    f"{mem >> 20}Mi" if mem is not None and mem >= 0 else _mem_text(mem),
                )
                for ns, name, cpu, mem, _ in lines
            ]
        )
    else:
        table.extend(
            [
                (
                    name,
                    f"{cpu}m" if cpu is not None else "?",
                    f"{mem >> 20}Mi" if mem is not None and mem >= 0 else _mem_text(mem),
                )
                for _, name, cpu, mem, _ in lines
            ]
        )
    if total is not None:
        usage, problems = total
        table.append([""] * (column_width - 2) + [UNDERLINE, UNDERLINE])
        table.append([""] * (column_width - 3) + ["", *_usage_cells(usage, problems)])
    return render_escaped(table)


# -- -o json ----------------------------------------------------------------


class _ContainerOut(msgspec.Struct):
    name: str
    cpuMillicores: int | None
    memoryBytes: int | None


class _PodOut(msgspec.Struct):
    namespace: str
    name: str
    cpuMillicores: int | None
    memoryBytes: int | None
    timestamp: str
    window: str
    containers: list[_ContainerOut]
    problems: dict[str, str]


class _TotalOut(msgspec.Struct):
    cpuMillicores: int | None
    memoryBytes: int | None
    problems: dict[str, str]


def pods_json(rows: list[PodRow], *, total: tuple[Usage, dict[str, str]] | None = None) -> str:
    """The pods as a PodUsageList; with --sum, `total` is their summed usage (a field beside `items`)."""
    items = [
        _PodOut(
            r.namespace,
            r.name,
            r.usage.cpu_milli,
            r.usage.mem_bytes,
            r.timestamp,
            r.window,
            [_ContainerOut(c.name, c.usage.cpu_milli, c.usage.mem_bytes) for c in sorted(r.containers, key=lambda c: c.name)],
            dict(r.problems),
        )
        for r in sorted(rows, key=lambda r: (r.namespace, r.name))
    ]
    if total is None:
        return json_list("PodUsageList", items)
    usage, problems = total
    return json_list("PodUsageList", items, total=_TotalOut(usage.cpu_milli, usage.mem_bytes, problems))
