"""The simulated cluster's state and how it evolves with cluster time.

Time: `clock` is real time unless frozen; `advance()` moves it. Everything observable
is a function of (seed, cluster time, history of clock moves), so a frozen clock gives
byte-identical answers.

Metrics: node i is scraped at `phase_i + k * resolution`; its usage and that of its
pods is a pure function of the scrape number k (usage.py), so values change only when
a node's timestamp advances. Pods appear in metrics once scraped twice after starting.

Churn: every CHURN_PERIOD seconds of cluster time (aligned to the epoch) a tick runs
with its own seeded RNG: due lifecycle timers fire (Pending -> Running, Jobs finish and
are replaced) and some pods are replaced or restart. Then, with a second RNG of its own
(so the first draws what it always drew), now and then a Deployment or Rollout rolls
out (a new ReplicaSet; its pods replaced batch by batch; the old ReplicaSets scaled to
0 and kept) and containers over their memory limit are OOMKilled. The objects that own
the pods (controllers.py) follow: a status that changed is an update. Each change bumps
the global resourceVersion and is kept in a bounded event history per resource, as the
API server's watch cache keeps one per resource type.

Encoded JSON is cached per object and resourceVersion (core objects) or per scrape
(metrics); lists are joins of cached items, which is what lets one process serve
150,000 pods.
"""

from __future__ import annotations

import base64
import bisect
import contextlib
import gc
import heapq
import itertools
import math
import random
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

import msgspec

from ktopui.sim import hostile, render, render_controllers, zoo
from ktopui.sim import quantities as q
from ktopui.sim.controllers import RESOURCES, ApiObject, Inventory, Revisioned
from ktopui.sim.selectors import FieldReq, Requirement, fields_match, matches
from ktopui.sim.usage import cpu_nanocores, memory_bytes, unit
from ktopui.sim.world import Node, Pod, PodFactory, Workload, build, rand_name

CHURN_PERIOD = 5.0
# What the churn replaces (pods with a controller that makes a new one) and restarts.
_REPLACED = ("Deployment", "StatefulSet", "DaemonSet", "Rollout", "ReplicationController")
_RESTARTED = (*_REPLACED, "Job", "Pod")
EVENT_HISTORY = 10_000  # per resource
OOM_INTERVAL = 1200.0  # seconds: how often, on average, a container over its memory limit is OOMKilled
ROLLOUTS_PER_REPLACEMENT = 1 / 60  # rollouts started per churn replacement (at least one per 10 minutes)
_PERMS = {n: list(itertools.permutations(range(n))) for n in range(1, 5)}


@dataclass
class SimOptions:
    nodes: int = 3
    pods_per_node: int = 4
    seed: int = 1
    metric_resolution: float = 15.0
    quirky: bool = False
    start_time: float | None = None  # cluster time at start (epoch seconds); None = now
    churn_per_minute: float | None = None  # pod replacements per minute; None = 0.4 % of pods, at least 1;
    # 0 also stops rollouts and OOM kills: nothing changes but usage
    frozen: bool = False  # start with the clock stopped at start_time
    hostile_text: bool = False  # names, reasons and texts with escape sequences and markup (hostile.py)


class Clock:
    """Cluster time: real time from `start`, unless frozen; `advance` moves it either way."""

    def __init__(self, start: float | None, frozen: bool = False) -> None:
        self._base = time.time() if start is None else float(start)
        self._mono = time.monotonic()
        self._frozen = frozen
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            if self._frozen:
                return self._base
            return self._base + (time.monotonic() - self._mono)

    __call__ = now

    @property
    def frozen(self) -> bool:
        return self._frozen

    def freeze(self, at: float | None = None) -> None:
        now = self.now()
        value = now if at is None else float(at)
        if value < now:
            raise ValueError("cluster time only moves forward")
        with self._lock:
            self._base, self._frozen = value, True

    def resume(self) -> None:
        with self._lock:
            self._mono, self._frozen = time.monotonic(), False

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("cluster time only moves forward")
        with self._lock:
            self._base += seconds


class Expired(Exception):
    """A continue token or watch resourceVersion older than the retained history (HTTP 410)."""

    def __init__(self, message: str, continue_token: str | None = None) -> None:
        super().__init__(message)
        self.continue_token = continue_token


class BadContinue(ValueError):
    pass


@dataclass(slots=True)
class Namespace:
    name: str
    created: float
    rv: int
    meta: tuple[int, bytes] | None = None  # (rv, its PartialObjectMetadata item)

    @property
    def labels(self) -> dict[str, str]:
        return {"kubernetes.io/metadata.name": self.name}

    def item(self) -> bytes:
        return render.namespace_item(self.name, self.created, self.rv)


@dataclass(slots=True)
class Event:
    rv: int
    resource: str  # nodes | pods | deployments | replicasets | ... (see controllers.RESOURCES)
    type: str  # ADDED | MODIFIED | DELETED
    line: bytes  # the encoded watch event, newline terminated
    namespace: str
    labels: dict[str, str]
    fields: dict[str, str]
    partial: bytes | None = None  # the line as a metadata-only watch sends it, once asked for

    def partial_line(self, api_version: str) -> bytes:
        if api_version != "meta.k8s.io/v1":
            return render.partial_event(self.line, api_version)
        if self.partial is None:
            self.partial = render.partial_event(self.line, api_version)
        return self.partial


