"""metrics.k8s.io as metrics-server serves it, and how the simulated cluster evolves in time."""

from __future__ import annotations

import re

import pytest

from ktopui.sim import quantities as q

METRICS = "/apis/metrics.k8s.io/v1beta1"
WINDOW = re.compile(r"^\d+(\.\d+)?s$")
QUANTITY = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+|[numkMGTPE]|Ki|Mi|Gi|Ti|Pi|Ei)?$")
SIM_START = 1_767_225_600.0  # where the sim_server fixture's clock is frozen


def core_pods(api) -> list[dict]:
    return api.get("/api/v1/pods").json()["items"]


def test_node_metrics_shape(sim_server, sim_api):
    api = sim_api(sim_server)
    doc = api.get(f"{METRICS}/nodes").json()
    assert list(doc) == ["kind", "apiVersion", "metadata", "items"]
    assert (doc["kind"], doc["apiVersion"], doc["metadata"]) == ("NodeMetricsList", "metrics.k8s.io/v1beta1", {})
    nodes = {n["metadata"]["name"]: n for n in api.get("/api/v1/nodes").json()["items"]}
    ready = sorted(name for name, n in nodes.items()
                   if any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"]["conditions"]))
    assert [i["metadata"]["name"] for i in doc["items"]] == ready  # sorted; the NotReady node has none
    for item in doc["items"]:
        assert list(item) == ["metadata", "timestamp", "window", "usage"]
        assert list(item["metadata"]) == ["name", "creationTimestamp", "labels"]
        assert item["metadata"]["creationTimestamp"] == q.rfc3339(SIM_START)  # the request time
        assert item["metadata"]["labels"] == nodes[item["metadata"]["name"]]["metadata"]["labels"]
        assert item["timestamp"] <= q.rfc3339(SIM_START) and WINDOW.match(item["window"])
        assert list(item["usage"]) == ["cpu", "memory"]
        assert re.fullmatch(r"\d+[nu]?|\d+m", item["usage"]["cpu"])
        assert re.fullmatch(r"\d+(Ki|Mi|Gi)?", item["usage"]["memory"])
    assert len({i["timestamp"] for i in doc["items"]}) > 1  # each node scrapes at its own phase


def test_pod_metrics_shape(sim_server, sim_api):
    api = sim_api(sim_server)
    doc = api.get(f"{METRICS}/pods").json()
    assert (doc["kind"], doc["metadata"]) == ("PodMetricsList", {})
    items = doc["items"]
    keys = [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in items]
    assert keys == sorted(keys)
    pods = {(p["metadata"]["namespace"], p["metadata"]["name"]): p for p in core_pods(api)}
    nodes = {i["metadata"]["name"]: i["timestamp"] for i in api.get(f"{METRICS}/nodes").json()["items"]}
    running = {k for k, p in pods.items() if p["status"]["phase"] == "Running" and p["spec"]["nodeName"] in nodes}
    assert set(keys) == running  # no Pending, Succeeded, or pods on the NotReady node
    for item in items:
        assert list(item) == ["metadata", "timestamp", "window", "containers"]
        assert list(item["metadata"])[:3] == ["name", "namespace", "creationTimestamp"]
        pod = pods[(item["metadata"]["namespace"], item["metadata"]["name"])]
        assert item["metadata"].get("labels") == pod["metadata"]["labels"]
        assert item["timestamp"] == nodes[pod["spec"]["nodeName"]]  # pods share their node's scrape
        expected = [c["name"] for c in pod["spec"]["containers"]] + [
            c["name"] for c in pod["spec"].get("initContainers", []) if c.get("restartPolicy") == "Always"]
        assert sorted(c["name"] for c in item["containers"]) == sorted(expected)
    orders = [[c["name"] for c in i["containers"]] for i in items if len(i["containers"]) > 1]
    assert any(o != sorted(o) for o in orders) and any(o == sorted(o) for o in orders)  # map order
    web = api.get(f"{METRICS}/namespaces/web/pods").json()["items"]
    assert web == [i for i in items if i["metadata"]["namespace"] == "web"]


def test_single_objects_and_not_found(sim_server, sim_api):
    api = sim_api(sim_server)
    nodes = api.get("/api/v1/nodes").json()["items"]
    listed = {i["metadata"]["name"]: i for i in api.get(f"{METRICS}/nodes").json()["items"]}
    name = next(iter(listed))
    one = api.get(f"{METRICS}/nodes/{name}").json()
    assert one["kind"] == "NodeMetrics" and one["apiVersion"] == "metrics.k8s.io/v1beta1"
    assert {k: v for k, v in one.items() if k not in ("kind", "apiVersion")} == listed[name]
    broken = next(n["metadata"]["name"] for n in nodes if n["metadata"]["name"] not in listed)
    assert api.get(f"{METRICS}/nodes/{broken}").json() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": f'nodemetrics.metrics.k8s.io "{broken}" not found', "reason": "NotFound",
        "details": {"name": broken, "group": "metrics.k8s.io", "kind": "nodemetrics"}, "code": 404}
    assert api.get(f"{METRICS}/nodes/nope").json()["message"] == 'node "nope" not found'
    pending = next(p for p in core_pods(api) if p["status"]["phase"] == "Pending")
    ns, pod = pending["metadata"]["namespace"], pending["metadata"]["name"]
    response = api.get(f"{METRICS}/namespaces/{ns}/pods/{pod}")
    assert response.status_code == 404
    assert response.json()["message"] == f'podmetrics.metrics.k8s.io "{ns}/{pod}" not found'
    assert response.json()["details"] == {"name": f"{ns}/{pod}", "group": "metrics.k8s.io", "kind": "podmetrics"}
    assert api.get(f"{METRICS}/namespaces/web/pods/nope").json()["message"] == 'pods "nope" not found'
    item = api.get(f"{METRICS}/pods").json()["items"][0]
    one = api.get(f"{METRICS}/namespaces/{item['metadata']['namespace']}/pods/{item['metadata']['name']}").json()
    assert one["kind"] == "PodMetrics" and one["containers"] == item["containers"]
    assert api.get(f"{METRICS}/pods/{item['metadata']['name']}").status_code == 404


