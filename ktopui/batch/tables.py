"""`kubectl top` tables from rows, byte for byte (SPEC Part B §2.2-2.7).

Deliberate differences from kubectl (SPEC Part A §3): ties are ordered by
name; a node with metrics but no Node object gets `-` percentage cells
instead of a ragged row; nodes without metrics come last, sorted by name; an
invalid quantity spoils only its own cell (`?`).
"""

from __future__ import annotations

from ktopui.batch.tabwriter import render
from ktopui.model.quantity import format_cpu, format_memory
from ktopui.model.rows import NodeRow, PodRow, Usage

NODE_HEADER = ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
UNKNOWN = "<unknown>"
UNDERLINE = "________"


def cpu_cell(milli: int | None, problem: str | None = None) -> str:
    return "?" if problem or milli is None else format_cpu(milli)


def mem_cell(nbytes: int | None, problem: str | None = None) -> str:
    return "?" if problem or nbytes is None else format_memory(nbytes)


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
    return render(table) if measured else ""


def _container_order(row: PodRow, sort_by: str):
    containers = sorted((c for c in row.containers if c.has_metrics), key=lambda c: c.name)
    if sort_by == "cpu":
        containers.sort(key=lambda c: _desc(c.usage.cpu_milli))
    elif sort_by == "memory":
        containers.sort(key=lambda c: _desc(c.usage.mem_bytes))
    return containers


def sort_pods(rows: list[PodRow], sort_by: str, *, all_namespaces: bool) -> list[PodRow]:
    rows = sorted(rows, key=(lambda r: (r.namespace, r.name)) if all_namespaces else (lambda r: r.name))
    if sort_by == "cpu":
        rows.sort(key=lambda r: _desc(r.usage.cpu_milli))
    elif sort_by == "memory":
        rows.sort(key=lambda r: _desc(r.usage.mem_bytes))
    return rows


def _usage_cells(usage: Usage, problems: dict[str, str]) -> list[str]:
    return [
        cpu_cell(usage.cpu_milli, problems.get("cpu")),
        mem_cell(usage.mem_bytes, problems.get("memory")),
    ]


def pod_table(
    rows: list[PodRow],
    *,
    all_namespaces: bool = False,
    containers: bool = False,
    sort_by: str = "",
    no_headers: bool = False,
    total: tuple[Usage, dict[str, str]] | None = None,
) -> str:
    """The `kubectl top pod` table; `total` is the --sum line's usage, if asked."""
    measured = [r for r in rows if r.has_metrics]
    if not measured:
        return ""
    table: list[list[str]] = []
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
    for r in sort_pods(measured, sort_by, all_namespaces=all_namespaces):
        prefix = [r.namespace] if all_namespaces else []
        if containers:
            for c in _container_order(r, sort_by):
                table.append([*prefix, r.name, c.name, *_usage_cells(c.usage, c.problems)])
        else:
            table.append([*prefix, r.name, *_usage_cells(r.usage, r.problems)])
    if total is not None:
        usage, problems = total
        table.append([""] * (column_width - 2) + [UNDERLINE, UNDERLINE])
        table.append([""] * (column_width - 3) + ["", *_usage_cells(usage, problems)])
    return render(table)
