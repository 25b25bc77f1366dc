"""Rows: one node, pod or container joined with its metrics, as plain numbers.

Rows are msgspec Structs without garbage-collector tracking (they never form
cycles): 150,000 of them then cost no collector passes. A row holds integers exactly as `kubectl top` computes them (CPU in
millicores rounded up, memory in bytes rounded up, percentages truncated) so
every view sorts by number and formats the same way. `None` means "no data"
and `problems` says why a cell is missing when the reason is bad data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec

from ktopui.model.quantity import percent

MEBIBYTE = 1024 * 1024


class Usage(msgspec.Struct, gc=False):
    """Usage of one resource holder, as kubectl rounds it."""

    cpu_milli: int | None = None  # MilliValue(): ceil to the millicore
    mem_bytes: int | None = None  # Value(): ceil to the byte
    mem_milli: int | None = None  # MilliValue() of memory: what percentages divide


class Amounts(msgspec.Struct, gc=False):
    """Requests or limits of one resource holder (None: not set)."""

    cpu_milli: int | None = None
    mem_bytes: int | None = None
    mem_milli: int | None = None


def pct(used: int | None, of: int | None) -> int | None:
    if used is None or of is None:
        return None
    return percent(used, of)


class NodeRow(msgspec.Struct, gc=False):
    name: str
    status: str = "Unknown"
    roles: str = "<none>"
    pods: int = 0
    usage: Usage = msgspec.field(default_factory=Usage)
    has_metrics: bool = False
    in_node_list: bool = True
    timestamp: str = ""
    window: str = ""
    # What percentages are taken of: allocatable, or capacity when asked.
    available: Amounts = msgspec.field(default_factory=Amounts)
    requests: Amounts = msgspec.field(default_factory=Amounts)
    limits: Amounts = msgspec.field(default_factory=Amounts)
    problems: dict[str, str] = msgspec.field(default_factory=dict)

    @property
    def key(self) -> str:
        return self.name

    @property
    def cpu_pct(self) -> int | None:
        return pct(self.usage.cpu_milli, self.available.cpu_milli)

    @property
    def mem_pct(self) -> int | None:
        return pct(self.usage.mem_milli, self.available.mem_milli)

    @property
    def cpu_req_pct(self) -> int | None:
        return pct(self.requests.cpu_milli, self.available.cpu_milli)

    @property
    def cpu_lim_pct(self) -> int | None:
        return pct(self.limits.cpu_milli, self.available.cpu_milli)

    @property
    def mem_req_pct(self) -> int | None:
        return pct(self.requests.mem_milli, self.available.mem_milli)

    @property
    def mem_lim_pct(self) -> int | None:
        return pct(self.limits.mem_milli, self.available.mem_milli)


class LimitShare(msgspec.Struct, gc=False):
    """Usage of only the containers that set a limit, over those limits.

    `partial` is True when some running containers set no limit for the
    resource, so the percentage does not cover the whole pod.
    """

    used_milli: int | None = None
    limit_milli: int | None = None
    partial: bool = False

    @property
    def pct(self) -> int | None:
        return pct(self.used_milli, self.limit_milli)


class ContainerRow(msgspec.Struct, gc=False):
    name: str
    kind: str = "app"  # "app" | "sidecar" | "init"
    usage: Usage = msgspec.field(default_factory=Usage)
    has_metrics: bool = False
    requests: Amounts = msgspec.field(default_factory=Amounts)
    limits: Amounts = msgspec.field(default_factory=Amounts)
    restarts: int = 0
    state: str = ""
    problems: Mapping[str, str] = msgspec.field(default_factory=dict)

    @property
    def cpu_req_pct(self) -> int | None:
        return pct(self.usage.cpu_milli, self.requests.cpu_milli)

    @property
    def cpu_lim_pct(self) -> int | None:
        return pct(self.usage.cpu_milli, self.limits.cpu_milli)

    @property
    def mem_req_pct(self) -> int | None:
        return pct(self.usage.mem_milli, self.requests.mem_milli)

    @property
    def mem_lim_pct(self) -> int | None:
        return pct(self.usage.mem_milli, self.limits.mem_milli)


class PodRow(msgspec.Struct, gc=False):
    namespace: str
    name: str
    node: str = ""
    status: str = ""
    ready: str = ""
    restarts: int = 0
    usage: Usage = msgspec.field(default_factory=Usage)
    has_metrics: bool = False
    in_pod_list: bool = True
    timestamp: str = ""
    window: str = ""
    requests: Amounts = msgspec.field(default_factory=Amounts)
    limits: Amounts = msgspec.field(default_factory=Amounts)
    cpu_limit_share: LimitShare = msgspec.field(default_factory=LimitShare)
    mem_limit_share: LimitShare = msgspec.field(default_factory=LimitShare)
    problems: Mapping[str, str] = msgspec.field(default_factory=dict)
    # What the row was joined from (a PodInfo and a PodSample); the container
    # rows are built from them only when asked for (a pod's own screen), so
    # 150,000 rows do not carry 200,000 container rows nobody looks at.
    info: Any = None
    sample: Any = None

    @property
    def containers(self) -> list[ContainerRow]:
        from ktopui.model.join import container_rows

        return container_rows(self.info, self.sample)

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)

    @property
    def cpu_req_pct(self) -> int | None:
        return pct(self.usage.cpu_milli, self.requests.cpu_milli)

    @property
    def mem_req_pct(self) -> int | None:
        return pct(self.usage.mem_milli, self.requests.mem_milli)

    @property
    def cpu_lim_pct(self) -> int | None:
        return self.cpu_limit_share.pct

    @property
    def mem_lim_pct(self) -> int | None:
        return self.mem_limit_share.pct
