"""Each fault switch of the simulated cluster, over real HTTPS."""

from __future__ import annotations

import json
import time

import httpx
import pytest

METRICS = "/apis/metrics.k8s.io/v1beta1"
PLAIN = "text/plain; charset=utf-8"


def groups(api) -> set[str]:
    return {g["name"] for g in api.get("/apis").json()["groups"]}


def test_metrics_api_absent(sim_server, sim_api):
    api = sim_api(sim_server)
    sim_server.faults.metrics_absent = True
    assert "metrics.k8s.io" not in groups(api)
    for path in ("/apis/metrics.k8s.io", METRICS, f"{METRICS}/nodes", f"{METRICS}/namespaces/web/pods"):
        response = api.get(path)
        assert (response.status_code, response.text, response.headers["content-type"]) == (
            404, "404 page not found\n", PLAIN), path
    assert api.get("/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.metrics.k8s.io").status_code == 404
    assert api.get("/api/v1/nodes").status_code == 200  # the rest of the cluster is fine
    sim_server.faults.metrics_absent = False
    assert "metrics.k8s.io" in groups(api) and api.get(f"{METRICS}/nodes").status_code == 200


def test_metrics_backend_down(sim_server, sim_api):
    api = sim_api(sim_server)
    sim_server.faults.metrics_down = True
    assert "metrics.k8s.io" in groups(api)  # legacy discovery still lists the APIService's group
    assert api.get("/apis/metrics.k8s.io").status_code == 200
    for path in (METRICS, f"{METRICS}/nodes", f"{METRICS}/pods"):
        response = api.get(path)
        assert (response.status_code, response.text, response.headers["content-type"]) == (
            503, "service unavailable\n", PLAIN), path
    service = api.get("/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.metrics.k8s.io").json()
    condition = service["status"]["conditions"][0]
    assert (condition["type"], condition["status"], condition["reason"]) == (
        "Available", "False", "FailedDiscoveryCheck")
    sim_server.faults.metrics_down = False
    condition = api.get("/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.metrics.k8s.io").json()
    assert condition["status"]["conditions"][0]["status"] == "True"


def test_everything_unauthorized(sim_server, sim_api):
    api = sim_api(sim_server)
    sim_server.faults.unauthorized = True
    for path in ("/version", "/api", "/api/v1/nodes", f"{METRICS}/pods"):
        response = api.get(path)
        assert response.status_code == 401 and response.json()["reason"] == "Unauthorized"
    sim_server.faults.unauthorized = False
    assert api.get("/api/v1/nodes").status_code == 200


def test_latency_per_path_prefix(sim_server, sim_api):
    api = sim_api(sim_server)
    api.get("/api")  # connect first, so only the delay is timed
    sim_server.faults.set_latency("/apis/metrics.k8s.io", 0.4)
    began = time.monotonic()
    assert api.get(f"{METRICS}/nodes").status_code == 200
    assert time.monotonic() - began >= 0.4
    began = time.monotonic()
    api.get("/api/v1/nodes")
    assert time.monotonic() - began < 0.3
    sim_server.faults.set_latency("/apis/metrics.k8s.io", 0)
    assert sim_server.faults.latency == {}


def test_dropped_connections(sim_server, sim_api):
    api = sim_api(sim_server)
    sim_server.requests.clear()
    sim_server.faults.drop_connections(count=1, prefix="/api/v1/nodes")
    with pytest.raises(httpx.RemoteProtocolError):
        api.get("/api/v1/nodes")
    assert api.get("/api/v1/nodes").status_code == 200
    assert [r.status for r in sim_server.requests] == [0, 200]


def test_truncated_bodies(sim_server, sim_api):
    api = sim_api(sim_server)
    sim_server.faults.truncate_bodies(count=1)
    with pytest.raises(httpx.RemoteProtocolError):
        api.get("/api/v1/pods")
    assert sim_server.requests[-1].bytes_sent > 0
    assert api.get("/api/v1/pods").json()["kind"] == "PodList"


def test_malformed_json(sim_server, sim_api):
    api = sim_api(sim_server)
    sim_server.faults.malformed_json(prefix="/api/v1/nodes")
    broken = api.get("/api/v1/nodes")
    assert broken.status_code == 200 and broken.headers["content-type"] == "application/json"
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken.content)
    assert api.get("/api/v1/pods").json()["kind"] == "PodList"
    sim_server.faults.clear_rules()
    assert api.get("/api/v1/nodes").json()["kind"] == "NodeList"


