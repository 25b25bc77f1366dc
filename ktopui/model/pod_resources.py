"""A pod's effective requests and limits, by Kubernetes' own rule.

Mirrors k8s.io/component-helpers resource.PodRequests / PodLimits with status
resources and pod-level resources counted, as the scheduler and the kubelet
count them:

* app containers and restartable (sidecar) init containers run side by side and
  add up; an ordinary init container runs alone next to the sidecars started
  before it, so the pod needs at least that much while it runs;
* a container resized in place counts, per resource, the larger of what its spec
  asks, what it runs with (`status.containerStatuses[].resources`) and what the
  kubelet allotted it (`allocatedResources`); while the resize is Infeasible the
  spec is left out. Its limits likewise (what it runs with alone when
  Infeasible);
* pod-level `spec.resources` (KEP 2837), where it names cpu or memory, replaces
  the containers' total for that resource;
* pod overhead comes on top of requests, and of limits that are set.

A pod is first reduced to its PodShape, the quantities this rule reads: pods
of one shape (a workload's replicas) share what is computed from it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import msgspec

from ktopui.kube.objects import Container, ContainerStatus, Pod, ResourceList
from ktopui.model.quantity import Quantity, parse_cached

Resources = dict[str, Quantity]

WATCHED = ("cpu", "memory")

# A ResourceList's cpu and memory as (name, quantity text) pairs, in WATCHED order.
Items = tuple[tuple[str, str], ...]


class InvalidResource(ValueError):
    """A request or limit quantity in the pod spec does not parse."""

    def __init__(self, where: str, text: str, reason: str) -> None:
        super().__init__(f"{where}: invalid quantity {text!r}: {reason}")
        self.where = where


class ContainerShape(msgspec.Struct, frozen=True, gc=False):
    """One container's part in the rule: the quantities it counts with (its spec's, or after a
    resize the larger of spec and status)."""

    name: str
    role: str  # "app" | "sidecar" | "init"
    requests: Items
    limits: Items


class PodShape(msgspec.Struct, frozen=True, gc=False):
    """What the rule reads of a pod; hashable, so equal pods share one summary."""

    containers: tuple[ContainerShape, ...]  # init containers and sidecars in order, then app containers
    requests: Items  # pod-level (spec.resources)
    limits: Items
    overhead: Items


def _items(resources: ResourceList) -> Items:
    if not resources:
        return ()
    cpu, memory = resources.get("cpu"), resources.get("memory")
    if cpu is None:
        return () if memory is None else (("memory", memory),)
    return (("cpu", cpu),) if memory is None else (("cpu", cpu), ("memory", memory))


def _exceeds(text: str, held: str) -> bool:
    # An invalid quantity wins, so that it is named where it spoils the totals.
    try:
        value = parse_cached(text).exact
    except ValueError:
        return True
    try:
        return value > parse_cached(held).exact
    except ValueError:
        return False


def _larger(*lists: Items) -> Items:
    """Per resource, the largest quantity any of the lists names (component-helpers' max())."""
    best: dict[str, str] = {}
    for pairs in lists:
        for name, text in pairs:
            held = best.get(name)
            if held is None or (text != held and _exceeds(text, held)):
                best[name] = text
    return tuple((name, best[name]) for name in WATCHED if name in best)


def resize_infeasible(pod: Pod) -> bool:
    """Whether the pod's PodResizePending condition says Infeasible (the first one decides)."""
    for condition in pod.status.conditions:
        if condition.type == "PodResizePending":
            return condition.reason == "Infeasible"
    return False


def _counted(c: Container, status: ContainerStatus | None, infeasible: Callable[[], bool]) -> tuple[Items, Items]:
    requests, limits = _items(c.resources.requests), _items(c.resources.limits)
    if status is None or status.resources is None:
        return requests, limits
    ran_requests, ran_limits = _items(status.resources.requests), _items(status.resources.limits)
    allotted = _items(status.allocatedResources)
    if ran_requests == requests and ran_limits == limits and (not allotted or allotted == requests):
        return requests, limits  # (how the kubelet reports a container not being resized)
    if infeasible():
        return _larger(ran_requests, allotted), ran_limits
    return _larger(requests, ran_requests, allotted), _larger(limits, ran_limits)


def is_sidecar(container: Container) -> bool:
    return container.restartPolicy == "Always"


def statuses_of(pod: Pod) -> dict[str, ContainerStatus]:
    """The pod's container statuses (init containers' too) by container name."""
    status = pod.status
    statuses = {s.name: s for s in status.containerStatuses}
    if status.initContainerStatuses:
        statuses.update({s.name: s for s in status.initContainerStatuses})
    return statuses


def pod_shape(pod: Pod, statuses: Mapping[str, ContainerStatus] | None = None) -> PodShape:
    """`statuses`: statuses_of(pod), when the caller has it already."""
    spec = pod.spec
    if statuses is None:
        statuses = statuses_of(pod)

    def infeasible() -> bool:  # (asked only of a container resized in place)
        return resize_infeasible(pod)

    shapes = []
    for c in spec.initContainers:
        if is_sidecar(c):
            shapes.append(ContainerShape(c.name, "sidecar", *_counted(c, statuses.get(c.name), infeasible)))
        else:  # (an ordinary init container counts its spec: it is not resized)
            shapes.append(ContainerShape(c.name, "init", _items(c.resources.requests), _items(c.resources.limits)))
    for c in spec.containers:
        shapes.append(ContainerShape(c.name, "app", *_counted(c, statuses.get(c.name), infeasible)))
    level = spec.resources
    return PodShape(
        tuple(shapes),
        _items(level.requests) if level is not None else (),
        _items(level.limits) if level is not None else (),
        _items(spec.overhead),
    )


def _parse(pairs: Items, where: str) -> Resources:
    out: Resources = {}
    for name, text in pairs:
        try:
            out[name] = parse_cached(text)
        except ValueError as err:
            raise InvalidResource(f"{where} {name}", text, str(err)) from None
    return out


def _add(into: Resources, other: Resources) -> None:
    for name, q in other.items():
        into[name] = into[name] + q if name in into else q


def _max(into: Resources, other: Resources) -> None:
    for name, q in other.items():
        if name not in into or q.exact > into[name].exact:
            into[name] = q


def _aggregate(shape: PodShape, field: str) -> Resources:
    total: Resources = {}
    sidecars: Resources = {}
    init_peak: Resources = {}
    for c in shape.containers:
        own = _parse(getattr(c, field), f"container {c.name} {field}")
        if c.role == "app":
            _add(total, own)
            continue
        if c.role == "sidecar":
            _add(total, own)
            _add(sidecars, own)
            running = dict(sidecars)
        else:
            running = dict(own)
            _add(running, sidecars)
        _max(init_peak, running)
    _max(total, init_peak)
    return total


def pod_requests(shape: PodShape) -> Resources:
    """Effective requests (what the scheduler reserves on the node)."""
    total = _aggregate(shape, "requests")
    total.update(_parse(shape.requests, "pod requests"))
    _add(total, _parse(shape.overhead, "overhead"))
    return total


def pod_limits(shape: PodShape) -> Resources:
    """Effective limits; a resource absent here means unbounded for some container."""
    total = _aggregate(shape, "limits")
    total.update(_parse(shape.limits, "pod limits"))
    for name, extra in _parse(shape.overhead, "overhead").items():
        if name in total and total[name].exact != 0:
            total[name] = total[name] + extra
    return total
