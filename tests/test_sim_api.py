"""The simulated API server over real HTTPS: discovery, core objects, selectors, paging,
authentication, authorization and the exact error shapes."""

from __future__ import annotations

import ssl
import time

import httpx
import pytest
import yaml

from ktopui.sim.certs import Authority


def status_doc(code: int, reason: str, message: str, details: dict | None = None) -> dict:
    doc = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message,
           "reason": reason}
    if details is not None:
        doc["details"] = details
    doc["code"] = code
    return doc


def test_version_and_discovery(sim_server, sim_api):
    api = sim_api(sim_server)
    assert api.get("/version").json()["gitVersion"].startswith("v1.33.")
    assert api.get("/api").json()["kind"] == "APIVersions"
    groups = {g["name"]: g for g in api.get("/apis").json()["groups"]}
    assert {"metrics.k8s.io", "apiregistration.k8s.io", "authorization.k8s.io"} <= set(groups)
    assert groups["metrics.k8s.io"]["preferredVersion"] == {"groupVersion": "metrics.k8s.io/v1beta1",
                                                            "version": "v1beta1"}
    assert api.get("/apis/metrics.k8s.io").json()["kind"] == "APIGroup"
    for group in groups.values():  # kubectl fetches every advertised group version
        doc = api.get(f"/apis/{group['preferredVersion']['groupVersion']}").json()
        assert doc["kind"] == "APIResourceList" and doc["resources"]
    metrics = api.get("/apis/metrics.k8s.io/v1beta1").json()["resources"]
    assert [(r["name"], r["kind"], r["namespaced"], r["verbs"]) for r in metrics] == [
        ("nodes", "NodeMetrics", False, ["get", "list"]), ("pods", "PodMetrics", True, ["get", "list"])]
    core = {r["name"] for r in api.get("/api/v1").json()["resources"]}
    assert {"nodes", "pods", "namespaces"} <= core
    response = api.get("/api/v1/nodes")
    assert response.headers["content-type"] == "application/json" and response.http_version == "HTTP/1.1"


def test_version_needs_no_credentials_but_the_api_does(sim_server, sim_api):
    anonymous = sim_api(sim_server, token="")
    assert anonymous.get("/version").status_code == 200
    response = anonymous.get("/api/v1/nodes")
    assert response.status_code == 401
    assert response.json() == status_doc(401, "Unauthorized", "Unauthorized")


def test_nodes_look_like_a_real_fleet(sim_server, sim_api):
    doc = sim_api(sim_server).get("/api/v1/nodes").json()
    assert doc["kind"] == "NodeList" and doc["apiVersion"] == "v1" and int(doc["metadata"]["resourceVersion"]) > 0
    nodes = doc["items"]
    names = [n["metadata"]["name"] for n in nodes]
    assert len(nodes) == 6 and names == sorted(names)
    assert all("kind" not in n for n in nodes)
    roles = [k for n in nodes for k in n["metadata"]["labels"] if k.startswith("node-role.kubernetes.io/")]
    assert "node-role.kubernetes.io/control-plane" in roles and "node-role.kubernetes.io/worker" in roles
    for node in nodes:
        status = node["status"]
        assert status["allocatable"]["cpu"].endswith("m") and int(status["allocatable"]["cpu"][:-1]) < \
            int(status["capacity"]["cpu"]) * 1000
        assert status["nodeInfo"]["kubeletVersion"].startswith("v1.3")
        assert node["metadata"]["labels"]["topology.kubernetes.io/zone"].startswith("eu-west-1")
    ready = [next(c["status"] for c in n["status"]["conditions"] if c["type"] == "Ready") for n in nodes]
    assert ready.count("Unknown") == 1 and ready.count("True") == 5
    assert sum(bool(n["spec"].get("unschedulable")) for n in nodes) == 1
    one = sim_api(sim_server).get(f"/api/v1/nodes/{names[0]}").json()
    assert one["kind"] == "Node" and one["metadata"]["name"] == names[0]


