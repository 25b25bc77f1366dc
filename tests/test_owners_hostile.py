"""A server that misbehaves only where the owners are read: ReplicaSets refused as metadata
(406), garbage owner references on pods, Jobs that own each other. The pods view stays whole,
every pod still has a workload, and the refused list is not asked for again and again."""

from __future__ import annotations

import asyncio
import json

from helpers.hostile import HostileServer, kubeconfig_for

from ktopui.kube.connection import load_connection
from ktopui.live.session import ClusterSession

STAMP = "2026-12-06T20:00:00Z"
RS_PATH = "/apis/apps/v1/replicasets"


def _pod(name: str, owners, labels=None) -> dict:
    return {"metadata": {"namespace": "web", "name": name, "resourceVersion": "5", "labels": labels or {},
                         "ownerReferences": owners},
            "spec": {"nodeName": "node-1", "containers": [{"name": "app"}]}, "status": {"phase": "Running"}}


PODS = [
    # A reference that names no kind, one with no name, one that is not a controller.
    _pod("garbage", [{"kind": "", "name": "x", "uid": "1", "controller": True},
                     {"kind": "StatefulSet", "uid": "2", "controller": True},
                     {"kind": "Deployment", "name": "not-mine", "uid": "3"}]),
    _pod("looped", [{"kind": "Job", "name": "a", "uid": "4", "controller": True}]),
    _pod("web-5d4f8-x", [{"kind": "ReplicaSet", "name": "web-5d4f8", "uid": "5", "controller": True}],
         {"pod-template-hash": "5d4f8"}),
]
JOBS = [{"metadata": {"namespace": "web", "name": name, "resourceVersion": "5",
                      "ownerReferences": [{"kind": "Job", "name": other, "uid": "6", "controller": True}]}}
        for name, other in (("a", "b"), ("b", "a"))]


def _answer_body(path: str, accept: str) -> tuple[int, object]:
    if path == "/apis":
        return 200, {"groups": [{"name": "metrics.k8s.io", "versions": [{"groupVersion": "metrics.k8s.io/v1beta1",
                                                                          "version": "v1beta1"}]}]}
    if path == "/api/v1/nodes":
        return 200, {"metadata": {"resourceVersion": "5"}, "items": [
            {"metadata": {"name": "node-1"}, "status": {"allocatable": {"cpu": "4", "memory": "8Gi"}}}]}
    if path == "/api/v1/pods":
        return 200, {"metadata": {"resourceVersion": "5"}, "items": PODS}
    if path == RS_PATH:
        return 406, {"kind": "Status", "status": "Failure", "reason": "NotAcceptable", "code": 406,
                     "message": "only the following media types are accepted: application/json"}
    if path == "/api/v1/resourcequotas":
        return 200, {"metadata": {"resourceVersion": "5"}, "items": []}
    if path == "/apis/batch/v1/jobs":
        return 200, {"metadata": {"resourceVersion": "5"}, "items": JOBS}
    if path == "/apis/metrics.k8s.io/v1beta1/nodes":
        return 200, {"items": [{"metadata": {"name": "node-1"}, "timestamp": STAMP, "window": "15s",
                                "usage": {"cpu": "100m", "memory": "1Gi"}}]}
    if path == "/apis/metrics.k8s.io/v1beta1/pods":
        return 200, {"items": [{"metadata": {"namespace": "web", "name": p["metadata"]["name"]}, "timestamp": STAMP,
                                "window": "15s", "containers": [{"name": "app", "usage": {"cpu": "1m",
                                                                                          "memory": "1Mi"}}]}
                               for p in PODS]}
    return 404, {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404, "message": "not found"}


async def answer(head: bytes, writer: asyncio.StreamWriter) -> None:
    line, *headers = head.decode().split("\r\n")
    target = line.split()[1]
    path, _, query = target.partition("?")
    accept = next((h.split(":", 1)[1].strip() for h in headers if h.lower().startswith("accept:")), "")
    if "watch=1" in query:  # a watch that ends at once: the caches list now and then instead
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        return
    status, doc = _answer_body(path, accept)
    body = json.dumps(doc).encode()
    writer.write(f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                 "Connection: close\r\n\r\n".encode() + body)
    await writer.drain()


async def test_refused_and_garbage_owners_leave_the_pods_view_whole(tmp_path):
    async with HostileServer(answer) as server:
        session = ClusterSession(load_connection(kubeconfig=kubeconfig_for(server.url, tmp_path / "config")))
        try:
            for _ in range(6):
                snapshot = await session.refresh()
        finally:
            await session.close()
    assert len(snapshot.pods) == 3 and all(p.has_metrics for p in snapshot.pods)
    assert snapshot.errors == {}
    workloads = {row.key: row for row in snapshot.workloads}
    assert set(workloads) == {("Pod", "web", "garbage"), ("Job", "web", "b"), ("Deployment", "web", "web")}
    assert workloads[("Deployment", "web", "web")].inferred and not workloads[("Job", "web", "b")].inferred
    assert all(row.usage.cpu_milli == 1 for row in workloads.values())
    assert snapshot.notices == ("Deployments inferred from pod labels: replicasets.apps not served as metadata",)
    asked = [h for h in server.requests if h.split()[1].decode().startswith(RS_PATH)]
    assert 1 <= len(asked) <= 3
    # Metadata only, asked for as client-go's metadata informers ask (JSON first, whole objects last).
    assert b"accept: application/json;as=partialobjectmetadatalist;g=meta.k8s.io;v=v1,application/json\r\n" in (
        asked[0].lower())
    jobs = [h for h in server.requests if h.split()[1].decode().startswith("/apis/batch/v1/jobs")]
    watches = [h for h in jobs if b"watch=1" in h.split()[1]]
    assert watches and all(b"as=PartialObjectMetadata;g=meta.k8s.io;v=v1" in h for h in watches)
