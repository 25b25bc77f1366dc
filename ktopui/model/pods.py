"""Pods: the row of one pod, how it is made from its summary and summed metrics, and what sorts it.

Usage follows `kubectl top pod` (SPEC Part B §2.3); requests follow
Kubernetes' own rule (pod_resources.py). A pod's limit percentages count
only the containers that set a limit (LimitShare). Its last exit is the
most recent end of one of its containers' runs (exits.py). Either side may be
missing: metrics of a pod not (or no longer) listed, or a pod without
metrics, still give a row.

The dashboard keeps its 150,000 pods as columns (pod_view.py) and makes a
PodRow only for a line on screen; `VALUES` are what its columns sort by, read
from one row, and the view reads the same values for all pods at once
(a test holds the two to each other).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from operator import attrgetter
from typing import Any

import msgspec

from ktopui.model import history_keys
from ktopui.model.amounts import Amounts, Usage, pct
from ktopui.model.containers import ContainerRow, container_rows
from ktopui.model.exits import LastExit
from ktopui.model.kinds import Kind
from ktopui.model.pod_info import NO_PROBLEMS, WHOLE_POD, PodInfo, infos_of
from ktopui.model.samples import PodSample, pod_samples, used_milli


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
    # rows are built from them only when asked for (a pod's own screen).
    info: Any = None
    sample: Any = None

    @property
    def containers(self) -> list[ContainerRow]:
        return container_rows(self.info, self.sample)

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)

    @property
    def last_exit(self) -> LastExit | None:
        return self.info.last_exit if self.info is not None else None

    @property
    def last_exit_at(self) -> int | None:
        last = self.last_exit
        return None if last is None else last.finished

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

    def container_history_key(self, container: str) -> tuple:
        """Where one of its containers' history is kept (see history_keys.of_container)."""
        measured = self.sample.container_names() if self.sample is not None else ()
        return history_keys.of_container(self.namespace, self.name, container, measured)


def filter_text(row: Any) -> str:
    """What `/` searches in a pod's line (a PodRow, or the PodInfo it is made of)."""
    return f"{row.namespace}/{row.name} {row.node} {row.status}"


VALUES = {
    "namespace": attrgetter("namespace"),
    "name": attrgetter("name"),
    "node": attrgetter("node"),
    "status": attrgetter("status"),
    "ready": attrgetter("ready"),
    "restarts": attrgetter("restarts"),
    "last_exit": attrgetter("last_exit_at"),
    "cpu": attrgetter("usage.cpu_milli"),
    "mem": attrgetter("usage.mem_bytes"),
    "cpu_req_pct": attrgetter("cpu_req_pct"),
    "mem_req_pct": attrgetter("mem_req_pct"),
    "cpu_lim_pct": attrgetter("cpu_lim_pct"),
    "mem_lim_pct": attrgetter("mem_lim_pct"),
    "cpu_req": attrgetter("requests.cpu_milli"),
    "mem_req": attrgetter("requests.mem_bytes"),
    "cpu_lim": attrgetter("limits.cpu_milli"),
    "mem_lim": attrgetter("limits.mem_bytes"),
}

PODS = Kind(
    name="pods",
    key=attrgetter("namespace", "name"),  # (C calls: 150,000 rows at a time)
    order=attrgetter("name", "namespace"),
    filter_text=filter_text,
    values=VALUES,
)


_NO_SHARE = LimitShare()


def limited_use(sample: PodSample | None, bounded: tuple[str, ...], resource: str) -> int | None:
    """What a limit percentage divides: the usage of the containers that set a limit, or under
    a pod-level limit the pod's, as its CPU and MEMORY columns have it."""
    if bounded != WHOLE_POD:
        return used_milli(sample, bounded, resource)
    if sample is None:
        return None
    return sample.usage.cpu_milli if resource == "cpu" else sample.usage.mem_milli


def pod_row(key: tuple[str, str], info: PodInfo | None, sample: PodSample | None) -> PodRow:
    """The row of one pod from its summary and its summed metrics (either may be None)."""
    if info is None:
        return PodRow(
            key[0], key[1], has_metrics=True, in_pod_list=False, timestamp=sample.timestamp, window=sample.window,
            usage=sample.usage, problems=sample.problems, cpu_limit_share=_NO_SHARE, mem_limit_share=_NO_SHARE,
            info=None, sample=sample,
        )
    spec = info.spec
    problems = sample.problems if sample is not None else NO_PROBLEMS
    if spec.problem:
        problems = {**problems, "requests": spec.problem}
    cpu_share = _NO_SHARE
    if spec.cpu_bounded:
        cpu_share = LimitShare(limited_use(sample, spec.cpu_bounded, "cpu"), spec.cpu_limit_milli, spec.cpu_partial)
    mem_share = _NO_SHARE
    if spec.mem_bounded:
        mem_share = LimitShare(limited_use(sample, spec.mem_bounded, "mem"), spec.mem_limit_milli, spec.mem_partial)
    return PodRow(
        info.namespace, info.name, info.node, info.status, info.ready, info.restarts,
        sample.usage if sample is not None else Usage(),
        sample is not None, True,
        sample.timestamp if sample is not None else "",
        sample.window if sample is not None else "",
        spec.requests, spec.limits, cpu_share, mem_share, problems, info, sample,
    )


def pod_rows(pods: Iterable | Mapping | None, metrics: Iterable | Mapping | None) -> list[PodRow]:
    """One row per pod known from either the pod list or the metrics.

    `pods` holds decoded Pods, PodInfos, or a mapping of key to PodInfo;
    `metrics` PodMetrics (or a leaner shape, see samples.pod_samples) or
    PodSamples by key. Rows come in the order given: pods, then pods known
    only from their metrics.
    """
    samples = metrics if isinstance(metrics, Mapping) else pod_samples(metrics or ())
    rows: dict[tuple[str, str], PodRow] = {}
    get_sample = samples.get
    for key, info in infos_of(pods):
        rows[key] = pod_row(key, info, get_sample(key))
    for key, sample in samples.items():
        if key not in rows:  # metrics of pods not (or no longer) listed
            rows[key] = pod_row(key, None, sample)
    return list(rows.values())