def test_too_many_requests(sim_server, sim_api):
    api = sim_api(sim_server)
    sim_server.faults.too_many_requests(retry_after=2, count=2)
    for _ in range(2):
        response = api.get(f"{METRICS}/nodes")
        assert response.status_code == 429 and response.headers["retry-after"] == "2"
        assert response.json() == {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                   "message": "Too many requests, please try again later.",
                                   "reason": "TooManyRequests", "details": {"retryAfterSeconds": 2}, "code": 429}
    assert api.get(f"{METRICS}/nodes").status_code == 200


@pytest.mark.parametrize("code, reason", [(500, "InternalError"), (502, None), (503, "ServiceUnavailable"),
                                          (504, "Timeout")])
def test_server_errors(sim_server, sim_api, code, reason):
    api = sim_api(sim_server)
    sim_server.faults.server_error(code, count=1)
    response = api.get("/api/v1/nodes")
    assert response.status_code == code
    if reason:
        assert response.json()["reason"] == reason and response.json()["code"] == code
    else:
        assert "502 Bad Gateway" in response.text
    assert api.get("/api/v1/nodes").status_code == 200


def test_status_code_shorthand_and_fractions(sim_server, sim_api):
    api = sim_api(sim_server)
    sim_server.faults.status_code = 500
    assert api.get("/api/v1/nodes").status_code == 500
    sim_server.faults.status_code = None
    sim_server.faults.server_error(502, fraction=0.5)
    codes = [api.get("/api").status_code for _ in range(40)]
    assert 5 < codes.count(502) < 35 and codes.count(200) == 40 - codes.count(502)


def test_invalid_quantities(sim_server, sim_api):
    api = sim_api(sim_server)
    faults = sim_server.faults
    item = api.get(f"{METRICS}/pods").json()["items"][0]
    ns, pod = item["metadata"]["namespace"], item["metadata"]["name"]
    node = api.get(f"{METRICS}/nodes").json()["items"][0]["metadata"]["name"]
    rv = api.get(f"/api/v1/nodes/{node}").json()["metadata"]["resourceVersion"]
    faults.invalid_quantity("nodemetrics", node, value="6GiB")
    faults.invalid_quantity("podmetrics", pod, namespace=ns, resource="cpu", value="1g")
    faults.invalid_quantity("node", node, resource="memory", value="6GiB")
    faults.invalid_quantity("pod", pod, namespace=ns, resource="memory", value="1g")
    assert api.get(f"{METRICS}/nodes/{node}").json()["usage"]["memory"] == "6GiB"
    containers = api.get(f"{METRICS}/namespaces/{ns}/pods/{pod}").json()["containers"]
    assert "1g" in [c["usage"]["cpu"] for c in containers]
    node_doc = api.get(f"/api/v1/nodes/{node}").json()
    assert node_doc["status"]["allocatable"]["memory"] == node_doc["status"]["capacity"]["memory"] == "6GiB"
    assert int(node_doc["metadata"]["resourceVersion"]) > int(rv)
    pod_doc = api.get(f"/api/v1/namespaces/{ns}/pods/{pod}").json()
    assert pod_doc["spec"]["containers"][0]["resources"]["requests"]["memory"] == "1g"
    faults.reset()
    assert api.get(f"{METRICS}/nodes/{node}").json()["usage"]["memory"] != "6GiB"
    assert api.get(f"/api/v1/nodes/{node}").json()["status"]["allocatable"]["memory"] != "6GiB"
    with pytest.raises(ValueError):
        faults.invalid_quantity("widgets", "x")


def test_reset_restores_a_healthy_cluster(sim_server, sim_api):
    api = sim_api(sim_server)
    faults = sim_server.faults
    faults.metrics_absent = faults.metrics_down = faults.unauthorized = True
    faults.status_code = 502
    faults.forbid("sim-admin", "*", "*")
    faults.set_latency("/", 5)
    faults.drop_connections()
    faults.reset()
    assert api.get(f"{METRICS}/pods").status_code == 200


