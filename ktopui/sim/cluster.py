"""The simulated cluster's state and how it evolves with cluster time.

Time: `clock` is real time unless frozen; `advance()` moves it. Everything observable
is a function of (seed, cluster time, history of clock moves), so a frozen clock gives
byte-identical answers.

Metrics: node i is scraped at `phase_i + k * resolution`; its usage and that of its
pods is a pure function of the scrape number k (usage.py), so values change only when
a node's timestamp advances. Pods appear in metrics once scraped twice after starting.

Churn: every CHURN_PERIOD seconds of cluster time (aligned to the epoch) a tick runs
with its own seeded RNG: due lifecycle timers fire (Pending -> Running, Jobs finish and
are replaced) and some pods are replaced or restart. Each change bumps the global
resourceVersion and is kept in a bounded event history for watches.

Encoded JSON is cached per object and resourceVersion (core objects) or per scrape
(metrics); lists are joins of cached items, which is what lets one process serve
150,000 pods.
"""

from __future__ import annotations

import base64
import bisect
import heapq
import itertools
import math
import random
import threading
import time
from collections import deque
from dataclasses import dataclass

import msgspec

from ktopui.sim import hostile
from ktopui.sim import quantities as q
from ktopui.sim import render
from ktopui.sim.selectors import FieldReq, Requirement, fields_match, matches
from ktopui.sim.usage import cpu_nanocores, memory_bytes, unit
from ktopui.sim.world import Node, Pod, PodFactory, Workload, build

CHURN_PERIOD = 5.0
EVENT_HISTORY = 10_000
_PERMS = {n: list(itertools.permutations(range(n))) for n in range(1, 5)}


@dataclass
class SimOptions:
    nodes: int = 3
    pods_per_node: int = 4
    seed: int = 1
    metric_resolution: float = 15.0
    quirky: bool = False
    start_time: float | None = None  # cluster time at start (epoch seconds); None = now
    churn_per_minute: float | None = None  # pod replacements per minute; None = 0.4 % of pods, at least 1
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

    @property
    def labels(self) -> dict[str, str]:
        return {"kubernetes.io/metadata.name": self.name}

    def item(self) -> bytes:
        return render.namespace_item(self.name, self.created, self.rv)


@dataclass(slots=True)
class Event:
    rv: int
    resource: str  # nodes | pods
    type: str  # ADDED | MODIFIED | DELETED
    line: bytes  # the encoded watch event, newline terminated
    namespace: str
    labels: dict[str, str]
    fields: dict[str, str]


