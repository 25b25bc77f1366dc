"""What the simulated cluster contains: nodes, workloads and their pods, and how new
pods are made. Pure data and generation; time and churn live in cluster.py, the
objects that own the pods (ReplicaSets, Jobs, ...) in controllers.py.

The first workloads placed are deliberately varied (sidecars, init containers,
CPU-only limits, Guaranteed, BestEffort, pod overhead, a finished Job, an
unschedulable pod) so even a three-node cluster shows every case a client must handle;
zoo.py adds the rarer owners and resource shapes.

A cluster of more than LARGE_CLUSTER pods is not more of the same small teams: its tenant
namespaces run several products each, with more replicas, so that 150,000 pods are about
15,000 workloads in about 200 namespaces, as in the large clusters ktopui is tuned for.
Below that size the mix (and so what a seed produces) is the same as it always was.
"""

from __future__ import annotations

import functools
import hashlib
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

Mi = 1 << 20
Gi = 1 << 30

REGION = "eu-west-1"
ZONES = ("eu-west-1a", "eu-west-1b", "eu-west-1c")
KUBELET_VERSION = "v1.33.1"
_SAFE = "bcdfghjklmnpqrstvwxz2456789"  # apimachinery rand.String alphabet


@dataclass(frozen=True, slots=True)
class ContainerSpec:
    name: str
    image: str
    cpu_req: int | None = None  # millicores
    mem_req: int | None = None  # bytes
    cpu_lim: int | None = None
    mem_lim: int | None = None
    restartable: bool = False  # an init container with restartPolicy Always (a sidecar)


@dataclass(frozen=True, slots=True)
class PodResources:
    """Pod-level `spec.resources` (KEP 2837): millicores and bytes, None where unset."""
    cpu_req: int | None = None
    mem_req: int | None = None
    cpu_lim: int | None = None
    mem_lim: int | None = None


