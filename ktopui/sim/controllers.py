"""The API objects behind the pods, kept consistent with them.

Deployments with their current and old ReplicaSets, Argo Rollouts with theirs,
StatefulSets, DaemonSets, ReplicationControllers, CronJobs and their Jobs, Jobs of
their own, and ResourceQuotas. They are built from the world's workloads and pods: a
controller's status counts the pods it owns, a quota's `used` sums its namespace's
pods (effective.py). Mirror pods (owned by their node) and bare pods have no object.

The cluster tells the inventory as pods come (`adopt`), go (`release`) and change
(`touched`), and asks it after each batch of changes which objects now show a
different status (`settle`); it gives them resourceVersions and sends their events.

Uids, hashes and creation times of objects the world does not hold are functions of
the workload's (world.derived_uid), so adding them draws nothing from a seed's random
streams.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator

from ktopui.sim import quantities as q
from ktopui.sim.effective import pod_totals
from ktopui.sim.world import Gi, Mi, Pod, Workload, derived_uid, derived_unit, job_uid, name_of, uid_of

REVISION_HISTORY = 10  # a Deployment's revisionHistoryLimit: old ReplicaSets kept, scaled to 0
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"  # the template annotation `kubectl rollout restart` sets


class ApiObject:
    """An object the cluster serves besides nodes, pods and namespaces."""

    resource = ""
    kind = ""
    api_version = ""
    __slots__ = ("namespace", "name", "uid", "created", "labels", "rv", "json", "meta", "status")

    def __init__(self, namespace: str, name: str, uid: str, created: float, labels: dict[str, str]) -> None:
        self.namespace, self.name, self.uid, self.created, self.labels = namespace, name, uid, created, labels
        self.rv = 0
        self.json: bytes | None = None
        self.meta: tuple[int, bytes] | None = None  # (rv, its PartialObjectMetadata item)
        self.status: tuple = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)

    def fields(self) -> dict[str, str]:
        """The values its field selectors match."""
        return {"metadata.name": self.name, "metadata.namespace": self.namespace}

    def observe(self) -> tuple:
        """What its status shows now; when this changes, its controller writes an update."""
        return ()


class PodOwner(ApiObject):
    """An object that owns pods directly."""

    __slots__ = ("workload", "pods", "ready")

    def __init__(self, workload: Workload, name: str, uid: str, created: float, labels: dict[str, str]) -> None:
        super().__init__(workload.namespace, name, uid, created, labels)
        self.workload = workload
        self.pods: dict[str, Pod] = {}
        self.ready = 0  # of its pods, kept by the inventory as they change

    def observe(self) -> tuple:
        return (len(self.pods), self.ready)


class ReplicaSet(PodOwner):
    resource, kind, api_version = "replicasets", "ReplicaSet", "apps/v1"
    __slots__ = ("owner", "hash", "revision", "versions_behind", "restarted_at", "scaled_down")

    def __init__(self, owner: Revisioned, hash_: str, uid: str, created: float, revision: int,
                 versions_behind: int = 0, restarted_at: float | None = None) -> None:
        wl = owner.workload
        labels = dict(sorted({**dict(wl.labels), owner.hash_label: hash_}.items()))
        super().__init__(wl, f"{wl.name}-{hash_}", uid, created, labels)
        self.owner = owner
        self.hash = hash_
        self.revision = revision
        self.versions_behind = versions_behind  # its images, so many releases before the workload's
        self.restarted_at = restarted_at  # `kubectl rollout restart`'s template annotation
        self.scaled_down = False  # replaced by a newer revision

    def fields(self) -> dict[str, str]:
        return {**super().fields(), "status.replicas": str(len(self.pods))}

    def observe(self) -> tuple:
        """(replicas, ready, scaled down, the Deployment's replicas when it was last written)."""
        return (len(self.pods), self.ready, self.scaled_down, self.owner.replicas)


class Revisioned(ApiObject):
    """A Deployment or an Argo Rollout: ReplicaSets, oldest first, the last current."""

    hash_label = ""
    __slots__ = ("workload", "sets", "rolling_since", "changed_at")

    def __init__(self, workload: Workload, uid: str, created: float) -> None:
        super().__init__(workload.namespace, workload.name, uid, created, dict(workload.labels))
        self.workload = workload
        self.sets: list[ReplicaSet] = []
        self.rolling_since: float | None = None  # a rollout in progress since then
        self.changed_at = created  # when its Progressing condition last changed

    @property
    def current(self) -> ReplicaSet:
        return self.sets[-1]

    @property
    def replicas(self) -> int:
        return sum(len(rs.pods) for rs in self.sets)

    @property
    def ready(self) -> int:
        return sum(rs.ready for rs in self.sets)

    def set_for(self, hash_: str) -> ReplicaSet | None:
        return next((rs for rs in reversed(self.sets) if rs.hash == hash_), None)

    def observe(self) -> tuple:
        return (self.replicas, len(self.current.pods), self.ready, self.rolling_since, self.current.revision)


class Deployment(Revisioned):
    resource, kind, api_version = "deployments", "Deployment", "apps/v1"
    hash_label = "pod-template-hash"
    __slots__ = ()


class ArgoRollout(Revisioned):
    """An Argo Rollouts `Rollout`: a custom controller's owner of ReplicaSets, served as a CRD."""

    resource, kind, api_version = "rollouts", "Rollout", "argoproj.io/v1alpha1"
    hash_label = "rollouts-pod-template-hash"
    __slots__ = ()


class StatefulSet(PodOwner):
    resource, kind, api_version = "statefulsets", "StatefulSet", "apps/v1"
    __slots__ = ()


class DaemonSet(PodOwner):
    resource, kind, api_version = "daemonsets", "DaemonSet", "apps/v1"
    __slots__ = ()


class ReplicationController(PodOwner):
    resource, kind, api_version = "replicationcontrollers", "ReplicationController", "v1"
    __slots__ = ()

    def fields(self) -> dict[str, str]:
        return {**super().fields(), "status.replicas": str(len(self.pods))}


class Job(PodOwner):
    resource, kind, api_version = "jobs", "Job", "batch/v1"
    __slots__ = ("cronjob",)

    def __init__(self, workload: Workload, name: str, created: float, cronjob: CronJob | None) -> None:
        uid = job_uid(workload, name)
        labels = {**dict(workload.labels), "batch.kubernetes.io/controller-uid": uid,
                  "batch.kubernetes.io/job-name": name, "controller-uid": uid, "job-name": name}
        super().__init__(workload, name, uid, created, dict(sorted(labels.items())))
        self.cronjob = cronjob

    @property
    def succeeded(self) -> int:
        return sum(p.phase == "Succeeded" for p in self.pods.values())

    @property
    def active(self) -> int:
        return sum(p.phase in ("Pending", "Running") for p in self.pods.values())

    @property
    def completed(self) -> float | None:
        """When its one completion was reached (every Job here wants one)."""
        return max((p.finished for p in self.pods.values() if p.phase == "Succeeded"), default=None)

    def fields(self) -> dict[str, str]:
        return {**super().fields(), "status.successful": str(self.succeeded)}

    def observe(self) -> tuple:
        return (self.active, self.ready, self.succeeded)


class CronJob(ApiObject):
    resource, kind, api_version = "cronjobs", "CronJob", "batch/v1"
    __slots__ = ("workload", "jobs")

    def __init__(self, workload: Workload, uid: str, created: float) -> None:
        super().__init__(workload.namespace, workload.name, uid, created, dict(workload.labels))
        self.workload = workload
        self.jobs: dict[str, Job] = {}

    def observe(self) -> tuple:
        """(active Jobs, last schedule time, last successful time): the times only move forward,
        though the Jobs that set them are cleaned up."""
        active = tuple(j.name for j in self.jobs.values() if j.completed is None)
        _, scheduled, succeeded = self.status or ((), None, None)
        for job in self.jobs.values():
            scheduled = job.created if scheduled is None else max(scheduled, job.created)
            if job.completed is not None:
                succeeded = job.completed if succeeded is None else max(succeeded, job.completed)
        return (active, scheduled, succeeded)


class ResourceQuota(ApiObject):
    """`hard` and `used` in millicores, bytes and counts, keyed as the quota names them."""

    resource, kind, api_version = "resourcequotas", "ResourceQuota", "v1"
    __slots__ = ("hard", "used")

    def __init__(self, namespace: str, name: str, created: float, hard: dict[str, int]) -> None:
        super().__init__(namespace, name, derived_uid("quota", namespace, name), created, {})
        self.hard = hard
        self.used: dict[str, int] = {}

    def observe(self) -> tuple:
        return tuple(self.used.items())


_DIRECT: dict[str, type[PodOwner]] = {"StatefulSet": StatefulSet, "DaemonSet": DaemonSet,
                                       "ReplicationController": ReplicationController}
RESOURCES: dict[str, type[ApiObject]] = {c.resource: c for c in (
    Deployment, ReplicaSet, ArgoRollout, StatefulSet, DaemonSet, ReplicationController, Job, CronJob,
    ResourceQuota)}


class Store:
    """One resource's objects in (namespace, name) order, as lists are served."""

    def __init__(self) -> None:
        self.objects: list[ApiObject] = []
        self.keys: list[tuple[str, str]] = []

    def add(self, obj: ApiObject) -> None:
        i = bisect.bisect_left(self.keys, obj.key)
        self.keys.insert(i, obj.key)
        self.objects.insert(i, obj)

    def remove(self, obj: ApiObject) -> None:
        i = bisect.bisect_left(self.keys, obj.key)
        del self.keys[i], self.objects[i]

    def get(self, key: tuple[str, str]) -> ApiObject | None:
        i = bisect.bisect_left(self.keys, key)
        return self.objects[i] if i < len(self.keys) and self.keys[i] == key else None

    def load(self, objects: Iterable[ApiObject]) -> None:
        self.objects = sorted(objects, key=lambda o: o.key)
        self.keys = [o.key for o in self.objects]


# ---- quotas ----------------------------------------------------------------------

_COMPUTE = ("limits.cpu", "limits.memory", "requests.cpu", "requests.memory")


def _quota_plan(namespace: str) -> list[tuple[str, tuple[str, ...], float]]:
    """The quotas a namespace has: (name, what they limit, hard as a multiple of the initial use)."""
    if namespace == "web":
        return [("compute-resources", _COMPUTE, 1.04)]  # nearly used up
    if namespace == "payments":
        return [("compute-resources", _COMPUTE, 1.5), ("object-counts", ("pods",), 1.25)]
    if namespace == "shop":
        return [("shop-quota", (*_COMPUTE, "pods"), 1.6)]
    if namespace.startswith("team-") and namespace[5:].isdigit() and int(namespace[5:]) % 3 == 1:
        return [("team-quota", (*_COMPUTE, "pods"), 1.2 + 0.8 * derived_unit("quota", namespace))]
    return []


def _hard(key: str, used: int, factor: float) -> int:
    """A limit an administrator would write: `factor` times the use, rounded up to a round number."""
    want = max(1, math.ceil(used * factor))
    step = 1000 if key.endswith("cpu") else Gi if key.endswith("memory") else 5
    if key.endswith("memory") and want < 4 * Gi:
        step = 256 * Mi
    return -(-want // step) * step


_USAGE_KEYS = ("pods", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory")
_NO_USAGE = (0, 0, 0, 0, 0)


def _usage(pod: Pod) -> tuple[int, int, int, int, int]:
    """What the quota evaluator counts for a pod, in _USAGE_KEYS order: nothing once it is terminal."""
    if pod.phase in ("Succeeded", "Failed"):
        return _NO_USAGE
    totals = pod_totals(pod)
    return (1, totals.cpu_req or 0, totals.mem_req or 0, totals.cpu_lim or 0, totals.mem_lim or 0)


# ---- the inventory -------------------------------------------------------------------

def _digest(*parts: object) -> bytes:
    return hashlib.sha256("/".join(map(str, parts)).encode()).digest()


def _own(owner: PodOwner, pods: list[Pod]) -> None:
    for pod in pods:
        pod.owner = owner
        owner.ready += pod.tally[1]
    owner.pods = {pod.uid: pod for pod in pods}


def _pod_hash(pod: Pod, label: str) -> str:
    return pod.labels.get(label, pod.workload.hash)


class Inventory:
    """Every object behind the pods, by resource; see the module doc."""

    def __init__(self, pods: Iterable[Pod], namespaces: dict[str, float]) -> None:
        self.stores: dict[str, Store] = {resource: Store() for resource in RESOURCES}
        self.rolling: list[Revisioned] = []  # Deployments and Rollouts, in the order they were made
        self._top: dict[Workload, ApiObject] = {}
        self._quotas: dict[str, list[ResourceQuota]] = {}
        self._used: dict[str, list[int]] = {}  # per namespace with quotas, in _USAGE_KEYS order
        self._dirty: dict[ApiObject, None] = {}
        by_workload: dict[Workload, list[Pod]] = {}
        plans = {ns: plan for ns in namespaces if (plan := _quota_plan(ns))}
        for namespace in plans:
            self._used[namespace] = list(_NO_USAGE)
        for pod in pods:
            owned = by_workload.get(pod.workload)
            if owned is None:
                by_workload[pod.workload] = [pod]
            else:
                owned.append(pod)
            self._count(pod, pod.tally, self._tally(pod))
        made: list[ApiObject] = []
        for wl, owned in by_workload.items():
            made += self._build(wl, owned)
        for namespace, plan in plans.items():
            made += self._build_quotas(namespace, namespaces[namespace], plan)
        by_resource: dict[str, list[ApiObject]] = defaultdict(list)
        for obj in made:
            obj.status = obj.observe()
            by_resource[obj.resource].append(obj)
        for resource, objects in by_resource.items():
            self.stores[resource].load(objects)

    def objects(self) -> Iterator[ApiObject]:
        for store in self.stores.values():
            yield from store.objects

    # ---- building --------------------------------------------------------------------

    def _build(self, wl: Workload, pods: list[Pod]) -> list[ApiObject]:
        kind = wl.template.kind
        first = min(p.created for p in pods)
        if kind in ("Deployment", "Rollout"):
            return self._build_revisioned(wl, pods, first)
        if kind == "Job":
            return self._build_jobs(wl, pods, first)
        cls = _DIRECT.get(kind)
        if cls is None:  # mirror and bare pods
            return []
        owner = cls(wl, wl.name, wl.uid, first - 86400 * _digest(wl.uid)[0] / 256, dict(wl.labels))
        self._top[wl] = owner
        _own(owner, pods)
        return [owner]

    def _build_revisioned(self, wl: Workload, pods: list[Pod], first: float) -> list[ApiObject]:
        """The parent, up to three old ReplicaSets scaled to 0, and one with pods per revision
        its pods are of (two while a rollout is in progress), the current last."""
        cls = Deployment if wl.template.kind == "Deployment" else ArgoRollout
        label = cls.hash_label
        by_hash: dict[str, list[Pod]] = {}
        for pod in pods:
            by_hash.setdefault(pod.labels.get(label, wl.hash), []).append(pod)
        with_pods = list(by_hash)
        if len(with_pods) > 1:
            with_pods.sort(key=lambda h: (h == wl.hash, min(p.created for p in by_hash[h])))
        parent = cls(wl, derived_uid(cls.kind, wl.uid), first)
        sets: list[ReplicaSet] = []
        for behind, hash_ in enumerate(reversed(with_pods)):
            uid = wl.uid if hash_ == wl.hash else derived_uid("rs", wl.uid, hash_)
            created = first if len(with_pods) == 1 else min(p.created for p in by_hash[hash_])
            rs = ReplicaSet(parent, hash_, uid, created - 1, 0, behind)
            _own(rs, by_hash[hash_])
            sets.insert(0, rs)
        digest = _digest(wl.uid, "history")
        for i in range(int(digest[0] / 64)):  # 0-3 old revisions, each some days older
            digest = _digest(wl.uid, "revision", i)
            created = sets[0].created - 20 * 86400 * (0.05 + 0.95 * digest[26] / 256)
            hash_ = name_of(digest, len(wl.hash))
            old = ReplicaSet(parent, hash_, uid_of(digest[10:]), created, 0, len(with_pods) + i)
            old.scaled_down = True
            sets.insert(0, old)
        for revision, rs in enumerate(sets, 1):
            rs.revision = revision
        parent.created = parent.changed_at = sets[0].created - 5
        parent.sets = sets
        if len(with_pods) > 1:  # found mid-rollout
            parent.rolling_since = parent.changed_at = parent.current.created
        self._top[wl] = parent
        self.rolling.append(parent)
        return [parent, *sets]

    def _build_jobs(self, wl: Workload, pods: list[Pod], first: float) -> list[ApiObject]:
        if wl.template.schedule is None:  # a Job of its own
            job = Job(wl, wl.name, first - 1, None)
            self._top[wl] = job
            _own(job, pods)
            return [job]
        cron = CronJob(wl, derived_uid("cronjob", wl.uid), first - 30 * 86400 * _digest(wl.uid)[0] / 256)
        self._top[wl] = cron
        by_job: dict[str, list[Pod]] = {}
        for pod in pods:
            by_job.setdefault(pod.job_name, []).append(pod)
        for name, owned in by_job.items():
            job = cron.jobs[name] = Job(wl, name, min(p.created for p in owned) - 1, cron)
            _own(job, owned)
        return [cron, *cron.jobs.values()]

    def _build_quotas(self, namespace: str, born: float, plan: list[tuple[str, tuple[str, ...], float]]
                      ) -> list[ApiObject]:
        used = dict(zip(_USAGE_KEYS, self._used[namespace]))
        quotas = []
        for name, keys, factor in plan:
            hard = {k: _hard(k, used[k], factor) for k in sorted(keys)}
            quota = ResourceQuota(namespace, name, born + 60 + 86400 * derived_unit(namespace, name), hard)
            quota.used = {k: used[k] for k in hard}
            quotas.append(quota)
        self._quotas[namespace] = quotas
        return quotas

    # ---- counting ----------------------------------------------------------------------

    def _tally(self, pod: Pod) -> tuple[str, bool, tuple[int, ...] | None]:
        """What a pod counts for: its phase and readiness (for its owner), its quota usage."""
        return (pod.phase, pod.ready, _usage(pod) if pod.namespace in self._used else None)

    def _count(self, pod: Pod, old: tuple | None, new: tuple | None) -> None:
        """Move a pod's contribution to its owner's readiness and its namespace's quota use from
        `old` to `new` (None: none), marking what changed."""
        pod.tally = new
        owner = pod.owner
        if owner is not None and (old is None or new is None or old[:2] != new[:2]):
            owner.ready += (new[1] if new else 0) - (old[1] if old else 0)
            self._mark(owner)
        before, after = old[2] if old else None, new[2] if new else None
        if before != after:
            used = self._used[pod.namespace]
            for i in range(len(used)):
                used[i] += (after[i] if after else 0) - (before[i] if before else 0)
            for quota in self._quotas.get(pod.namespace, ()):
                self._dirty[quota] = None

    # ---- changes ---------------------------------------------------------------------

    def _mark(self, obj: ApiObject) -> None:
        self._dirty[obj] = None
        if isinstance(obj, ReplicaSet):
            self._dirty[obj.owner] = None
        elif isinstance(obj, Job) and obj.cronjob is not None:
            self._dirty[obj.cronjob] = None

    def adopt(self, pod: Pod) -> list[ApiObject]:
        """A new pod joins its controller; returns objects made for it (a CronJob's new Job)."""
        made: list[ApiObject] = []
        top = self._top.get(pod.workload)
        owner: PodOwner | None
        if isinstance(top, Revisioned):
            owner = top.set_for(_pod_hash(pod, top.hash_label)) or top.current
        elif isinstance(top, CronJob):
            owner = top.jobs.get(pod.job_name)
            if owner is None:
                owner = top.jobs[pod.job_name] = Job(pod.workload, pod.job_name, pod.created - 1, top)
                owner.status = owner.observe()
                self.stores["jobs"].add(owner)
                made.append(owner)
        else:
            owner = top if isinstance(top, PodOwner) else None
        pod.owner = owner
        if owner is not None:
            owner.pods[pod.uid] = pod
            self._mark(owner)
        if isinstance(owner, ReplicaSet) and owner.restarted_at is not None:  # from its template
            pod.annotations = {RESTARTED_AT: q.rfc3339(owner.restarted_at)}
        self._count(pod, None, self._tally(pod))
        return made

    def release(self, pod: Pod) -> list[ApiObject]:
        """A pod is gone; returns objects deleted with it (a CronJob's Job, cleaned up)."""
        gone: list[ApiObject] = []
        self._count(pod, pod.tally, None)
        owner = pod.owner
        if owner is not None:
            owner.pods.pop(pod.uid, None)
            self._mark(owner)
            if isinstance(owner, Job) and owner.cronjob is not None and not owner.pods:
                del owner.cronjob.jobs[owner.name]
                self.stores["jobs"].remove(owner)
                self._dirty.pop(owner, None)
                gone.append(owner)
        return gone

    def touched(self, pod: Pod) -> None:
        """A pod changed (phase, readiness, resources, restarts)."""
        if pod.tally is not None:  # still counted (not deleted)
            self._count(pod, pod.tally, self._tally(pod))

    def settle(self) -> list[ApiObject]:
        """The objects whose status changed since the last call."""
        changed = []
        for obj in self._dirty:
            if isinstance(obj, ResourceQuota):
                used = dict(zip(_USAGE_KEYS, self._used[obj.namespace]))
                obj.used = {k: used[k] for k in obj.hard}
            status = obj.observe()
            if status != obj.status:
                obj.status = status
                changed.append(obj)
        self._dirty.clear()
        return changed

    # ---- rollouts ----------------------------------------------------------------------

    def begin_rollout(self, parent: Revisioned, hash_: str, t: float) -> ReplicaSet:
        """A new revision (`kubectl rollout restart` at `t`): a new, empty current ReplicaSet."""
        uid = derived_uid("rs", parent.workload.uid, hash_)
        rs = ReplicaSet(parent, hash_, uid, t, parent.current.revision + 1, restarted_at=t)
        parent.sets.append(rs)
        parent.rolling_since = parent.changed_at = t
        parent.workload.hash = hash_
        rs.status = rs.observe()
        self.stores["replicasets"].add(rs)
        self._mark(rs)
        return rs

    def end_rollout(self, parent: Revisioned, t: float) -> list[ReplicaSet]:
        """Every pod runs the new revision: the old ReplicaSets are scaled to 0; returns the
        ones beyond the revision history, deleted."""
        parent.rolling_since = None
        parent.changed_at = t
        for rs in parent.sets[:-1]:
            rs.scaled_down = True
            self._mark(rs)
        gone = parent.sets[: max(0, len(parent.sets) - 1 - REVISION_HISTORY)]
        for rs in gone:
            parent.sets.remove(rs)
            self.stores["replicasets"].remove(rs)
            self._dirty.pop(rs, None)
        self._dirty[parent] = None
        return gone
