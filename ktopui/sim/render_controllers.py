"""Kubernetes JSON for the objects behind the pods (controllers.py), in Go's field order.

Built-in kinds are encoded as their Go structs are (declaration order, zero values
left out where the field is `omitempty`); the Argo Rollout is a custom resource, which
the API server stores and serves as unstructured JSON: every key sorted, kind and
apiVersion on list items too.
"""

from __future__ import annotations

import re

import msgspec

from ktopui.sim import quantities as q
from ktopui.sim.controllers import (
    RESTARTED_AT,
    ApiObject,
    ArgoRollout,
    CronJob,
    DaemonSet,
    Deployment,
    Job,
    ReplicaSet,
    ReplicationController,
    ResourceQuota,
    Revisioned,
    StatefulSet,
)
from ktopui.sim.render import Formats, container_doc, encode, owner_reference, resources_doc, with_kind
from ktopui.sim.world import ContainerSpec, Workload

_sorted = msgspec.json.Encoder(order="sorted").encode
UNSTRUCTURED = frozenset({ArgoRollout.resource})  # served by the apiextensions server


def _meta(obj: ApiObject, generation: int | None = 1, annotations: dict[str, str] | None = None,
          owner: ApiObject | None = None) -> dict:
    meta: dict = {"name": obj.name, "namespace": obj.namespace, "uid": obj.uid, "resourceVersion": str(obj.rv)}
    if generation is not None:
        meta["generation"] = generation
    meta["creationTimestamp"] = q.rfc3339(obj.created)
    if obj.labels:
        meta["labels"] = obj.labels
    if annotations:
        meta["annotations"] = dict(sorted(annotations.items()))
    if owner is not None:
        meta["ownerReferences"] = [owner_reference(owner)]
    return meta


def _older(image: str, releases: int) -> str:
    """`image` as it was `releases` releases ago: its last version number that can go down, down."""
    if not releases or ":" not in image:
        return image
    name, tag = image.rsplit(":", 1)
    numbers = list(re.finditer(r"\d+", tag))
    for match in reversed(numbers):
        if int(match.group()) >= releases:
            return f"{name}:{tag[:match.start()]}{int(match.group()) - releases}{tag[match.end():]}"
    return image


def _template(wl: Workload, labels: dict[str, str], fmt: Formats, *, versions_behind: int = 0,
              restarted_at: float | None = None, unstructured: bool = False) -> dict:
    """A pod template as the controller's spec holds it (no node, no service account yet)."""
    t = wl.template

    def container(c: ContainerSpec, init: bool) -> dict:
        doc = container_doc(c, fmt, 0, {}, init)
        doc["image"] = _older(c.image, versions_behind)
        return doc

    meta: dict = {} if unstructured else {"creationTimestamp": None}
    if labels:
        meta["labels"] = labels
    if restarted_at is not None:
        meta["annotations"] = {RESTARTED_AT: q.rfc3339(restarted_at)}
    spec: dict = {}
    if t.init:
        spec["initContainers"] = [container(c, True) for c in t.init]
    spec["containers"] = [container(c, False) for c in t.containers]
    spec["restartPolicy"] = t.restart_policy
    spec["terminationGracePeriodSeconds"] = 30
    spec["dnsPolicy"] = "ClusterFirst"
    spec["securityContext"] = {}
    spec["schedulerName"] = "default-scheduler"
    if t.priority_class:
        spec["priorityClassName"] = t.priority_class
    if t.runtime_class:
        spec["runtimeClassName"] = t.runtime_class
    if t.pod_resources is not None:
        spec["resources"] = resources_doc(t.pod_resources, fmt, 0, {})
    return {"metadata": meta, "spec": spec}


def _omit_zero(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if v}


# ---- apps/v1 ---------------------------------------------------------------------------

def _replicaset(rs: ReplicaSet, fmt: Formats) -> bytes:
    replicas, ready, scaled_down, desired = rs.status
    parent = rs.owner
    if isinstance(parent, ArgoRollout):
        annotations = {"rollout.argoproj.io/desired-replicas": str(desired), "rollout.argoproj.io/revision":
                       str(rs.revision)}
    else:
        annotations = {"deployment.kubernetes.io/desired-replicas": str(desired),
                       "deployment.kubernetes.io/max-replicas": str(desired),  # maxSurge 0
                       "deployment.kubernetes.io/revision": str(rs.revision)}
    generation = 2 if scaled_down else 1
    spec = {"replicas": replicas, "selector": {"matchLabels": rs.labels},
            "template": _template(rs.workload, rs.labels, fmt, versions_behind=rs.versions_behind,
                                  restarted_at=rs.restarted_at)}
    status = {"replicas": replicas, **_omit_zero({"fullyLabeledReplicas": replicas, "readyReplicas": ready,
                                                  "availableReplicas": ready}), "observedGeneration": generation}
    return encode({"metadata": _meta(rs, generation, annotations, parent), "spec": spec, "status": status})