@dataclass(frozen=True)  # no slots: `running` is cached on the instance
class Template:
    name: str
    # Deployment | StatefulSet | DaemonSet | Job | Static (a mirror pod, owned by its node) |
    # Rollout (Argo Rollouts) | ReplicationController | Pod (a bare pod: no owner)
    kind: str
    containers: tuple[ContainerSpec, ...]
    init: tuple[ContainerSpec, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    replicas: int = 3  # upper bound of replicas in a large cluster
    runtime_class: str | None = None
    overhead: tuple[int, int] | None = None  # (millicores, bytes)
    priority_class: str | None = None
    namespace: str = "default"
    schedule: str | None = None  # a Job's CronJob schedule; None: a Job of its own
    pod_resources: PodResources | None = None

    @property
    def restart_policy(self) -> str:
        return "OnFailure" if self.kind == "Job" else "Always"  # a Job's failed container restarts in place

    @functools.cached_property
    def running(self) -> tuple[ContainerSpec, ...]:
        """Containers that run for the pod's life (sidecars first, as the kubelet starts them)."""
        return tuple(c for c in self.init if c.restartable) + self.containers


def C(name: str, image: str, cpu: int | None = None, mem: int | None = None,
      cpu_lim: int | None = None, mem_lim: int | None = None, sidecar: bool = False) -> ContainerSpec:
    return ContainerSpec(name, image, cpu, mem, cpu_lim, mem_lim, sidecar)


ISTIO = C("istio-proxy", "docker.io/istio/proxyv2:1.26.1", 100, 128 * Mi, 2000, 1 * Gi, sidecar=True)

STATIC = (
    Template("kube-apiserver", "Static", (C("kube-apiserver", "registry.k8s.io/kube-apiserver:v1.33.1", 250),),
             labels=(("component", "kube-apiserver"), ("tier", "control-plane")),
             priority_class="system-node-critical", namespace="kube-system"),
    Template("etcd", "Static", (C("etcd", "registry.k8s.io/etcd:3.5.21-0", 100, 100 * Mi),),
             labels=(("component", "etcd"), ("tier", "control-plane")),
             priority_class="system-node-critical", namespace="kube-system"),
    Template("kube-controller-manager", "Static",
             (C("kube-controller-manager", "registry.k8s.io/kube-controller-manager:v1.33.1", 200),),
             labels=(("component", "kube-controller-manager"), ("tier", "control-plane")),
             priority_class="system-node-critical", namespace="kube-system"),
    Template("kube-scheduler", "Static", (C("kube-scheduler", "registry.k8s.io/kube-scheduler:v1.33.1", 100),),
             labels=(("component", "kube-scheduler"), ("tier", "control-plane")),
             priority_class="system-node-critical", namespace="kube-system"),
)

DAEMONSETS = (
    Template("kube-proxy", "DaemonSet", (C("kube-proxy", "registry.k8s.io/kube-proxy:v1.33.1", 100),),
             labels=(("k8s-app", "kube-proxy"),), priority_class="system-node-critical", namespace="kube-system"),
    Template("cilium", "DaemonSet", (C("cilium-agent", "quay.io/cilium/cilium:v1.17.4", 100, 256 * Mi),),
             init=(C("install-cni-binaries", "quay.io/cilium/cilium:v1.17.4", 100, 10 * Mi),),
             labels=(("k8s-app", "cilium"),), priority_class="system-node-critical", namespace="kube-system"),
    Template("node-exporter", "DaemonSet",
             (C("node-exporter", "quay.io/prometheus/node-exporter:v1.9.1", 102, 180 * Mi, 250, 180 * Mi),
              C("kube-rbac-proxy", "quay.io/brancz/kube-rbac-proxy:v0.19.1", 10, 20 * Mi, 20, 40 * Mi)),
             labels=(("app.kubernetes.io/name", "node-exporter"),), namespace="monitoring"),
    Template("fluent-bit", "DaemonSet",
             (C("fluent-bit", "cr.fluentbit.io/fluent/fluent-bit:4.0.3", 100, 128 * Mi, None, 512 * Mi),),
             labels=(("app.kubernetes.io/name", "fluent-bit"),), namespace="logging"),
    Template("ebs-csi-node", "DaemonSet",
             (C("ebs-plugin", "public.ecr.aws/ebs-csi-driver/aws-ebs-csi-driver:v1.44.0", 10, 40 * Mi, None, 256 * Mi),
              C("node-driver-registrar", "public.ecr.aws/csi-components/csi-node-driver-registrar:v2.13.0",
                10, 40 * Mi, None, 256 * Mi),
              C("liveness-probe", "public.ecr.aws/csi-components/livenessprobe:v2.15.0", 10, 40 * Mi, None, 256 * Mi)),
             labels=(("app", "ebs-csi-node"),), priority_class="system-node-critical", namespace="kube-system"),
)

# Ordered so the first few placed cover every resource shape (see module doc).
CATALOG = (
    Template("frontend", "Deployment", (C("nginx", "docker.io/library/nginx:1.27.5", 100, 128 * Mi, 500, 256 * Mi),),
             init=(ISTIO,), labels=(("app", "frontend"), ("tier", "web")), replicas=6, namespace="web"),
    Template("api", "Deployment", (C("api", "ghcr.io/acme/api:2.14.0", 250, 512 * Mi, 1000, 1 * Gi),),
             init=(C("migrate", "ghcr.io/acme/api:2.14.0", 50, 64 * Mi, 200, 128 * Mi),),
             labels=(("app", "api"),), replicas=8, namespace="web"),
    # Jobs are named for the minute they were scheduled; the churn starts one whenever one is reaped.
    Template("nightly-report", "Job", (C("report", "ghcr.io/acme/reports:1.3.2", 500, 1 * Gi, None, 2 * 10**9),),
             replicas=3, namespace="batch", schedule="* * * * *"),
    Template("ledger", "Deployment", (C("ledger", "ghcr.io/acme/ledger:5.0.1", 1000, 2 * Gi, 1000, 2 * Gi),),
             labels=(("app", "ledger"),), replicas=3, priority_class="business-critical", namespace="payments"),
    Template("gateway", "Deployment", (C("gateway", "ghcr.io/acme/gateway:3.2.0", 200, 256 * Mi, 1000),),
             labels=(("app", "gateway"),), replicas=4, namespace="payments"),
    Template("hello", "Deployment", (C("hello", "docker.io/library/busybox:1.37"),),
             labels=(("app", "hello"),), replicas=2, namespace="default"),
    Template("coredns", "Deployment",
             (C("coredns", "registry.k8s.io/coredns/coredns:v1.12.0", 100, 70 * Mi, None, 170 * Mi),),
             labels=(("k8s-app", "kube-dns"),), replicas=2, priority_class="system-cluster-critical",
             namespace="kube-system"),
    Template("untrusted-runner", "Deployment",
             (C("runner", "ghcr.io/acme/runner:0.9.4", 250, 256 * Mi, 500, 512 * Mi),),
             labels=(("app", "untrusted-runner"),), replicas=2, runtime_class="gvisor",
             overhead=(250, 120 * Mi), namespace="sandbox"),
    Template("metrics-server", "Deployment",
             (C("metrics-server", "registry.k8s.io/metrics-server/metrics-server:v0.7.2", 100, 200 * Mi),),
             labels=(("k8s-app", "metrics-server"),), replicas=1, priority_class="system-cluster-critical",
             namespace="kube-system"),
    Template("prometheus-k8s", "StatefulSet",
             (C("prometheus", "quay.io/prometheus/prometheus:v3.4.1", 500, 2 * Gi, None, 4 * Gi),),
             init=(C("config-reloader", "quay.io/prometheus-operator/prometheus-config-reloader:v0.83.0",
                     10, 50 * Mi, 10, 50 * Mi, sidecar=True),),
             labels=(("app.kubernetes.io/name", "prometheus"),), replicas=2, namespace="monitoring"),
    Template("redis", "StatefulSet",
             (C("redis", "docker.io/library/redis:7.4.4", 250, 1 * Gi, 250, 1 * Gi),
              C("redis-exporter", "docker.io/oliver006/redis_exporter:v1.74.0", 10, 32 * Mi, 10, 32 * Mi)),
             labels=(("app", "redis"),), replicas=3, namespace="web"),
    Template("worker", "Deployment", (C("worker", "ghcr.io/acme/worker:2.14.0", 300, 768 * Mi),),
             labels=(("app", "worker"),), replicas=8, namespace="payments"),
    Template("checkout", "Deployment",
             (C("checkout", "ghcr.io/acme/checkout:4.1.0", 500, 512 * Mi, 1000, 1 * Gi),
              C("envoy", "docker.io/envoyproxy/envoy:v1.34.1", 100, 64 * Mi, 300, 128 * Mi)),
             labels=(("app", "checkout"), ("version", "v4")), replicas=6, namespace="payments"),
    Template("search", "Deployment", (C("search", "docker.io/opensearchproject/opensearch:2.19.2",
                                        2000, 8 * Gi, None, 8 * Gi),),
             labels=(("app", "search"),), replicas=3, namespace="web"),
    Template("postgres", "StatefulSet",
             (C("postgres", "docker.io/library/postgres:17.5", 1000, 4 * Gi, 2000, 4 * Gi),),
             init=(C("init-permissions", "docker.io/library/busybox:1.37", 10, 16 * Mi, 50, 32 * Mi),),
             labels=(("app", "postgres"),), replicas=3, namespace="data"),
    Template("kube-state-metrics", "Deployment",
             (C("kube-state-metrics", "registry.k8s.io/kube-state-metrics/kube-state-metrics:v2.15.0",
                10, 190 * Mi, 100, 250 * Mi),),
             labels=(("app.kubernetes.io/name", "kube-state-metrics"),), replicas=1, namespace="monitoring"),
    Template("grafana", "Deployment", (C("grafana", "docker.io/grafana/grafana:12.0.1", 100, 128 * Mi, 200, 256 * Mi),),
             labels=(("app.kubernetes.io/name", "grafana"),), replicas=1, namespace="monitoring"),
    Template("ingress-nginx-controller", "Deployment",
             (C("controller", "registry.k8s.io/ingress-nginx/controller:v1.12.2", 100, 90 * Mi),),
             labels=(("app.kubernetes.io/name", "ingress-nginx"),), replicas=3, namespace="ingress-nginx"),
    Template("kafka", "StatefulSet", (C("kafka", "docker.io/apache/kafka:4.0.0", 1000, 4 * 10**9),),
             labels=(("app", "kafka"),), replicas=3, namespace="data"),
    Template("cert-manager", "Deployment",
             (C("cert-manager-controller", "quay.io/jetstack/cert-manager-controller:v1.17.2", 10, 32 * Mi),),
             labels=(("app", "cert-manager"),), replicas=1, namespace="cert-manager"),
    Template("alertmanager-main", "StatefulSet",
             (C("alertmanager", "quay.io/prometheus/alertmanager:v0.28.1", 4, 100 * Mi, 100, 100 * Mi),),
             init=(C("config-reloader", "quay.io/prometheus-operator/prometheus-config-reloader:v0.83.0",
                     10, 50 * Mi, 10, 50 * Mi, sidecar=True),),
             labels=(("app.kubernetes.io/name", "alertmanager"),), replicas=3, namespace="monitoring"),
    Template("recommender", "Deployment",
             (C("recommender", "ghcr.io/acme/recommender:0.31.0", 500, 1 * Gi, 2000, 3 * Gi),),
             init=(ISTIO,), labels=(("app", "recommender"),), replicas=4, namespace="web"),
)

# Workloads each tenant namespace of a large cluster runs.
TENANT = tuple(t for t in CATALOG if t.name in
               ("frontend", "api", "worker", "gateway", "redis", "nightly-report", "checkout", "hello"))

UNSCHEDULABLE = Template(
    "ledger-replay", "Deployment", (C("replay", "ghcr.io/acme/ledger:5.0.1", 64000, 256 * Gi),),
    labels=(("app", "ledger-replay"),), replicas=1, namespace="payments")

BASE_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease", "monitoring", "logging",
                   "ingress-nginx", "cert-manager", "web", "payments", "batch", "data", "sandbox")