def pod_fields(pod: Pod) -> dict[str, str]:
    return {
        "metadata.name": pod.name,
        "metadata.namespace": pod.namespace,
        "spec.nodeName": pod.node.name if pod.node else "",
        "spec.restartPolicy": pod.workload.template.restart_policy,
        "spec.schedulerName": "default-scheduler",
        "spec.serviceAccountName": "default",
        "spec.hostNetwork": "false",
        "status.phase": pod.phase,
        "status.podIP": pod.ip or "",
        "status.podIPs": pod.ip or "",
        "status.nominatedNodeName": "",
    }


def node_fields(node: Node) -> dict[str, str]:
    return {"metadata.name": node.name, "spec.unschedulable": "true" if node.unschedulable else "false"}


def namespace_fields(namespace: Namespace) -> dict[str, str]:
    return {"metadata.name": namespace.name, "status.phase": "Active"}


def _token(rv: int, start: str) -> str:
    raw = msgspec.json.encode({"v": "meta.k8s.io/v1", "rv": rv, "start": start + "\x00"})
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _parse_token(token: str) -> tuple[int, str]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        doc = msgspec.json.decode(raw)
        return int(doc["rv"]), str(doc["start"]).rstrip("\x00")
    except (ValueError, KeyError, TypeError, msgspec.DecodeError) as exc:
        raise BadContinue(f"continue key is not valid: {exc}") from None


@contextlib.contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while the cluster is built: the collector would scan the
    objects being made (every one of them lives as long as the cluster) again and again, for
    nothing, and at 150,000 pods that would be a good part of the start-up time."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


