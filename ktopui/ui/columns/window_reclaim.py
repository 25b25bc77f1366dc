"""RECLAIM CPU and MEM of workloads with Prometheus: the workloads on screen by its window
(live/window_reclaim.py), the others by the session's history (model/reclaim.py).

A column of its own per session (its cells read that session's figures), in place of the
plain one while Prometheus is there. It sorts (`w`) by the session's figure: only the rows
on screen have Prometheus's.
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache

from ktopui.live.window_reclaim import WindowReclaim
from ktopui.ui.cells import cpu_text, mem_text
from ktopui.ui.columns import Column, reclaimable
from ktopui.ui.columns.throttle import workload_key

IDS = {"reclaim_cpu": "cpu", "reclaim_mem": "mem"}


@lru_cache(maxsize=16)
def window_reclaimable(reclaim: WindowReclaim, resource: str) -> Column:
    plain = reclaimable(resource)
    figures, text = (reclaim.cpu, cpu_text) if resource == "cpu" else (reclaim.mem, mem_text)
    session_figure = plain.text

    def cell(row, history) -> str:
        key = workload_key(row)
        return text(figures[key]) if key in figures else session_figure(row, history)

    return dataclasses.replace(plain, text=cell)