def rand_name(rng: random.Random, n: int) -> str:
    return "".join(rng.choices(_SAFE, k=n))


def new_uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def derived_uid(*parts: object) -> str:
    """A uid that is a function of `parts`: for objects added to a world without drawing
    from its random streams (so what a seed produced before stays the same)."""
    return uid_of(hashlib.sha256("/".join(map(str, parts)).encode()).digest())


def uid_of(digest: bytes) -> str:
    """A version 4 UUID made of the first 16 bytes of `digest`."""
    h = digest[:16].hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"


def name_of(digest: bytes, n: int) -> str:
    """`n` characters of the apimachinery rand.String alphabet made of `digest`."""
    return "".join(_SAFE[b % len(_SAFE)] for b in digest[:n])


def derived_unit(*parts: object) -> float:
    """Uniform in [0, 1), a function of `parts` (see derived_uid)."""
    return int.from_bytes(hashlib.sha256("/".join(map(str, parts)).encode()).digest()[:6]) / float(1 << 48)


@dataclass(slots=True, eq=False)
class Workload:
    """What a controller runs: a template in a namespace. Its pods are told apart by `hash`
    (the current pod-template-hash / controller-revision-hash); controllers.py builds the
    API objects (the Deployment and its ReplicaSets, the CronJob and its Jobs, ...) from it."""
    template: Template
    namespace: str
    uid: str  # the uid of the object the pods name as owner (a Deployment's: its first ReplicaSet)
    hash: str
    name: str
    labels: tuple[tuple[str, str], ...]  # what the controller's selector matches
    next_ordinal: int = 0


