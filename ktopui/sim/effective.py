"""A pod's requests and limits as Kubernetes counts them, for ResourceQuota usage.

k8s.io/component-helpers resource.PodRequests / PodLimits with the options the quota
evaluator passes (pkg/quota/v1/evaluator/core/pods.go): containers summed, restartable
init containers (sidecars) added to them and to every later init container's peak,
the larger of the two; with in-place resize, the larger of what the spec asks and what
the containers run with, or only the latter while the resize is Infeasible; pod-level
`spec.resources` replacing the containers' total where set; overhead added to requests,
and to limits that are set.
"""

from __future__ import annotations

from dataclasses import dataclass

from ktopui.sim.world import ContainerSpec, Pod, Template

CPU, MEMORY = 0, 1


@dataclass(frozen=True, slots=True)
class Totals:
    """Millicores and bytes; None where nothing sets it (no container has a limit)."""
    cpu_req: int | None
    mem_req: int | None
    cpu_lim: int | None
    mem_lim: int | None


def _values(spec: ContainerSpec, limits: bool) -> tuple[int | None, int | None]:
    return (spec.cpu_lim, spec.mem_lim) if limits else (spec.cpu_req, spec.mem_req)


def _aggregate(pod: Pod, limits: bool, actual: bool) -> list[int | None]:
    """aggregateContainerResourcesByFn over the spec (or, `actual`, what the containers run with)."""
    t = pod.workload.template
    resize = pod.resize

    def of(spec: ContainerSpec) -> tuple[int | None, int | None]:
        if resize is not None and resize.spec.name == spec.name:
            spec = resize.actual if actual else resize.spec
        return _values(spec, limits)

    total: list[int | None] = [None, None]

    def add(into: list[int | None], values) -> None:
        for r, v in enumerate(values):
            if v is not None:
                into[r] = (into[r] or 0) + v

    for c in t.containers:
        add(total, of(c))
    sidecars: list[int | None] = [None, None]
    peak: list[int | None] = [None, None]
    for c in t.init:
        values = of(c)
        if c.restartable:
            add(total, values)
            add(sidecars, values)
            current = list(sidecars)
        else:
            current = [None, None]
            add(current, values)
            add(current, sidecars)
        for r in (CPU, MEMORY):
            if current[r] is not None and (peak[r] is None or current[r] > peak[r]):
                peak[r] = current[r]
    for r in (CPU, MEMORY):
        if peak[r] is not None and (total[r] is None or peak[r] > total[r]):
            total[r] = peak[r]
    return total


def _counted(pod: Pod, limits: bool) -> list[int | None]:
    spec = _aggregate(pod, limits, actual=False)
    if pod.resize is None:
        return spec
    actual = _aggregate(pod, limits, actual=True)
    if pod.resize.reason == "Infeasible":
        return actual
    return [a if s is None else s if a is None else max(s, a) for s, a in zip(spec, actual)]


_BY_TEMPLATE: dict[int, tuple[Template, Totals]] = {}  # the totals of pods not resized, by id(template)


def pod_totals(pod: Pod) -> Totals:
    t = pod.workload.template
    if pod.resize is None:
        known = _BY_TEMPLATE.get(id(t))
        if known is None:
            known = _BY_TEMPLATE[id(t)] = (t, _totals(pod))
        return known[1]
    return _totals(pod)


def _totals(pod: Pod) -> Totals:
    t = pod.workload.template
    requests, limits = _counted(pod, False), _counted(pod, True)
    level = t.pod_resources
    if level is not None:
        for r, (req, lim) in enumerate(((level.cpu_req, level.cpu_lim), (level.mem_req, level.mem_lim))):
            if req is not None:
                requests[r] = req
            if lim is not None:
                limits[r] = lim
    if t.overhead is not None:
        for r, extra in enumerate(t.overhead):
            requests[r] = (requests[r] or 0) + extra
            if limits[r]:
                limits[r] += extra
    return Totals(requests[CPU], requests[MEMORY], limits[CPU], limits[MEMORY])
