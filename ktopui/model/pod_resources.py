"""A pod's effective requests and limits, by Kubernetes' own rule.

Mirrors k8s.io/component-helpers resource.PodRequests / PodLimits
(AggregateContainerRequests): app containers and restartable (sidecar) init
containers run side by side and add up; an ordinary init container runs alone
next to the sidecars started before it, so the pod needs at least that much
while it runs; pod overhead comes on top.
"""

from __future__ import annotations

from ktopui.kube.objects import Container, Pod, ResourceList
from ktopui.model.quantity import Quantity, parse_cached

Resources = dict[str, Quantity]

WATCHED = ("cpu", "memory")


class InvalidResource(ValueError):
    """A request or limit quantity in the pod spec does not parse."""

    def __init__(self, where: str, text: str, reason: str) -> None:
        super().__init__(f"{where}: invalid quantity {text!r}: {reason}")
        self.where = where


def _parse(resources: ResourceList, where: str) -> Resources:
    out: Resources = {}
    for name in WATCHED:
        text = resources.get(name)
        if text is None:
            continue
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


def is_sidecar(container: Container) -> bool:
    return container.restartPolicy == "Always"


def _aggregate(pod: Pod, field: str) -> Resources:
    def of(c: Container) -> Resources:
        return _parse(getattr(c.resources, field), f"container {c.name} {field}")

    total: Resources = {}
    for c in pod.spec.containers:
        _add(total, of(c))
    sidecars: Resources = {}
    init_peak: Resources = {}
    for c in pod.spec.initContainers:
        own = of(c)
        if is_sidecar(c):
            _add(total, own)
            _add(sidecars, own)
            running = dict(sidecars)
        else:
            running = dict(own)
            _add(running, sidecars)
        _max(init_peak, running)
    _max(total, init_peak)
    _add(total, _parse(pod.spec.overhead, "overhead"))
    return total


def pod_requests(pod: Pod) -> Resources:
    """Effective requests (what the scheduler reserves on the node)."""
    return _aggregate(pod, "requests")


def pod_limits(pod: Pod) -> Resources:
    """Effective limits; a resource absent here means unbounded for some container."""
    return _aggregate(pod, "limits")