class Node:
    """A node and its caches (json/metrics are filled by the cluster)."""

    __slots__ = ("idx", "name", "uid", "labels", "control_plane", "cp_taint", "cores", "cpu_cap", "mem_cap", "cpu_alloc",
                 "mem_alloc", "max_pods", "ready", "unschedulable", "created", "ip", "zone", "instance_type",
                 "provider_id", "pod_cidr", "kubelet_version", "sys_cpu", "sys_mem", "salt", "phase", "rv",
                 "pods", "gone", "next_ip", "quirk", "json", "meta", "metrics", "scrape_ts", "cadvisor")

    def __init__(self) -> None:
        self.pods: dict[str, Pod] = {}
        self.gone: list[Pod] = []  # recently deleted pods, still part of earlier scrapes
        self.json: bytes | None = None
        self.meta: tuple[int, bytes] | None = None  # (rv, its PartialObjectMetadata item)
        self.metrics: tuple | None = None
        self.scrape_ts: tuple[int, str] | None = None
        self.cadvisor = None  # its root cgroup's running CPU total (cadvisor.py)


class Pod:
    """A pod: identity, placement, lifecycle times and per-container usage baselines."""

    __slots__ = ("uid", "namespace", "name", "workload", "labels", "node", "phase", "created", "started",
                 "finished", "ip", "rv", "salt", "quirk", "cpu_base", "mem_base", "restarts", "last_reason",
                 "job_name", "deleted", "json", "metrics", "usage", "slot", "waiting", "owner", "meta",
                 "run_started", "last_run", "resize", "annotations", "over_limit", "tally", "cadvisor")

    def __init__(self) -> None:
        self.json: bytes | None = None
        self.meta: tuple[int, bytes] | None = None  # (rv, its PartialObjectMetadata item)
        self.waiting: str | None = None  # while running: the reason its first container waits with
        self.metrics: tuple | None = None
        self.usage: tuple | None = None
        self.deleted: float | None = None
        self.slot = -1
        self.owner = None  # its controller (controllers.py), None for bare and mirror pods
        self.tally: tuple | None = None  # what the inventory last counted it for (controllers.py)
        self.cadvisor = None  # its containers' running CPU and throttling totals (cadvisor.py)
        self.resize: Resize | None = None
        self.annotations: dict[str, str] | None = None
        # Per running container, once one has restarted (None until then): when its current
        # run began (None: when the pod started) and when its last run began and ended.
        self.run_started: list[float | None] | None = None
        self.last_run: list[tuple[float, float] | None] | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)

    @property
    def running_specs(self) -> tuple[ContainerSpec, ...]:
        return self.workload.template.running

    @property
    def ready(self) -> bool:
        return self.phase == "Running" and self.waiting is None

    def restart(self, i: int, reason: str, t: float) -> None:
        """Running container `i` ended with `reason` and was started again at `t`."""
        if self.run_started is None or self.last_run is None:
            self.run_started, self.last_run = [None] * len(self.restarts), [None] * len(self.restarts)
        self.restarts[i] += 1
        self.last_reason[i] = reason
        began = self.run_started[i] or self.started or self.created
        self.last_run[i] = (began, max(began, t - _backoff(self.restarts[i])))
        self.run_started[i] = t


