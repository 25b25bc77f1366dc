"""Status words for nodes and pods, as `kubectl get` shows them."""

from __future__ import annotations

from ktopui.kube.objects import Node, Pod

ROLE_LABEL_PREFIX = "node-role.kubernetes.io/"


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
    if role := node.metadata.labels.get("kubernetes.io/role"):
        roles.add(role)
    roles.discard("")
    return ",".join(sorted(roles)) or "<none>"


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
