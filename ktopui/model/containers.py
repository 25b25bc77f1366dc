"""Containers: the rows of one pod's containers, and what sorts them.

Made only when a pod's own screen asks (150,000 pods do not carry 200,000
container rows nobody looks at), from the pod's summary and summed sample.
"""

from __future__ import annotations

from collections.abc import Mapping
from operator import attrgetter

import msgspec

from ktopui.model.amounts import Amounts, Usage, pct
from ktopui.model.exits import LastExit
from ktopui.model.kinds import Kind
from ktopui.model.pod_info import PodInfo
from ktopui.model.samples import PodSample, container_usage


class ContainerRow(msgspec.Struct, gc=False):
    name: str
    role: str = "app"  # "app" | "sidecar" | "init"
    usage: Usage = msgspec.field(default_factory=Usage)
    has_metrics: bool = False
    requests: Amounts = msgspec.field(default_factory=Amounts)
    limits: Amounts = msgspec.field(default_factory=Amounts)
    restarts: int = 0
    state: str = ""
    last_exit: LastExit | None = None  # how its previous run ended
    problems: Mapping[str, str] = msgspec.field(default_factory=dict)

    @property
    def last_exit_at(self) -> int | None:
        return None if self.last_exit is None else self.last_exit.finished

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


_name = attrgetter("name")

CONTAINERS = Kind(
    name="containers",
    key=_name,
    order=_name,
    filter_text=_name,
    values={
        "name": _name,
        "role": attrgetter("role"),
        "state": attrgetter("state"),
        "restarts": attrgetter("restarts"),
        "last_exit": attrgetter("last_exit_at"),
        "cpu": attrgetter("usage.cpu_milli"),
        "mem": attrgetter("usage.mem_bytes"),
        "cpu_req": attrgetter("requests.cpu_milli"),
        "cpu_lim": attrgetter("limits.cpu_milli"),
        "mem_req": attrgetter("requests.mem_bytes"),
        "mem_lim": attrgetter("limits.mem_bytes"),
        "cpu_req_pct": attrgetter("cpu_req_pct"),
        "cpu_lim_pct": attrgetter("cpu_lim_pct"),
        "mem_req_pct": attrgetter("mem_req_pct"),
        "mem_lim_pct": attrgetter("mem_lim_pct"),
    },
)


def container_rows(info: PodInfo | None, sample: PodSample | None) -> list[ContainerRow]:
    """The container rows of one pod (spec order: init containers and sidecars, then app containers)."""
    entries = sample.entries() if sample is not None else ()
    usage = {entry[0]: entry for entry in entries}
    rows = []
    if info is None:
        for entry in entries:
            used, problems = container_usage(entry)
            rows.append(ContainerRow(entry[0], "app", used, True, problems=dict(problems)))
        return rows
    for spec, run in zip(info.spec.containers, info.states):
        row = ContainerRow(spec.name, spec.role, requests=spec.requests, limits=spec.limits, restarts=run.restarts,
                           state=run.state, last_exit=run.last_exit)
        problems = dict(spec.problems)
        entry = usage.get(spec.name)
        if entry is not None:
            row.has_metrics = True
            row.usage, used_problems = container_usage(entry)
            problems.update(used_problems)
        row.problems = problems
        rows.append(row)
    return rows
