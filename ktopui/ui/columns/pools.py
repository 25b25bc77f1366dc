"""The node pools table's columns (model/pools.py has its rows and the values they sort by)."""

from __future__ import annotations

from operator import attrgetter

from ktopui.model.pools import PoolRow
from ktopui.ui.columns import Column, amount, percentage, text_column, usage


def pods_text(row: PoolRow) -> str:
    """Pods on the pool's nodes over the pods its nodes may hold (`-` when none says)."""
    allocatable = row.pods_allocatable
    return f"{row.pods}/{allocatable if allocatable is not None else '-'}"


NAME = text_column("name", "POOL", 10, attrgetter("name"), 100, flex=True, grow=55, cap=32, middle=True)
NODES = Column("nodes", "NODES", 5, "nodes", lambda r, _h: str(len(r.nodes)), priority=50, choice=("nodes", ""))
PODS = Column("pods", "PODS", 9, "pods", lambda r, _h: pods_text(r), priority=60, choice=("pods", ""))

COLUMNS = [
    NAME,
    NODES,
    usage("cpu"),
    percentage("cpu_pct", "%CPU", attrgetter("cpu_pct"), 85, ("pct", "cpu"), partial=attrgetter("cpu_partial")),
    amount("cpu_req", "CPU REQ", 9, attrgetter("requests.cpu_milli"), "cpu", "requests", 40),
    amount("cpu_free", "CPU FREE", 9, attrgetter("free.cpu_milli"), "cpu", "free", 70),
    usage("mem"),
    percentage("mem_pct", "%MEM", attrgetter("mem_pct"), 85, ("pct", "mem"), partial=attrgetter("mem_partial")),
    amount("mem_req", "MEM REQ", 9, attrgetter("requests.mem_bytes"), "mem", "requests", 40),
    amount("mem_free", "MEM FREE", 9, attrgetter("free.mem_bytes"), "mem", "free", 70),
    PODS,
]

# Without the metrics API: what is reserved and what is left (free is then allocatable less requests).
RESERVED = [
    NAME,
    NODES,
    amount("cpu_req", "CPU REQ", 9, attrgetter("requests.cpu_milli"), "cpu", "requests", 90),
    amount("cpu_free", "CPU FREE", 9, attrgetter("free.cpu_milli"), "cpu", "free", 85),
    amount("mem_req", "MEM REQ", 9, attrgetter("requests.mem_bytes"), "mem", "requests", 90),
    amount("mem_free", "MEM FREE", 9, attrgetter("free.mem_bytes"), "mem", "free", 85),
    PODS,
]
