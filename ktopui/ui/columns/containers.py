"""The columns of one pod's containers (model/containers.py has their rows and values)."""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter

from ktopui.model.history import CPU, MEMORY
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


def columns(history_key: Callable[[str], tuple]) -> list[Column]:
    """The columns of a pod's containers; `history_key` maps a container's name to where its
    history is kept (see PodRow.container_history_key)."""

    def history(row) -> tuple:
        return history_key(row.name)

    return [
        text_column("name", "CONTAINER", 14, attrgetter("name"), 100, flex=True, grow=65, middle=True),
        text_column("role", "KIND", 7, attrgetter("role"), 50),
        text_column("status", "STATE", 11, lambda c: c.state or "-", 55, sort="state"),
        Column("restarts", "RESTARTS", 8, "restarts", lambda c, _h: str(c.restarts), priority=40,
               choice=("restarts", "")),
        last_exit(42),
        usage("cpu"),
        amount("cpu_req", "CPU/R", 7, attrgetter("requests.cpu_milli"), "cpu", "requests", 45),
        amount("cpu_lim", "CPU/L", 7, attrgetter("limits.cpu_milli"), "cpu", "limits", 45),
        percentage("cpu_req_pct", "%CPU/R", attrgetter("cpu_req_pct"), 80, ("req_pct", "cpu")),
        percentage("cpu_lim_pct", "%CPU/L", attrgetter("cpu_lim_pct"), 75, ("lim_pct", "cpu")),
        usage("mem"),
        amount("mem_req", "MEM/R", 8, attrgetter("requests.mem_bytes"), "mem", "requests", 45),
        amount("mem_lim", "MEM/L", 8, attrgetter("limits.mem_bytes"), "mem", "limits", 45),
        percentage("mem_req_pct", "%MEM/R", attrgetter("mem_req_pct"), 80, ("req_pct", "mem")),
        percentage("mem_lim_pct", "%MEM/L", attrgetter("mem_lim_pct"), 75, ("lim_pct", "mem")),
        trend("cpu_hist", history, CPU, 10, LIMIT_TOPS[CPU]),
        trend("mem_hist", history, MEMORY, 10, LIMIT_TOPS[MEMORY]),
    ]
