"""The simulated cluster's review endpoints (whoami, can-i), the metrics APIService in each
failure state, and metrics that stop advancing, over real HTTPS."""

from __future__ import annotations

import pytest
from helpers.kubectl import KUBECTL, kubectl

from ktopui.sim import discovery
from ktopui.sim.protobuf import decode_review

SSAR = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
SSR = "/apis/authentication.k8s.io/v1/selfsubjectreviews"
APISERVICE = "/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.metrics.k8s.io"
METRICS = "/apis/metrics.k8s.io/v1beta1"
PLAIN = "text/plain; charset=utf-8"


def can_i(api, verb, resource, group="", namespace=""):
    attributes = {"verb": verb, "resource": resource, "group": group}
    if namespace:
        attributes["namespace"] = namespace
    return api.post(SSAR, json={"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                                "spec": {"resourceAttributes": attributes}})


def condition(api) -> dict:
    doc = api.get(APISERVICE).json()
    return next(c for c in doc["status"]["conditions"] if c["type"] == "Available")


def test_access_review_follows_the_denials(sim_server, sim_api):
    api = sim_api(sim_server)
    sim_server.faults.forbid("sim-admin", "list", "pods", namespace="web", group="metrics.k8s.io")
    allowed = can_i(api, "list", "pods", "metrics.k8s.io", "kube-system")
    assert allowed.status_code == 201
    doc = allowed.json()
    assert (doc["kind"], doc["apiVersion"]) == ("SelfSubjectAccessReview", "authorization.k8s.io/v1")
    assert doc["spec"]["resourceAttributes"]["namespace"] == "kube-system"  # the request is echoed
    assert doc["status"]["allowed"] is True and doc["status"]["reason"].startswith("RBAC: allowed by")
    denied = can_i(api, "list", "pods", "metrics.k8s.io", "web").json()
    # The RBAC authorizer has no opinion rather than denying: no `denied`, no reason.
    assert denied["status"] == {"allowed": False}
    # The same denial makes the request itself a 403.
    assert api.get(f"{METRICS}/namespaces/web/pods").status_code == 403
    assert can_i(api, "list", "pods", "", "web").json()["status"]["allowed"] is True  # core pods: another group


def test_access_review_rejects_bad_bodies(sim_server, sim_api):
    api = sim_api(sim_server)
    empty = api.post(SSAR, json={"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                                 "spec": {}})
    assert empty.status_code == 422 and empty.json()["reason"] == "Invalid"
    assert "exactly one of nonResourceAttributes or resourceAttributes" in empty.json()["message"]
    garbage = api.post(SSAR, content=b"{not json", headers={"Content-Type": "application/json"})
    assert garbage.status_code == 400 and garbage.json()["reason"] == "BadRequest"
    assert api.get(SSAR).status_code == 405  # create only


def test_access_review_needs_credentials_and_can_itself_be_forbidden(sim_server, sim_api):
    assert can_i(sim_api(sim_server, token=""), "list", "nodes").status_code == 401
    api = sim_api(sim_server)
    sim_server.faults.forbid("sim-admin", "create", "selfsubjectaccessreviews")
    forbidden = can_i(api, "list", "nodes")
    assert forbidden.status_code == 403
    assert 'cannot create resource "selfsubjectaccessreviews"' in forbidden.json()["message"]


def test_whoami(sim_server, sim_api):
    api = sim_api(sim_server)
    response = api.post(SSR, json={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
    assert response.status_code == 201
    assert response.json()["status"]["userInfo"] == {"username": "sim-admin", "groups": ["system:authenticated"]}
    cert_user = sim_api(sim_server, token="", cert=sim_server.issue_client_cert("jane", groups=("dev",)))
    info = cert_user.post(SSR, json={}).json()["status"]["userInfo"]
    assert info == {"username": "jane", "groups": ["dev", "system:authenticated"]}
    groups = {g["name"] for g in api.get("/apis").json()["groups"]}
    assert {"authentication.k8s.io", "authorization.k8s.io"} <= groups


def test_protobuf_review_bodies_are_understood():
    # What kubectl 1.33 sends for `kubectl auth can-i list pods.metrics.k8s.io -n web`.
    body = (b'k8s\x00\n2\n\x17authorization.k8s.io/v1\x12\x17SelfSubjectAccessReview\x12G\n\x10\n\x00\x12\x00'
            b'\x1a\x00"\x00*\x002\x008\x00B\x00\x12)\n\'\n\x03web\x12\x04list\x1a\x0emetrics.k8s.io"\x00*\x04pods'
            b'2\x00:\x00\x1a\x08\x08\x00\x12\x00\x1a\x00 \x00\x1a\x00"\x00')
    doc = decode_review(body)
    assert doc["kind"] == "SelfSubjectAccessReview"
    assert doc["spec"]["resourceAttributes"] == {"namespace": "web", "verb": "list", "group": "metrics.k8s.io",
                                                 "resource": "pods"}


@pytest.mark.parametrize("reason", ["ServiceNotFound", "ServicePortError", "EndpointsNotFound", "MissingEndpoints",
                                    "ServiceAccessError", "EndpointsAccessError", "FailedDiscoveryCheck"])
def test_apiservice_reasons(sim_server, sim_api, reason):
    api = sim_api(sim_server)
    sim_server.faults.metrics_unavailable(reason)
    found = condition(api)
    assert (found["status"], found["reason"]) == ("False", reason)
    assert found["message"] == discovery.metrics_condition_message(reason)
    assert "metrics-server" in found["message"] or "10.96." in found["message"]
    # What every client sees meanwhile: the group is still listed (legacy discovery), requests 503.
    assert "metrics.k8s.io" in {g["name"] for g in api.get("/apis").json()["groups"]}
    for path in (METRICS, f"{METRICS}/nodes", f"{METRICS}/namespaces/web/pods"):
        response = api.get(path)
        assert (response.status_code, response.text, response.headers["content-type"]) == (
            503, "service unavailable\n", PLAIN), path
    sim_server.faults.metrics_down = False
    assert condition(api)["reason"] == "Passed" and api.get(f"{METRICS}/nodes").status_code == 200


def test_apiservice_messages_are_the_aggregators(sim_server, sim_api):
    api = sim_api(sim_server)
    faults = sim_server.faults
    faults.metrics_unavailable("MissingEndpoints")
    assert condition(api)["message"] == ('endpoints for service/metrics-server in "kube-system" have no addresses '
                                         'with port name "https"')
    faults.metrics_unavailable("ServiceNotFound")
    assert condition(api)["message"] == 'service/metrics-server in "kube-system" is not present'
    faults.metrics_unavailable("FailedDiscoveryCheck", bad_status=403)
    url = "https://10.96.152.64:443/apis/metrics.k8s.io/v1beta1"
    assert condition(api)["message"] == f"failing or missing response from {url}: bad status from {url}: 403"
    faults.metrics_down = False
    faults.metrics_down = True  # the plain switch: the connection is refused
    assert condition(api)["message"].endswith("dial tcp 10.96.152.64:443: connect: connection refused")
    with pytest.raises(ValueError):
        faults.metrics_unavailable("Sleepy")


def test_still_available_but_the_backend_is_gone(sim_server, sim_api):
    api = sim_api(sim_server)
    sim_server.faults.metrics_unavailable("Passed")
    assert condition(api)["status"] == "True"
    response = api.get(f"{METRICS}/nodes")
    assert (response.status_code, response.text) == (503, "dial tcp 10.96.152.64:443: connect: connection refused\n")


def test_transition_time_is_when_it_broke(sim_server, sim_api):
    api = sim_api(sim_server)
    sim_server.cluster.advance(300)
    sim_server.faults.metrics_unavailable("MissingEndpoints")
    broke = condition(api)["lastTransitionTime"]
    assert api.get(APISERVICE).json()["metadata"]["creationTimestamp"] < broke


def test_stale_metrics_stop_advancing(sim_server, sim_api):
    api = sim_api(sim_server)
    before = api.get(f"{METRICS}/nodes").json()["items"]
    sim_server.faults.stale_metrics()
    sim_server.cluster.advance(600)
    after = api.get(f"{METRICS}/nodes").json()["items"]
    assert [m["timestamp"] for m in after] == [m["timestamp"] for m in before]
    assert [m["usage"] for m in after] == [m["usage"] for m in before]
    assert all(m["metadata"]["creationTimestamp"] > m["timestamp"] for m in after)  # served now
    pods = api.get(f"{METRICS}/pods").json()["items"]
    assert pods and max(p["timestamp"] for p in pods) <= max(m["timestamp"] for m in before)
    sim_server.faults.reset()
    fresh = api.get(f"{METRICS}/nodes").json()["items"]
    assert max(m["timestamp"] for m in fresh) > max(m["timestamp"] for m in before)


def test_empty_metrics(sim_server, sim_api):
    api = sim_api(sim_server)
    sim_server.faults.metrics_empty = True
    for path in (f"{METRICS}/nodes", f"{METRICS}/pods", f"{METRICS}/namespaces/web/pods"):
        assert api.get(path).json()["items"] == []
    sim_server.faults.reset()
    assert api.get(f"{METRICS}/nodes").json()["items"]


@pytest.mark.kubectl
@pytest.mark.skipif(KUBECTL is None, reason="kubectl.1.33 not found beside the kubectl dispatcher")
def test_kubectl_auth_against_the_sim(sim_server, tmp_path):
    config = str(sim_server.write_kubeconfig(tmp_path / "config"))
    sim_server.faults.forbid("sim-admin", "list", "pods", namespace="web", group="metrics.k8s.io")
    whoami = kubectl(config, "auth", "whoami")
    assert whoami.returncode == 0 and "sim-admin" in whoami.stdout
    denied = kubectl(config, "auth", "can-i", "list", "pods.metrics.k8s.io", "-n", "web")
    assert (denied.returncode, denied.stdout.strip()) == (1, "no")
    allowed = kubectl(config, "auth", "can-i", "list", "pods.metrics.k8s.io", "-n", "kube-system")
    assert (allowed.returncode, allowed.stdout.strip()) == (0, "yes")
    sim_server.faults.metrics_unavailable("MissingEndpoints")
    table = kubectl(config, "get", "apiservice", "v1beta1.metrics.k8s.io")
    assert table.returncode == 0 and "v1beta1.metrics.k8s.io" in table.stdout