def test_metrics_selectors(sim_server, sim_api):
    api = sim_api(sim_server)
    items = api.get(f"{METRICS}/pods").json()["items"]
    apps = api.get(f"{METRICS}/pods", params={"labelSelector": "app=frontend"}).json()["items"]
    assert apps == [i for i in items if i["metadata"].get("labels", {}).get("app") == "frontend"] and apps
    name = items[0]["metadata"]["name"]
    by_name = api.get(f"{METRICS}/pods", params={"fieldSelector": f"metadata.name={name}"}).json()["items"]
    assert [i["metadata"]["name"] for i in by_name] == [name]
    by_ns = api.get(f"{METRICS}/pods", params={"fieldSelector": "metadata.namespace=web"}).json()["items"]
    assert by_ns == [i for i in items if i["metadata"]["namespace"] == "web"]
    cp = api.get(f"{METRICS}/nodes", params={"labelSelector": "node-role.kubernetes.io/control-plane"}).json()
    assert len(cp["items"]) == 1
    bad = api.get(f"{METRICS}/pods", params={"fieldSelector": "spec.nodeName=x"})
    assert bad.status_code == 400
    assert bad.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                          "message": '"spec.nodeName" is not a known field selector: only "metadata.name", '
                                     '"metadata.namespace"', "reason": "BadRequest", "code": 400}


def test_frozen_clock_gives_identical_bytes(make_sim_server, sim_api):
    one, two = make_sim_server(), make_sim_server()
    a, b = sim_api(one), sim_api(two)
    for path in (f"{METRICS}/nodes", f"{METRICS}/pods", "/api/v1/pods", "/api/v1/nodes"):
        first = a.get(path).content
        assert a.get(path).content == first and b.get(path).content == first
    one.cluster.advance(47)
    two.cluster.advance(47)
    assert a.get(f"{METRICS}/pods").content == b.get(f"{METRICS}/pods").content
    assert a.get("/api/v1/pods").content == b.get("/api/v1/pods").content


