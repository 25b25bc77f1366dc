"""Why containers die: how each container's last run ended, and a pod's most recent such end.

From `status.containerStatuses[].lastState.terminated` (reason, exit code,
finishedAt), read once per watch event for the pod (pod_info.py), so tables sort
by it without reading 150,000 pods' statuses. Times are the cluster's (the
kubelet dates them), so ages are told against the server's clock.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from datetime import datetime, timezone

import msgspec

from ktopui.kube.objects import ContainerStateTerminated

OOM_KILLED = "OOMKilled"
# Reasons whose exit code goes without saying (137, 0).
_CODE_IMPLIED = (OOM_KILLED, "Completed")


class LastExit(msgspec.Struct, frozen=True, gc=False):
    """How a container's previous run ended."""

    container: str
    reason: str  # as the kubelet said it ("Terminated" when it said none)
    exit_code: int
    finished: int | None  # seconds since the epoch; None when not said, or not a time


def finished_at(text: str | None) -> int | None:
    """RFC 3339 (`2026-08-01T11:59:51Z`) to whole seconds since the epoch; None if unreadable."""
    if not text:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return int(when.timestamp())


def exit_of(container: str, terminated: ContainerStateTerminated) -> LastExit:
    return LastExit(container, sys.intern(terminated.reason or "Terminated"), terminated.exitCode,
                    finished_at(terminated.finishedAt))


def most_recent(exits: Iterable[LastExit]) -> LastExit | None:
    """The exit that finished last (one without a time only when no other has one)."""
    best = None
    for e in exits:
        if best is None or (e.finished is not None and (best.finished is None or e.finished > best.finished)):
            best = e
    return best


def ago(seconds: float) -> str:
    """`45s`, `12m`, `3h`, `9d`: seconds up to two minutes, minutes up to two hours, hours up
    to two days, then days."""
    seconds = max(0, int(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 120 * 60:
        return f"{seconds // 60}m"
    if seconds < 48 * 3600:
        return f"{seconds // 3600}h"
    return f"{seconds // 86400}d"


def exit_text(last: LastExit | None, now: float) -> str:
    """`OOMKilled 12m ago`, `Error (1) 3h ago` (`now`: the server's clock); `-` for none."""
    if last is None:
        return "-"
    what = last.reason if last.reason in _CODE_IMPLIED else f"{last.reason} ({last.exit_code})"
    return what if last.finished is None else f"{what} {ago(now - last.finished)} ago"
