"""The nodes table's columns (model/nodes.py has its rows and the values they sort by)."""

from __future__ import annotations

from operator import attrgetter

from ktopui.model import history_keys
from ktopui.model.history import CPU, MEMORY
from ktopui.model.nodes import NodeRow
from ktopui.ui.columns import Column, amount, percentage, text_column, trend, usage


def status_text(status: str) -> str:
    """`Ready,SchedulingDisabled` does not fit a column; a cordoned Ready node reads `Cordoned`."""
    if status == "Ready,SchedulingDisabled":
        return "Cordoned"
    return status.replace(",SchedulingDisabled", "*")


def _status_tone(row: NodeRow) -> str:
    return "" if row.status == "Ready" else "crit" if row.status.startswith("NotReady") else "warn"


def _history(row: NodeRow) -> tuple:
    return history_keys.node(row.name)


# Trends are drawn up to the node's allocatable.
_TOPS = {CPU: attrgetter("available.cpu_milli"), MEMORY: attrgetter("available.mem_bytes")}

NAME = text_column("name", "NAME", 16, attrgetter("name"), 100, flex=True, grow=55, middle=True)
STATUS = text_column("status", "STATUS", 9, lambda r: status_text(r.status), 60, tone=_status_tone)
ROLES = text_column("roles", "ROLES", 6, attrgetter("roles"), 15, flex=True, grow=15, cap=20)
PODS = Column("pods", "PODS", 5, "pods", lambda r, _h: str(r.pods), priority=30, choice=("pods", ""))

COLUMNS = [
    NAME,
    STATUS,
    ROLES,
    PODS,
    usage("cpu"),
    percentage("cpu_pct", "CPU%", attrgetter("cpu_pct"), 85, ("pct", "cpu")),
    percentage("cpu_req_pct", "CPU/R%", attrgetter("cpu_req_pct"), 50, ("req_pct", "cpu")),
    # Limits over allocatable are normal overcommit, not a node in trouble: no marks, no colour.
    percentage("cpu_lim_pct", "CPU/L%", attrgetter("cpu_lim_pct"), 25, ("lim_pct", "cpu"), marks=False),
    trend("cpu_hist", _history, CPU, 45, _TOPS[CPU]),
    usage("mem"),
    percentage("mem_pct", "MEM%", attrgetter("mem_pct"), 85, ("pct", "mem")),
    percentage("mem_req_pct", "MEM/R%", attrgetter("mem_req_pct"), 50, ("req_pct", "mem")),
    percentage("mem_lim_pct", "MEM/L%", attrgetter("mem_lim_pct"), 25, ("lim_pct", "mem"), marks=False),
    trend("mem_hist", _history, MEMORY, 45, _TOPS[MEMORY]),
]

# Without the metrics API: what is reserved, clearly not usage.
RESERVED = [
    NAME,
    STATUS,
    ROLES,
    PODS,
    amount("cpu_req", "CPU REQ", 9, attrgetter("requests.cpu_milli"), "cpu", "requests", 90),
    amount("cpu_alloc", "CPU ALLOC", 9, attrgetter("available.cpu_milli"), "cpu", "allocatable", 40),
    percentage("cpu_req_pct", "CPU/R%", attrgetter("cpu_req_pct"), 85, ("req_pct", "cpu")),
    percentage("cpu_lim_pct", "CPU/L%", attrgetter("cpu_lim_pct"), 50, ("lim_pct", "cpu"), marks=False),
    amount("mem_req", "MEM REQ", 9, attrgetter("requests.mem_bytes"), "mem", "requests", 90),
    amount("mem_alloc", "MEM ALLOC", 9, attrgetter("available.mem_bytes"), "mem", "allocatable", 40),
    percentage("mem_req_pct", "MEM/R%", attrgetter("mem_req_pct"), 85, ("req_pct", "mem")),
    percentage("mem_lim_pct", "MEM/L%", attrgetter("mem_lim_pct"), 50, ("lim_pct", "mem"), marks=False),
]
