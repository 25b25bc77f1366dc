"""The workloads tables' columns (model/workloads.py has its rows and the values they sort by)."""

from __future__ import annotations

from operator import attrgetter

from ktopui.model import history_keys
from ktopui.model.history import CPU
from ktopui.model.workloads import WorkloadRow
from ktopui.ui.cells import cpu_text, mem_text
from ktopui.ui.columns import (
    LIMIT_TOPS,
    Column,
    amount,
    percentage,
    pods_width,
    reclaimable,
    text_column,
    trend,
)

# After a kind whose owner chain was guessed from pod labels and names (ReplicaSets or Jobs may not be listed).
INFERRED_MARK = "*"


def summed_usage(resource: str) -> Column:
    """CPU or memory usage summed over pods (a sum has no invalid quantity: its pods' are left out)."""
    if resource == "cpu":
        return Column("cpu", "CPU", 8, "cpu", lambda r, _h: cpu_text(r.usage.cpu_milli), priority=90,
                      choice=("usage", "cpu"))
    return Column("mem", "MEMORY", 9, "mem", lambda r, _h: mem_text(r.usage.mem_bytes), priority=90,
                  choice=("usage", "mem"))


def _kind_text(row: WorkloadRow) -> str:
    return f"{row.kind}{INFERRED_MARK}" if row.inferred else row.kind


def _history(row: WorkloadRow) -> tuple:
    return history_keys.workload(row.kind, row.namespace, row.name)


KIND = text_column("kind", "KIND", 11, _kind_text, 95, flex=True, grow=62, cap=14)
NAMESPACE = text_column("namespace", "NAMESPACE", 10, attrgetter("namespace"), 70, flex=True, grow=70, cap=20,
                        middle=True, fold="name")
NAME = text_column("name", "NAME", 16, attrgetter("name"), 100, flex=True, grow=65, middle=True)
PODS = Column("pods", "PODS", 7, "pods", lambda r, _h: r.pods_text,
              tone=lambda r: "warn" if r.running < r.pods else "", priority=40, choice=("pods", ""),
              fit=pods_width)
RESTARTS = Column("restarts", "RESTARTS", 8, "restarts", lambda r, _h: str(r.restarts),
                  tone=lambda r: "warn" if r.restarts else "", priority=35, choice=("restarts", ""))
OOM = Column("oom_kills", "OOM", 4, "oom_kills", lambda r, _h: str(r.oom_kills),
             tone=lambda r: "crit" if r.oom_kills else "", priority=33, choice=("oom_kills", ""))

COLUMNS = [
    KIND,
    NAMESPACE,
    NAME,
    PODS,
    RESTARTS,
    OOM,
    summed_usage("cpu"),
    percentage("cpu_req_pct", "%CPU/R", attrgetter("cpu_req_pct"), 80, ("req_pct", "cpu")),
    percentage("cpu_lim_pct", "%CPU/L", attrgetter("cpu_lim_pct"), 75, ("lim_pct", "cpu"),
               partial=attrgetter("cpu_limit_share.partial")),
    trend("cpu_hist", _history, CPU, 20, LIMIT_TOPS[CPU]),
    summed_usage("mem"),
    percentage("mem_req_pct", "%MEM/R", attrgetter("mem_req_pct"), 80, ("req_pct", "mem")),
    percentage("mem_lim_pct", "%MEM/L", attrgetter("mem_lim_pct"), 75, ("lim_pct", "mem"),
               partial=attrgetter("mem_limit_share.partial")),
    reclaimable("cpu"),
    reclaimable("mem"),
]

# Without the metrics API: what is reserved, clearly not usage.
RESERVED = [
    KIND,
    NAMESPACE,
    NAME,
    PODS,
    RESTARTS,
    OOM,
    amount("cpu_req", "CPU REQ", 9, attrgetter("requests.cpu_milli"), "cpu", "requests", 90),
    amount("cpu_lim", "CPU LIM", 9, attrgetter("limits.cpu_milli"), "cpu", "limits", 80),
    amount("mem_req", "MEM REQ", 9, attrgetter("requests.mem_bytes"), "mem", "requests", 90),
    amount("mem_lim", "MEM LIM", 9, attrgetter("limits.mem_bytes"), "mem", "limits", 80),
]

