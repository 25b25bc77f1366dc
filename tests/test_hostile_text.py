"""Text from the cluster never drives the terminal and is never read as markup.

The simulated cluster with `hostile_text` names a node, namespaces, a pod and
its container with escape sequences (title, clipboard, clear screen), CR,
bidi overrides, 8-bit CSI and Textual markup; the same in a waiting reason,
/version, whoami, an access review's reason and (a fault) Status messages.
Every way ktopui shows text is driven against it: each screen of the
dashboard, the --log file, `ktopui top` and the doctor report.
"""

from __future__ import annotations

import json

import pytest

from ktopui.sim import hostile

# What must not reach a terminal: ESC, BEL, CR (and every other C0 control but the
# newlines a report is made of), DEL, C1 controls (the 8-bit CSI), bidi and zero-width controls.
RAW = {chr(c) for c in range(0x20) if c != 0x0A} | {"\x7f"} | {chr(c) for c in range(0x80, 0xA0)} | set(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u200b"
)


def raw_controls(text: str) -> set[str]:
    return {char for char in text if char in RAW}


@pytest.fixture
def hostile_sim(make_sim_server):
    server = make_sim_server(hostile_text=True)
    server.cluster.advance(60)  # every running pod scraped twice: all have metrics
    return server


# -- the simulated cluster ---------------------------------------------------------


def test_the_hostile_sim_serves_hostile_names_reasons_and_texts(hostile_sim, sim_api):
    api = sim_api(hostile_sim)
    nodes = [n["metadata"]["name"] for n in api.get("/api/v1/nodes").json()["items"]]
    assert hostile.NODE in nodes
    namespaces = [n["metadata"]["name"] for n in api.get("/api/v1/namespaces").json()["items"]]
    assert {hostile.NAMESPACE, hostile.MARKUP_NAMESPACE} <= set(namespaces)
    assert namespaces == sorted(namespaces)
    pods = api.get("/api/v1/pods").json()["items"]
    pod = next(p for p in pods if p["metadata"]["name"] == hostile.POD)
    assert pod["metadata"]["namespace"] == hostile.NAMESPACE
    assert pod["spec"]["nodeName"] == hostile.NODE
    assert pod["status"]["containerStatuses"][0]["name"] == hostile.CONTAINER
    assert pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == hostile.WAITING_REASON
    metrics = api.get("/apis/metrics.k8s.io/v1beta1/pods").json()["items"]
    assert any(m["metadata"]["name"] == hostile.POD and m["containers"][0]["name"] == hostile.CONTAINER
               for m in metrics)
    assert api.get("/version").json()["gitVersion"] == hostile.VERSION
    review = api.post("/apis/authentication.k8s.io/v1/selfsubjectreviews",
                      json={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}).json()
    assert review["status"]["userInfo"]["username"] == hostile.USER


def test_hostile_errors_answer_with_a_hostile_status_message(hostile_sim, sim_api):
    hostile_sim.faults.hostile_errors(count=1, prefix="/api/v1/nodes")
    api = sim_api(hostile_sim)
    answer = api.get("/api/v1/nodes")
    assert answer.status_code == 500
    assert hostile.STATUS_MESSAGE in answer.json()["message"]
    assert api.get("/api/v1/nodes").status_code == 200
