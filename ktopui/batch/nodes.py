"""`ktopui top nodes`: kubectl's node table, byte for byte (SPEC Part B §2.1-2.2), or its JSON form.

Deliberate differences from kubectl (SPEC Part A §3): ties are ordered by
name; a node with metrics but no Node object gets `-` percentage cells
instead of a ragged row; nodes without metrics come last, sorted by name; an
invalid quantity spoils only its own cell (`?`).

The rows are made here from the model's parts (quantities, usage sums,
NodeRow), not by the dashboard's join: that one also derives each node's
status, roles and pod sums, and brings the pods' machinery (numpy) with it,
none of which this table prints. Tests check both give the same output.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable

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
from ktopui.kube.objects import Node, NodeMetrics
from ktopui.model.nodes import NodeRow
from ktopui.model.pod_info import amounts_of, parse_resources
from ktopui.model.usage import usage_of

NODE_HEADER = ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
UNKNOWN = "<unknown>"


async def top_nodes(api: KubeAPI, args: argparse.Namespace) -> Result:
    await api.metrics_version()
    if args.name:
        metrics = [await api.get_node_metrics(args.name)]
    else:
        metrics = (await api.list_node_metrics(label_selector=args.selector)).items
    if not metrics:
        raise TopError("metrics not available yet")
    if args.name:
        nodes = [await api.get_node(args.name)]
    else:
        nodes = (await api.list_nodes(label_selector=args.selector)).items
    rows = node_usage_rows(nodes, metrics, use_capacity=args.show_capacity)
    if args.output == "json":
        return Result(stdout=nodes_json(rows))
    return Result(stdout=node_table(rows, sort_by=args.sort_by, no_headers=args.no_headers))


def node_usage_rows(nodes: Iterable[Node], metrics: Iterable[NodeMetrics], *,
                    use_capacity: bool = False) -> list[NodeRow]:
    """One row per node of either list, with what `kubectl top nodes` prints: usage and what it is a share of.

    Rows come in the order the dashboard's node_rows gives them (the node
    list's, then nodes only the metrics name); of two objects with one name,
    the later counts.
    """
    label = "capacity" if use_capacity else "allocatable"
    rows: dict[str, NodeRow] = {}
    for node in nodes:
        problems: dict[str, str] = {}
        source = node.status.capacity if use_capacity else node.status.allocatable
        available = amounts_of(parse_resources(source, label, problems))
        rows[node.metadata.name] = NodeRow(node.metadata.name, available=available, problems=problems)
    for name, m in {m.metadata.name: m for m in metrics}.items():
        row = rows.get(name)
        if row is None:
            row = rows[name] = NodeRow(name, in_node_list=False)
        row.has_metrics = True
        row.timestamp, row.window = m.timestamp, m.window
        row.usage = usage_of([m.usage], row.problems)
    return list(rows.values())


def node_pct_cell(row: NodeRow, resource: str) -> str:
    """`-` where there is nothing to divide by, `?` where the data is bad."""
    available = row.available.cpu_milli if resource == "cpu" else row.available.mem_milli
    bad_available = any(k.startswith(f"{resource}.") for k in row.problems)
    if not row.in_node_list or (not available and not bad_available):
        return "-"
    value = row.cpu_pct if resource == "cpu" else row.mem_pct
    if resource in row.problems or value is None:
        return "?"
    return f"{value}%"


def _desc(value: int | None) -> tuple[bool, int]:
    # Descending by value; rows whose value is unknown go last.
    return (value is None, -(value or 0))


def sort_nodes(rows: list[NodeRow], sort_by: str) -> list[NodeRow]:
    rows = sorted(rows, key=lambda r: r.name)
    if sort_by == "cpu":
        rows.sort(key=lambda r: _desc(r.usage.cpu_milli))
    elif sort_by == "memory":
        rows.sort(key=lambda r: _desc(r.usage.mem_bytes))
    return rows


def node_table(rows: list[NodeRow], *, sort_by: str = "", no_headers: bool = False) -> str:
    measured = sort_nodes([r for r in rows if r.has_metrics], sort_by)
    unmeasured = sorted((r for r in rows if not r.has_metrics), key=lambda r: r.name)
    table: list[list[str]] = [] if no_headers else [NODE_HEADER]
    for r in measured:
        table.append(
            [
                r.name,
                cpu_cell(r.usage.cpu_milli, r.problems.get("cpu")),
                node_pct_cell(r, "cpu"),
                mem_cell(r.usage.mem_bytes, r.problems.get("memory")),
                node_pct_cell(r, "memory"),
            ]
        )
    for r in unmeasured:
        table.append([r.name, UNKNOWN, UNKNOWN, UNKNOWN, UNKNOWN])
    return render_escaped(table) if measured else ""


class _NodeOut(msgspec.Struct):
    name: str
    cpuMillicores: int | None
    cpuPercent: int | None
    memoryBytes: int | None
    memoryPercent: int | None
    timestamp: str
    window: str
    problems: dict[str, str]


def nodes_json(rows: list[NodeRow]) -> str:
    items = [
        _NodeOut(
            r.name,
            r.usage.cpu_milli,
            r.cpu_pct,
            r.usage.mem_bytes,
            r.mem_pct,
            r.timestamp,
            r.window,
            r.problems,
        )
        for r in sorted(rows, key=lambda r: r.name)
    ]
    return json_list("NodeUsageList", items)