def test_usage_changes_only_when_the_timestamp_advances(sim_server, sim_api):
    api = sim_api(sim_server)
    seen: dict[tuple, tuple] = {}
    advanced: set[tuple] = set()
    for _ in range(20):
        docs = [("node", i) for i in api.get(f"{METRICS}/nodes").json()["items"]]
        docs += [("pod", i) for i in api.get(f"{METRICS}/pods").json()["items"]]
        for kind, item in docs:
            key = (kind, item["metadata"].get("namespace"), item["metadata"]["name"])
            value = (item["timestamp"], item["window"], str(item.get("usage") or item["containers"]))
            if key in seen and seen[key] != value:
                assert seen[key][0] < value[0], key  # a change always comes with a newer scrape
                advanced.add(key)
            seen[key] = value
        sim_server.cluster.advance(1)
    assert {k for k in seen if k[0] == "node"} <= advanced  # every node was scraped again within 20 s


def test_new_pods_appear_after_two_scrapes(make_sim_server, sim_api):
    server = make_sim_server(churn_per_minute=24)
    api = sim_api(server)
    before = {p["metadata"]["uid"] for p in core_pods(api)}
    server.cluster.advance(5)
    fresh = [p for p in core_pods(api) if p["metadata"]["uid"] not in before]
    assert fresh and all(p["status"]["phase"] == "Pending" for p in fresh)
    pod = fresh[0]
    ns, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
    path = f"{METRICS}/namespaces/{ns}/pods/{name}"
    assert api.get(path).status_code == 404
    while api.get(f"/api/v1/namespaces/{ns}/pods/{name}").json()["status"]["phase"] != "Running":
        server.cluster.advance(5)
    assert api.get(path).status_code == 404  # running, but not scraped twice yet
    server.cluster.advance(2 * 15 + 1)
    assert api.get(path).status_code == 200


def test_churn_replaces_pods_and_bumps_resource_versions(make_sim_server, sim_api):
    server = make_sim_server(churn_per_minute=12)
    api = sim_api(server)
    first = api.get("/api/v1/pods").json()
    server.cluster.advance(60)
    second = api.get("/api/v1/pods").json()
    assert int(second["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])
    old = {p["metadata"]["uid"]: p for p in first["items"]}
    new = {p["metadata"]["uid"]: p for p in second["items"]}
    assert set(old) - set(new) and set(new) - set(old)
    assert abs(len(new) - len(old)) <= 2
    for uid in set(new) - set(old):
        pod = new[uid]
        assert int(pod["metadata"]["resourceVersion"]) > int(first["metadata"]["resourceVersion"])
        assert pod["metadata"]["creationTimestamp"] > q.rfc3339(SIM_START)
    unchanged = [u for u in set(old) & set(new) if old[u] == new[u]]
    assert unchanged  # most pods are untouched


def test_clock_controls(make_sim_server):
    server = make_sim_server(frozen=False)
    clock = server.cluster.clock
    assert not clock.frozen and clock.now() >= SIM_START
    server.cluster.freeze(at=SIM_START + 100)
    assert clock.now() == clock() == SIM_START + 100
    server.cluster.advance(2.5)
    assert server.cluster.now() == SIM_START + 102.5
    server.cluster.resume()
    assert server.cluster.now() >= SIM_START + 102.5 and not clock.frozen
    with pytest.raises(ValueError):
        server.cluster.freeze(at=SIM_START)
    with pytest.raises(ValueError):
        server.cluster.advance(-1)


def test_quirky_quantities_are_odd_but_valid(make_sim_server, sim_api):
    api = sim_api(make_sim_server(quirky=True))
    values = [v for i in api.get(f"{METRICS}/nodes").json()["items"] for v in i["usage"].values()]
    values += [v for i in api.get(f"{METRICS}/pods").json()["items"] for c in i["containers"]
               for v in c["usage"].values()]
    values += [v for n in api.get("/api/v1/nodes").json()["items"] for part in ("capacity", "allocatable")
               for k, v in n["status"][part].items() if k in ("cpu", "memory")]
    values += [v for p in core_pods(api) for c in p["spec"]["containers"]
               for part in c["resources"].values() for v in part.values()]
    assert all(QUANTITY.match(v) for v in values), [v for v in values if not QUANTITY.match(v)]
    text = " ".join(values)
    for odd in (r"\de-\d\b", r"\d+u\b", r"\d+m\b", r"\.\d+Gi\b", r"\d+Mi\b", r"\d+M\b", r"\d+e\d", r"\b\d+\.\d+\b",
                r"\b\d+G\b", r"\b\d+e9\b"):
        assert re.search(odd, text), odd
