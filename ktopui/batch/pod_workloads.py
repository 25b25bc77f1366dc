"""Which workload a pod named in Prometheus belongs to, the pod still there or long gone.

History outlives pods: a week of a Deployment's usage is spread over the pods
of several ReplicaSets, most of them deleted. A pod the cluster still lists
is resolved as `ktopui top workloads` resolves it (model/owners.py: its
controller, followed through the ReplicaSets' and Jobs' metadata). A pod that
is gone is attributed by its name, in this order:

1. `<replicaset>-<5>` or `<job>-<5>` where that ReplicaSet or Job is still
   listed (a Deployment keeps its old ReplicaSets): followed through it, exact;
2. the pattern of a workload the namespace still has, as its controller names
   its pods (krr does the same): Deployment or Rollout `NAME-<hash>-<5>`,
   StatefulSet `NAME-<ordinal>`, DaemonSet, Job and ReplicaSet `NAME-<5>`,
   CronJob `NAME-<scheduled minute>-<5>`; the longest matching name wins
   (`web-api-…` is web-api's, not web's);
3. otherwise the pod is a workload of its own (kind `Pod`).

A pod attributed by 2 marks its workload inferred (`*` in tables).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from ktopui.model.owners import OwnerMap, PodOwner, WorkloadId, pod_owner, resolve

_SUFFIX = r"[a-z0-9]{5}"
_PATTERNS = {
    "Deployment": rf"-[a-z0-9]{{1,10}}-{_SUFFIX}",
    "Rollout": rf"-[a-z0-9]{{1,10}}-{_SUFFIX}",
    "StatefulSet": r"-[0-9]+",
    "DaemonSet": rf"-{_SUFFIX}",
    "Job": rf"-{_SUFFIX}",
    "ReplicaSet": rf"-{_SUFFIX}",
    "ReplicationController": rf"-{_SUFFIX}",
    "CronJob": rf"-[0-9]{{8,12}}-{_SUFFIX}",
}
_CONTROLLER_AND_SUFFIX = re.compile(rf"(.+)-{_SUFFIX}")


class PodWorkloads:
    """Attributes pods of one cluster read to workloads.

    `live`: (namespace, pod) -> the PodOwner the pod's metadata names, for the
    pods the cluster lists; `maps`: the ReplicaSets' and Jobs' owners
    (model/owners.py; a map None: not readable)."""

    def __init__(self, live: Mapping[tuple[str, str], PodOwner], maps: Mapping[str, OwnerMap | None]) -> None:
        self._maps = maps
        self._live = {key: resolve(owner, maps) for key, owner in live.items()}
        known: dict[str, set[tuple[str, str]]] = {}
        for workload in self._live.values():
            if workload.kind != "Pod":
                known.setdefault(workload.namespace, set()).add((workload.kind, workload.name))
        # Longest names first: the first match is the most specific.
        self._known = {ns: sorted(found, key=lambda kn: (-len(kn[1]), kn)) for ns, found in known.items()}
        self._patterns: dict[tuple[str, str], re.Pattern] = {}

    def of(self, namespace: str, pod: str) -> WorkloadId:
        """The workload of the pod `namespace/pod`, listed or gone."""
        found = self._live.get((namespace, pod))
        if found is not None:
            return found
        controller = _CONTROLLER_AND_SUFFIX.fullmatch(pod)
        if controller is not None:
            for kind, source in (("ReplicaSet", "replicasets"), ("Job", "jobs")):
                known = self._maps.get(source)
                if known is not None and (namespace, controller.group(1)) in known:
                    return resolve(PodOwner(namespace, kind, controller.group(1)), self._maps)
        for kind, name in self._known.get(namespace, ()):
            if self._pattern(kind, name).fullmatch(pod):
                return WorkloadId(kind, namespace, name, inferred=True)
        return WorkloadId("Pod", namespace, pod)

    def _pattern(self, kind: str, name: str) -> re.Pattern:
        pattern = self._patterns.get((kind, name))
        if pattern is None:
            pattern = self._patterns[(kind, name)] = re.compile(re.escape(name) + _PATTERNS.get(kind, rf"-{_SUFFIX}"))
        return pattern


def workload_key(workload: WorkloadId) -> tuple[str, str, str]:
    """(namespace, kind, name): the same workload whether its pod was attributed by name or not."""
    return (workload.namespace, workload.kind, workload.name)


def owners_of_pods(pods: Iterable) -> dict[tuple[str, str], PodOwner]:
    """(namespace, name) -> PodOwner for listed pods (kube/objects Pod)."""
    return {(p.metadata.namespace, p.metadata.name): pod_owner(p.metadata) for p in pods}
