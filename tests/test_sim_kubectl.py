"""The machine's real kubectl against the simulated cluster, unmodified."""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from pathlib import Path

import pytest

FALLBACK = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33"


def find_kubectl() -> str | None:
    """kubectl.1.33 beside the kubectl dispatcher on PATH (the dispatcher may pick another minor)."""
    found = shutil.which("kubectl")
    candidates = [Path(os.path.realpath(found)).with_name("kubectl.1.33")] if found else []
    candidates.append(Path(FALLBACK))
    return next((str(c) for c in candidates if c.is_file() and os.access(c, os.X_OK)), None)


KUBECTL = find_kubectl()
pytestmark = pytest.mark.skipif(KUBECTL is None, reason=f"kubectl 1.33 not installed (looked beside `kubectl` "
                                                         f"on PATH and at {FALLBACK})")


@pytest.fixture
def kubectl(tmp_path):
    def run(server, *args: str) -> subprocess.CompletedProcess:
        config = server.write_kubeconfig(tmp_path / "config")
        env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"} | {"HOME": str(tmp_path)}
        return subprocess.run([KUBECTL, "--kubeconfig", str(config), *args], capture_output=True, text=True,
                              env=env, timeout=60)
    return run


def rows(result: subprocess.CompletedProcess) -> list[list[str]]:
    assert result.returncode == 0, result.stderr
    return [line.split() for line in result.stdout.splitlines()[1:]]


def millicores(text: str) -> int:
    """kubectl's MilliValue() of the canonical CPU strings metrics-server sends."""
    if text.endswith("n"):
        return math.ceil(int(text[:-1]) / 1e6)
    if text.endswith("u"):
        return math.ceil(int(text[:-1]) / 1e3)
    return int(text[:-1]) if text.endswith("m") else int(text) * 1000


def test_top_nodes_and_pods(sim_server, sim_api, kubectl):
    api = sim_api(sim_server)
    node_metrics = api.get("/apis/metrics.k8s.io/v1beta1/nodes").json()["items"]
    pod_metrics = api.get("/apis/metrics.k8s.io/v1beta1/pods").json()["items"]
    nodes = kubectl(sim_server, "top", "nodes")
    assert nodes.stdout.split("\n", 1)[0].split() == ["NAME", "CPU(cores)", "CPU(%)", "MEMORY(bytes)", "MEMORY(%)"]
    table = {r[0]: r for r in rows(nodes)}
    assert len(table) == 6 and sum(r[1] == "<unknown>" for r in table.values()) == 1
    for item in node_metrics:
        assert table[item["metadata"]["name"]][1] == f"{millicores(item['usage']['cpu'])}m"
    pods = rows(kubectl(sim_server, "top", "pods", "-A"))
    assert [(r[0], r[1]) for r in pods] == [(i["metadata"]["namespace"], i["metadata"]["name"]) for i in pod_metrics]
    frontend = rows(kubectl(sim_server, "top", "pods", "-n", "web", "-l", "app=frontend"))
    assert frontend and all(r[0].startswith("frontend-") for r in frontend)
    containers = rows(kubectl(sim_server, "top", "pods", "-n", "web", "--containers"))
    assert {"istio-proxy", "nginx"} <= {r[1] for r in containers}
    name = node_metrics[0]["metadata"]["name"]
    assert rows(kubectl(sim_server, "top", "node", name))[0][0] == name
    pod = pod_metrics[0]["metadata"]
    assert rows(kubectl(sim_server, "top", "pod", pod["name"], "-n", pod["namespace"]))[0][0] == pod["name"]


def test_quirky_quantities_are_accepted(make_sim_server, kubectl):
    server = make_sim_server(quirky=True, nodes=4, pods_per_node=6)
    assert len(rows(kubectl(server, "top", "nodes"))) == 4
    assert len(rows(kubectl(server, "top", "pods", "-A", "--containers"))) > 10


def test_metrics_api_unavailable(sim_server, kubectl):
    sim_server.faults.metrics_absent = True
    absent = kubectl(sim_server, "top", "nodes")
    assert absent.returncode == 1 and "Metrics API not available" in absent.stderr
    sim_server.faults.metrics_absent = False
    sim_server.faults.metrics_down = True
    down = kubectl(sim_server, "top", "pods", "-A")
    assert down.returncode == 1
    assert "(ServiceUnavailable): the server is currently unable to handle the request" in down.stderr