@dataclass(frozen=True, slots=True)
class Resize:
    """An in-place resize of one container (the one `spec` names): the pod's spec asks for
    `spec`, the container still runs with `actual` (`status.containerStatuses[].resources`),
    for `reason` (InProgress, Deferred, Infeasible)."""
    spec: ContainerSpec
    actual: ContainerSpec
    reason: str
    message: str
    since: float


def _backoff(restarts: int) -> float:
    """The kubelet's crash-loop back-off before restart `restarts`: 10 s doubling, at most 5 minutes."""
    return min(300.0, 10.0 * 2 ** min(restarts - 1, 5))


def restart_history(pod: Pod, now: float) -> None:
    """When each running container's current run began and its last run ran, for the restarts
    a new pod was made with: a function of the pod's salt, drawing nothing from the random streams."""
    if pod.started is None or not any(pod.restarts):
        return
    pod.run_started = [None] * len(pod.restarts)
    pod.last_run = [None] * len(pod.restarts)
    began = pod.started
    end = pod.finished or now
    for i, count in enumerate(pod.restarts):
        if count:
            restarted = began + (end - began) * (0.2 + 0.8 * derived_unit(pod.salt, "restart", i))
            ended = max(began, restarted - _backoff(count))
            pod.run_started[i] = restarted
            pod.last_run[i] = (max(began, ended - (ended - began) * derived_unit(pod.salt, "ran", i)), ended)


@dataclass(slots=True)
class World:
    nodes: list[Node]
    pods: list[Pod]
    namespaces: dict[str, float]  # name -> creation time


_SHAPES = ((4, 0.30), (8, 0.35), (16, 0.25), (32, 0.10))
_FAMILIES = (("m5", 4, 0.6), ("c5", 2, 0.2), ("r5", 8, 0.2))
_SIZES = {4: "xlarge", 8: "2xlarge", 16: "4xlarge", 32: "8xlarge"}


def _eks_cpu_reserved(cores: int) -> int:
    """kube-reserved CPU (millicores) by the EKS formula: 6 % of core 1, 1 % of 2, 0.5 % of 3-4, 0.25 % above."""
    tiers = [(1, 60), (1, 10), (2, 5)]
    reserved, left = 0, cores
    for count, per in tiers:
        take = min(left, count)
        reserved += take * per
        left -= take
    return reserved + int(left * 2.5)


