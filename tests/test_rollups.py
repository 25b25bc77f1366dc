"""Workload and namespace rows joined from hand-made pods: what a pod's metadata says of its
owner, sums with no data (`-`, never 0 %), limits only some containers set (`~`), finished
pods, quotas, and a refresh with nothing new reusing its rows."""

from __future__ import annotations

import json
from dataclasses import replace
from types import MappingProxyType

import msgspec

from ktopui.batch.namespaces import namespace_table
from ktopui.batch.workloads import workload_table
from ktopui.kube.objects import Pod, ResourceQuota, decode
from ktopui.live.feed import Inputs, Scope, Undecoded
from ktopui.live.joiner import Joiner, new_history
from ktopui.model.namespaces import Quota, QuotaUse, quotas_by_namespace
from ktopui.model.owners import OwnerLink, pod_owner
from ktopui.model.pod_info import SpecMemo, pod_info
from ktopui.model.snapshot import SOURCES, SourceHealth

STAMP = "2026-12-06T20:00:00Z"
HEALTH = MappingProxyType({source: SourceHealth() for source in SOURCES})


def pod(namespace: str, name: str, *, owners: list[dict] | None = None, labels: dict | None = None,
        phase: str = "Running", containers: list[dict] | None = None) -> Pod:
    meta = {"namespace": namespace, "name": name, "labels": labels or {}, "ownerReferences": owners or []}
    containers = containers or [{"name": "app", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]
    return decode(json.dumps({"metadata": meta, "spec": {"nodeName": "n1", "containers": containers},
                              "status": {"phase": phase}}).encode(), Pod)


def controller(kind: str, name: str) -> list[dict]:
    return [{"kind": kind, "name": name, "uid": f"uid-{name}", "controller": True}]


def metrics(namespace: str, name: str, **usage: dict[str, str]) -> msgspec.Raw:
    containers = [{"name": c, "usage": u} for c, u in usage.items()]
    return msgspec.Raw(msgspec.json.encode({"metadata": {"namespace": namespace, "name": name}, "timestamp": STAMP,
                                            "window": "15s", "containers": containers}))


def inputs(pods: list[Pod], samples: list[msgspec.Raw] | None, **extra) -> Inputs:
    memo = SpecMemo()
    infos = {(p.metadata.namespace, p.metadata.name): pod_info(p, memo) for p in pods}
    return Inputs(scope=Scope(), nodes=None, pods=infos, pod_changes=None, node_metrics=None,
                  pod_metrics=Undecoded(samples) if samples is not None else None, pod_metrics_kept=True,
                  health=HEALTH, loading=(), **extra)


def test_a_pods_controller_is_its_owner_and_garbage_references_are_not():
    def owner_of(refs, labels=None):
        return pod_owner(pod("ns", "p-1", owners=refs, labels=labels).metadata)

    assert owner_of([]).kind == "Pod" and owner_of([]).name == "p-1"
    # Not a controller, no kind, no name, or a node (a static pod's mirror): not an owner.
    assert owner_of([{"kind": "Deployment", "name": "x", "uid": "u"}]).kind == "Pod"
    assert owner_of([{"kind": "", "name": "x", "uid": "u", "controller": True}]).kind == "Pod"
    assert owner_of([{"kind": "StatefulSet", "uid": "u", "controller": True}]).kind == "Pod"
    assert owner_of(controller("Node", "node-1")).kind == "Pod"
    assert (owner_of(controller("Rollout", "cart")).kind, owner_of(controller("Rollout", "cart")).guess) == (
        "Rollout", None)
    rs = owner_of(controller("ReplicaSet", "web-7d4b9"), {"pod-template-hash": "7d4b9"})
    assert rs.guess == OwnerLink("Deployment", "web")
    # A hash that is not the name's end tells nothing.
    assert owner_of(controller("ReplicaSet", "web-7d4b9"), {"pod-template-hash": "zzz"}).guess is None
    argo = owner_of(controller("ReplicaSet", "cart-6c9f"), {"rollouts-pod-template-hash": "6c9f"})
    assert argo.guess == OwnerLink("Rollout", "cart")
    assert owner_of(controller("Job", "nightly-29419200")).guess == OwnerLink("CronJob", "nightly")
    assert owner_of(controller("Job", "db-backfill")).guess is None


def test_a_workload_without_metrics_shows_dashes_never_zero_percent():
    pods = [pod("web", "api-0", owners=controller("StatefulSet", "api")),
            pod("web", "api-1", owners=controller("StatefulSet", "api"), phase="Pending"),
            pod("web", "queue-0", owners=controller("StatefulSet", "queue"), phase="Pending")]
    snapshot = Joiner(new_history()).step(inputs(pods, [metrics("web", "api-0", app={"cpu": "1500000n",
                                                                                       "memory": "1Mi"})]))
    rows = {r.name: r for r in snapshot.workloads}
    assert rows["queue"].usage.cpu_milli is None and rows["queue"].cpu_req_pct is None
    assert rows["queue"].requests.cpu_milli == 100  # it still asks for its requests
    # The percentages of api are of the pod that reports usage only (2m of 100m, not of 200m).
    assert rows["api"].usage.cpu_milli == 2 and rows["api"].cpu_req_pct == 2 and rows["api"].requests.cpu_milli == 200
    line = workload_table([rows["queue"]], no_headers=True).split()
    assert line == ["StatefulSet", "queue", "0/1", "0", "-", "-", "-", "-", "-", "-"]


def test_usage_sums_exact_nano_cores_rounded_once():
    pods = [pod("web", f"api-{i}", owners=controller("DaemonSet", "api")) for i in range(3)]
    samples = [metrics("web", f"api-{i}", app={"cpu": "1500000n", "memory": "1048577"}) for i in range(3)]
    snapshot = Joiner(new_history()).step(inputs(pods, samples))
    (row,) = snapshot.workloads
    assert row.usage.cpu_milli == 5  # 4.5m rounded up once, not 2m + 2m + 2m
    assert row.usage.mem_bytes == 3 * 1048577
    assert snapshot.namespaces[0].usage.cpu_milli == 5


def test_limits_only_some_containers_set_are_marked_partial():
    sidecar = [{"name": "app", "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "200m"}}},
               {"name": "proxy", "resources": {"requests": {"cpu": "10m"}}}]
    bounded = [{"name": "app", "resources": {"requests": {"cpu": "100m"}, "limits": {"cpu": "200m"}}}]
    pods = [pod("web", "a-1", owners=controller("StatefulSet", "a"), containers=sidecar),
            pod("web", "b-1", owners=controller("StatefulSet", "b"), containers=bounded)]
    samples = [metrics("web", "a-1", app={"cpu": "100m", "memory": "1Mi"}, proxy={"cpu": "50m", "memory": "1Mi"}),
               metrics("web", "b-1", app={"cpu": "100m", "memory": "1Mi"})]
    rows = {r.name: r for r in Joiner(new_history()).step(inputs(pods, samples)).workloads}
    assert (rows["a"].cpu_limit_share.used_milli, rows["a"].cpu_limit_share.limit_milli) == (100, 200)
    assert rows["a"].cpu_limit_share.partial and rows["a"].cpu_lim_pct == 50
    assert not rows["b"].cpu_limit_share.partial and rows["b"].cpu_lim_pct == 50
    assert workload_table([rows["a"]], no_headers=True).split()[6] == "~50%"


def test_finished_pods_count_but_reserve_nothing():
    pods = [pod("batch", "nightly-29419200-x", owners=controller("Job", "nightly-29419200"), phase="Succeeded"),
            pod("batch", "nightly-29419260-y", owners=controller("Job", "nightly-29419260"))]
    snapshot = Joiner(new_history()).step(inputs(pods, [], owners=MappingProxyType({"jobs": {
        ("batch", "nightly-29419200"): OwnerLink("CronJob", "nightly"),
        ("batch", "nightly-29419260"): OwnerLink("CronJob", "nightly")}})))
    (row,) = snapshot.workloads
    assert (row.kind, row.name, row.pods_text, row.inferred) == ("CronJob", "nightly", "1/2", False)
    assert row.requests.cpu_milli == 100


def test_a_namespace_shows_its_tightest_quota():
    quotas = [decode(json.dumps(q).encode(), ResourceQuota) for q in (
        {"metadata": {"namespace": "web", "name": "big"},
         "status": {"hard": {"requests.cpu": "8", "limits.memory": "16Gi", "pods": "100"},
                    "used": {"requests.cpu": "2", "limits.memory": "4Gi"}}},
        {"metadata": {"namespace": "web", "name": "small"},
         "status": {"hard": {"requests.cpu": "4", "requests.memory": "bogus"}, "used": {"requests.cpu": "2"}}},
        {"metadata": {"namespace": "batch", "name": "pods-only"}, "status": {"hard": {"pods": "10"}}},
    )]
    assert quotas_by_namespace(quotas) == {"web": Quota(requests_cpu=QuotaUse(2000, 4000),
                                                        limits_memory=QuotaUse(4 << 30, 16 << 30))}
    pods = [pod("web", "a"), pod("batch", "b")]
    snapshot = Joiner(new_history()).step(inputs(pods, [metrics("web", "a", app={"cpu": "1m", "memory": "1Mi"})],
                                                 quotas=quotas))
    rows = {r.namespace: r for r in snapshot.namespaces}
    assert rows["web"].quota_pct("requests.cpu") == 50 and rows["web"].quota_pct("limits.memory") == 25
    assert rows["web"].quota_pct("requests.memory") is None and rows["batch"].quota is None
    assert namespace_table([rows["web"]], no_headers=True).split()[-4:] == ["50%", "-", "-", "25%"]


def test_a_refresh_with_nothing_new_reuses_the_rollups():
    joiner = Joiner(new_history())
    first_inputs = inputs([pod("web", "a", owners=controller("StatefulSet", "s"))],
                          [metrics("web", "a", app={"cpu": "1m", "memory": "1Mi"})])
    first = joiner.step(first_inputs)
    again = joiner.step(replace(first_inputs, pod_metrics=None))
    assert again.workloads is first.workloads and again.namespaces is first.namespaces
    assert [w.name for w in again.workloads] == ["s"]