def test_pods_cover_every_resource_shape(sim_server, sim_api):
    api = sim_api(sim_server)
    doc = api.get("/api/v1/pods").json()
    pods = doc["items"]
    assert doc["kind"] == "PodList" and len(pods) == 6 * 8
    keys = [(p["metadata"]["namespace"], p["metadata"]["name"]) for p in pods]
    assert keys == sorted(keys)
    phases = {p["status"]["phase"] for p in pods}
    assert phases == {"Running", "Pending", "Succeeded"}
    assert {p["status"]["qosClass"] for p in pods} == {"Guaranteed", "Burstable", "BestEffort"}
    assert {"kube-system", "monitoring", "default", "web", "payments", "batch"} <= {k[0] for k in keys}
    inits = [c for p in pods for c in p["spec"].get("initContainers", [])]
    assert any(c.get("restartPolicy") == "Always" for c in inits)  # sidecars
    assert any("restartPolicy" not in c for c in inits)  # ordinary init containers
    limits = [c["resources"].get("limits", {}) for p in pods for c in p["spec"]["containers"]]
    assert {} in limits and {"cpu": "1"} in limits  # no limits; only a CPU limit
    assert any("overhead" in p["spec"] for p in pods)
    assert any(c["restartCount"] > 0 for p in pods for c in p["status"].get("containerStatuses", []))
    web = [p for p in pods if p["metadata"]["labels"].get("pod-template-hash")]
    assert all(p["metadata"]["name"].startswith(f"{p['metadata']['labels']['app']}-") for p in web
               if "app" in p["metadata"]["labels"])
    pending = next(p for p in pods if p["status"]["phase"] == "Pending")
    assert "nodeName" not in pending["spec"]
    namespaced = api.get("/api/v1/namespaces/web/pods").json()["items"]
    assert namespaced == [p for p in pods if p["metadata"]["namespace"] == "web"]
    one = api.get(f"/api/v1/namespaces/web/pods/{namespaced[0]['metadata']['name']}").json()
    assert one["kind"] == "Pod" and {k: v for k, v in one.items() if k not in ("kind", "apiVersion")} == namespaced[0]


def test_label_and_field_selectors(sim_server, sim_api):
    api = sim_api(sim_server)
    pods = api.get("/api/v1/pods").json()["items"]

    def names(**params) -> list[str]:
        response = api.get("/api/v1/pods", params=params)
        assert response.status_code == 200, response.text
        return [p["metadata"]["name"] for p in response.json()["items"]]

    node = next(p["spec"]["nodeName"] for p in pods if p["spec"].get("nodeName"))
    assert names(fieldSelector=f"spec.nodeName={node}") == [
        p["metadata"]["name"] for p in pods if p["spec"].get("nodeName") == node]
    assert names(fieldSelector="status.phase=Pending") == [
        p["metadata"]["name"] for p in pods if p["status"]["phase"] == "Pending"]
    assert len(names(fieldSelector="status.phase!=Running")) == sum(p["status"]["phase"] != "Running" for p in pods)
    assert names(labelSelector="app in (api,frontend)") == [
        p["metadata"]["name"] for p in pods if p["metadata"]["labels"].get("app") in ("api", "frontend")]
    assert names(labelSelector="!app,k8s-app") == [
        p["metadata"]["name"] for p in pods if "app" not in p["metadata"]["labels"]
        and "k8s-app" in p["metadata"]["labels"]]
    nodes = api.get("/api/v1/nodes", params={"labelSelector": "node-role.kubernetes.io/control-plane"}).json()
    assert len(nodes["items"]) == 1
    bad = api.get("/api/v1/pods", params={"fieldSelector": "spec.foo=x"})
    assert bad.status_code == 400
    assert bad.json() == status_doc(400, "BadRequest", "field label not supported: spec.foo")
    bad = api.get("/api/v1/pods", params={"labelSelector": "app in web"})
    assert bad.status_code == 400 and bad.json()["reason"] == "BadRequest"


def test_limit_and_continue(sim_server, sim_api):
    api = sim_api(sim_server)
    everything = api.get("/api/v1/pods").json()
    seen, params = [], {"limit": "7"}
    while True:
        page = api.get("/api/v1/pods", params=params).json()
        seen += page["items"]
        token = page["metadata"].get("continue")
        if not token:
            break
        assert page["metadata"]["remainingItemCount"] == len(everything["items"]) - len(seen)
        params = {"limit": "7", "continue": token}
    assert seen == everything["items"]
    broken = api.get("/api/v1/pods", params={"limit": "7", "continue": "garbage!"})
    assert broken.status_code == 400


def test_namespaces(sim_server, sim_api):
    api = sim_api(sim_server)
    names = [n["metadata"]["name"] for n in api.get("/api/v1/namespaces").json()["items"]]
    assert names == sorted(names) and {"default", "kube-system", "web", "payments"} <= set(names)
    assert api.get("/api/v1/namespaces/web").json()["status"]["phase"] == "Active"


def test_not_found_shapes(sim_server, sim_api):
    api = sim_api(sim_server)
    assert api.get("/api/v1/namespaces/web/pods/nope").json() == status_doc(
        404, "NotFound", 'pods "nope" not found', {"name": "nope", "kind": "pods"})
    assert api.get("/api/v1/nodes/nope").json() == status_doc(
        404, "NotFound", 'nodes "nope" not found', {"name": "nope", "kind": "nodes"})
    assert api.get("/api/v1/widgets").json() == status_doc(
        404, "NotFound", "the server could not find the requested resource", {})
    plain = api.get("/nowhere")
    assert (plain.status_code, plain.text, plain.headers["content-type"]) == (
        404, "404 page not found\n", "text/plain; charset=utf-8")
    assert api.post("/api/v1/nodes").status_code == 405