class SimCluster:
    """Thread-safe cluster state; all public methods may be called from any thread."""

    def __init__(self, options: SimOptions | None = None) -> None:
        self.options = opts = options or SimOptions()
        self.clock = Clock(opts.start_time, opts.frozen)
        start = self.clock.now()
        # cAdvisor's counters add every collection exactly from here (before: estimated): the
        # cluster's creation, moved back before any is served when its past is generated (past.py)
        self.counters_from = start
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.resolution = float(opts.metric_resolution)
        self._fmt = render.Formats(opts.quirky)
        self._seed = opts.seed
        with _gc_paused():  # hundreds of thousands of long-lived objects: see _gc_paused
            rng = random.Random(opts.seed)
            world = build(opts.nodes, opts.pods_per_node, rng, start, self.resolution, opts.quirky)
            zoo.add_to(world, random.Random(opts.seed ^ 0x200), start)
            if opts.hostile_text:
                hostile.add_to(world, rng, start)
            self._factory = PodFactory(random.Random(opts.seed ^ 0x5EED))
            self._factory.names = {(p.namespace, p.name) for p in world.pods}
            self._rollout_factory = PodFactory(random.Random(opts.seed ^ 0xB011))  # pods of new revisions
            self._rollout_factory.names = self._factory.names
            self._heartbeat = start - 30
            self._rv = 1000
            self._by_idx = world.nodes
            self._nodes = sorted(world.nodes, key=lambda n: n.name)
            self._node_names = [n.name for n in self._nodes]
            self._node_by_name = {n.name: n for n in self._nodes}
            for node in self._nodes:
                node.rv = self._next_rv()
            self._schedulable = [n for n in world.nodes if n.ready and not n.unschedulable and not n.cp_taint]
            self._namespaces = [Namespace(name, created, self._next_rv()) for name, created in world.namespaces.items()]
            self._namespace_names = [n.name for n in self._namespaces]
            self._pods: dict[tuple[str, str], Pod] = {}
            self._by_uid: dict[str, Pod] = {}
            self._pod_list: list[Pod] = []
            self._sorted: list[Pod] | None = None
            self._sorted_keys: list[tuple[str, str]] = []
            self._candidates: tuple[list[Pod], list[tuple[str, str]]] | None = None
            self._timers: list[tuple[float, int, str, str]] = []
            self._nodes_with_gone: list[Node] = []
            self._timer_seq = itertools.count()
            self._over_limit: dict[str, Pod] = {}  # pods with a container using more memory than its limit
            for pod in world.pods:
                pod.rv = self._next_rv()
                if pod.phase != "Pending" and pod.node is not None:
                    self._assign_ip(pod)
                self._index(pod)
                self._schedule_initial(pod, start, rng)
            self._inventory = Inventory(world.pods, world.namespaces)
            for obj in self._inventory.objects():
                obj.rv = self._next_rv()
            # Rollouts found in progress go on only in a cluster that changes (see SimOptions.churn_per_minute).
            self._rolling = [r for r in self._inventory.rolling
                             if r.rolling_since is not None and opts.churn_per_minute != 0]
            self._rollout_requests: list[Revisioned] = []
            self._events: dict[str, deque[Event]] = {}
            self._compacted: dict[str, int] = {}  # per resource: events at or below this rv are no longer retained
            self._born = self._rv  # nothing older is retained for any resource
        self.overrides: render.Overrides = {}
        self._override_gen = 0
        self._metrics_hold: float | None = None  # metrics stop advancing at this cluster time
        total = max(1, len(world.pods))
        self._churn = (opts.churn_per_minute if opts.churn_per_minute is not None
                       else max(1.0, total * 0.004)) * CHURN_PERIOD / 60
        self._rollouts = max(self._churn * ROLLOUTS_PER_REPLACEMENT, CHURN_PERIOD / 600) if self._churn else 0.0
        self._tick = math.floor(start / CHURN_PERIOD)

    # ---- time ----------------------------------------------------------------------

    def now(self) -> float:
        return self.clock.now()

    def freeze(self, at: float | None = None) -> None:
        """Stop cluster time (at `at`, or now) so repeated reads see one state."""
        self.clock.freeze(at)
        self.sync()

    def resume(self) -> None:
        self.clock.resume()

    def advance(self, seconds: float) -> None:
        """Move cluster time forward, applying the churn and usage changes it implies."""
        self.clock.advance(seconds)
        self.sync()

    def sync(self) -> None:
        """Apply churn ticks due by now; wake watchers when something changed."""
        with self.lock:
            target = math.floor(self.clock.now() / CHURN_PERIOD)
            if target <= self._tick:
                return
            before = self._rv
            for j in range(self._tick + 1, target + 1):
                self._apply_tick(j)
            self._tick = target
            if self._rv != before:
                self.changed.notify_all()

    @property
    def resource_version(self) -> int:
        with self.lock:
            return self._rv

    def bump_resource_version(self) -> int:
        """A new resourceVersion for an object kept outside the cluster's stores (services.py)."""
        with self.lock:
            return self._next_rv()

    # ---- read helpers for tests and tools --------------------------------------------

    @property
    def nodes(self) -> list[Node]:
        with self.lock:
            return list(self._nodes)

    @property
    def pods(self) -> list[Pod]:
        with self.lock:
            return list(self._sorted_pods())

    # ---- bookkeeping -----------------------------------------------------------------

    def _next_rv(self) -> int:
        self._rv += 1
        return self._rv

    def _index(self, pod: Pod) -> None:
        self._pods[pod.key] = pod
        self._by_uid[pod.uid] = pod
        pod.slot = len(self._pod_list)
        self._pod_list.append(pod)
        if self._sorted is not None:  # keep the order incrementally once built (churn is small)
            i = bisect.bisect_left(self._sorted_keys, pod.key)
            self._sorted_keys.insert(i, pod.key)
            self._sorted.insert(i, pod)
        self._candidates = None
        if pod.node is not None:
            pod.node.pods[pod.uid] = pod
        if pod.over_limit:
            self._over_limit[pod.uid] = pod

    def _unindex(self, pod: Pod) -> None:
        del self._pods[pod.key]
        del self._by_uid[pod.uid]
        last = self._pod_list.pop()
        if last is not pod:
            self._pod_list[pod.slot] = last
            last.slot = pod.slot
        if self._sorted is not None:
            i = bisect.bisect_left(self._sorted_keys, pod.key)
            del self._sorted_keys[i], self._sorted[i]
        self._candidates = None
        self._factory.names.discard(pod.key)
        self._over_limit.pop(pod.uid, None)
        if pod.node is not None:
            pod.node.pods.pop(pod.uid, None)

    def _sorted_pods(self) -> list[Pod]:
        if self._sorted is None:
            self._sorted = sorted(self._pod_list, key=lambda p: (p.namespace, p.name))
            self._sorted_keys = [p.key for p in self._sorted]
            self._candidates = None
        return self._sorted

    def _metric_candidates(self) -> tuple[list[Pod], list[tuple[str, str]]]:
        """Sorted pods that may have metrics (running on a ready node), and their keys."""
        pods = self._sorted_pods()
        if self._candidates is None:
            chosen = [p for p in pods if p.phase == "Running" and p.node is not None and p.node.ready]
            self._candidates = (chosen, [p.key for p in chosen])
        return self._candidates

    def _assign_ip(self, pod: Pod) -> None:
        node = pod.node
        host = node.next_ip
        node.next_ip = 2 if host >= 254 else host + 1
        pod.ip = f"{node.pod_cidr.rsplit('.', 1)[0]}.{host}"

    def _timer(self, due: float, op: str, pod: Pod) -> None:
        heapq.heappush(self._timers, (due, next(self._timer_seq), op, pod.uid))

    def _schedule_initial(self, pod: Pod, start: float, rng: random.Random) -> None:
        if pod.workload.template.kind != "Job" or pod.workload.template.schedule is None:
            return  # only a CronJob's Jobs finish and are cleaned up
        if pod.phase == "Running":
            self._timer(start + rng.uniform(1, 1800), "finish", pod)  # mid-run: spread the finishes
        elif pod.phase == "Succeeded":
            self._timer(start + rng.uniform(60, 3600), "reap", pod)

    def _touch(self, pod: Pod, kind: str = "MODIFIED") -> None:
        pod.rv = self._next_rv()
        pod.json = None
        self._candidates = None
        line = b'{"type":"%s","object":%s}\n' % (kind.encode(), render.with_kind(self._pod_item(pod), "Pod"))
        self._record(Event(pod.rv, "pods", kind, line, pod.namespace, pod.labels, pod_fields(pod)))
        self._inventory.touched(pod)

    def _touch_object(self, obj: ApiObject, kind: str = "MODIFIED") -> None:
        obj.rv = self._next_rv()
        obj.json = None
        line = b'{"type":"%s","object":%s}\n' % (kind.encode(), self._object_doc(obj))
        self._record(Event(obj.rv, obj.resource, kind, line, obj.namespace, obj.labels, obj.fields()))

    def _settle(self) -> None:
        """The owners' and quotas' status updates for the changes so far."""
        for obj in self._inventory.settle():
            self._touch_object(obj)

    def _touch_node(self, node: Node) -> None:
        node.rv = self._next_rv()
        node.json = None
        line = b'{"type":"MODIFIED","object":%s}\n' % render.with_kind(self._node_item(node), "Node")
        self._record(Event(node.rv, "nodes", "MODIFIED", line, "", node.labels, node_fields(node)))

    def _record(self, event: Event) -> None:
        events = self._events.get(event.resource)
        if events is None:
            events = self._events[event.resource] = deque(maxlen=EVENT_HISTORY)
        if len(events) == events.maxlen:
            self._compacted[event.resource] = events[0].rv
        events.append(event)

    # ---- churn -----------------------------------------------------------------------

    def _apply_tick(self, j: int) -> None:
        t = j * CHURN_PERIOD
        rng = random.Random(self._seed * 1_000_003 + j)
        # Changes take effect at the tick's time, never between ticks, so what a scrape at
        # time s saw is the state after every tick <= s: a pure function of the history.
        while self._timers and self._timers[0][0] <= t:
            _, _, op, uid = heapq.heappop(self._timers)
            pod = self._by_uid.get(uid)
            if pod is not None:
                getattr(self, f"_on_{op}")(pod, t, rng)
        for node in self._nodes_with_gone:
            node.gone = [p for p in node.gone if p.deleted > t - 3 * self.resolution]
        self._nodes_with_gone = [n for n in self._nodes_with_gone if n.gone]
        replacements = math.floor((j + 1) * self._churn) - math.floor(j * self._churn)
        for _ in range(replacements):
            pod = self._pick_running(rng, _REPLACED)
            if pod is not None:
                self._replace(pod, t, rng)
        restarts = math.floor((j + 1) * self._churn / 4) - math.floor(j * self._churn / 4)
        for _ in range(restarts):
            pod = self._pick_running(rng, _RESTARTED)
            if pod is not None:
                i = rng.randrange(len(pod.restarts))
                pod.restart(i, "OOMKilled" if rng.random() < 0.3 else "Error", t)
                self._touch(pod)
        self._workload_tick(j, t)
        self._settle()

    def _workload_tick(self, j: int, t: float) -> None:
        """Rollouts and OOM kills, drawn from an RNG of their own (see the module doc)."""
        rng = random.Random(f"{self._seed}/{j}/workloads")
        starts = math.floor((j + 1) * self._rollouts) - math.floor(j * self._rollouts)
        for _ in range(starts):
            parent = self._pick_rollable(rng)
            if parent is not None:
                self._rollout_requests.append(parent)
        for parent in self._rollout_requests:
            if parent.rolling_since is None:
                hash_ = rand_name(rng, len(parent.current.hash))
                self._touch_object(self._inventory.begin_rollout(parent, hash_, t), "ADDED")
                self._rolling.append(parent)
        self._rollout_requests.clear()
        for parent in list(self._rolling):
            self._roll(parent, t, rng)
        if self._churn:
            for pod in list(self._over_limit.values()):
                if pod.phase == "Running" and pod.node.ready and rng.random() < CHURN_PERIOD / OOM_INTERVAL:
                    i = next(i for i, (c, m) in enumerate(zip(pod.running_specs, pod.mem_base))
                             if c.mem_lim is not None and m > c.mem_lim)
                    pod.restart(i, "OOMKilled", t)
                    self._touch(pod)

    def _pick_rollable(self, rng: random.Random) -> Revisioned | None:
        """A Deployment or Rollout whose pods are all ready and that is not rolling out already."""
        candidates = self._inventory.rolling
        for _ in range(8 if candidates else 0):
            parent = candidates[rng.randrange(len(candidates))]
            if parent.rolling_since is None and 0 < parent.ready == parent.replicas:
                return parent
        return None

    def _roll(self, parent: Revisioned, t: float, rng: random.Random) -> None:
        """One step of a rollout: once the last batch has started, replace a quarter of the
        replicas (maxUnavailable 25%, no surge) with pods of the new revision; when none of
        the old are left, the old ReplicaSets are scaled to 0."""
        current = parent.current
        if any(p.phase == "Pending" for p in current.pods.values()):
            return
        old = [p for rs in parent.sets[:-1] for p in rs.pods.values()]
        if not old:
            for gone in self._inventory.end_rollout(parent, t):
                self._touch_object(gone, "DELETED")
            self._rolling.remove(parent)
            return
        for pod in old[: max(1, math.ceil(parent.replicas / 4))]:
            node = self._new_node(rng)
            if node is None:
                return
            self._delete(pod, t)
            self._create(parent.workload, node, t, rng, factory=self._rollout_factory)

    def roll_out(self, namespace: str, name: str) -> None:
        """Start a rollout (as `kubectl rollout restart` does) of the Deployment or Argo Rollout
        `namespace`/`name` at the next churn tick, whatever the churn; it then proceeds tick by tick."""
        with self.lock:
            parent = next((r for r in self._inventory.rolling if r.key == (namespace, name)), None)
            if parent is None:
                raise KeyError(f"no Deployment or Rollout {namespace}/{name}")
            self._rollout_requests.append(parent)

    def _pick_running(self, rng: random.Random, kinds: tuple[str, ...]) -> Pod | None:
        for _ in range(8 if self._pod_list else 0):
            pod = self._pod_list[rng.randrange(len(self._pod_list))]
            if (pod.phase == "Running" and pod.node is not None and pod.node.ready
                    and pod.workload.template.kind in kinds):
                return pod
        return None

    def _new_node(self, rng: random.Random) -> Node | None:
        return rng.choice(self._schedulable) if self._schedulable else None

    def _create(self, wl: Workload, node: Node, t: float, rng: random.Random, name: str | None = None,
                factory: PodFactory | None = None) -> None:
        pod = (factory or self._factory).pod(wl, node, t, phase="Pending", name=name)
        pod.restarts = [0] * len(pod.restarts)
        pod.last_reason = [None] * len(pod.last_reason)
        for made in self._inventory.adopt(pod):  # a controller makes the object before the pod
            self._touch_object(made, "ADDED")
        self._index(pod)
        self._touch(pod, "ADDED")
        self._timer(t + rng.uniform(3, 12), "start", pod)

    def _delete(self, pod: Pod, t: float) -> None:
        self._unindex(pod)
        self._touch(pod, "DELETED")
        for gone in self._inventory.release(pod):
            self._touch_object(gone, "DELETED")
        pod.deleted = t
        if pod.node is not None:  # its usage still counts in scrapes before t
            if not pod.node.gone:
                self._nodes_with_gone.append(pod.node)
            pod.node.gone.append(pod)

    def _replace(self, pod: Pod, t: float, rng: random.Random) -> None:
        kind = pod.workload.template.kind
        node = pod.node if kind == "DaemonSet" else self._new_node(rng)
        if node is None:
            return
        self._delete(pod, t)
        self._create(pod.workload, node, t, rng, name=pod.name if kind == "StatefulSet" else None)

    def _on_start(self, pod: Pod, t: float, rng: random.Random) -> None:
        pod.phase = "Running"
        pod.started = t
        self._assign_ip(pod)
        self._touch(pod)
        if pod.workload.template.kind == "Job" and pod.workload.template.schedule is not None:
            self._timer(t + rng.uniform(120, 1200), "finish", pod)

    def _on_finish(self, pod: Pod, t: float, rng: random.Random) -> None:
        pod.phase = "Succeeded"
        pod.finished = t
        self._touch(pod)
        self._timer(t + rng.uniform(600, 3600), "reap", pod)

    def _on_reap(self, pod: Pod, t: float, rng: random.Random) -> None:
        self._delete(pod, t)
        node = self._new_node(rng)
        if node is not None:
            self._create(pod.workload, node, t, rng)

    # ---- invalid-quantity overrides (the fault) --------------------------------------

    def set_override(self, kind: str, name: str, namespace: str, resource: str, value: str | None) -> None:
        """Serve `value` for one quantity of one object (None restores it).
        kind: node (capacity+allocatable), pod (first container's requests/limits),
        nodemetrics (usage), podmetrics (first container's usage)."""
        with self.lock:
            key = (kind, name, namespace if kind in ("pod", "podmetrics") else "", resource)
            if value is None:
                self.overrides.pop(key, None)
            else:
                self.overrides[key] = value
            self._override_gen += 1
            if kind == "node" and name in self._node_by_name:
                self._touch_node(self._node_by_name[name])
            elif kind == "pod" and (namespace, name) in self._pods:
                self._touch(self._pods[(namespace, name)])
            self.changed.notify_all()

    def clear_overrides(self) -> None:
        with self.lock:
            for kind, name, namespace, resource in list(self.overrides):
                self.set_override(kind, name, namespace, resource, None)

    # ---- core objects --------------------------------------------------------------

    def _node_item(self, node: Node) -> bytes:
        if node.json is None:
            beat = self._heartbeat if node.ready else self._heartbeat - 600
            node.json = render.node_item(node, self._fmt, beat, self.overrides)
        return node.json

    def _pod_item(self, pod: Pod) -> bytes:
        if pod.json is None:
            pod.json = render.pod_item(pod, self._fmt, len(self._nodes), self.overrides)
        return pod.json

    def _object_item(self, obj: ApiObject) -> bytes:
        if obj.json is None:
            obj.json = render_controllers.object_item(obj, self._fmt)
        return obj.json

    def _object_doc(self, obj: ApiObject) -> bytes:
        return render_controllers.object_doc(obj, self._object_item(obj))

    def _source(self, resource: str) -> tuple:
        """How to serve `resource`: (objects in order, their keys, namespaced?, an object's list item,
        the whole object with kind and apiVersion, its field values, the list's kind and apiVersion)."""
        if resource == "nodes":
            return (self._nodes, self._node_names, False, self._node_item,
                    lambda n: render.with_kind(self._node_item(n), "Node"), node_fields, ("NodeList", "v1"))
        if resource == "pods":
            return (self._sorted_pods(), self._sorted_keys, True, self._pod_item,
                    lambda p: render.with_kind(self._pod_item(p), "Pod"), pod_fields, ("PodList", "v1"))
        if resource == "namespaces":
            return (self._namespaces, self._namespace_names, False, Namespace.item,
                    lambda n: render.with_kind(n.item(), "Namespace"), namespace_fields, ("NamespaceList", "v1"))
        store = self._inventory.stores[resource]
        cls = RESOURCES[resource]
        return (store.objects, store.keys, True, self._object_item, self._object_doc, cls.fields,
                (f"{cls.kind}List", cls.api_version))

    def _partial(self, obj, item_fn) -> bytes:
        """An object's metadata (its PartialObjectMetadata's), cached while its resourceVersion holds."""
        cached = obj.meta
        if cached is None or cached[0] != obj.rv:
            cached = obj.meta = (obj.rv, render.partial_meta(item_fn(obj)))
        return cached[1]

    def list_objects(self, resource: str, namespace: str | None, labels: list[Requirement],
                     fields: list[FieldReq], limit: int = 0, cont: str | None = None,
                     partial: str | None = None) -> bytes:
        """A list of `resource` (in `namespace`, or all), as the API server pages it; `partial`
        (meta.k8s.io/v1 or v1beta1): a PartialObjectMetadataList of that version."""
        with self.lock:
            self.sync()
            objs, keys, namespaced, item_fn, _, field_fn, (kind, api_version) = self._source(resource)
            if namespace is not None:
                lo = bisect.bisect_left(keys, (namespace, ""))
                hi = bisect.bisect_left(keys, (namespace + "\x00", ""))
                objs, keys = objs[lo:hi], keys[lo:hi]
            if partial is not None:
                meta, items = self._page(resource, objs, keys, namespaced, labels, fields, field_fn,
                                         lambda o: render.partial_item(self._partial(o, item_fn), partial), limit,
                                         cont)
                return render.list_doc("PartialObjectMetadataList", partial, meta, items)
            meta, items = self._page(resource, objs, keys, namespaced, labels, fields, field_fn, item_fn, limit,
                                     cont)
            if resource in render_controllers.UNSTRUCTURED:
                return render_controllers.unstructured_list(kind, api_version, meta, items)
            return render.list_doc(kind, api_version, meta, items)

    def get_object(self, resource: str, namespace: str, name: str, partial: str | None = None) -> bytes | None:
        """One object with kind and apiVersion (or, `partial`, as PartialObjectMetadata); None if there is none."""
        with self.lock:
            self.sync()
            objs, keys, namespaced, item_fn, doc_fn, _, _ = self._source(resource)
            key = (namespace, name) if namespaced else name
            i = bisect.bisect_left(keys, key)
            if i == len(keys) or keys[i] != key:
                return None
            obj = objs[i]
            return render.partial_item(self._partial(obj, item_fn), partial) if partial else doc_fn(obj)

    def _page(self, resource, objs, keys, namespaced, labels, fields, field_fn, item_fn, limit, cont
              ) -> tuple[dict, list[bytes]]:
        """A list's metadata and items with the apiserver's limit/continue semantics."""
        rv = self._rv
        start = 0
        if cont:
            token_rv, last = _parse_token(cont)
            if token_rv < self._compacted.get(resource, self._born):
                raise Expired(
                    "The provided continue parameter is too old to display a consistent list result. You can "
                    "start a new list without the continue parameter, or use the continue token in this response "
                    "to retrieve the remainder of the results. Continuing with the provided token results in an "
                    "inconsistent list - objects that were created, modified, or deleted between the time the "
                    "first chunk was returned and now may show up in the list.", _token(rv, last))
            rv = token_rv
            probe = tuple(last.split("/", 1)) if namespaced else last
            start = bisect.bisect_right(keys, probe)
        items: list[bytes] = []
        meta: dict = {"resourceVersion": str(rv)}
        filtered = bool(labels or fields)
        for i in range(start, len(objs)):
            obj = objs[i]
            if filtered and not (matches(labels, obj.labels) and fields_match(fields, field_fn(obj))):
                continue
            if limit and len(items) == limit:
                key = keys[i - 1]
                meta["continue"] = _token(rv, f"{key[0]}/{key[1]}" if namespaced else key)
                if not filtered:
                    meta["remainingItemCount"] = len(objs) - i
                break
            items.append(item_fn(obj))
        return meta, items

    # ---- metrics -------------------------------------------------------------------

    def hold_metrics(self, at: float | None) -> None:
        """Serve metrics as scraped at cluster time `at` from now on (metrics-server no longer
        scraping: timestamps stop advancing, creationTimestamp still says now); None resumes."""
        with self.lock:
            self._metrics_hold = at

    def _scrape_time(self, t: float) -> float:
        hold = self._metrics_hold
        return t if hold is None else min(t, hold)

    def _epoch(self, node: Node, t: float) -> int:
        return math.floor((self._scrape_time(t) - node.phase) / self.resolution)

    def _scrape(self, node: Node, k: int) -> float:
        return k * self.resolution + node.phase

    def _window(self, salt: int, k: int) -> str:
        """The span between a node's last two scrapes: the resolution plus a few ms of jitter."""
        return q.go_duration(round(self.resolution + (unit(salt, 7, k) - 0.3) * 0.1, 3))

    def _pod_usage(self, pod: Pod, k: int) -> tuple[tuple[int, int], ...]:
        cached = pod.usage
        if cached is not None and cached[0] == k:
            return cached[1]
        salt = pod.salt * 8
        values = tuple((cpu_nanocores(c, salt + i, k), memory_bytes(m, salt + i, k))
                       for i, (c, m) in enumerate(zip(pod.cpu_base, pod.mem_base)))
        pod.usage = (k, values)
        return values

    def _pod_entry(self, pod: Pod, node: Node, k: int) -> tuple:
        """(k, rv, override generation, head, tail, labels part) of a pod's metrics item at
        scrape k; the item is head + request time + tail, tail None when the pod has no metrics."""
        cached = pod.metrics
        if cached is not None and cached[0] == k and cached[1] == pod.rv and cached[2] == self._override_gen:
            return cached
        if cached is not None:
            head, labels_part = cached[3], cached[5]
        else:
            head, labels_part = render.metrics_head(pod.name, pod.namespace), render.metrics_labels(pod.labels)
        scrape = self._scrape(node, k)
        memo = node.scrape_ts
        if memo is None or memo[0] != k:  # shared by the node's pods: they are scraped together
            memo = node.scrape_ts = (k, q.rfc3339(scrape), self._window(node.salt, k))
        tail = None
        if pod.phase == "Running" and node.ready and pod.started is not None \
                and pod.started <= scrape - self.resolution:
            usage = self._pod_usage(pod, k)
            fmt, v = self._fmt, pod.quirk
            entries = [[s.name, fmt.usage_cpu(cpu, v + i), fmt.usage_memory(mem, v + i)]
                       for i, (s, (cpu, mem)) in enumerate(zip(pod.running_specs, usage))]
            for slot, resource in ((1, "cpu"), (2, "memory")):
                bad = self.overrides.get(("podmetrics", pod.name, pod.namespace, resource))
                if bad is not None:
                    entries[0][slot] = bad
            perms = _PERMS.get(len(entries))
            if perms:  # metrics-server builds containers from a Go map: random order
                order = perms[int(unit(pod.salt, 8, k) * len(perms))]
                entries = [entries[i] for i in order]
            tail = render.metrics_tail(labels_part, memo[1], memo[2], render.containers_doc(entries))
        pod.metrics = (k, pod.rv, self._override_gen, head, tail, labels_part)
        return pod.metrics

    def _node_tail(self, node: Node, k: int) -> bytes | None:
        key = (k, self._override_gen)
        cached = node.metrics
        if cached is not None and cached[0] == key:
            return cached[1]
        tail = None
        if node.ready:
            scrape = self._scrape(node, k)
            cpu, mem = self.node_usage(node, k)
            values = {"cpu": self._fmt.usage_cpu(cpu, node.quirk), "memory": self._fmt.usage_memory(mem, node.quirk)}
            for resource in values:
                bad = self.overrides.get(("nodemetrics", node.name, "", resource))
                if bad is not None:
                    values[resource] = bad
            body = b'"usage":' + render.usage_doc(values["cpu"], values["memory"])
            tail = render.metrics_tail(render.metrics_labels(node.labels), q.rfc3339(scrape),
                                       self._window(node.salt, k), body)
        node.metrics = (key, tail)
        return tail

    def node_usage(self, node: Node, k: int) -> tuple[int, int]:
        """(nanocores, bytes) a node's scrape k measures: its system's and its pods' usage, capped
        at the machine's capacity."""
        with self.lock:
            cpu = cpu_nanocores(node.sys_cpu, node.salt, k)
            mem = memory_bytes(node.sys_mem, node.salt, k)
            for pod in self.pods_at_scrape(node, k):
                for c, m in self._pod_usage(pod, k):
                    cpu += c
                    mem += m
            return min(cpu, node.cpu_cap * 1_000_000), min(mem, node.mem_cap)  # a machine's physical limits

    def pod_usage(self, pod: Pod, k: int) -> tuple[tuple[int, int], ...]:
        """(nanocores, bytes) of each of the pod's running containers at its node's scrape k."""
        with self.lock:
            return self._pod_usage(pod, k)

    def pods_at_scrape(self, node: Node, k: int) -> list[Pod]:
        """The pods running on `node` at its scrape k (recently deleted ones included)."""
        scrape = self._scrape(node, k)
        with self.lock:
            return [pod for pod in itertools.chain(node.pods.values(), node.gone)
                    if pod.started is not None and pod.started <= scrape
                    and (pod.finished is None or scrape < pod.finished)
                    and (pod.deleted is None or scrape < pod.deleted)]

    def node_named(self, name: str) -> Node | None:
        with self.lock:
            return self._node_by_name.get(name)

    def kubelet_scrape(self, node: Node, t: float) -> int:
        """The number of `node`'s last scrape at cluster time `t`, as the kubelet's own stats have it
        (metrics-server's hold does not stop the kubelet)."""
        return math.floor((t - node.phase) / self.resolution)

    def scrape_time(self, node: Node, k: int) -> float:
        return self._scrape(node, k)

    def node_metrics_list(self, labels: list[Requirement], fields: list[FieldReq]) -> bytes:
        """NodeMetricsList sorted by name (fields: metadata.name / metadata.namespace only)."""
        with self.lock:
            self.sync()
            t = self.clock.now()
            ts = q.rfc3339(t).encode()
            items = []
            for node in self._nodes:
                if (labels and not matches(labels, node.labels)) or (
                        fields and not fields_match(fields, {"metadata.name": node.name, "metadata.namespace": ""})):
                    continue
                tail = self._node_tail(node, self._epoch(node, t))
                if tail is not None:
                    items.append(render.metrics_head(node.name, None) + ts + tail)
            return render.list_doc("NodeMetricsList", "metrics.k8s.io/v1beta1", {}, items)

    def node_metrics(self, name: str) -> bytes | None:
        with self.lock:
            self.sync()
            node = self._node_by_name.get(name)
            if node is None:
                return None
            t = self.clock.now()
            tail = self._node_tail(node, self._epoch(node, t))
            if tail is None:
                return None
            item = render.metrics_head(node.name, None) + q.rfc3339(t).encode() + tail
            return render.with_kind(item, "NodeMetrics", "metrics.k8s.io/v1beta1")

    def pod_metrics_list(self, namespace: str | None, labels: list[Requirement], fields: list[FieldReq]) -> bytes:
        """PodMetricsList sorted by (namespace, name), across namespaces when `namespace` is None."""
        with self.lock:
            self.sync()
            t = self.clock.now()
            ts = q.rfc3339(t).encode()
            pods, keys = self._metric_candidates()
            if namespace is not None:
                pods = pods[bisect.bisect_left(keys, (namespace, "")):bisect.bisect_left(keys, (namespace + "\x00", ""))]
            res = self.resolution
            scraped = self._scrape_time(t)
            epochs = [math.floor((scraped - n.phase) / res) for n in self._by_idx]
            gen = self._override_gen
            items = []
            append = items.append
            for pod in pods:
                if (labels and not matches(labels, pod.labels)) or (fields and not fields_match(
                        fields, {"metadata.name": pod.name, "metadata.namespace": pod.namespace})):
                    continue
                node = pod.node
                k = epochs[node.idx]
                entry = pod.metrics
                if entry is None or entry[0] != k or entry[1] != pod.rv or entry[2] != gen:
                    entry = self._pod_entry(pod, node, k)
                if entry[4] is not None:
                    append(entry[3] + ts + entry[4])
            return render.list_doc("PodMetricsList", "metrics.k8s.io/v1beta1", {}, items)

    def pod_metrics(self, namespace: str, name: str) -> bytes | None:
        with self.lock:
            self.sync()
            pod = self._pods.get((namespace, name))
            if pod is None or pod.node is None:
                return None
            t = self.clock.now()
            _, _, _, head, tail, _ = self._pod_entry(pod, pod.node, self._epoch(pod.node, t))
            if tail is None:
                return None
            return render.with_kind(head + q.rfc3339(t).encode() + tail, "PodMetrics", "metrics.k8s.io/v1beta1")

    # ---- watch ---------------------------------------------------------------------

    def watch_start(self, resource: str, since: int | None) -> tuple[list[Event], int]:
        """Events to send first and the resourceVersion to continue after. `since` None
        (or 0) replays the current state as ADDED events; an rv older than the history
        raises Expired, as the watch cache does."""
        with self.lock:
            self.sync()
            if not since:
                objs, _, namespaced, _, doc_fn, field_fn, _ = self._source(resource)
                initial = [Event(o.rv, resource, "ADDED", b'{"type":"ADDED","object":%s}\n' % doc_fn(o),
                                 o.namespace if namespaced else "", o.labels, field_fn(o)) for o in objs]
                return initial, self._rv
            compacted = self._compacted.get(resource, self._born)
            if since < compacted:
                raise Expired(f"too old resource version: {since} ({compacted})")
            return self.events_after(resource, since)

    def events_after(self, resource: str, rv: int) -> tuple[list[Event], int]:
        """Events of `resource` after `rv`, and the resourceVersion they bring the reader to."""
        with self.lock:
            events = self._events.get(resource)
            if not events or events[-1].rv <= rv:
                return [], max(rv, self._rv)
            return [e for e in events if e.rv > rv], self._rv

    def wait_for_change(self, rv: int, timeout: float) -> None:
        """Block until the resourceVersion moves past `rv` or `timeout` passes (syncing meanwhile)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while self._rv <= rv:
                self.sync()
                left = deadline - time.monotonic()
                if left <= 0 or self._rv > rv:
                    return
                self.changed.wait(min(left, 0.25))

