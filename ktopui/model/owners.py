"""Which workload a pod belongs to: its controller owner, followed to the top.

A pod names its controller in `metadata.ownerReferences` (the reference with
`controller: true`). A ReplicaSet is in turn owned by a Deployment (or a
custom controller such as an Argo `Rollout`), a Job by a CronJob; those two
links come from metadata-only lists of ReplicaSets and Jobs (`OwnerMap`).
StatefulSets, DaemonSets, ReplicationControllers and custom controllers own
their pods directly; a pod without a controller is a workload of its own
(kind `Pod`), and so is a static pod, whose "controller" is its node.

Where the ReplicaSets or Jobs cannot be read (not allowed, not listed yet, or
an object the list does not have yet), the top is inferred from what the pod
carries, as Kubernetes names things: a ReplicaSet is `<deployment>-<pod-template-hash>`,
a CronJob's Job `<cronjob>-<scheduled minute>`. Such workloads are marked inferred.

The per-pod part (`pod_owner`) runs once per watch event for the pod; the
resolution runs once per distinct owner, not per pod, and again only when an
entry of the maps it rests on changes (`changed_entries`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import msgspec

from ktopui.kube.objects import ObjectMeta, OwnerReference

# Pod labels that tell a ReplicaSet's owner: the label, and the owner's kind.
HASH_LABELS = (("pod-template-hash", "Deployment"), ("rollouts-pod-template-hash", "Rollout"))
# A CronJob names its Jobs after the scheduled time in minutes since the epoch (8 digits
# since 1989; a Job of its own named `backfill-2` is not taken for one).
_SCHEDULED_JOB = re.compile(r"(.+)-([0-9]{8,12})")
# The kinds whose owner comes from an OwnerMap, and that map's name.
FOLLOWED = {"ReplicaSet": "replicasets", "Job": "jobs"}
MAX_DEPTH = 8  # owner links followed at most (an owner cycle ends here, not in a loop)


class OwnerLink(msgspec.Struct, frozen=True, gc=False):
    """One object's controller: its kind and name (in the object's namespace)."""

    kind: str
    name: str


class PodOwner(msgspec.Struct, frozen=True, gc=False):
    """What a pod says of its owner: its controller, and the top guessed from its labels
    (for when the controller's own owner cannot be read)."""

    namespace: str
    kind: str  # the controller's kind; "Pod" for a pod without one
    name: str
    guess: OwnerLink | None = None


class WorkloadId(msgspec.Struct, frozen=True, gc=False):
    """A workload: the top of its pods' owner chains."""

    kind: str
    namespace: str
    name: str
    inferred: bool = False  # resolved from names and labels, not from the owner objects


# (namespace, name) of a ReplicaSet or Job -> its controller (None: it has none).
OwnerMap = Mapping[tuple[str, str], OwnerLink | None]


def controller_of(meta: ObjectMeta) -> OwnerLink | None:
    """The controller an object's metadata names (None: none, or only a reference that is not one)."""
    ref = next((r for r in meta.ownerReferences if r.controller), None)
    return _link(ref) if ref is not None else None


def _link(ref: OwnerReference) -> OwnerLink | None:
    if not ref.kind or not ref.name:
        return None  # nothing to name a workload by: not an owner
    return OwnerLink(ref.kind, ref.name)


def pod_owner(meta: ObjectMeta) -> PodOwner:
    """A pod's owner as its metadata says it (once per watch event for the pod)."""
    link = controller_of(meta)
    if link is None or link.kind == "Node":  # (a static pod's mirror: its own workload)
        return PodOwner(meta.namespace, "Pod", meta.name)
    guess = None
    if link.kind == "ReplicaSet":
        labels = meta.labels
        for label, kind in HASH_LABELS:
            hash_ = labels.get(label)
            if hash_ and link.name.endswith(f"-{hash_}") and len(link.name) > len(hash_) + 1:
                guess = OwnerLink(kind, link.name[: -len(hash_) - 1])
                break
    elif link.kind == "Job":
        scheduled = _SCHEDULED_JOB.fullmatch(link.name)
        if scheduled is not None:
            guess = OwnerLink("CronJob", scheduled.group(1))
    return PodOwner(meta.namespace, link.kind, link.name, guess)


def resolve(owner: PodOwner, maps: Mapping[str, OwnerMap | None], trail: list | None = None) -> WorkloadId:
    """The workload of a pod whose owner is `owner`, given the ReplicaSets' and Jobs' owners
    (`maps["replicasets"]`, `maps["jobs"]`; None: not readable).

    `trail`: if given, the map entries the answer rests on are added to it, as
    (map name, namespace, name): it holds while those entries stay the same."""
    namespace, kind, name = owner.namespace, owner.kind, owner.name
    seen = {(kind, name)}
    for _ in range(MAX_DEPTH):
        source = FOLLOWED.get(kind)
        if source is None:
            return WorkloadId(kind, namespace, name)
        if trail is not None:
            trail.append((source, namespace, name))
        known = maps.get(source)
        if known is None or (namespace, name) not in known:
            # Not readable, or not (yet) in the list: what the names say.
            if kind == owner.kind and name == owner.name and owner.guess is not None:
                return WorkloadId(owner.guess.kind, namespace, owner.guess.name, inferred=True)
            return WorkloadId(kind, namespace, name, inferred=True)
        above = known[(namespace, name)]
        if above is None or (above.kind, above.name) in seen:  # the top, or an owner cycle
            return WorkloadId(kind, namespace, name)
        kind, name = above.kind, above.name
        seen.add((kind, name))
    return WorkloadId(kind, namespace, name)


def changed_entries(before: Mapping[str, OwnerMap | None], now: Mapping[str, OwnerMap | None]) -> set[tuple]:
    """The entries (map name, namespace, name) that differ between two sets of owner maps;
    a map that became readable or unreadable differs in all of its entries."""
    changed: set[tuple] = set()
    for source in before.keys() | now.keys():
        old, new = before.get(source), now.get(source)
        if old is new:
            continue
        if old is None or new is None:
            entries = (old or new or {}).keys()
        else:
            entries = {key for key, _ in old.items() ^ new.items()}
        changed.update((source, namespace, name) for namespace, name in entries)
    return changed