def test_forbidden_messages(sim_server, sim_api):
    jane = sim_api(sim_server, token=sim_server.issue_token(None, user="jane"))
    sim_server.faults.forbid("jane", "list", "nodes")
    sim_server.faults.forbid("jane", "list", "pods", namespace="default")
    sim_server.faults.forbid("jane", "get", "nodes", group="metrics.k8s.io")
    response = jane.get("/api/v1/nodes")
    assert response.status_code == 403
    assert response.json() == status_doc(403, "Forbidden", 'nodes is forbidden: User "jane" cannot list resource '
                                         '"nodes" in API group "" at the cluster scope', {"kind": "nodes"})
    assert jane.get("/api/v1/namespaces/default/pods").json()["message"] == (
        'pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "default"')
    assert jane.get("/api/v1/namespaces/web/pods").status_code == 200
    node = sim_server.cluster.nodes[0].name
    assert jane.get(f"/apis/metrics.k8s.io/v1beta1/nodes/{node}").json() == status_doc(
        403, "Forbidden", f'nodes.metrics.k8s.io "{node}" is forbidden: User "jane" cannot get resource "nodes" '
        'in API group "metrics.k8s.io" at the cluster scope', {"name": node, "group": "metrics.k8s.io",
                                                              "kind": "nodes"})
    assert sim_api(sim_server).get("/api/v1/nodes").status_code == 200  # only jane is denied
    sim_server.faults.clear_forbidden()
    assert jane.get("/api/v1/nodes").status_code == 200


def test_tokens_expire_and_can_be_revoked(sim_server, sim_api):
    short = sim_server.issue_token(0.3, user="temp")
    client = sim_api(sim_server, token=short)
    assert client.get("/api/v1/namespaces").status_code == 200
    time.sleep(0.35)
    assert client.get("/api/v1/namespaces").status_code == 401
    revoked = sim_server.issue_token(None)
    client = sim_api(sim_server, token=revoked)
    assert client.get("/api/v1/namespaces").status_code == 200
    sim_server.revoke_token(revoked)
    assert client.get("/api/v1/namespaces").status_code == 401
    assert sim_api(sim_server, token="made-up").get("/api/v1/namespaces").status_code == 401


def test_client_certificates(sim_server, sim_api):
    sim_server.requests.clear()
    client = sim_api(sim_server, token="", cert=sim_server.issue_client_cert("jane", groups=("dev",)))
    assert client.get("/api/v1/namespaces").status_code == 200
    assert sim_server.requests[-1].user == "jane"
    stranger = sim_api(sim_server, token="", cert=Authority("elsewhere").issue("mallory"))
    with pytest.raises((httpx.ConnectError, httpx.ReadError, ssl.SSLError, httpx.RemoteProtocolError)):
        stranger.get("/api/v1/namespaces")


def test_kubeconfig_writer(sim_server, tmp_path):
    doc = yaml.safe_load(sim_server.write_kubeconfig(tmp_path / "a", namespace="web").read_text())
    assert doc["current-context"] == "sim"
    assert doc["contexts"][0]["context"] == {"cluster": "sim", "user": "sim-admin", "namespace": "web"}
    assert doc["clusters"][0]["cluster"]["server"] == sim_server.url
    assert doc["users"][0]["user"] == {"token": sim_server.token}
    assert "certificate-authority-data" in doc["clusters"][0]["cluster"]
    path = sim_server.write_kubeconfig(tmp_path / "b", context="other", embed_ca=False,
                                       client_cert=sim_server.issue_client_cert("jane"))
    doc = yaml.safe_load(path.read_text())
    assert doc["clusters"][0]["cluster"]["certificate-authority"] == str(sim_server.ca_path)
    assert set(doc["users"][0]["user"]) == {"client-certificate-data", "client-key-data"}
    assert (path.stat().st_mode & 0o777) == 0o600


def test_requests_are_recorded(sim_server, sim_api):
    sim_server.requests.clear()
    api = sim_api(sim_server)
    api.get("/api/v1/nodes", params={"limit": "2"})
    api.get("/api/v1/nodes/nope")
    first, second = sim_server.requests
    assert (first.method, first.path, first.query, first.user, first.status) == (
        "GET", "/api/v1/nodes", "limit=2", "sim-admin", 200)
    assert first.bytes_sent > 1000 and second.status == 404