def test_hostile_answers(sim_server, sim_api):
    api = sim_api(sim_server)
    faults = sim_server.faults
    faults.gzip_bomb(inflated=8 << 20, count=1, prefix="/api/v1/nodes")
    with api.stream("GET", "/api/v1/nodes") as response:
        assert response.headers["content-encoding"] == "gzip"
        assert int(response.headers["content-length"]) < (8 << 20) // 100
        assert sum(map(len, response.iter_bytes())) == 8 << 20
    faults.huge_body(size=3 << 20, count=1, prefix="/api/v1/nodes")
    assert len(api.get("/api/v1/nodes").content) == 3 << 20
    faults.deep_nesting(depth=50, count=1, prefix=f"{METRICS}/nodes")
    assert api.get(f"{METRICS}/nodes").text.startswith('{"x-nested":' + "[" * 50 + "]" * 50 + ',"kind"')
    faults.bad_window("1.2.3s", count=1)
    assert {item["window"] for item in api.get(f"{METRICS}/nodes").json()["items"]} == {"1.2.3s"}
    faults.redirect("https://sso.example.com/login", count=1)
    response = api.get("/api/v1/pods")
    assert (response.status_code, response.headers["location"]) == (302, "https://sso.example.com/login")
    faults.too_many_requests(retry_after="1e308", count=1)
    assert api.get("/api/v1/pods").headers["retry-after"] == "1e308"
    faults.slow_body(bytes_per_second=100, count=1, prefix="/version")
    started = time.monotonic()
    body = api.get("/version").content
    assert time.monotonic() - started >= len(body) / 100 * 0.9
    assert api.get("/api/v1/nodes").json()["kind"] == "NodeList"  # each rule fired once


WATCH = {"watch": "1", "allowWatchBookmarks": "true", "timeoutSeconds": "30"}


def test_expired_watches_end_at_once_even_from_a_fresh_list(sim_server, sim_api):
    api = sim_api(sim_server)
    sim_server.faults.expire_watches(prefix="/api/v1/pods")
    rv = api.get("/api/v1/pods").json()["metadata"]["resourceVersion"]  # lists still work
    began = time.monotonic()
    response = api.get("/api/v1/pods", params={**WATCH, "resourceVersion": rv})
    assert time.monotonic() - began < 5
    (line,) = response.content.splitlines()
    event = json.loads(line)
    assert event["type"] == "ERROR" and event["object"]["code"] == 410 and event["object"]["reason"] == "Expired"
    assert api.get("/api/v1/nodes", params={**WATCH, "timeoutSeconds": "1"}).status_code == 200  # other paths not


def test_watches_answered_with_lists(sim_server, sim_api):
    api = sim_api(sim_server)
    sim_server.faults.answer_watches_with_lists()
    listed = api.get("/api/v1/pods").json()
    answer = api.get("/api/v1/pods", params=WATCH)
    assert answer.status_code == 200 and "transfer-encoding" not in answer.headers
    doc = answer.json()
    assert doc["kind"] == "PodList" and doc["items"] == listed["items"]


def test_silent_watches_send_headers_and_nothing_until_the_client_leaves(sim_server, sim_api):
    api = sim_api(sim_server)
    sim_server.faults.silent_watches()
    with api.stream("GET", "/api/v1/pods", params={**WATCH, "timeoutSeconds": "1"},
                    timeout=httpx.Timeout(5, read=2.5)) as response:
        assert response.status_code == 200
        with pytest.raises(httpx.ReadTimeout):  # no end at timeoutSeconds, no bookmark
            next(response.iter_raw())
    for _ in range(50):  # the server noticed the client left, and ended its side
        if any(r.query.startswith("watch") for r in sim_server.requests):
            break
        time.sleep(0.1)
    (record,) = [r for r in sim_server.requests if "watch" in r.query]
    assert record.status == 200 and record.bytes_sent == 0


def test_endless_watch_lines(sim_server, sim_api):
    api = sim_api(sim_server)
    sim_server.faults.endless_watch_lines(prefix="/api/v1/pods")
    received = 0
    with api.stream("GET", "/api/v1/pods", params=WATCH) as response:
        for chunk in response.iter_bytes():
            assert b"\n" not in chunk
            received += len(chunk)
            if received > 4 << 20:
                break
    assert received > 4 << 20


def test_forbidding_watch_leaves_list_allowed(sim_server, sim_api):
    api = sim_api(sim_server)
    sim_server.faults.forbid("sim-admin", "watch", "pods")
    assert api.get("/api/v1/pods").status_code == 200
    denied = api.get("/api/v1/pods", params=WATCH)
    assert denied.status_code == 403
    assert denied.json()["message"] == ('pods is forbidden: User "sim-admin" cannot watch resource "pods" in API '
                                        'group "" at the cluster scope')
