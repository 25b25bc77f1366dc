"""Workloads on the simulated cluster: every pod's owner chain followed to the top (as the sim's
own objects say), the fallback to labels where ReplicaSets or Jobs may not be read, a rollout
keeping its Deployment's history, and usage that rounds as `kubectl top pods --sum`."""

from __future__ import annotations

import pytest
from helpers.owners import PATHS, read

from ktopui.kube.connection import load_connection
from ktopui.live.session import ClusterSession
from ktopui.model import history_keys
from ktopui.model.history import CPU
from ktopui.model.owners import OwnerLink, PodOwner, WorkloadId, resolve
from ktopui.sim import zoo

EVERY_KIND = {"Deployment", "Rollout", "CronJob", "Job", "StatefulSet", "DaemonSet", "ReplicationController", "Pod"}


@pytest.fixture
def cluster(make_sim_server):
    """Big enough for several replicas per workload and every zoo pod."""
    return make_sim_server(nodes=12, pods_per_node=9, churn_per_minute=0)


def tops(objects: dict[str, list[dict]]) -> dict[tuple[str, str], tuple[str, str, str]]:
    """Each pod's workload as the owner objects say: its controller chain followed to the top;
    a pod without a controller (or a static pod, owned by its node) is its own."""
    by_uid = {o["metadata"]["uid"]: (kind, o) for kind, items in objects.items() for o in items}
    out = {}
    for pod in objects["Pod"]:
        kind, obj = "Pod", pod
        while True:
            refs = [r for r in obj["metadata"].get("ownerReferences", ()) if r.get("controller")]
            if not refs or refs[0]["kind"] == "Node":
                break
            kind, obj = by_uid[refs[0]["uid"]]
        meta = pod["metadata"]
        out[(meta["namespace"], meta["name"])] = (kind, meta["namespace"], obj["metadata"]["name"])
    return out


def workload_of_each_pod(snapshot) -> dict[tuple[str, str], tuple[str, str, str]]:
    return {key: row.key for row in snapshot.workloads for key in snapshot.workload_pods(row.key).keys}


async def settled(session: ClusterSession, *, tries: int = 20):
    """A snapshot once the owner lists are in (or, where refused, given up)."""
    for _ in range(tries):
        snapshot = await session.refresh()
        if snapshot.workloads and (snapshot.notices or not any(w.inferred for w in snapshot.workloads)):
            return snapshot
    raise AssertionError("the owners never settled")


def session_for(server, tmp_path) -> ClusterSession:
    return ClusterSession(load_connection(kubeconfig=str(server.write_kubeconfig(tmp_path / "config"))))


async def test_every_pods_workload_is_the_top_of_its_owner_chain(cluster, sim_api, tmp_path):
    expected = tops(read(sim_api(cluster)))
    session = session_for(cluster, tmp_path)
    try:
        snapshot = await settled(session)
    finally:
        await session.close()
    assert workload_of_each_pod(snapshot) == expected
    assert {row.kind for row in snapshot.workloads} == EVERY_KIND
    assert not any(row.inferred for row in snapshot.workloads) and snapshot.notices == ()
    # The Deployment mid-rollout is one workload over both its ReplicaSets; its old, empty ones are none.
    storefront = next(r for r in snapshot.workloads if r.key == ("Deployment", zoo.NAMESPACE, "storefront"))
    assert storefront.pods == 3 and storefront.pods_text == "3/3"
    assert not any(r.kind == "ReplicaSet" for r in snapshot.workloads)
    rows = {r.key: r for r in snapshot.workloads}
    assert rows[("Pod", zoo.NAMESPACE, "debug-shell")].pods == 1
    assert rows[("Rollout", zoo.NAMESPACE, "cart")].pods >= 1