def pod_fields(pod: Pod) -> dict[str, str]:
    return {
        "metadata.name": pod.name,
        "metadata.namespace": pod.namespace,
        "spec.nodeName": pod.node.name if pod.node else "",
        "spec.restartPolicy": "Never" if pod.workload.template.kind == "Job" else "Always",
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


class SimCluster:
    """Thread-safe cluster state; all public methods may be called from any thread."""

    def __init__(self, options: SimOptions | None = None) -> None:
        self.options = opts = options or SimOptions()
        self.clock = Clock(opts.start_time, opts.frozen)
        start = self.clock.now()
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self.resolution = float(opts.metric_resolution)
        self._fmt = render.Formats(opts.quirky)
        self._seed = opts.seed
        rng = random.Random(opts.seed)
        world = build(opts.nodes, opts.pods_per_node, rng, start, self.resolution, opts.quirky)
        if opts.hostile_text:
            hostile.add_to(world, rng, start)
        self._factory = PodFactory(random.Random(opts.seed ^ 0x5EED))
        self._factory.names = {(p.namespace, p.name) for p in world.pods}
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
        for pod in world.pods:
            pod.rv = self._next_rv()
            if pod.phase != "Pending" and pod.node is not None:
                self._assign_ip(pod)
            self._index(pod)
            self._schedule_initial(pod, start, rng)
        self._events: deque[Event] = deque(maxlen=EVENT_HISTORY)
        self._compacted = self._rv  # events at or below this rv are no longer retained
        self.overrides: render.Overrides = {}
        self._override_gen = 0
        self._metrics_hold: float | None = None  # metrics stop advancing at this cluster time
        total = max(1, len(world.pods))
        self._churn = (opts.churn_per_minute if opts.churn_per_minute is not None
                       else max(1.0, total * 0.004)) * CHURN_PERIOD / 60
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
        if pod.workload.template.kind != "Job":
            return
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

    def _touch_node(self, node: Node) -> None:
        node.rv = self._next_rv()
        node.json = None
        line = b'{"type":"MODIFIED","object":%s}\n' % render.with_kind(self._node_item(node), "Node")
        self._record(Event(node.rv, "nodes", "MODIFIED", line, "", node.labels, node_fields(node)))

    def _record(self, event: Event) -> None:
        if len(self._events) == self._events.maxlen:
            self._compacted = self._events[0].rv
        self._events.append(event)

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
            pod = self._pick_running(rng, ("Deployment", "StatefulSet", "DaemonSet"))
            if pod is not None:
                self._replace(pod, t, rng)
        restarts = math.floor((j + 1) * self._churn / 4) - math.floor(j * self._churn / 4)
        for _ in range(restarts):
            pod = self._pick_running(rng, ("Deployment", "StatefulSet", "DaemonSet", "Job"))
            if pod is not None:
                i = rng.randrange(len(pod.restarts))
                pod.restarts[i] += 1
                pod.last_reason[i] = "OOMKilled" if rng.random() < 0.3 else "Error"
                self._touch(pod)

    def _pick_running(self, rng: random.Random, kinds: tuple[str, ...]) -> Pod | None:
        for _ in range(8 if self._pod_list else 0):
            pod = self._pod_list[rng.randrange(len(self._pod_list))]
            if (pod.phase == "Running" and pod.node is not None and pod.node.ready
                    and pod.workload.template.kind in kinds):
                return pod
        return None

    def _new_node(self, rng: random.Random) -> Node | None:
        return rng.choice(self._schedulable) if self._schedulable else None

    def _create(self, wl: Workload, node: Node, t: float, rng: random.Random, name: str | None = None) -> None:
        pod = self._factory.pod(wl, node, t, phase="Pending", name=name)
        pod.restarts = [0] * len(pod.restarts)
        pod.last_reason = [None] * len(pod.last_reason)
        self._index(pod)
        self._touch(pod, "ADDED")
        self._timer(t + rng.uniform(3, 12), "start", pod)

    def _delete(self, pod: Pod, t: float) -> None:
        self._unindex(pod)
        self._touch(pod, "DELETED")
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
        if pod.workload.template.kind == "Job":
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

    def node_list(self, labels: list[Requirement], fields: list[FieldReq], limit: int = 0,
                  cont: str | None = None) -> bytes:
        with self.lock:
            self.sync()
            return self._page("NodeList", self._nodes, self._node_names, lambda n: n.name, labels, fields,
                              node_fields, self._node_item, limit, cont)

    def node(self, name: str) -> bytes | None:
        with self.lock:
            self.sync()
            node = self._node_by_name.get(name)
            return None if node is None else render.with_kind(self._node_item(node), "Node")

    def pod_list(self, namespace: str | None, labels: list[Requirement], fields: list[FieldReq],
                 limit: int = 0, cont: str | None = None) -> bytes:
        with self.lock:
            self.sync()
            pods = self._sorted_pods()
            keys = self._sorted_keys
            if namespace is not None:
                lo = bisect.bisect_left(keys, (namespace, ""))
                hi = bisect.bisect_left(keys, (namespace + "\x00", ""))
                pods, keys = pods[lo:hi], keys[lo:hi]
            return self._page("PodList", pods, keys, lambda p: f"{p.namespace}/{p.name}", labels, fields,
                              pod_fields, self._pod_item, limit, cont)

    def pod(self, namespace: str, name: str) -> bytes | None:
        with self.lock:
            self.sync()
            pod = self._pods.get((namespace, name))
            return None if pod is None else render.with_kind(self._pod_item(pod), "Pod")

    def namespace_list(self, labels: list[Requirement], fields: list[FieldReq], limit: int = 0,
                       cont: str | None = None) -> bytes:
        with self.lock:
            return self._page("NamespaceList", self._namespaces, self._namespace_names, lambda n: n.name, labels,
                              fields, lambda n: {"metadata.name": n.name, "status.phase": "Active"},
                              Namespace.item, limit, cont)

    def namespace(self, name: str) -> bytes | None:
        with self.lock:
            i = bisect.bisect_left(self._namespace_names, name)
            if i == len(self._namespaces) or self._namespace_names[i] != name:
                return None
            return render.with_kind(self._namespaces[i].item(), "Namespace")

    def _page(self, kind, objs, keys, key_text, labels, fields, field_fn, item_fn, limit, cont) -> bytes:
        """A list document with the apiserver's limit/continue semantics."""
        rv = self._rv
        start = 0
        if cont:
            token_rv, last = _parse_token(cont)
            if token_rv < self._compacted:
                raise Expired(
                    "The provided continue parameter is too old to display a consistent list result. You can "
                    "start a new list without the continue parameter, or use the continue token in this response "
                    "to retrieve the remainder of the results. Continuing with the provided token results in an "
                    "inconsistent list - objects that were created, modified, or deleted between the time the "
                    "first chunk was returned and now may show up in the list.", _token(rv, last))
            rv = token_rv
            probe = tuple(last.split("/", 1)) if kind == "PodList" else last
            start = bisect.bisect_right(keys, probe)
        items: list[bytes] = []
        meta: dict = {"resourceVersion": str(rv)}
        filtered = bool(labels or fields)
        for i in range(start, len(objs)):
            obj = objs[i]
            if filtered and not (matches(labels, obj.labels) and fields_match(fields, field_fn(obj))):
                continue
            if limit and len(items) == limit:
                meta["continue"] = _token(rv, key_text(objs[i - 1]))
                if not filtered:
                    meta["remainingItemCount"] = len(objs) - i
                break
            items.append(item_fn(obj))
        return render.list_doc(kind, "v1", meta, items)

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
            cpu = cpu_nanocores(node.sys_cpu, node.salt, k)
            mem = memory_bytes(node.sys_mem, node.salt, k)
            for pod in itertools.chain(node.pods.values(), node.gone):  # the pods alive at the scrape
                if pod.started is not None and pod.started <= scrape and (
                        pod.finished is None or scrape < pod.finished) and (
                        pod.deleted is None or scrape < pod.deleted):
                    for c, m in self._pod_usage(pod, k):
                        cpu += c
                        mem += m
            cpu, mem = min(cpu, node.cpu_cap * 1_000_000), min(mem, node.mem_cap)  # a machine's physical limits
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
                if resource == "nodes":
                    initial = [Event(n.rv, "nodes", "ADDED", b'{"type":"ADDED","object":%s}\n' % render.with_kind(
                        self._node_item(n), "Node"), "", n.labels, node_fields(n)) for n in self._nodes]
                else:
                    initial = [Event(p.rv, "pods", "ADDED", b'{"type":"ADDED","object":%s}\n' % render.with_kind(
                        self._pod_item(p), "Pod"), p.namespace, p.labels, pod_fields(p)) for p in self._sorted_pods()]
                return initial, self._rv
            if since < self._compacted:
                raise Expired(f"too old resource version: {since} ({self._compacted})")
            return self.events_after(resource, since)

    def events_after(self, resource: str, rv: int) -> tuple[list[Event], int]:
        """Events of `resource` after `rv`, and the resourceVersion they bring the reader to."""
        with self.lock:
            if not self._events or self._events[-1].rv <= rv:
                return [], max(rv, self._rv)
            return [e for e in self._events if e.rv > rv and e.resource == resource], self._rv

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

