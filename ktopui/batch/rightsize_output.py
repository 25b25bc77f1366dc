"""`ktopui rightsize`'s table (in kubectl's table style, as `ktopui top workloads`) and JSON."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from ktopui.batch.output import json_list, render_escaped
from ktopui.batch.rightsize_advice import RightsizeRow
from ktopui.batch.workloads import INFERRED_MARK
from ktopui.model.quantity import format_cpu, format_memory

HEADER = ["KIND", "NAME", "CONTAINER", "CPU/R", "CPU/L", "CPU(SUGGESTED)", "CPU(CHANGE)", "MEM/R", "MEM/L",
          "MEM(SUGGESTED)", "MEM(CHANGE)", "SAMPLES", "HOURS", "PODS"]


def _cpu(milli: int | None) -> str:
    return "-" if milli is None else format_cpu(milli)


def _mem(nbytes: int | None) -> str:
    return "-" if nbytes is None else format_memory(nbytes)


def _signed(text: str, value: int | None) -> str:
    return text if value is None or value <= 0 else f"+{text}"


def hours_text(span: float) -> str:
    """Hours of history, one decimal."""
    return f"{span / 3600:.1f}"


def rightsize_table(rows: Sequence[RightsizeRow], *, all_namespaces: bool = False) -> str:
    table: list[Sequence[str]] = [(["NAMESPACE"] if all_namespaces else []) + HEADER]
    for r in rows:
        cells = [r.kind + (INFERRED_MARK if r.inferred else ""), r.name, r.container,
                 _cpu(r.request_cpu_milli), _cpu(r.limit_cpu_milli), _cpu(r.cpu_milli),
                 _signed(_cpu(r.cpu_change), r.cpu_change),
                 _mem(r.request_mem_bytes), _mem(r.limit_mem_bytes), _mem(r.mem_bytes),
                 _signed(_mem(r.mem_change), r.mem_change),
                 str(r.samples), hours_text(r.span), str(r.pods)]
        table.append(([r.namespace] if all_namespaces else []) + cells)
    return render_escaped(table)


class _Amounts(msgspec.Struct):
    cpuMillicores: int | None
    memoryBytes: int | None


class _History(msgspec.Struct):
    samples: int
    hours: float
    pods: int
    provisional: bool


class _RowOut(msgspec.Struct):
    namespace: str
    kind: str
    name: str
    container: str
    inferred: bool
    requests: _Amounts
    limits: _Amounts
    suggested: _Amounts
    change: _Amounts
    history: _History


def rightsize_json(rows: Sequence[RightsizeRow], **fields: object) -> str:
    items = [_RowOut(r.namespace, r.kind, r.name, r.container, r.inferred,
                     _Amounts(r.request_cpu_milli, r.request_mem_bytes), _Amounts(r.limit_cpu_milli, r.limit_mem_bytes),
                     _Amounts(r.cpu_milli, r.mem_bytes), _Amounts(r.cpu_change, r.mem_change),
                     _History(r.samples, round(r.span / 3600, 1), r.pods, r.provisional)) for r in rows]
    return json_list("RightsizeList", items, **fields)
