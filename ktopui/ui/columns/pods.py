"""The pods tables' columns (model/pods.py has its rows and the values they sort by)."""

from __future__ import annotations

from operator import attrgetter

from ktopui.model import history_keys
from ktopui.model.history import CPU, MEMORY
from ktopui.model.pods import PodRow
from ktopui.ui.columns import (
    LIMIT_TOPS,
    Column,
    amount,
    last_exit,
    percentage,
    text_column,
    trend,
    usage,
)


def _status_tone(row: PodRow) -> str:
    if row.status in ("Running", "Succeeded", "Completed"):
        return ""
    if row.status in ("Pending", "ContainerCreating", "Terminating") or row.status.startswith("Init:"):
        return "warn"
    return "crit"


def _history(row: PodRow) -> tuple:
    return history_keys.pod(row.namespace, row.name)


# Decided before the name's full width: when it is not shown, the name
# carries it as a prefix (`ns/name`) whenever the rows span namespaces.
NAMESPACE = text_column("namespace", "NAMESPACE", 10, attrgetter("namespace"), 70, flex=True, grow=70, cap=20,
                        middle=True, fold="name")
NAME = text_column("name", "NAME", 16, attrgetter("name"), 100, flex=True, grow=65, middle=True)
# Its full width comes after the trends: a node's name is often long.
NODE = text_column("node", "NODE", 14, lambda r: r.node or "-", 22, flex=True, grow=19, middle=True)
STATUS = text_column("status", "STATUS", 9, lambda r: r.status or "-", 60, tone=_status_tone, flex=True, grow=60,
                     cap=20)
RESTARTS = Column("restarts", "RESTARTS", 8, "restarts", lambda r, _h: str(r.restarts),
                  tone=lambda r: "warn" if r.restarts else "", priority=35, choice=("restarts", ""))
LAST_EXIT = last_exit(25)

COLUMNS = [
    NAMESPACE,
    NAME,
    NODE,
    STATUS,
    RESTARTS,
    LAST_EXIT,
    usage("cpu"),
    percentage("cpu_req_pct", "%CPU/R", attrgetter("cpu_req_pct"), 80, ("req_pct", "cpu")),
    percentage("cpu_lim_pct", "%CPU/L", attrgetter("cpu_lim_pct"), 75, ("lim_pct", "cpu"),
               partial=attrgetter("cpu_limit_share.partial")),
    trend("cpu_hist", _history, CPU, 20, LIMIT_TOPS[CPU]),
    usage("mem"),
    percentage("mem_req_pct", "%MEM/R", attrgetter("mem_req_pct"), 80, ("req_pct", "mem")),
    percentage("mem_lim_pct", "%MEM/L", attrgetter("mem_lim_pct"), 75, ("lim_pct", "mem"),
               partial=attrgetter("mem_limit_share.partial")),
    trend("mem_hist", _history, MEMORY, 20, LIMIT_TOPS[MEMORY]),
]

# Without the metrics API: what is reserved, clearly not usage.
RESERVED = [
    NAMESPACE,
    NAME,
    NODE,
    STATUS,
    RESTARTS,
    LAST_EXIT,
    amount("cpu_req", "CPU REQ", 9, attrgetter("requests.cpu_milli"), "cpu", "requests", 90),
    amount("cpu_lim", "CPU LIM", 9, attrgetter("limits.cpu_milli"), "cpu", "limits", 80),
    amount("mem_req", "MEM REQ", 9, attrgetter("requests.mem_bytes"), "mem", "requests", 90),
    amount("mem_lim", "MEM LIM", 9, attrgetter("limits.mem_bytes"), "mem", "limits", 80),
]
