"""The rarer owners and resource shapes every simulated cluster has, in the namespace
"shop": a Deployment in the middle of a rollout (two ReplicaSets with pods), an Argo
Rollout, a ReplicationController whose container is over its memory limit (OOMKilled
again and again), a bare pod, a Job of its own whose container failed once, a
StatefulSet with pod-level resources (KEP 2837: a pod-level request of 1 CPU and an
exporter requesting 20m beside a container that requests nothing), and pods resized in
place (one resize in progress, one Infeasible).

They take the places (node, order, and so pod IP) of the last Deployment and
StatefulSet pods placed in tenant namespaces, so the catalogue and a seed's other pods
stay as they were; a cluster with too few tenant pods for all of them gets the first
ones (a dozen nodes of nine pods has them all).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

from ktopui.sim.world import (
    C,
    Gi,
    Mi,
    Pod,
    PodFactory,
    PodResources,
    Resize,
    Template,
    World,
    Workload,
    derived_unit,
    rand_name,
    restart_history,
)

NAMESPACE = "shop"

STOREFRONT = Template("storefront", "Deployment",
                      (C("storefront", "ghcr.io/acme/storefront:7.2.0", 250, 256 * Mi, 1000, 512 * Mi),),
                      labels=(("app", "storefront"),), namespace=NAMESPACE)
CART = Template("cart", "Rollout", (C("cart", "ghcr.io/acme/cart:3.8.1", 200, 256 * Mi, 500, 512 * Mi),),
                labels=(("app.kubernetes.io/name", "cart"),), namespace=NAMESPACE)
LEGACY_CACHE = Template("legacy-cache", "ReplicationController",
                        (C("memcached", "docker.io/library/memcached:1.6.38", 100, 128 * Mi, 500, 128 * Mi),),
                        labels=(("app", "legacy-cache"),), namespace=NAMESPACE)
DEBUG_SHELL = Template("debug-shell", "Pod", (C("debug-shell", "docker.io/library/busybox:1.37"),),
                       labels=(("run", "debug-shell"),), namespace=NAMESPACE)
BACKFILL = Template("db-backfill", "Job",
                    (C("backfill", "ghcr.io/acme/storefront:7.2.0", 500, 512 * Mi, None, 1 * Gi),),
                    namespace=NAMESPACE)
VECTOR_DB = Template("vector-db", "StatefulSet",
                     (C("qdrant", "docker.io/qdrant/qdrant:v1.14.1"),
                      C("exporter", "quay.io/prometheus/statsd-exporter:v0.28.0", 20, 32 * Mi)),
                     labels=(("app", "vector-db"),), namespace=NAMESPACE,
                     pod_resources=PodResources(1000, 2 * Gi, 2000, 4 * Gi))


@dataclass(frozen=True, slots=True)
class _Made:
    """A zoo pod to make: of which workload, how long ago, and what sets it apart."""
    workload: Workload
    age: float  # seconds before the cluster's start
    shape: Callable[[Pod, float], None] | None = None
    revision: str | None = None  # the hash of the workload's next revision, which this pod is of


def _usage(cpu_cores: tuple[float, ...], memory: tuple[int, ...]) -> Callable[[Pod, float], None]:
    def shape(pod: Pod, start: float) -> None:
        pod.cpu_base = tuple(c * 1e9 for c in cpu_cores)
        pod.mem_base = tuple(float(m) for m in memory)
        pod.over_limit = False
    return shape


def _resized(reason: str, cpu: int, mem: int) -> Callable[[Pod, float], None]:
    """The first container asked (in the pod's spec) for `cpu` millicores and `mem` bytes,
    and still runs with its template's; it uses what it runs with."""
    def shape(pod: Pod, start: float) -> None:
        actual = pod.workload.template.containers[0]
        message = ""
        if reason == "Infeasible":  # the kubelet's words
            message = (f"Node didn't have enough capacity: cpu, requested: {cpu}, "
                       f"capacity: {pod.node.cpu_alloc if pod.node else 0}")
        pod.resize = Resize(replace(actual, cpu_req=cpu, mem_req=mem), actual, reason, message, start - 40)
        pod.cpu_base = (actual.cpu_req * 1e6 * 0.8,)
        pod.mem_base = (actual.mem_req * 0.9,)
        pod.over_limit = False
    return shape


def _failed(restarts: int, reason: str, over_limit: bool) -> Callable[[Pod, float], None]:
    """Its container ended `restarts` times, last with `reason`; `over_limit`: its memory use
    is over its limit (so it will be OOMKilled again)."""
    def shape(pod: Pod, start: float) -> None:
        spec = pod.workload.template.containers[0]
        pod.restarts = [restarts]
        pod.last_reason = [reason]
        pod.mem_base = (spec.mem_lim * 1.1 if over_limit and spec.mem_lim else spec.mem_req * 0.7,)
        pod.over_limit = over_limit
        pod.cpu_base = (spec.cpu_req * 1e6 * 0.5,)
        restart_history(pod, start)
    return shape


def _plan(factory: PodFactory, rng: random.Random) -> list[_Made]:
    """What the zoo makes, most wanted first."""
    storefront, cart, cache, shell, backfill, vector = (factory.workload(t) for t in (
        STOREFRONT, CART, LEGACY_CACHE, DEBUG_SHELL, BACKFILL, VECTOR_DB))
    return [
        _Made(vector, 9 * 86400, _usage((1.43, 0.008), (1536 * Mi, 20 * Mi))),
        _Made(vector, 9 * 86400 - 40, _usage((0.92, 0.006), (1280 * Mi, 19 * Mi))),
        _Made(storefront, 6 * 86400, _resized("InProgress", 500, 384 * Mi)),
        _Made(storefront, 6 * 86400 - 30),
        # Its rollout began three minutes ago: one pod of the new revision so far.
        _Made(storefront, 150, revision=rand_name(rng, 10)),
        _Made(cart, 2 * 86400),
        _Made(cart, 2 * 86400 - 20, _resized("Infeasible", 48000, 256 * Mi)),
        _Made(cache, 40 * 86400, _failed(7, "OOMKilled", over_limit=True)),
        _Made(shell, 3 * 3600),
        _Made(backfill, 5 * 3600, _failed(1, "Error", over_limit=False)),
    ]


def _places(world: World) -> Iterator[int]:
    """Indexes in world.pods the zoo may take, last placed first: running Deployment and StatefulSet
    pods of tenants."""
    for i in range(len(world.pods) - 1, -1, -1):
        pod = world.pods[i]
        if pod.workload.template.kind in ("Deployment", "StatefulSet") and pod.phase == "Running" and pod.node \
                and pod.namespace != pod.workload.template.namespace:
            yield i


def add_to(world: World, rng: random.Random, start: float) -> None:
    """Put the zoo's pods (drawn from `rng`, not the world's stream) in the places of the last
    placed pods that may give theirs (see the module doc), and add its namespace."""
    factory = PodFactory(rng)
    plan = _plan(factory, rng)
    places = _places(world)
    made = 0
    for item, index in zip(plan, places):
        old = world.pods[index]
        node = old.node
        wl = item.workload
        if item.revision is not None:
            wl.hash = item.revision
        created = start - item.age
        pod = factory.pod(wl, node, created, started=created + 4 + 8 * derived_unit(wl.uid, made))
        pod.restarts = [0] * len(pod.restarts)
        pod.last_reason = [None] * len(pod.restarts)
        if item.shape is not None:
            item.shape(pod, start)
        del node.pods[old.uid]
        node.pods[pod.uid] = pod
        world.pods[index] = pod
        made += 1
    if made:
        born = min(p.created for p in world.pods if p.namespace == NAMESPACE) - 86400
        world.namespaces = dict(sorted({**world.namespaces, NAMESPACE: born}.items()))
