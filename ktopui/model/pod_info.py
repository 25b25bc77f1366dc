"""What the dashboard keeps of each pod: a compact summary, not the decoded object.

A 150,000-pod cluster decodes to hundreds of megabytes of Pod structs, but a
row needs only a few strings and the spec-derived numbers (effective
requests and limits, each container's own). Replicas of one workload share
their spec, so those numbers are computed once per distinct spec and shared
(`SpecMemo`); a pod then costs one small object, and a watch event for it
costs one summary, not a rejoin.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import NamedTuple

import msgspec

from ktopui.kube.objects import Container, Pod, ResourceList
from ktopui.model.pod_resources import InvalidResource, Resources, is_sidecar, pod_limits, pod_requests
from ktopui.model.quantity import Quantity, QuantityError, nanos_to_milli, nanos_to_value, parse_cached
from ktopui.model.amounts import Amounts
from ktopui.model.owners import PodOwner, pod_owner
from ktopui.model.status import pod_ready, pod_restarts, pod_status

NO_PROBLEMS: Mapping[str, str] = MappingProxyType({})
MEMO_LIMIT = 50_000  # distinct pod specs remembered; past that the memo starts afresh


class ContainerSpec(msgspec.Struct, frozen=True, gc=False):
    """One container as its spec declares it (shared by every replica)."""

    name: str
    role: str  # "app" | "sidecar" | "init"
    requests: Amounts
    limits: Amounts
    problems: Mapping[str, str]


class SpecSummary(msgspec.Struct, frozen=True, gc=False):
    """The numbers a pod spec gives, computed once per distinct spec."""

    requests: Amounts  # effective pod requests (Kubernetes' PodRequests rule)
    limits: Amounts
    requests_nanos: Mapping[str, int]  # exact sums, for adding up per node
    limits_nanos: Mapping[str, int]
    problem: str  # an invalid request/limit quantity spoils the pod's totals: why
    containers: tuple[ContainerSpec, ...]  # init containers and sidecars first, then app containers
    # For %CPU/L and %MEM/L: the running containers that set a limit, their
    # summed limits (milli), and whether some running container sets none.
    cpu_bounded: tuple[str, ...] = ()
    cpu_limit_milli: int = 0
    cpu_partial: bool = False
    mem_bounded: tuple[str, ...] = ()
    mem_limit_milli: int = 0
    mem_partial: bool = False


class PodInfo(msgspec.Struct, frozen=True, gc=False):
    """One pod as the dashboard keeps it, rebuilt on every watch event for the pod."""

    namespace: str
    name: str
    node: str
    phase: str
    status: str
    ready: str
    restarts: int
    spec: SpecSummary
    owner: PodOwner  # its controller, as its metadata says (owners.py resolves the workload)
    # Per container of spec.containers, in the same order: (restarts, state word).
    states: tuple[tuple[int, str], ...]

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)


def amounts_of(resources: Mapping[str, Quantity]) -> Amounts:
    """CPU in millicores, memory in bytes and millibytes, of parsed quantities (None: not set)."""
    amounts = Amounts()
    if (cpu := resources.get("cpu")) is not None:
        amounts.cpu_milli = cpu.milli_value()
    if (mem := resources.get("memory")) is not None:
        amounts.mem_bytes = mem.value()
        amounts.mem_milli = mem.milli_value()
    return amounts


def parse_resources(rl: ResourceList, label: str, problems: dict[str, str]) -> Resources:
    """cpu and memory of a ResourceList; an invalid quantity is left out and said in `problems`."""
    out: Resources = {}
    for name in ("cpu", "memory"):
        if name in rl:
            try:
                out[name] = parse_cached(rl[name])
            except QuantityError as err:
                problems[f"{name}.{label}"] = f"invalid {label} {name} quantity {rl[name]!r}: {err}"
    return out


def _container_spec(c: Container, role: str) -> ContainerSpec:
    problems: dict[str, str] = {}
    requests = amounts_of(parse_resources(c.resources.requests, "request", problems))
    limits = amounts_of(parse_resources(c.resources.limits, "limit", problems))
    return ContainerSpec(sys.intern(c.name), role, requests, limits, MappingProxyType(problems) if problems else NO_PROBLEMS)


def _bounded(containers: tuple[ContainerSpec, ...], resource: str) -> dict:
    """Which running containers set a limit: what the limit percentages divide by.

    k9s divides the whole pod's usage by the sum of the limits that happen to
    be set, which overstates the percentage when some containers are
    unbounded; here the unbounded ones are left out and flagged instead.
    """
    running = [c for c in containers if c.role != "init"]
    limits = [(c.name, c.limits.cpu_milli if resource == "cpu" else c.limits.mem_milli) for c in running]
    bounded = [(name, lim) for name, lim in limits if lim is not None]
    return {
        f"{resource}_bounded": tuple(name for name, _ in bounded),
        f"{resource}_limit_milli": sum(lim for _, lim in bounded),
        f"{resource}_partial": bool(bounded) and len(bounded) < len(running),
    }


def spec_summary(pod: Pod) -> SpecSummary:
    containers = tuple(
        [_container_spec(c, "sidecar" if is_sidecar(c) else "init") for c in pod.spec.initContainers]
        + [_container_spec(c, "app") for c in pod.spec.containers]
    )
    shares = {**_bounded(containers, "cpu"), **_bounded(containers, "mem")}
    try:
        requests, limits = pod_requests(pod), pod_limits(pod)
    except InvalidResource as err:
        return SpecSummary(Amounts(), Amounts(), NO_PROBLEMS, NO_PROBLEMS, str(err), containers, **shares)
    return SpecSummary(
        amounts_of(requests),
        amounts_of(limits),
        MappingProxyType({k: q.nanos for k, q in requests.items()}),
        MappingProxyType({k: q.nanos for k, q in limits.items()}),
        "",
        containers,
        **shares,
    )


def _items(rl: ResourceList) -> tuple:
    return tuple(rl.items()) if rl else ()


def _spec_key(pod: Pod) -> tuple:
    spec = pod.spec
    return (
        tuple((c.name, _items(c.resources.requests), _items(c.resources.limits), c.restartPolicy) for c in spec.initContainers),
        tuple((c.name, _items(c.resources.requests), _items(c.resources.limits)) for c in spec.containers),
        _items(spec.overhead),
    )


class SpecMemo:
    """SpecSummary per distinct spec: replicas of a workload share one. One per cluster."""

    def __init__(self) -> None:
        self._known: dict[tuple, SpecSummary] = {}
        # One object per distinct small value (most pods' containers are all (0, "Running")).
        self._shared: dict[tuple, tuple] = {}

    def __len__(self) -> int:
        return len(self._known)

    def sharer(self) -> Callable[[tuple, tuple], tuple]:
        """`share(t, t)`: an equal tuple kept before, or `t`, kept while there is room."""
        return self._shared.setdefault if len(self._shared) < MEMO_LIMIT else self._shared.get

    def summary(self, pod: Pod) -> SpecSummary:
        key = _spec_key(pod)
        found = self._known.get(key)
        if found is None:
            if len(self._known) >= MEMO_LIMIT:
                self._known.clear()
            found = self._known[key] = spec_summary(pod)
        return found


def _state(status) -> str:
    state = status.state
    if state.waiting is not None:
        return state.waiting.reason or "Waiting"
    if state.terminated is not None:
        return state.terminated.reason or "Terminated"
    return "Running"


def _same(value: tuple, _: tuple) -> tuple:
    return value


def pod_info(pod: Pod, memo: SpecMemo | None = None) -> PodInfo:
    """The summary of one decoded pod (the decoded object can then be dropped)."""
    spec = memo.summary(pod) if memo is not None else spec_summary(pod)
    share = memo.sharer() if memo is not None else _same
    statuses = {s.name: s for s in pod.status.containerStatuses}
    statuses.update({s.name: s for s in pod.status.initContainerStatuses})
    each = []
    for c in spec.containers:
        s = statuses.get(c.name)
        state = (0, "") if s is None else (s.restartCount, _state(s))
        each.append(share(state, state))
    states = tuple(each)
    meta = pod.metadata
    intern = sys.intern
    owner = pod_owner(meta)
    return PodInfo(
        namespace=intern(meta.namespace),
        name=intern(meta.name),
        node=intern(pod.spec.nodeName),
        phase=intern(pod.status.phase),
        status=intern(pod_status(pod)),
        ready=intern(pod_ready(pod)),
        restarts=pod_restarts(pod),
        spec=spec,
        owner=owner if owner.kind == "Pod" else share(owner, owner),  # (replicas share one)
        states=share(states, states),
    )


Key = tuple[str, str]


class PodChanges(NamedTuple):
    """Which pods may differ between two pod mappings (the watch names the keys it
    touched), so a join looks at those instead of comparing all 150,000."""

    before: Mapping[Key, PodInfo] | None
    after: Mapping[Key, PodInfo]
    touched: Iterable[Key]


def infos_of(pods: Iterable[Pod] | Iterable[PodInfo] | Mapping[Key, PodInfo] | None) -> Iterable[tuple[Key, PodInfo]]:
    """(key, PodInfo) pairs of pods given as a mapping, PodInfos, or decoded Pods (summarised here)."""
    if pods is None:
        return ()
    if isinstance(pods, Mapping):
        return pods.items()
    memo = SpecMemo()
    return [(p.key, p) if isinstance(p, PodInfo) else ((p.metadata.namespace, p.metadata.name), pod_info(p, memo))
            for p in pods]


def amounts_from_nanos(nanos: Mapping[str, int]) -> Amounts:
    """Amounts of exact integer sums (ceil to the milli, to the byte), like Quantity's."""
    amounts = Amounts()
    if (cpu := nanos.get("cpu")) is not None:
        amounts.cpu_milli = nanos_to_milli(cpu)
    if (mem := nanos.get("memory")) is not None:
        amounts.mem_bytes = nanos_to_value(mem)
        amounts.mem_milli = nanos_to_milli(mem)
    return amounts