async def test_replicasets_and_jobs_forbidden_fall_back_to_labels_marked_inferred(cluster, sim_api, tmp_path):
    expected = tops(read(sim_api(cluster)))
    cluster.faults.forbid_replicasets()
    cluster.faults.forbid_jobs()
    session = session_for(cluster, tmp_path)
    try:
        snapshot = await settled(session)
        for _ in range(5):
            snapshot = await session.refresh()
    finally:
        await session.close()
    # The labels and names tell the same tops the objects do.
    assert workload_of_each_pod(snapshot) == expected
    inferred = {r.kind for r in snapshot.workloads if r.inferred}
    assert inferred == {"Deployment", "Rollout", "CronJob", "Job"}
    assert not any(r.inferred for r in snapshot.workloads if r.kind in ("StatefulSet", "DaemonSet", "Pod"))
    assert snapshot.notices == (
        "CronJobs inferred from Job names: jobs.batch may not be listed",
        "Deployments inferred from pod labels: replicasets.apps may not be listed",
    )
    # Refused once, not asked again on every refresh.
    for path in (PATHS["ReplicaSet"], PATHS["Job"]):
        assert 1 <= sum(r.path == path for r in cluster.requests) <= 3


async def test_a_rollout_keeps_the_deployments_workload_and_its_history(make_sim_server, tmp_path):
    server = make_sim_server(nodes=12, pods_per_node=9, churn_per_minute=6)
    key = ("Deployment", zoo.NAMESPACE, "storefront")
    session = session_for(server, tmp_path)
    try:
        snapshot = await settled(session)
        before = set(snapshot.workload_pods(key).keys)
        server.cluster.roll_out(zoo.NAMESPACE, "storefront")
        for _ in range(12):  # a new ReplicaSet comes up and takes over, tick by tick
            server.cluster.advance(30)
            snapshot = await session.refresh()
        after = set(snapshot.workload_pods(key).keys)
        history = session.history.series(history_keys.workload(*key), CPU)
    finally:
        await session.close()
    assert after - before, "the rollout replaced no pod"
    assert {r.name for r in snapshot.workloads if r.namespace == zoo.NAMESPACE and r.kind == "Deployment"} == {
        "storefront"}
    assert len(history) >= 10  # one sample per metrics list, across both ReplicaSets


async def test_workload_usage_rounds_once_like_kubectl_top_sum(cluster, tmp_path):
    session = session_for(cluster, tmp_path)
    try:
        snapshot = await settled(session)
    finally:
        await session.close()
    for row in snapshot.workloads:
        pods = snapshot.workload_pods(row.key)
        measured = [p.sample for p in pods if p.sample is not None]
        if not measured:
            assert row.usage.cpu_milli is None and row.cpu_req_pct is None and row.mem_req_pct is None
            continue
        assert row.usage.cpu_milli == -(-sum(s.cpu_nanos for s in measured) // 1_000_000)
        assert row.usage.mem_bytes == -(-sum(s.usage.mem_milli for s in measured) // 1000)


def test_an_owner_cycle_ends_where_it_closes():
    owner = PodOwner("ns", "Job", "a")
    jobs = {("ns", "a"): OwnerLink("Job", "b"), ("ns", "b"): OwnerLink("Job", "a")}
    assert resolve(owner, {"jobs": jobs}) == WorkloadId("Job", "ns", "b")


def test_a_replicaset_not_listed_yet_is_inferred_from_the_pods_hash():
    owner = PodOwner("ns", "ReplicaSet", "web-5d4f8", OwnerLink("Deployment", "web"))
    assert resolve(owner, {"replicasets": {}}) == WorkloadId("Deployment", "ns", "web", inferred=True)
    assert resolve(owner, {"replicasets": {("ns", "web-5d4f8"): OwnerLink("Deployment", "web")}}) == WorkloadId(
        "Deployment", "ns", "web")
    assert resolve(owner, {"replicasets": {("ns", "web-5d4f8"): None}}) == WorkloadId("ReplicaSet", "ns", "web-5d4f8")
