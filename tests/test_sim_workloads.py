"""The objects behind the pods, as the real kubectl and plain HTTPS read them: every owner
kind, owner chains that hold for every pod, statuses that count the pods, rollouts over time,
and the workload mix of a large cluster."""

from __future__ import annotations

import json
import math
import random

import pytest
from helpers.kubectl import KUBECTL, kubectl
from helpers.owners import METADATA, by_kind, count_problems, events, owned_pods, owner_problems, read, revision

from ktopui.sim import controllers, world, zoo
from ktopui.sim.cluster import CHURN_PERIOD

needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl 1.33 is not installed beside the dispatcher")
KINDS = "deploy,rs,sts,ds,cronjob,job,rc,rollouts,quota,pods"


@pytest.fixture
def cluster(make_sim_server):
    """A cluster big enough for several replicas per workload and every zoo pod."""
    return make_sim_server(nodes=12, pods_per_node=9)


@needs_kubectl
def test_kubectl_gets_every_owner_kind_and_every_pods_owner_chain_holds(cluster, tmp_path):
    config = str(cluster.write_kubeconfig(tmp_path / "config"))
    result = kubectl(config, "get", KINDS, "-A", "-o", "json")
    assert result.returncode == 0, result.stderr
    objects = by_kind(json.loads(result.stdout)["items"])
    objects["Node"] = json.loads(kubectl(config, "get", "nodes", "-o", "json").stdout)["items"]
    assert {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "CronJob", "Job", "ReplicationController",
            "Rollout", "ResourceQuota", "Pod"} <= set(objects)
    assert owner_problems(objects) == []
    assert count_problems(objects) == []
    tops = {}
    for pod in objects["Pod"]:
        kind, chain = "Pod", pod
        while refs := chain["metadata"].get("ownerReferences"):
            kind = refs[0]["kind"]
            chain = next(o for o in objects[kind] if o["metadata"]["uid"] == refs[0]["uid"])
        tops.setdefault(kind, pod["metadata"]["name"])
    # pod -> ReplicaSet -> Deployment/Rollout, pod -> Job -> CronJob, pod -> Job, the rest direct, bare pods
    assert set(tops) == {"Deployment", "Rollout", "CronJob", "Job", "StatefulSet", "DaemonSet",
                         "ReplicationController", "Node", "Pod"}
    assert tops["Pod"] == "debug-shell" and tops["Job"].startswith("db-backfill-")


@needs_kubectl
def test_kubectl_describes_a_deployment_in_the_middle_of_a_rollout(cluster, tmp_path):
    config = str(cluster.write_kubeconfig(tmp_path / "config"))
    result = kubectl(config, "describe", "deployment", "-n", zoo.NAMESPACE, "storefront")
    assert result.returncode == 0, result.stderr
    lines = {line.split(":", 1)[0]: line.split(":", 1)[1].strip() for line in result.stdout.splitlines()
             if ":" in line and not line.startswith(" ")}
    assert lines["Replicas"] == "3 desired | 1 updated | 3 total | 3 available | 0 unavailable"
    assert "(2/2 replicas created)" in lines["OldReplicaSets"] and "(1/1 replicas created)" in lines["NewReplicaSet"]
    assert "Progressing    True    ReplicaSetUpdated" in result.stdout


def test_old_replicasets_are_kept_scaled_to_zero(cluster, sim_api):
    objects = read(sim_api(cluster))
    pods = owned_pods(objects)
    sets: dict[str, list[dict]] = {}
    for rs in objects["ReplicaSet"]:
        sets.setdefault(rs["metadata"]["ownerReferences"][0]["uid"], []).append(rs)
    old = 0
    for deployment in objects["Deployment"] + objects["Rollout"]:
        mine = sorted(sets[deployment["metadata"]["uid"]], key=revision)
        assert [revision(rs) for rs in mine] == list(range(1, len(mine) + 1))
        current = mine[-1]
        assert current["metadata"]["labels"] == {**deployment["spec"]["selector"]["matchLabels"],
                                                 **current["spec"]["selector"]["matchLabels"]}
        for rs in mine[:-1]:
            if not pods[rs["metadata"]["uid"]]:  # scaled down, kept for `kubectl rollout undo`
                old += 1
                assert rs["spec"]["replicas"] == 0 and rs["status"] == {"replicas": 0, "observedGeneration": 2}
        annotations = deployment["metadata"]["annotations"]
        assert int(annotations.get("deployment.kubernetes.io/revision")
                   or annotations["rollout.argoproj.io/revision"]) == revision(current)
    assert old >= 5


