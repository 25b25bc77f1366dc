"""What the dashboard keeps of each pod: a compact summary, not the decoded object.

A 150,000-pod cluster decodes to hundreds of megabytes of Pod structs, but a
row needs only a few strings and the spec-derived numbers (effective
requests and limits, each container's own). Replicas of one workload share
their spec, so those numbers are computed once per distinct shape (the
quantities pod_resources.py counts) and shared (`SpecMemo`); a pod then costs
one small object, and a watch event for it costs one summary, not a rejoin.
Per-pod facts of the status (each container's state and last exit, the
pod's most recent exit, its OOM kills) are derived here too, once per event.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Hashable, Iterable, Mapping
from types import MappingProxyType
from typing import NamedTuple

import msgspec

from ktopui.kube.objects import ContainerStatus, Pod, ResourceList
from ktopui.model.amounts import Amounts
from ktopui.model.exits import OOM_KILLED, LastExit, exit_of, most_recent
from ktopui.model.owners import PodOwner, pod_owner
from ktopui.model.pod_resources import (
    ContainerShape,
    InvalidResource,
    PodShape,
    Resources,
    pod_limits,
    pod_requests,
    pod_shape,
    statuses_of,
)
from ktopui.model.quantity import (
    Quantity,
    QuantityError,
    nanos_to_milli,
    nanos_to_value,
    parse_cached,
)
from ktopui.model.status import pod_ready, pod_restarts, pod_status

NO_PROBLEMS: Mapping[str, str] = MappingProxyType({})
Shared = Hashable  # a small value many pods hold equal (see SpecMemo.sharer)
# The containers a pod-level limit bounds: all of them, as one (no container is named "*").
WHOLE_POD = ("*",)
MEMO_LIMIT = 50_000  # distinct pod shapes remembered; past that the memo starts afresh


class ContainerSpec(msgspec.Struct, frozen=True, gc=False):
    """One container's requests and limits as counted (its spec's, or after an in-place resize
    the larger of spec and status), shared by every replica."""

    name: str
    role: str  # "app" | "sidecar" | "init"
    requests: Amounts
    limits: Amounts
    problems: Mapping[str, str]


class SpecSummary(msgspec.Struct, frozen=True, gc=False):
    """The numbers a pod's resources give, computed once per distinct PodShape."""

    requests: Amounts  # effective pod requests (Kubernetes' PodRequests rule, pod_resources.py)
    limits: Amounts
    requests_nanos: Mapping[str, int]  # exact sums, for adding up per node
    limits_nanos: Mapping[str, int]
    problem: str  # an invalid request/limit quantity spoils the pod's totals: why
    containers: tuple[ContainerSpec, ...]  # init containers and sidecars first, then app containers
    # For %CPU/L and %MEM/L: the running containers that set a limit (WHOLE_POD
    # under a pod-level limit), their summed limits (milli), and whether some
    # running container sets none.
    cpu_bounded: tuple[str, ...] = ()
    cpu_limit_milli: int = 0
    cpu_partial: bool = False
    mem_bounded: tuple[str, ...] = ()
    mem_limit_milli: int = 0
    mem_partial: bool = False


class ContainerRun(msgspec.Struct, frozen=True, gc=False):
    """What one container's status says (shared by the pods whose containers say the same)."""

    restarts: int
    state: str  # its state word: Running, a waiting or terminated reason; "" without a status
    last_exit: LastExit | None = None


NO_STATUS = ContainerRun(0, "")


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
    # Per container of spec.containers, in the same order.
    states: tuple[ContainerRun, ...]
    last_exit: LastExit | None = None  # the most recent of its containers' last exits
    oom_kills: int = 0  # containers whose last run ended OOMKilled

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


def _container_spec(c: ContainerShape) -> ContainerSpec:
    problems: dict[str, str] = {}
    requests = amounts_of(parse_resources(dict(c.requests), "request", problems))
    limits = amounts_of(parse_resources(dict(c.limits), "limit", problems))
    return ContainerSpec(sys.intern(c.name), c.role, requests, limits,
                         MappingProxyType(problems) if problems else NO_PROBLEMS)


