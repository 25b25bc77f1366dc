"""The keys history is kept under: a node, a pod, a container, a workload, a namespace, the whole cluster.

A key is a tuple whose first item is its kind, so History can give each kind
its own capacity (see history.py). A pod's row key (namespace, name) says
which row a table shows; these say whose samples a trend draws.
"""

from __future__ import annotations

HistoryKey = tuple

CLUSTER: HistoryKey = ("cluster",)


def node(name: str) -> HistoryKey:
    return ("node", name)


def pod(namespace: str, name: str) -> HistoryKey:
    return ("pod", namespace, name)


def container(namespace: str, pod_name: str, name: str) -> HistoryKey:
    return ("container", namespace, pod_name, name)


def of_container(namespace: str, pod_name: str, name: str, measured: tuple[str, ...]) -> HistoryKey:
    """Where a container's history is kept: its pod's own when it is the only one of the pod
    measured (`measured`: the names of the containers the pod's metrics have), as the join
    records them."""
    if measured == (name,):
        return pod(namespace, pod_name)
    return container(namespace, pod_name, name)


def workload(kind: str, namespace: str, name: str) -> HistoryKey:
    """A workload's summed usage: kept under its top owner, so a Deployment's new ReplicaSet
    (a rollout) goes on with the same history."""
    return ("workload", kind, namespace, name)


def namespace(name: str) -> HistoryKey:
    return ("namespace", name)