def test_a_deployment_rolls_out_batch_by_batch_and_every_pod_stays_owned(make_sim_server, sim_api):
    server = make_sim_server(nodes=12, pods_per_node=9, churn_per_minute=6)
    api = sim_api(server)
    objects = read(api)
    pods = owned_pods(objects)
    deployment = max(objects["Deployment"], key=lambda d: d["spec"]["replicas"])
    namespace, name = deployment["metadata"]["namespace"], deployment["metadata"]["name"]
    replicas = deployment["spec"]["replicas"]
    assert replicas >= 4
    before = {rs["metadata"]["name"] for rs in objects["ReplicaSet"]
              if rs["metadata"]["ownerReferences"][0]["uid"] == deployment["metadata"]["uid"]}
    path = f"/apis/apps/v1/namespaces/{namespace}/replicasets"
    rv = api.get(path).json()["metadata"]["resourceVersion"]
    server.cluster.roll_out(namespace, name)
    seen_mixed = False
    for _ in range(60):
        server.cluster.advance(CHURN_PERIOD)
        objects = read(api)
        assert owner_problems(objects) == [] and count_problems(objects) == []
        mine = sorted((rs for rs in objects["ReplicaSet"]
                       if rs["metadata"]["ownerReferences"][0]["uid"] == deployment["metadata"]["uid"]), key=revision)
        pods = owned_pods(objects)
        with_pods = [rs for rs in mine if pods[rs["metadata"]["uid"]]]
        seen_mixed |= len(with_pods) == 2
        current = next(d for d in objects["Deployment"] if d["metadata"]["name"] == name
                       and d["metadata"]["namespace"] == namespace)
        if current["status"]["conditions"][1]["reason"] == "NewReplicaSetAvailable" and len(mine) > len(before):
            break
    else:
        raise AssertionError("the rollout did not finish within five minutes")
    assert seen_mixed, "no moment with pods of both revisions"
    new = mine[-1]
    assert new["metadata"]["name"] not in before and revision(new) == len(mine)
    assert [rs["metadata"]["name"] for rs in with_pods] == [new["metadata"]["name"]]
    assert len(pods[new["metadata"]["uid"]]) == replicas
    restarted = new["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
    for pod in pods[new["metadata"]["uid"]]:
        assert pod["metadata"]["labels"]["pod-template-hash"] == new["metadata"]["labels"]["pod-template-hash"]
        assert pod["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"] == restarted
    assert all(rs["spec"]["replicas"] == 0 for rs in mine[:-1])
    with api.stream("GET", path, params={"watch": "1", "resourceVersion": rv, "timeoutSeconds": "1"},
                    headers={"Accept": METADATA}) as response:
        seen = events(response)
    mine_seen = [e for e in seen if e["object"]["metadata"]["name"].startswith(f"{name}-")]
    assert mine_seen[0]["type"] == "ADDED" and mine_seen[0]["object"]["metadata"]["name"] == new["metadata"]["name"]
    assert {e["type"] for e in mine_seen} == {"ADDED", "MODIFIED"}


def test_with_the_clock_running_deployments_roll_out_now_and_then(make_sim_server, sim_api):
    server = make_sim_server(nodes=12, pods_per_node=9, churn_per_minute=12)
    api = sim_api(server)
    before = {(d["metadata"]["namespace"], d["metadata"]["name"]): d["metadata"]["annotations"]
              for d in api.get("/apis/apps/v1/deployments").json()["items"]}
    sets = len(api.get("/apis/apps/v1/replicasets").json()["items"])
    server.cluster.advance(1800)
    after = api.get("/apis/apps/v1/deployments").json()["items"]
    rolled = [d for d in after if d["metadata"]["annotations"] != before[(d["metadata"]["namespace"],
                                                                         d["metadata"]["name"])]]
    assert len(rolled) >= 2
    assert len(api.get("/apis/apps/v1/replicasets").json()["items"]) > sets
    assert owner_problems(read(api)) == []


def test_cronjobs_make_jobs_and_clean_them_up_as_their_pods_come_and_go(make_sim_server, sim_api):
    server = make_sim_server(nodes=12, pods_per_node=9, churn_per_minute=6)
    api = sim_api(server)
    first = {j["metadata"]["name"] for j in api.get("/apis/batch/v1/jobs").json()["items"]}
    server.cluster.advance(4 * 3600)
    objects = read(api)
    now = {j["metadata"]["name"] for j in objects["Job"]}
    assert now - first and first - now  # new Jobs, and Jobs cleaned up (the Job of its own stays)
    assert "db-backfill" in first & now
    assert owner_problems(objects) == [] and count_problems(objects) == []
    for cron in objects["CronJob"]:
        jobs = [j for j in objects["Job"] if j["metadata"].get("ownerReferences", [{}])[0].get("uid")
                == cron["metadata"]["uid"]]
        active = {j["metadata"]["name"] for j in jobs if "completionTime" not in j["status"]}
        assert {a["name"] for a in cron["status"].get("active", ())} == active
        assert cron["status"]["lastScheduleTime"] >= max(j["metadata"]["creationTimestamp"][:17] for j in jobs)


@needs_kubectl
@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet", "DaemonSet", "Rollout"])
def test_kubectl_top_pods_with_a_workloads_selector_sums_exactly_its_pods(cluster, sim_api, tmp_path, kind):
    api = sim_api(cluster)
    config = str(cluster.write_kubeconfig(tmp_path / "config"))
    objects = read(api)
    pods = owned_pods(objects)
    metrics = {(m["metadata"]["namespace"], m["metadata"]["name"]): m
               for m in api.get("/apis/metrics.k8s.io/v1beta1/pods").json()["items"]}
    sets = {rs["metadata"]["uid"]: rs["metadata"]["ownerReferences"][0]["uid"] for rs in objects["ReplicaSet"]}
    for workload in sorted(objects[kind], key=lambda o: -o["spec"].get("replicas", 99))[:3]:
        uid, namespace = workload["metadata"]["uid"], workload["metadata"]["namespace"]
        mine = pods[uid] + [p for rs, parent in sets.items() if parent == uid for p in pods[rs]]
        measured = [metrics[(namespace, p["metadata"]["name"])] for p in mine
                    if (namespace, p["metadata"]["name"]) in metrics]
        assert measured, f"{kind} {workload['metadata']['name']} has no pod with metrics"
        selector = ",".join(f"{k}={v}" for k, v in workload["spec"]["selector"]["matchLabels"].items())
        result = kubectl(config, "top", "pods", "-n", namespace, "-l", selector, "--sum")
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert sorted(line.split()[0] for line in lines[1:-2]) == sorted(m["metadata"]["name"] for m in measured)
        nanocores = sum(_nanocores(c["usage"]["cpu"]) for m in measured for c in m["containers"])
        nbytes = sum(_bytes(c["usage"]["memory"]) for m in measured for c in m["containers"])
        assert lines[-1].split() == [f"{math.ceil(nanocores / 1e6)}m", f"{nbytes // 2**20}Mi"]


def _nanocores(text: str) -> int:
    units = {"n": 1, "u": 1000, "m": 10**6}
    return int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text) * 10**9


