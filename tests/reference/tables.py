"""`kubectl top pod` printed from the dashboard's PodRows, the plain way.

`ktopui top pods` builds the same table from lean tuples (`pod_usage_lines`,
`pod_usage_table`) with sorts and formats tuned for 150,000 pods; this one
follows kubectl's metrics_printer.go step by step from full rows (one tuple
key per sort, kubectl's cell formats, Go's tabwriter line by line), so a
test can check the fast table is byte for byte the same.
"""

from __future__ import annotations

from ktopui.model.amounts import Usage
from ktopui.model.containers import ContainerRow
from ktopui.model.pods import PodRow
from ktopui.model.quantity import format_cpu, format_memory
from ktopui.safe_text import escape_controls
from reference.tabwriter import render_reference

UNDERLINE = "________"


def _cpu(milli: int | None, problem: str | None = None) -> str:
    return "?" if problem or milli is None else format_cpu(milli)


def _memory(nbytes: int | None, problem: str | None = None) -> str:
    return "?" if problem or nbytes is None else format_memory(nbytes)


def _by_usage(items: list, sort_by: str, usage) -> list:
    """Stable: largest first, unknown (spoilt) usage last; other orders kept."""
    index = {"cpu": 0, "memory": 1}.get(sort_by)
    if index is None:
        return items
    return sorted(items, key=lambda item: (usage(item)[index] is None, -(usage(item)[index] or 0)))


def _usage(row: PodRow | ContainerRow) -> tuple[int | None, int | None]:
    """(CPU, memory) as printed: None where an invalid quantity spoils it."""
    return (None if row.problems.get("cpu") else row.usage.cpu_milli,
            None if row.problems.get("memory") else row.usage.mem_bytes)


def pod_table(
    rows: list[PodRow],
    *,
    all_namespaces: bool = False,
    containers: bool = False,
    sort_by: str = "",
    no_headers: bool = False,
    total: tuple[Usage, dict[str, str]] | None = None,
) -> str:
    """The `kubectl top pod` table of the rows with metrics; `total` is the --sum line's usage."""
    measured = [r for r in rows if r.has_metrics]
    if not measured:
        return ""
    name_order = sorted(measured, key=lambda r: (r.namespace, r.name) if all_namespaces else r.name)
    table: list[list[str]] = []
    if not no_headers:
        table.append([*(["NAMESPACE"] if all_namespaces else []), *(["POD"] if containers else []),
                      "NAME", "CPU(cores)", "MEMORY(bytes)"])
    for row in _by_usage(name_order, sort_by, _usage):
        prefix = [row.namespace, row.name] if all_namespaces else [row.name]
        if not containers:
            cpu, memory = _usage(row)
            table.append([*prefix, _cpu(cpu), _memory(memory)])
            continue
        own = sorted((c for c in row.containers if c.has_metrics), key=lambda c: c.name)
        for c in _by_usage(own, sort_by, _usage):
            cpu, memory = _usage(c)
            table.append([*prefix, c.name, _cpu(cpu), _memory(memory)])
    if total is not None:
        # kubectl pads the --sum lines for NAMESPACE and POD only when it prints
        # headers (metrics_printer.go), so without them the lines are misaligned.
        padding = (all_namespaces + containers) if not no_headers else 0
        usage, problems = total
        table.append([""] * (padding + 1) + [UNDERLINE, UNDERLINE])
        table.append([""] * (padding + 1) + [_cpu(usage.cpu_milli, problems.get("cpu")),
                                             _memory(usage.mem_bytes, problems.get("memory"))])
    return render_reference([[escape_controls(cell) for cell in line] for line in table])