def _bounded(containers: tuple[ContainerSpec, ...], resource: str, pod_limit: int | None) -> dict:
    """Which running containers set a limit: what the limit percentages divide by.

    k9s divides the whole pod's usage by the sum of the limits that happen to
    be set, which overstates the percentage when some containers are
    unbounded; here the unbounded ones are left out and flagged instead. A
    pod-level limit bounds the pod as a whole (WHOLE_POD): what it divides is
    the pod's usage.
    """
    if pod_limit is not None:
        return {f"{resource}_bounded": WHOLE_POD, f"{resource}_limit_milli": pod_limit, f"{resource}_partial": False}
    running = [c for c in containers if c.role != "init"]
    limits = [(c.name, c.limits.cpu_milli if resource == "cpu" else c.limits.mem_milli) for c in running]
    bounded = [(name, lim) for name, lim in limits if lim is not None]
    return {
        f"{resource}_bounded": tuple(name for name, _ in bounded),
        f"{resource}_limit_milli": sum(lim for _, lim in bounded),
        f"{resource}_partial": bool(bounded) and len(bounded) < len(running),
    }


def spec_summary(shape: PodShape) -> SpecSummary:
    containers = tuple(map(_container_spec, shape.containers))
    level = amounts_of(parse_resources(dict(shape.limits), "pod limit", {}))
    shares = {**_bounded(containers, "cpu", level.cpu_milli), **_bounded(containers, "mem", level.mem_milli)}
    try:
        requests, limits = pod_requests(shape), pod_limits(shape)
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


class SpecMemo:
    """SpecSummary per distinct PodShape: replicas of a workload share one. One per cluster."""

    def __init__(self) -> None:
        self._known: dict[PodShape, SpecSummary] = {}
        # One object per distinct small value (most pods' containers are all Running, never restarted).
        self._shared: dict[Shared, Shared] = {}

    def __len__(self) -> int:
        return len(self._known)

    def sharer(self) -> Callable[[Shared, Shared], Shared]:
        """`share(v, v)`: an equal value kept before, or `v`, kept while there is room."""
        return self._shared.setdefault if len(self._shared) < MEMO_LIMIT else self._shared.get

    def summary(self, shape: PodShape) -> SpecSummary:
        found = self._known.get(shape)
        if found is None:
            if len(self._known) >= MEMO_LIMIT:
                self._known.clear()
            found = self._known[shape] = spec_summary(shape)
        return found


def _state(status: ContainerStatus) -> str:
    state = status.state
    if state.waiting is not None:
        return state.waiting.reason or "Waiting"
    if state.terminated is not None:
        return state.terminated.reason or "Terminated"
    return "Running"


def _same(value: Shared, _: Shared) -> Shared:
    return value


def pod_info(pod: Pod, memo: SpecMemo | None = None) -> PodInfo:
    """The summary of one decoded pod (the decoded object can then be dropped)."""
    statuses = statuses_of(pod)
    shape = pod_shape(pod, statuses)
    spec = memo.summary(shape) if memo is not None else spec_summary(shape)
    share = memo.sharer() if memo is not None else _same
    runs, exits = [], []
    oom_kills = 0
    for c in spec.containers:
        s = statuses.get(c.name)
        if s is None:
            runs.append(NO_STATUS)
            continue
        ended = s.lastState.terminated
        if ended is None:
            run = ContainerRun(s.restartCount, _state(s))
            runs.append(share(run, run))
            continue
        # (a run with an exit is this pod's alone: keeping it for sharing would only fill the memo)
        last = exit_of(c.name, ended)
        exits.append(last)
        oom_kills += last.reason == OOM_KILLED
        runs.append(ContainerRun(s.restartCount, _state(s), last))
    states = tuple(runs)
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
        states=states if exits else share(states, states),
        last_exit=most_recent(exits) if exits else None,
        oom_kills=oom_kills,
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
