"""Containers as the kubelet reports them: pod-level resources (KEP 2837), resources after an
in-place resize, and containers that ended (OOMKilled, Error) and restarted, once and over time."""

from __future__ import annotations

import pytest
from helpers.kubectl import KUBECTL, kubectl
from helpers.owners import events

from ktopui.sim.cluster import CHURN_PERIOD, OOM_INTERVAL
from ktopui.sim.quantities import rfc3339


@pytest.fixture
def server(make_sim_server):
    return make_sim_server(nodes=12, pods_per_node=9)


def shop_pods(api) -> dict[str, dict]:
    return {p["metadata"]["name"]: p for p in api.get("/api/v1/namespaces/shop/pods").json()["items"]}


def millicores(text: str) -> float:
    if text.endswith("n"):
        return int(text[:-1]) / 1e6
    return int(text[:-1]) if text.endswith("m") else float(text) * 1000


def test_a_statefulset_pod_asks_for_its_cpu_at_pod_level(server, sim_api):
    api = sim_api(server)
    pod = shop_pods(api)["vector-db-0"]
    assert pod["spec"]["resources"] == {"limits": {"cpu": "2", "memory": "4Gi"},
                                        "requests": {"cpu": "1", "memory": "2Gi"}}
    qdrant, exporter = pod["spec"]["containers"]
    assert qdrant["resources"] == {} and exporter["resources"] == {"requests": {"cpu": "20m", "memory": "32Mi"}}
    usage = api.get("/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods/vector-db-0").json()
    used = sum(millicores(c["usage"]["cpu"]) for c in usage["containers"])
    assert 500 < used < 2000  # around its pod-level request, many times the 20m its containers ask for
    statefulset = api.get("/apis/apps/v1/namespaces/shop/statefulsets/vector-db").json()
    assert statefulset["spec"]["template"]["spec"]["resources"] == pod["spec"]["resources"]


@pytest.mark.skipif(KUBECTL is None, reason="kubectl 1.33 is not installed beside the dispatcher")
def test_kubectl_describes_the_pod_level_resources(server, tmp_path):
    result = kubectl(str(server.write_kubeconfig(tmp_path / "config")), "describe", "pod", "-n", "shop",
                     "vector-db-0")
    assert result.returncode == 0, result.stderr
    head = result.stdout.split("Containers:")[0]
    assert "Resources:\n  Limits:\n    cpu:     2\n    memory:  4Gi\n  Requests:\n    cpu:     1\n" in head


def test_resized_pods_report_what_their_containers_run_with(server, sim_api):
    api = sim_api(server)
    pods = shop_pods(api)
    resized = {}
    for pod in pods.values():
        kinds = {c["type"]: c for c in pod["status"]["conditions"]}
        for kind in ("PodResizeInProgress", "PodResizePending"):
            if kind in kinds:
                resized[kind] = (pod, kinds[kind])
    (moving, moving_condition), (stuck, stuck_condition) = resized["PodResizeInProgress"], resized["PodResizePending"]
    assert moving_condition["status"] == "True" and "reason" not in moving_condition
    assert stuck_condition["reason"] == "Infeasible"
    assert stuck_condition["message"].startswith("Node didn't have enough capacity: cpu, requested: 48000, capacity: ")
    for pod in (moving, stuck):
        asked = pod["spec"]["containers"][0]["resources"]
        running = pod["status"]["containerStatuses"][0]["resources"]
        assert asked["requests"] != running["requests"] and asked["limits"] == running["limits"]
        usage = api.get(f"/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods/{pod['metadata']['name']}")
        if usage.status_code == 200:  # (not on the node that stopped reporting)
            (container,) = usage.json()["containers"]
            assert millicores(container["usage"]["cpu"]) < 2 * millicores(running["requests"]["cpu"])
    assert moving["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "500m", "memory": "384Mi"}
    assert moving["status"]["containerStatuses"][0]["resources"]["requests"] == {"cpu": "250m", "memory": "256Mi"}


def test_restarted_containers_say_how_and_when_their_last_run_ended(server, sim_api):
    api = sim_api(server)
    reasons = set()
    for pod in api.get("/api/v1/pods").json()["items"]:
        for status in pod["status"].get("containerStatuses", []) + pod["status"].get("initContainerStatuses", []):
            last = status["lastState"].get("terminated")
            if "running" not in status["state"]:
                continue
            assert (last is None) == (status["restartCount"] == 0), (pod["metadata"]["name"], status)
            if last is None:
                continue
            reasons.add((last["reason"], last["exitCode"]))
            assert last["startedAt"] <= last["finishedAt"] <= status["state"]["running"]["startedAt"]
            assert pod["status"]["startTime"] <= last["startedAt"]
    assert reasons == {("OOMKilled", 137), ("Error", 1)}
    cache = next(p for name, p in shop_pods(api).items() if name.startswith("legacy-cache-"))
    status = cache["status"]["containerStatuses"][0]
    assert status["restartCount"] == 7 and status["lastState"]["terminated"]["reason"] == "OOMKilled"


def test_a_container_over_its_memory_limit_is_oomkilled_again_and_a_watch_hears_of_it(make_sim_server, sim_api):
    server = make_sim_server(nodes=12, pods_per_node=9, churn_per_minute=1)
    api = sim_api(server)
    name = next(n for n in shop_pods(api) if n.startswith("legacy-cache-"))
    path = f"/api/v1/namespaces/shop/pods/{name}"
    usage = api.get(f"/apis/metrics.k8s.io/v1beta1/namespaces/shop/pods/{name}").json()["containers"][0]["usage"]
    assert int(usage["memory"][:-2]) * 1024 > 128 * 2**20  # above its 128Mi limit
    before = api.get(path).json()
    rv = api.get("/api/v1/namespaces/shop/pods").json()["metadata"]["resourceVersion"]
    for _ in range(int(4 * OOM_INTERVAL / CHURN_PERIOD)):
        server.cluster.advance(CHURN_PERIOD)
        status = api.get(path).json()["status"]["containerStatuses"][0]
        if status["restartCount"] > 7:
            break
    else:
        raise AssertionError("not OOMKilled again in four times the average interval")
    killed_at = server.cluster.now() // CHURN_PERIOD * CHURN_PERIOD
    assert status["restartCount"] == 8
    assert status["state"]["running"]["startedAt"] == rfc3339(killed_at)
    last = status["lastState"]["terminated"]
    assert (last["reason"], last["exitCode"]) == ("OOMKilled", 137)
    assert last["startedAt"] == before["status"]["containerStatuses"][0]["state"]["running"]["startedAt"]
    assert last["finishedAt"] < rfc3339(killed_at)
    with api.stream("GET", "/api/v1/namespaces/shop/pods", params={
            "watch": "1", "resourceVersion": rv, "timeoutSeconds": "1",
            "fieldSelector": f"metadata.name={name}"}) as response:
        (event,) = [e for e in events(response) if e["type"] == "MODIFIED"][-1:]
    assert event["object"]["status"]["containerStatuses"][0]["restartCount"] == 8


def test_without_churn_no_container_is_oomkilled(make_sim_server, sim_api):
    server = make_sim_server(nodes=12, pods_per_node=9, churn_per_minute=0)
    api = sim_api(server)

    def restarts() -> dict[str, list[int]]:
        return {p["metadata"]["name"]: [s["restartCount"] for s in p["status"].get("containerStatuses", [])]
                for p in api.get("/api/v1/pods").json()["items"] if "job-name" not in p["metadata"]["labels"]}

    before = restarts()
    server.cluster.advance(4 * OOM_INTERVAL)
    assert restarts() == before
