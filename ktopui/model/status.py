"""Status words for nodes and pods, as `kubectl get` shows them."""

from __future__ import annotations

from ktopui.kube.objects import Node, NodeSpec, NodeStatus, ObjectMeta, Pod

ROLE_LABEL_PREFIX = "node-role.kubernetes.io/"
ROLE_LABEL = "kubernetes.io/role"
# Where provisioners name a node's pool (Karpenter, EKS, GKE, AKS), and the
# instance type as the last resort: the first one a node carries names its pool.
POOL_LABELS = (
    "karpenter.sh/nodepool",
    "eks.amazonaws.com/nodegroup",
    "cloud.google.com/gke-nodepool",
    "agentpool",
    "node.kubernetes.io/instance-type",
)
NO_POOL = "-"  # the pool of nodes without any of the labels (no label value can be "-")


def node_status(node: Node) -> str:
    """`Ready`, `NotReady` or `Unknown`, plus `,SchedulingDisabled` when cordoned.

    Like `kubectl get nodes`: a Ready condition that is False or Unknown (the
    kubelet stopped reporting) reads NotReady; no Ready condition, Unknown.
    """
    ready = next((c for c in node.status.conditions if c.type == "Ready"), None)
    if ready is None:
        status = "Unknown"
    else:
        status = "Ready" if ready.status == "True" else "NotReady"
    if node.spec.unschedulable:
        status += ",SchedulingDisabled"
    return status


def node_roles(node: Node) -> str:
    roles = {k[len(ROLE_LABEL_PREFIX):] for k in node.metadata.labels if k.startswith(ROLE_LABEL_PREFIX)}
    if role := node.metadata.labels.get(ROLE_LABEL):
        roles.add(role)
    roles.discard("")
    return ",".join(sorted(roles)) or "<none>"


def node_pool(labels: dict[str, str], pool_labels: tuple[str, ...]) -> str:
    """The value of the first of `pool_labels` the node carries (an empty value does not
    count), or NO_POOL."""
    return next((labels[key] for key in pool_labels if labels.get(key)), NO_POOL)


def lean_node(node: Node, pool_labels: frozenset[str] = frozenset(POOL_LABELS)) -> Node:
    """The node with only what node_status, node_roles and node rows read (its pool's
    label among them, and its allocatable pods).

    A watch cache of 5,000 whole nodes held about 20 MB, most of it labels
    (15 a node on EKS) and resources other than cpu and memory.
    """
    meta, spec, status = node.metadata, node.spec, node.status
    return Node(
        metadata=ObjectMeta(
            name=meta.name,
            labels={k: v for k, v in meta.labels.items()
                    if k.startswith(ROLE_LABEL_PREFIX) or k == ROLE_LABEL or k in pool_labels},
            resourceVersion=meta.resourceVersion,
        ),
        spec=NodeSpec(unschedulable=spec.unschedulable) if spec.unschedulable else NodeSpec(),
        status=NodeStatus(
            capacity={k: v for k, v in status.capacity.items() if k in ("cpu", "memory")},
            allocatable={k: v for k, v in status.allocatable.items() if k in ("cpu", "memory", "pods")},
            conditions=[c for c in status.conditions if c.type == "Ready"][:1],
        ),
    )


def pod_status(pod: Pod) -> str:
    """The STATUS column of `kubectl get pods`, in its common cases."""
    if pod.metadata.deletionTimestamp:
        return "Terminating"
    status = pod.status
    reason = status.reason or status.phase or "Unknown"
    for i, cs in enumerate(status.initContainerStatuses):
        state = cs.state
        if state.terminated is not None and state.terminated.exitCode == 0:
            continue
        if cs.ready:  # a started sidecar
            continue
        if state.waiting is not None and state.waiting.reason and state.waiting.reason != "PodInitializing":
            return f"Init:{state.waiting.reason}"
        if state.terminated is not None:
            return f"Init:{state.terminated.reason or 'Error'}"
        return f"Init:{i}/{len(pod.spec.initContainers)}"
    for cs in status.containerStatuses:
        state = cs.state
        if state.waiting is not None and state.waiting.reason:
            reason = state.waiting.reason
        elif state.terminated is not None and state.terminated.reason:
            reason = state.terminated.reason
    return reason


def pod_ready(pod: Pod) -> str:
    statuses = pod.status.containerStatuses
    ready = sum(1 for s in statuses if s.ready)
    return f"{ready}/{len(pod.spec.containers)}"


def pod_restarts(pod: Pod) -> int:
    sidecars = {c.name for c in pod.spec.initContainers if c.restartPolicy == "Always"}
    return sum(s.restartCount for s in pod.status.containerStatuses) + sum(
        s.restartCount for s in pod.status.initContainerStatuses if s.name in sidecars
    )
