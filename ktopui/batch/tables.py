"""`kubectl top` tables from rows, byte for byte (SPEC Part B §2.2-2.7).

Deliberate differences from kubectl (SPEC Part A §3): ties are ordered by
name; a node with metrics but no Node object gets `-` percentage cells
instead of a ragged row; nodes without metrics come last, sorted by name; an
invalid quantity spoils only its own cell (`?`); a name with control
characters is printed with them escaped (`\x1b`), where kubectl writes them
raw to the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter

from ktopui.batch.tabwriter import render
from ktopui.model.join import ContainerUsageLine, PodUsageLine, container_usage_lines
from ktopui.model.quantity import format_cpu, format_memory
from ktopui.model.rows import NodeRow, Usage
from ktopui.safe_text import escape_controls

NODE_HEADER = ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
UNKNOWN = "<unknown>"
UNDERLINE = "________"
_PLAIN_ASCII = bytes(range(0x20, 0x7F)) + b"\n"


def render_escaped(table: Sequence[Sequence[str]]) -> str:
    """The rendered table, its cells escaped when one holds a control character
    (a name from metrics-server: nothing validates it).

    Checked on the finished text, in C, not cell by cell: an ordinary table is
    printable ASCII but for its newlines, and is printed as it is.
    """
    text = render(table)
    if text.count("\n") != len(table):  # a cell with a newline of its own
        plain = False
    elif text.isascii():
        plain = not text.encode().translate(None, _PLAIN_ASCII)
    else:
        plain = text.replace("\n", "").isprintable()
    return text if plain else render([[escape_controls(cell) for cell in row] for row in table])


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
    return render_escaped(table) if measured else ""


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