def _bytes(text: str) -> int:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    return int(text[:-2]) * units[text[-2:]] if text[-2:] in units else int(text)


def test_one_object_reads_alone_with_its_kind_and_missing_ones_are_not_found(cluster, sim_api):
    api = sim_api(cluster)
    rollout = api.get(f"/apis/argoproj.io/v1alpha1/namespaces/{zoo.NAMESPACE}/rollouts/cart").json()
    assert (rollout["apiVersion"], rollout["kind"]) == ("argoproj.io/v1alpha1", "Rollout")
    assert list(rollout) == sorted(rollout) and list(rollout["metadata"]) == sorted(rollout["metadata"])
    cache = api.get(f"/api/v1/namespaces/{zoo.NAMESPACE}/replicationcontrollers/legacy-cache").json()
    assert (cache["apiVersion"], cache["kind"]) == ("v1", "ReplicationController")
    missing = api.get("/apis/apps/v1/namespaces/web/deployments/nope")
    assert missing.status_code == 404
    assert missing.json()["message"] == 'deployments.apps "nope" not found'
    assert missing.json()["details"] == {"name": "nope", "group": "apps", "kind": "deployments"}


def test_workload_lists_page_and_select_like_the_api_server(cluster, sim_api):
    api = sim_api(cluster)
    every = api.get("/apis/apps/v1/replicasets").json()["items"]
    paged, cont = [], None
    while True:
        params = {"limit": "7", **({"continue": cont} if cont else {})}
        page = api.get("/apis/apps/v1/replicasets", params=params).json()
        paged += page["items"]
        cont = page["metadata"].get("continue")
        if not cont:
            break
    assert [r["metadata"]["uid"] for r in paged] == [r["metadata"]["uid"] for r in every]
    empty = api.get("/apis/apps/v1/replicasets", params={"fieldSelector": "status.replicas=0"}).json()["items"]
    assert empty and {r["spec"]["replicas"] for r in empty} == {0}
    web = api.get("/apis/apps/v1/namespaces/web/deployments", params={"labelSelector": "app in (api,frontend)"})
    assert sorted(d["metadata"]["name"] for d in web.json()["items"]) == ["api", "frontend"]
    rollouts = api.get("/apis/argoproj.io/v1alpha1/rollouts").json()
    assert rollouts["kind"] == "RolloutList" and rollouts["metadata"]["continue"] == ""
    bad = api.get("/apis/batch/v1/jobs", params={"fieldSelector": "spec.parallelism=1"})
    assert bad.status_code == 400 and bad.json()["message"] == "field label not supported: spec.parallelism"


