"""Watches: initial state, live churn, resuming from a resourceVersion, bookmarks, 410."""

from __future__ import annotations

import base64
import json
import threading
import time


def events(response, count: int | None = None) -> list[dict]:
    """Read `count` more watch events (or all until the stream ends)."""
    if not hasattr(response, "lines"):
        response.lines = response.iter_lines()
    out = []
    for line in response.lines:
        if line:
            out.append(json.loads(line))
            if count is not None and len(out) == count:
                break
    return out


def key(obj: dict) -> tuple[str, str]:
    return obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


def test_watch_sends_the_state_then_live_changes(make_sim_server, sim_api):
    server = make_sim_server(churn_per_minute=24)
    api = sim_api(server)
    listed = api.get("/api/v1/pods").json()
    with api.stream("GET", "/api/v1/pods", params={"watch": "true", "timeoutSeconds": "10"}) as response:
        assert response.status_code == 200 and response.headers["transfer-encoding"] == "chunked"
        initial = events(response, len(listed["items"]))
        assert {e["type"] for e in initial} == {"ADDED"}
        assert [key(e["object"]) for e in initial] == [key(p) for p in listed["items"]]
        assert all(e["object"]["kind"] == "Pod" and e["object"]["apiVersion"] == "v1" for e in initial)
        threading.Timer(0.2, server.cluster.advance, (20,)).start()
        live = events(response, 3)
    assert {e["type"] for e in live} <= {"ADDED", "MODIFIED", "DELETED"}
    versions = [int(e["object"]["metadata"]["resourceVersion"]) for e in live]
    assert versions == sorted(versions) and versions[0] > int(listed["metadata"]["resourceVersion"])


def test_resuming_from_a_resource_version_replays_the_changes(make_sim_server, sim_api):
    server = make_sim_server(churn_per_minute=30)
    api = sim_api(server)
    before = api.get("/api/v1/pods").json()
    server.cluster.advance(60)
    after = api.get("/api/v1/pods").json()
    rv = before["metadata"]["resourceVersion"]
    with api.stream("GET", "/api/v1/pods", params={"watch": "1", "resourceVersion": rv,
                                                  "timeoutSeconds": "1"}) as response:
        replay = events(response)
    assert {"ADDED", "DELETED", "MODIFIED"} <= {e["type"] for e in replay}
    state = {key(p): p for p in before["items"]}
    for event in replay:  # an informer applying the events ends where a fresh list is
        assert int(event["object"]["metadata"]["resourceVersion"]) > int(rv)
        if event["type"] == "DELETED":
            del state[key(event["object"])]
        else:
            state[key(event["object"])] = {k: v for k, v in event["object"].items() if k not in ("kind", "apiVersion")}
    assert [state[k] for k in sorted(state)] == after["items"]


def test_watch_filters_by_namespace_and_selectors(make_sim_server, sim_api):
    server = make_sim_server(churn_per_minute=60)
    api = sim_api(server)
    rv = api.get("/api/v1/pods").json()["metadata"]["resourceVersion"]
    server.cluster.advance(60)
    with api.stream("GET", "/api/v1/namespaces/kube-system/pods",
                    params={"watch": "true", "resourceVersion": rv, "timeoutSeconds": "1"}) as response:
        scoped = events(response)
    assert scoped and {e["object"]["metadata"]["namespace"] for e in scoped} == {"kube-system"}
    node = scoped[0]["object"]["spec"]["nodeName"]
    with api.stream("GET", "/api/v1/pods", params={"watch": "true", "resourceVersion": rv, "timeoutSeconds": "1",
                                                  "fieldSelector": f"spec.nodeName={node}"}) as response:
        assert {e["object"]["spec"]["nodeName"] for e in events(response)} == {node}


def test_node_watch_sees_modifications(sim_server, sim_api):
    api = sim_api(sim_server)
    listed = api.get("/api/v1/nodes").json()
    name = listed["items"][0]["metadata"]["name"]
    sim_server.faults.invalid_quantity("node", name, value="6GiB")
    with api.stream("GET", "/api/v1/nodes", params={"watch": "true", "timeoutSeconds": "1",
                                                   "resourceVersion": listed["metadata"]["resourceVersion"]}) as r:
        (event,) = events(r)
    assert event["type"] == "MODIFIED" and event["object"]["kind"] == "Node"
    assert event["object"]["status"]["allocatable"]["memory"] == "6GiB"


def test_bookmarks_and_timeout(sim_server, sim_api):
    api = sim_api(sim_server)
    rv = api.get("/api/v1/pods").json()["metadata"]["resourceVersion"]
    began = time.monotonic()
    with api.stream("GET", "/api/v1/pods", params={"watch": "true", "resourceVersion": rv, "timeoutSeconds": "3",
                                                  "allowWatchBookmarks": "true"}) as response:
        received = events(response)
    assert 2.5 < time.monotonic() - began < 6
    assert [e["type"] for e in received] == ["BOOKMARK"]
    assert received[0]["object"]["kind"] == "Pod"
    assert received[0]["object"]["metadata"]["resourceVersion"] == rv


def test_too_old_resource_version_is_gone(sim_server, sim_api):
    api = sim_api(sim_server)
    with api.stream("GET", "/api/v1/pods", params={"watch": "true", "resourceVersion": "1"}) as response:
        assert response.status_code == 200
        (event,) = events(response)
    assert event["type"] == "ERROR"
    status = event["object"]
    assert (status["kind"], status["code"], status["reason"], status["status"]) == (
        "Status", 410, "Expired", "Failure")
    assert status["message"].startswith("too old resource version: 1 (")
    stale = base64.urlsafe_b64encode(json.dumps({"v": "meta.k8s.io/v1", "rv": 1, "start": "web/x\u0000"})
                                     .encode()).decode().rstrip("=")
    response = api.get("/api/v1/pods", params={"limit": "5", "continue": stale})
    assert response.status_code == 410
    body = response.json()
    assert body["reason"] == "Expired" and body["message"].startswith("The provided continue parameter is too old")
    assert body["metadata"]["continue"]


def test_metrics_cannot_be_watched(sim_server, sim_api):
    response = sim_api(sim_server).get("/apis/metrics.k8s.io/v1beta1/pods", params={"watch": "true"})
    assert response.status_code == 405 and response.json()["reason"] == "MethodNotAllowed"
