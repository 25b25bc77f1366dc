"""THROTTLE%: a pod's or workload's CPU throttling, from Prometheus (live/throttling.py).

A column of its own per session and view (its cells read that session's
shares), there only while Prometheus is: without it there is no column, not a
column of dashes. It sorts nothing (only the rows on screen have a value).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from functools import lru_cache
from typing import Any

from ktopui.live.throttling import Throttling
from ktopui.model import history_keys
from ktopui.ui.columns import Column


def pod_key(row: Any) -> Hashable:
    return history_keys.pod(row.namespace, row.name)


def workload_key(row: Any) -> Hashable:
    return history_keys.workload(row.kind, row.namespace, row.name)


@lru_cache(maxsize=16)
def throttle(throttling: Throttling, key_of: Callable[[Any], Hashable]) -> Column:
    """The column for rows whose history key is `key_of(row)` (the same column while the session lasts)."""
    shares = throttling.shares

    def text(row: Any, _history) -> str:
        share = shares.get(key_of(row))
        return "-" if share is None else f"{share * 100:.0f}%"

    def tone(row: Any) -> str:
        share = shares.get(key_of(row))
        return "" if share is None or share < 0.1 else "warn" if share < 0.25 else "crit"

    return Column("throttle", "THROTTLE%", 9, "", text, tone, priority=72)