def _deployment_conditions(d: Revisioned, replicas: int, ready: int) -> list[dict]:
    """Available, Progressing, worded as the deployment controller words them."""
    current = d.current.name
    born, changed = q.rfc3339(d.created), q.rfc3339(d.changed_at)
    if ready >= replicas - replicas // 4:  # maxUnavailable 25%
        available = ("True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
    else:
        available = ("False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.")
    if d.rolling_since is not None:
        progressing = ("True", "ReplicaSetUpdated", f'ReplicaSet "{current}" is progressing.')
    elif replicas and not ready:
        progressing = ("False", "ProgressDeadlineExceeded", f'ReplicaSet "{current}" has timed out progressing.')
    else:
        progressing = ("True", "NewReplicaSetAvailable", f'ReplicaSet "{current}" has successfully progressed.')
    return [{"type": kind, "status": state, "lastUpdateTime": when, "lastTransitionTime": when, "reason": reason,
             "message": message}
            for kind, (state, reason, message), when in (("Available", available, born),
                                                         ("Progressing", progressing, changed))]


def _deployment(d: Deployment, fmt: Formats) -> bytes:
    replicas, updated, ready, _, revision = d.status
    spec = {"replicas": replicas, "selector": {"matchLabels": dict(d.workload.labels)},
            "template": _template(d.workload, dict(d.workload.labels), fmt, restarted_at=d.current.restarted_at),
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": 0}},
            "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600}
    status = {"observedGeneration": revision,
              **_omit_zero({"replicas": replicas, "updatedReplicas": updated, "readyReplicas": ready,
                            "availableReplicas": ready, "unavailableReplicas": replicas - ready}),
              "conditions": _deployment_conditions(d, replicas, ready)}
    meta = _meta(d, revision, {"deployment.kubernetes.io/revision": str(revision)})
    return encode({"metadata": meta, "spec": spec, "status": status})


def _rollout(r: ArgoRollout, fmt: Formats) -> bytes:
    replicas, updated, ready, rolling_since, revision = r.status
    stable = r.sets[-2] if rolling_since is not None and len(r.sets) > 1 else r.current
    selector = ",".join(f"{k}={v}" for k, v in r.workload.labels)
    conditions = [{"lastTransitionTime": q.rfc3339(r.created), "lastUpdateTime": q.rfc3339(r.created),
                   "message": "Rollout has minimum availability" if ready else "Rollout does not have minimum "
                   "availability", "reason": "AvailableReason", "status": "True" if ready else "False",
                   "type": "Available"},
                  {"lastTransitionTime": q.rfc3339(r.changed_at), "lastUpdateTime": q.rfc3339(r.changed_at),
                   "message": (f'ReplicaSet "{r.current.name}" is progressing.' if rolling_since is not None
                               else f'ReplicaSet "{r.current.name}" has successfully progressed.'),
                   "reason": "ReplicaSetUpdated" if rolling_since is not None else "NewReplicaSetAvailable",
                   "status": "True", "type": "Progressing"}]
    meta = _meta(r, revision, {"rollout.argoproj.io/revision": str(revision)})
    doc = {"apiVersion": r.api_version, "kind": r.kind, "metadata": meta,
           "spec": {"replicas": replicas, "revisionHistoryLimit": 10,
                    "selector": {"matchLabels": dict(r.workload.labels)},
                    "strategy": {"canary": {"maxSurge": 0, "maxUnavailable": 1}},
                    "template": _template(r.workload, dict(r.workload.labels), fmt, unstructured=True,
                                          restarted_at=r.current.restarted_at)},
           "status": {"HPAReplicas": replicas, "availableReplicas": ready, "blueGreen": {}, "canary": {},
                      "conditions": conditions, "currentPodHash": r.current.hash,
                      "observedGeneration": str(revision),
                      "phase": "Progressing" if rolling_since is not None else "Healthy" if ready else "Degraded",
                      "readyReplicas": ready, "replicas": replicas, "selector": selector,
                      "stableRS": stable.hash, "updatedReplicas": updated}}
    return _sorted(doc)


def _statefulset(s: StatefulSet, fmt: Formats) -> bytes:
    replicas, ready = s.status
    revision = f"{s.name}-{s.workload.hash}"
    spec = {"replicas": replicas, "selector": {"matchLabels": dict(s.workload.labels)},
            "template": _template(s.workload, dict(s.workload.labels), fmt), "serviceName": s.name,
            "podManagementPolicy": "OrderedReady",
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
            "revisionHistoryLimit": 10,
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"}}
    status = {"observedGeneration": 1, "replicas": replicas,
              **_omit_zero({"readyReplicas": ready, "currentReplicas": replicas, "updatedReplicas": replicas}),
              "currentRevision": revision, "updateRevision": revision, "collisionCount": 0,
              "availableReplicas": ready}
    return encode({"metadata": _meta(s), "spec": spec, "status": status})


def _daemonset(ds: DaemonSet, fmt: Formats) -> bytes:
    scheduled, ready = ds.status
    spec = {"selector": {"matchLabels": dict(ds.workload.labels)},
            "template": _template(ds.workload, dict(ds.workload.labels), fmt),
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}},
            "revisionHistoryLimit": 10}
    status = {"currentNumberScheduled": scheduled, "numberMisscheduled": 0, "desiredNumberScheduled": scheduled,
              "numberReady": ready, "observedGeneration": 1,
              **_omit_zero({"updatedNumberScheduled": scheduled, "numberAvailable": ready,
                            "numberUnavailable": scheduled - ready})}
    return encode({"metadata": _meta(ds, annotations={"deprecated.daemonset.template.generation": "1"}),
                   "spec": spec, "status": status})


# ---- core/v1 ---------------------------------------------------------------------------

def _replicationcontroller(rc: ReplicationController, fmt: Formats) -> bytes:
    replicas, ready = rc.status
    labels = dict(rc.workload.labels)
    spec = {"replicas": replicas, "selector": labels, "template": _template(rc.workload, labels, fmt)}
    status = {"replicas": replicas, **_omit_zero({"fullyLabeledReplicas": replicas, "readyReplicas": ready,
                                                  "availableReplicas": ready}), "observedGeneration": 1}
    return encode({"metadata": _meta(rc), "spec": spec, "status": status})


def _quantity(key: str, value: int, written: bool) -> str:
    """How a quota shows a value: as an administrator wrote it, or (used) as Go sums print."""
    if key.endswith("cpu"):
        return q.millicores(value)
    if key.endswith("memory"):
        return Formats(False).nbytes(value, 0) if written else q.memory(value)
    return str(value)


def _resourcequota(quota: ResourceQuota, _fmt: Formats) -> bytes:
    hard = {k: _quantity(k, v, True) for k, v in quota.hard.items()}
    used = {k: _quantity(k, v, False) for k, v in quota.used.items()}
    return encode({"metadata": _meta(quota, None), "spec": {"hard": hard},
                   "status": {"hard": hard, "used": used}})


# ---- batch/v1 ----------------------------------------------------------------------------

def _job(job: Job, fmt: Formats) -> bytes:
    active, ready, succeeded = job.status
    cron = job.cronjob
    annotations = {"batch.kubernetes.io/cronjob-scheduled-timestamp":
                   q.rfc3339(job.created // 60 * 60)} if cron is not None else None
    template_labels = dict(sorted({**dict(job.workload.labels), **{k: v for k, v in job.labels.items()
                                                                  if "controller-uid" in k or "job-name" in k}}
                                  .items()))
    spec = {"parallelism": 1, "completions": 1, "backoffLimit": 6,
            "selector": {"matchLabels": {"batch.kubernetes.io/controller-uid": job.uid}},
            "template": _template(job.workload, template_labels, fmt), "completionMode": "NonIndexed",
            "suspend": False, "podReplacementPolicy": "TerminatingOrFailed"}
    done = job.completed
    status: dict = {}
    if done is not None and not active:
        when = q.rfc3339(done)
        status["conditions"] = [{"type": kind, "status": "True", "lastProbeTime": when, "lastTransitionTime": when,
                                 "reason": "CompletionsReached", "message": "Reached expected number of succeeded pods"}
                                for kind in ("SuccessCriteriaMet", "Complete")]
    status["startTime"] = q.rfc3339(job.created)
    if done is not None and not active:
        status["completionTime"] = q.rfc3339(done)
    status.update(_omit_zero({"active": active, "succeeded": succeeded}))
    status.update(terminating=0, uncountedTerminatedPods={}, ready=ready)
    return encode({"metadata": _meta(job, 1, annotations, cron), "spec": spec, "status": status})


def _cronjob(cron: CronJob, fmt: Formats) -> bytes:
    active, scheduled, succeeded = cron.status
    labels = dict(cron.workload.labels)
    spec = {"schedule": cron.workload.template.schedule, "concurrencyPolicy": "Allow", "suspend": False,
            "jobTemplate": {"metadata": {"creationTimestamp": None},
                            "spec": {"template": _template(cron.workload, labels, fmt)}},
            "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1}
    status: dict = {}
    if active:
        status["active"] = [{"kind": "Job", "namespace": cron.namespace, "name": name,
                             "uid": cron.jobs[name].uid, "apiVersion": "batch/v1"}
                            for name in active if name in cron.jobs]
    if scheduled is not None:
        status["lastScheduleTime"] = q.rfc3339(scheduled // 60 * 60)
    if succeeded is not None:
        status["lastSuccessfulTime"] = q.rfc3339(succeeded)
    return encode({"metadata": _meta(cron), "spec": spec, "status": status})


_RENDER = {ReplicaSet: _replicaset, Deployment: _deployment, ArgoRollout: _rollout, StatefulSet: _statefulset,
           DaemonSet: _daemonset, ReplicationController: _replicationcontroller, ResourceQuota: _resourcequota,
           Job: _job, CronJob: _cronjob}


def object_item(obj: ApiObject, fmt: Formats) -> bytes:
    """The object as a list item (built-in kinds without kind and apiVersion; see the module doc)."""
    return _RENDER[type(obj)](obj, fmt)


def object_doc(obj: ApiObject, item: bytes) -> bytes:
    """The object alone (a get, a watch event): with kind and apiVersion."""
    return item if obj.resource in UNSTRUCTURED else with_kind(item, obj.kind, obj.api_version)


def unstructured_list(kind: str, api_version: str, meta: dict, items: list[bytes]) -> bytes:
    """A custom resource's list: keys sorted, `continue` always there."""
    return b'{"apiVersion":"%s","items":[%s],"kind":"%s","metadata":%s}' % (
        api_version.encode(), b",".join(items), kind.encode(), _sorted({"continue": "", **meta}))


_POD_TEMPLATE = b'{"metadata":{"creationTimestamp":null},"spec":{"containers":null}}'
_EMPTY = {  # resource -> (kind, apiVersion, spec, status) of the zero-valued object a bookmark carries
    "deployments": ("Deployment", "apps/v1",
                    b'{"selector":null,"template":%s,"strategy":{}}' % _POD_TEMPLATE, b"{}"),
    "replicasets": ("ReplicaSet", "apps/v1", b'{"selector":null,"template":%s}' % _POD_TEMPLATE,
                    b'{"replicas":0}'),
    "statefulsets": ("StatefulSet", "apps/v1", b'{"selector":null,"template":%s,"updateStrategy":{}}' % _POD_TEMPLATE,
                     b'{"replicas":0,"availableReplicas":0}'),
    "daemonsets": ("DaemonSet", "apps/v1", b'{"selector":null,"template":%s,"updateStrategy":{}}' % _POD_TEMPLATE,
                   b'{"currentNumberScheduled":0,"numberMisscheduled":0,"desiredNumberScheduled":0,"numberReady":0}'),
    "replicationcontrollers": ("ReplicationController", "v1", b"{}", b'{"replicas":0}'),
    "resourcequotas": ("ResourceQuota", "v1", b"{}", b"{}"),
    "jobs": ("Job", "batch/v1", b'{"template":%s}' % _POD_TEMPLATE, b"{}"),
    "cronjobs": ("CronJob", "batch/v1",
                 b'{"schedule":"","jobTemplate":{"metadata":{"creationTimestamp":null},"spec":{"template":%s}}}'
                 % _POD_TEMPLATE, b"{}"),
}


def bookmark(resource: str, rv: int) -> bytes:
    """The object of a BOOKMARK event: the kind's zero value with only a resourceVersion."""
    if resource in UNSTRUCTURED:
        return b'{"apiVersion":"%s","kind":"%s","metadata":{"resourceVersion":"%d"}}' % (
            ArgoRollout.api_version.encode(), ArgoRollout.kind.encode(), rv)
    kind, api_version, spec, status = _EMPTY[resource]
    return b'{"kind":"%s","apiVersion":"%s","metadata":{"resourceVersion":"%d","creationTimestamp":null},' \
           b'"spec":%s,"status":%s}' % (kind.encode(), api_version.encode(), rv, spec, status)