def make_nodes(count: int, rng: random.Random, start: float, resolution: float, quirky: bool) -> list[Node]:
    cp_count = 1 if count < 50 else 3
    ips: set[tuple[int, int, int]] = set()
    nodes = []
    for idx in range(count):
        node = Node()
        node.idx = idx
        node.control_plane = idx < cp_count
        node.cp_taint = node.control_plane and count > 1  # a single node also runs the workloads
        while True:
            ip = (rng.randrange(0, 4) * 16 + rng.randrange(0, 16), rng.randrange(0, 256), rng.randrange(4, 255))
            if ip not in ips:
                ips.add(ip)
                break
        node.ip = f"10.{ip[0]}.{ip[1]}.{ip[2]}"
        node.name = f"ip-{node.ip.replace('.', '-')}.{REGION}.compute.internal"
        node.uid = new_uid(rng)
        node.zone = ZONES[idx % 3]
        if node.control_plane:
            cores, family, ratio = rng.choice((4, 8)), "m5", 4
        else:
            cores = rng.choices([c for c, _ in _SHAPES], [w for _, w in _SHAPES])[0]
            family, ratio, _w = rng.choices(_FAMILIES, [f[2] for f in _FAMILIES])[0]
        node.cores = cores
        node.instance_type = f"{family}.{_SIZES[cores]}"
        nominal = cores * ratio * Gi
        if quirky:  # round numbers that can be spelled many ways (`15.5Gi`, `16128Mi`, ...)
            node.mem_cap = nominal - Gi // 2
            node.mem_alloc = node.mem_cap - 3 * Gi // 2
        else:
            node.mem_cap = nominal - rng.randrange(450_000, 700_000) * 1024
            node.mem_alloc = node.mem_cap - (100 + 255 + 11 * 110) * Mi
        node.cpu_cap = cores * 1000
        node.cpu_alloc = node.cpu_cap - _eks_cpu_reserved(cores)
        node.max_pods = 110
        node.ready = True
        node.unschedulable = False
        node.created = start - (40 * 86400 if node.control_plane else rng.uniform(86400, 30 * 86400))
        node.provider_id = f"aws:///{node.zone}/i-0{rng.getrandbits(64):016x}"
        node.pod_cidr = f"10.{128 + idx // 256}.{idx % 256}.0/24"
        node.next_ip = 2
        node.kubelet_version = KUBELET_VERSION if rng.random() < 0.9 else "v1.32.5"
        node.sys_cpu = cores * 1e9 * rng.uniform(0.02, 0.06)
        node.sys_mem = rng.uniform(400 * Mi, 1200 * Mi) + 0.03 * node.mem_cap
        node.salt = rng.getrandbits(48)
        node.phase = rng.random() * resolution
        node.quirk = rng.randrange(1 << 16)
        node.rv = 0
        node.labels = _node_labels(node, family)
        nodes.append(node)
    workers = [n for n in nodes if not n.control_plane]
    if len(nodes) >= 5:  # one broken and one drained node, as any real fleet has
        broken, drained = rng.sample(workers, 2)
        broken.ready = False
        drained.unschedulable = True
    return nodes


def _node_labels(node: Node, family: str) -> dict[str, str]:
    labels = {
        "beta.kubernetes.io/arch": "amd64",
        "beta.kubernetes.io/instance-type": node.instance_type,
        "beta.kubernetes.io/os": "linux",
        "failure-domain.beta.kubernetes.io/region": REGION,
        "failure-domain.beta.kubernetes.io/zone": node.zone,
        "kubernetes.io/arch": "amd64",
        "kubernetes.io/hostname": node.name,
        "kubernetes.io/os": "linux",
        "node.kubernetes.io/instance-type": node.instance_type,
        "topology.ebs.csi.aws.com/zone": node.zone,
        "topology.kubernetes.io/region": REGION,
        "topology.kubernetes.io/zone": node.zone,
    }
    if node.control_plane:  # no pool label: grouped by instance type
        labels["node-role.kubernetes.io/control-plane"] = ""
        labels["node.kubernetes.io/exclude-from-external-load-balancers"] = ""
    else:
        labels["node-role.kubernetes.io/worker"] = ""
        labels["nodepool"] = {"m5": "general", "c5": "compute", "r5": "memory"}[family]
        labels.update(_pool_labels(node, family))
    return dict(sorted(labels.items()))


def _pool_labels(node: Node, family: str) -> dict[str, str]:
    """How each provisioner names a node's pool, one per family (the general one by size) so a
    client meets them all: Karpenter, an EKS managed node group, a GKE node pool, an AKS agent pool."""
    if family == "m5" and node.cores <= 8:
        return {"karpenter.sh/nodepool": "general", "karpenter.k8s.aws/instance-family": family,
                "karpenter.sh/capacity-type": "spot" if node.salt % 5 == 0 else "on-demand"}
    if family == "m5":
        return {"cloud.google.com/gke-nodepool": "large-pool"}
    if family == "c5":
        return {"eks.amazonaws.com/nodegroup": "compute-ng", "eks.amazonaws.com/capacityType": "ON_DEMAND"}
    return {"agentpool": "memorypool", "kubernetes.azure.com/agentpool": "memorypool"}


