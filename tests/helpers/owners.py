"""Reading a cluster's pods and the objects that own them, and checking that they agree
(the owner chain of every pod, the counts in every owner's status)."""

from __future__ import annotations

import json
from collections import defaultdict

# kind -> list path, for every kind that owns pods (or limits them)
PATHS = {
    "Node": "/api/v1/nodes",
    "Pod": "/api/v1/pods",
    "ReplicationController": "/api/v1/replicationcontrollers",
    "ResourceQuota": "/api/v1/resourcequotas",
    "Deployment": "/apis/apps/v1/deployments",
    "ReplicaSet": "/apis/apps/v1/replicasets",
    "StatefulSet": "/apis/apps/v1/statefulsets",
    "DaemonSet": "/apis/apps/v1/daemonsets",
    "Job": "/apis/batch/v1/jobs",
    "CronJob": "/apis/batch/v1/cronjobs",
    "Rollout": "/apis/argoproj.io/v1alpha1/rollouts",
}
METADATA_LIST = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
METADATA = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"


def read(api) -> dict[str, list[dict]]:
    """Every object of every kind in PATHS, by kind."""
    return {kind: api.get(path).json()["items"] for kind, path in PATHS.items()}


def by_kind(items: list[dict]) -> dict[str, list[dict]]:
    """A kubectl `-o json` List of several kinds, by kind."""
    out: dict[str, list[dict]] = defaultdict(list)
    for item in items:
        out[item["kind"]].append(item)
    return out


def events(response, count: int | None = None) -> list[dict]:
    """Read `count` more watch events (or all until the stream ends)."""
    if not hasattr(response, "lines"):
        response.lines = response.iter_lines()
    out = []
    for line in response.lines:
        if line:
            out.append(json.loads(line))
            if count is not None and len(out) == count:
                break
    return out


def selected(selector: dict, labels: dict[str, str]) -> bool:
    """A LabelSelector's matchLabels (or a ReplicationController's map) against labels."""
    wanted = selector.get("matchLabels", selector) if "matchExpressions" not in selector else None
    assert wanted is not None, "only matchLabels selectors are expected"
    return all(labels.get(k) == v for k, v in wanted.items())


def ready(pod: dict) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions", ()))


def owner_problems(objects: dict[str, list[dict]]) -> list[str]:
    """What is wrong with the owner chains of the pods: every reference must name an object
    that exists (kind, name, namespace, uid), whose selector picks the pod, up to the top."""
    by_uid: dict[str, tuple[str, dict]] = {}
    problems = []
    for kind, items in objects.items():
        for obj in items:
            uid = obj["metadata"]["uid"]
            if uid in by_uid:
                problems.append(f"uid {uid} of {kind} {obj['metadata']['name']} is also "
                                f"{by_uid[uid][0]} {by_uid[uid][1]['metadata']['name']}")
            by_uid[uid] = (kind, obj)

    def follow(child_kind: str, child: dict) -> None:
        meta = child["metadata"]
        for ref in meta.get("ownerReferences", ()):
            what = f"{child_kind} {meta.get('namespace')}/{meta['name']}"
            if not ref.get("controller"):
                problems.append(f"{what}: owner {ref['name']} is not its controller")
            found = by_uid.get(ref["uid"])
            if found is None:
                problems.append(f"{what}: no {ref['kind']} with uid {ref['uid']} ({ref['name']})")
                continue
            kind, owner = found
            if (kind, owner["metadata"]["name"]) != (ref["kind"], ref["name"]):
                problems.append(f"{what}: reference says {ref['kind']} {ref['name']}, uid is {kind} "
                                f"{owner['metadata']['name']}")
            if kind == "Node":
                continue
            if owner["metadata"]["namespace"] != meta["namespace"]:
                problems.append(f"{what}: owner in namespace {owner['metadata']['namespace']}")
            if child_kind == "Pod" and not selected(owner["spec"]["selector"], meta.get("labels", {})):
                problems.append(f"{what}: the selector of {kind} {ref['name']} does not pick it")
            follow(kind, owner)

    for pod in objects["Pod"]:
        follow("Pod", pod)
    return problems


def owned_pods(objects: dict[str, list[dict]]) -> dict[str, list[dict]]:
    """Pods by the uid of the object that owns them."""
    out: dict[str, list[dict]] = defaultdict(list)
    for pod in objects["Pod"]:
        for ref in pod["metadata"].get("ownerReferences", ()):
            out[ref["uid"]].append(pod)
    return out


def count_problems(objects: dict[str, list[dict]]) -> list[str]:
    """Where an owner's status does not count its pods as they are."""
    pods = owned_pods(objects)
    problems = []

    def check(kind: str, obj: dict, got: dict, want: dict) -> None:
        for field, value in want.items():
            if got.get(field, 0) != value:
                problems.append(f"{kind} {obj['metadata']['namespace']}/{obj['metadata']['name']}: {field} "
                                f"{got.get(field, 0)}, its pods say {value}")

    for kind in ("ReplicaSet", "ReplicationController", "StatefulSet"):
        for obj in objects[kind]:
            mine = pods[obj["metadata"]["uid"]]
            check(kind, obj, {**obj["status"], "spec.replicas": obj["spec"]["replicas"]},
                  {"replicas": len(mine), "readyReplicas": sum(map(ready, mine)), "spec.replicas": len(mine)})
    for obj in objects["DaemonSet"]:
        mine = pods[obj["metadata"]["uid"]]
        check("DaemonSet", obj, obj["status"], {"currentNumberScheduled": len(mine),
                                               "desiredNumberScheduled": len(mine),
                                               "numberReady": sum(map(ready, mine))})
    for obj in objects["Job"]:
        mine = pods[obj["metadata"]["uid"]]
        check("Job", obj, obj["status"], {
            "active": sum(p["status"]["phase"] in ("Pending", "Running") for p in mine),
            "succeeded": sum(p["status"]["phase"] == "Succeeded" for p in mine), "ready": sum(map(ready, mine))})
    sets = defaultdict(list)
    for rs in objects["ReplicaSet"]:
        (ref,) = rs["metadata"]["ownerReferences"]
        sets[ref["uid"]].append(rs)
    for kind in ("Deployment", "Rollout"):
        for obj in objects[kind]:
            mine = sorted(sets[obj["metadata"]["uid"]], key=revision)
            every = [p for rs in mine for p in pods[rs["metadata"]["uid"]]]
            check(kind, obj, {**obj["status"], "spec.replicas": obj["spec"]["replicas"]},
                  {"replicas": len(every), "readyReplicas": sum(map(ready, every)), "spec.replicas": len(every),
                   "updatedReplicas": len(pods[mine[-1]["metadata"]["uid"]])})
    return problems


def revision(rs: dict) -> int:
    annotations = rs["metadata"]["annotations"]
    return int(annotations.get("deployment.kubernetes.io/revision") or annotations["rollout.argoproj.io/revision"])