def test_a_workload_watch_sends_bookmarks_of_its_kind(make_sim_server, sim_api):
    server = make_sim_server()
    api = sim_api(server)
    rv = api.get("/apis/apps/v1/deployments").json()["metadata"]["resourceVersion"]
    with api.stream("GET", "/apis/apps/v1/deployments", params={
            "watch": "1", "resourceVersion": rv, "timeoutSeconds": "3", "allowWatchBookmarks": "true"}) as response:
        (bookmark,) = events(response)
    assert bookmark["type"] == "BOOKMARK"
    assert (bookmark["object"]["kind"], bookmark["object"]["apiVersion"]) == ("Deployment", "apps/v1")
    assert bookmark["object"]["metadata"] == {"resourceVersion": rv, "creationTimestamp": None}


@needs_kubectl
def test_kubectl_knows_the_workload_resources_from_discovery(cluster, tmp_path):
    config = str(cluster.write_kubeconfig(tmp_path / "config"))
    result = kubectl(config, "api-resources", "--no-headers")
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line.split() for line in result.stdout.splitlines()}
    assert rows["deployments"][1:] == ["deploy", "apps/v1", "true", "Deployment"]
    assert rows["rollouts"][1:] == ["ro", "argoproj.io/v1alpha1", "true", "Rollout"]
    assert rows["resourcequotas"][1:] == ["quota", "v1", "true", "ResourceQuota"]
    every = kubectl(config, "get", "all", "-n", zoo.NAMESPACE, "-o", "name")
    assert every.returncode == 0, every.stderr
    assert {"deployment.apps/storefront", "statefulset.apps/vector-db", "job.batch/db-backfill",
            "replicationcontroller/legacy-cache", "pod/debug-shell"} <= set(every.stdout.split())


def test_a_large_cluster_holds_about_15000_workloads_in_about_200_namespaces():
    start = 1_767_225_600.0
    built = world.build(5000, 30, random.Random(1), start, 15.0, False)
    zoo.add_to(built, random.Random(2), start)
    inventory = controllers.Inventory(built.pods, built.namespaces)
    stores = inventory.stores
    workloads = sum(len(stores[r].objects) for r in ("deployments", "rollouts", "statefulsets", "daemonsets",
                                                     "cronjobs", "replicationcontrollers"))
    workloads += len([j for j in stores["jobs"].objects if j.cronjob is None])
    workloads += sum(p.workload.template.kind == "Pod" for p in built.pods)
    assert len(built.pods) == 150_000
    assert 14_000 <= workloads <= 16_000, workloads
    assert 180 <= len(built.namespaces) <= 220, len(built.namespaces)
    assert len(stores["replicasets"].objects) > 1.5 * len(stores["deployments"].objects)  # old ones kept