class PodFactory:
    """Makes pods of workloads with unique names, realistic labels and usage baselines."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.names: set[tuple[str, str]] = set()

    def workload(self, template: Template, namespace: str | None = None, product: str | None = None) -> Workload:
        """A workload of `template`; in a namespace of several products, named and labelled for `product`."""
        rng = self.rng
        uid = new_uid(rng)
        hashed = rand_name(rng, 10) if template.kind in ("Deployment", "Rollout") else rand_name(rng, 9)
        name = f"{product}-{template.name}" if product else template.name
        labels = tuple((k, name if v == template.name else v) for k, v in template.labels)
        return Workload(template, namespace or template.namespace, uid, hashed, name, labels)

    def pod(self, wl: Workload, node: Node | None, created: float, *, phase: str = "Running",
            started: float | None = None, static_node: str | None = None, name: str | None = None) -> Pod:
        """A new pod; `name` reuses a StatefulSet identity."""
        rng = self.rng
        pod = Pod()
        pod.workload = wl
        pod.namespace = wl.namespace
        pod.job_name = None
        name = name or self._name(wl, created, static_node)
        pod.name = name
        self.names.add((wl.namespace, name))
        pod.uid = new_uid(rng)
        pod.labels = self._labels(wl, pod)
        pod.node = node
        pod.phase = phase
        pod.created = created
        pod.started = started
        pod.finished = None
        pod.ip = None
        pod.rv = 0
        pod.salt = rng.getrandbits(48)
        pod.quirk = rng.randrange(1 << 16)
        specs = pod.running_specs
        pod.restarts = [_restarts(rng) for _ in specs]
        pod.last_reason = [("OOMKilled" if rng.random() < 0.3 else "Error") if r else None for r in pod.restarts]
        over = rng.random() < 0.03
        idle = rng.random() < 0.08
        pod.cpu_base = tuple(_cpu_base(c, rng, over, idle) for c in specs)
        pod.mem_base = tuple(_mem_base(c, rng, over) for c in specs)
        pod.over_limit = over and any(c.mem_lim is not None for c in specs)  # a container above its memory limit
        return pod

    def _name(self, wl: Workload, created: float, static_node: str | None) -> str:
        t, rng = wl.template, self.rng
        while True:
            if t.kind == "Static":
                name = f"{wl.name}-{static_node}"
            elif t.kind == "Pod":
                name = wl.name
            elif t.kind == "StatefulSet":
                name = f"{wl.name}-{wl.next_ordinal}"
                wl.next_ordinal += 1
            elif t.kind in ("Deployment", "Rollout"):
                name = f"{wl.name}-{wl.hash}-{rand_name(rng, 5)}"
            elif t.kind == "Job" and t.schedule is not None:  # the CronJob names its Jobs for the minute
                name = f"{wl.name}-{int(created // 60) - rng.randrange(0, 3)}-{rand_name(rng, 5)}"
            else:
                name = f"{wl.name}-{rand_name(rng, 5)}"
            if (wl.namespace, name) not in self.names:
                return name

    def _labels(self, wl: Workload, pod: Pod) -> dict[str, str]:
        t = wl.template
        labels = dict(wl.labels)
        if t.kind == "Deployment":
            labels["pod-template-hash"] = wl.hash
        elif t.kind == "Rollout":
            labels["rollouts-pod-template-hash"] = wl.hash
        elif t.kind == "StatefulSet":
            labels["controller-revision-hash"] = f"{wl.name}-{wl.hash}"
            labels["statefulset.kubernetes.io/pod-name"] = pod.name
            labels["apps.kubernetes.io/pod-index"] = pod.name.rsplit("-", 1)[1]
        elif t.kind == "DaemonSet":
            labels["controller-revision-hash"] = wl.hash
            labels["pod-template-generation"] = "1"
        elif t.kind == "Job":
            job = pod.name.rsplit("-", 1)[0]
            pod.job_name = job
            uid = job_uid(wl, job)
            labels.update({"batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": job,
                           "controller-uid": uid, "job-name": job})
        if t.init and any(c.name == "istio-proxy" for c in t.init):
            labels["security.istio.io/tlsMode"] = "istio"
        return dict(sorted(labels.items()))


def job_uid(wl: Workload, job: str) -> str:
    """Each Job of a CronJob has its own uid; a Job of its own is the workload."""
    return derived_uid("job", wl.uid, job) if wl.template.schedule is not None else wl.uid


def _restarts(rng: random.Random) -> int:
    roll = rng.random()
    if roll < 0.9:
        return 0
    if roll < 0.99:
        return rng.randint(1, 5)
    return rng.randint(20, 150)  # a crash-looping container


def _cpu_base(c: ContainerSpec, rng: random.Random, over: bool, idle: bool) -> float:
    if over and c.cpu_lim:
        return c.cpu_lim * 1e6 * 1.15
    if idle:
        return rng.uniform(0.2e6, 2e6)
    if c.cpu_req:
        return c.cpu_req * 1e6 * rng.uniform(0.05, 0.9)
    if c.cpu_lim:
        return c.cpu_lim * 1e6 * rng.uniform(0.05, 0.5)
    return rng.uniform(1e6, 30e6)


def _mem_base(c: ContainerSpec, rng: random.Random, over: bool) -> float:
    if over and c.mem_lim:
        return c.mem_lim * 1.04
    if c.mem_req:
        return c.mem_req * rng.uniform(0.35, 1.0)
    return rng.uniform(8 * Mi, 150 * Mi)


LARGE_CLUSTER = 50_000  # pods; see the module doc
PRODUCTS = ("orders", "billing", "catalog", "accounts", "pricing", "inbox", "media", "reviews", "shipping",
            "loyalty", "ads", "search", "auth", "maps", "chat", "feeds")


def _stream(factory: PodFactory, products: int) -> Iterator[Workload]:
    """Workloads in placement order: the catalogue, then tenant namespaces of `products` products each."""
    for template in CATALOG:
        yield factory.workload(template)
    group = 0
    while True:
        namespace = f"team-{group // products + 1:04d}"
        product = PRODUCTS[group % products] if products > 1 else None
        group += 1
        for template in TENANT:
            yield factory.workload(template, namespace, product)


def build(node_count: int, pods_per_node: int, rng: random.Random, start: float, resolution: float,
          quirky: bool) -> World:
    """The initial cluster: `node_count * pods_per_node` pods in total."""
    nodes = make_nodes(node_count, rng, start, resolution, quirky)
    factory = PodFactory(rng)
    total = node_count * pods_per_node
    scale = max(1.0, total / LARGE_CLUSTER)
    pods: list[Pod] = []
    namespaces: dict[str, float] = {}

    def place(wl: Workload, node: Node | None, *, phase: str = "Running", static_node: str | None = None) -> Pod:
        oldest = max(node.created if node else start - 30 * 86400, start - 30 * 86400)
        if rng.random() < 0.02:
            created = start - rng.uniform(120, 3600)  # recently rolled out
        else:
            created = rng.uniform(oldest, start - 600)
        started = created + rng.uniform(2, 20) if phase != "Pending" else None
        pod = factory.pod(wl, node, created, phase=phase, started=started, static_node=static_node)
        if phase == "Succeeded":
            pod.finished = started + rng.uniform(30, 300)
        if any(pod.restarts):
            restart_history(pod, start)
        if node is not None:
            node.pods[pod.uid] = pod
        namespaces.setdefault(wl.namespace, 0.0)
        pods.append(pod)
        return pod

    control = [n for n in nodes if n.control_plane]
    workers = [n for n in nodes if not n.control_plane] or control
    if workers is not control:
        for node in control:
            for template in STATIC[: pods_per_node]:
                place(factory.workload(template), node, static_node=node.name)
    left = total - len(pods)
    per_worker = [left // len(workers) + (1 if i < left % len(workers) else 0) for i in range(len(workers))]
    daemons = [factory.workload(t) for t in DAEMONSETS]
    slots: list[Node] = []
    for node, count in zip(workers, per_worker):
        ds = min(len(daemons), max(1, count // 3)) if count > 1 else min(count, 1)
        for wl in daemons[:ds]:
            place(wl, node)
        slots += [node] * (count - ds)
    rng.shuffle(slots)
    unschedulable = min(len(slots), 1 + total // 5000 if total >= 10 else 0)
    stream = _stream(factory, 1 + round(4.5 * (scale - 1)))
    jobs_seen = 0
    placed = 0
    while placed < len(slots) - unschedulable:
        wl = next(stream)
        t = wl.template
        replicas = 1 if total < 100 else rng.randint(1, t.replicas)
        if t.kind != "Job":  # a CronJob runs its few Jobs whatever the cluster's size
            replicas = round(replicas * scale)
        for _ in range(min(replicas, len(slots) - unschedulable - placed)):
            node = slots[placed]
            placed += 1
            if t.kind == "Job":
                phase = "Succeeded" if jobs_seen % 2 == 0 else "Running"
                jobs_seen += 1
                place(wl, node, phase=phase)
            else:
                place(wl, node)
    for _ in range(unschedulable):
        place(factory.workload(UNSCHEDULABLE), None, phase="Pending")
    for name in BASE_NAMESPACES:
        namespaces.setdefault(name, 0.0)
    cluster_born = start - 40 * 86400
    for name in namespaces:
        namespaces[name] = cluster_born if name in BASE_NAMESPACES else cluster_born + rng.uniform(0, 20 * 86400)
    return World(nodes, pods, dict(sorted(namespaces.items())))
