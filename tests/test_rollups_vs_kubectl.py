"""The oracle for workloads and namespaces: on the same (frozen) simulated cluster, a workload's
CPU and MEMORY equal the total line of `kubectl.1.33 top pods -n NS -l SELECTOR --sum` for its
pods, and a namespace's that of `kubectl.1.33 top pods -n NS --sum`, in the dashboard's rows
and in `ktopui top workloads|namespaces`."""

from __future__ import annotations

import asyncio
import json

import pytest
from helpers.kubectl import KUBECTL, kubectl
from helpers.owners import read

from ktopui.cli import main
from ktopui.kube.connection import load_connection
from ktopui.live.session import ClusterSession
from ktopui.sim import zoo

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl 1.33 is not installed beside the dispatcher")


@pytest.fixture
def cluster(make_sim_server, tmp_path):
    server = make_sim_server(nodes=12, pods_per_node=9, churn_per_minute=0)
    return server, str(server.write_kubeconfig(tmp_path / "config"))


def snapshot_of(kubeconfig: str):
    async def settle():
        session = ClusterSession(load_connection(kubeconfig=kubeconfig))
        try:
            for _ in range(20):
                snapshot = await session.refresh()
                if snapshot.workloads and not any(w.inferred for w in snapshot.workloads):
                    return snapshot
        finally:
            await session.close()
        raise AssertionError("the owners never settled")

    return asyncio.run(settle())


def kubectl_total(kubeconfig: str, namespace: str, *selector: str) -> tuple[str, str]:
    result = kubectl(kubeconfig, "top", "pods", "-n", namespace, *selector, "--sum")
    assert result.returncode == 0, result.stderr
    return tuple(result.stdout.splitlines()[-1].split())


def cells(usage) -> tuple[str, str]:
    return (f"{usage.cpu_milli}m", f"{usage.mem_bytes >> 20}Mi")


def selectors(objects: dict[str, list[dict]]) -> dict[tuple[str, str, str], str]:
    """A label selector per workload that picks exactly its pods, from its owner objects."""
    out = {}
    for kind in ("Deployment", "Rollout", "StatefulSet", "DaemonSet", "ReplicationController"):
        for obj in objects[kind]:
            labels = obj["spec"]["selector"]
            labels = labels.get("matchLabels", labels)
            meta = obj["metadata"]
            out[(kind, meta["namespace"], meta["name"])] = ",".join(f"{k}={v}" for k, v in labels.items())
    for cronjob in objects["CronJob"]:
        meta = cronjob["metadata"]
        jobs = [j["metadata"]["name"] for j in objects["Job"]
                if j["metadata"].get("ownerReferences", [{}])[0].get("uid") == meta["uid"]]
        out[("CronJob", meta["namespace"], meta["name"])] = f"batch.kubernetes.io/job-name in ({','.join(jobs)})"
    return out


def test_workload_usage_equals_kubectl_top_pods_sum_of_its_pods(cluster, sim_api, capsys):
    server, kubeconfig = cluster
    snapshot = snapshot_of(kubeconfig)
    wanted = selectors(read(sim_api(server)))
    checked = set()
    for row in snapshot.workloads:
        if row.key not in wanted or not row.has_metrics:
            continue
        kind, namespace, _ = row.key
        assert cells(row.usage) == kubectl_total(kubeconfig, namespace, "-l", wanted[row.key]), row.key
        checked.add(kind)
    assert {"Deployment", "Rollout", "StatefulSet", "DaemonSet", "ReplicationController"} <= checked
    # `ktopui top workloads` prints the same cells.
    assert main(["top", "--kubeconfig", kubeconfig, "workloads", "-n", zoo.NAMESPACE, "-o", "json"]) == 0
    printed = {(w["kind"], w["namespace"], w["name"]): w for w in json.loads(capsys.readouterr().out)["items"]}
    for row in snapshot.workloads:
        if row.namespace == zoo.NAMESPACE:
            got = printed[row.key]
            assert (got["cpuMillicores"], got["memoryBytes"]) == (row.usage.cpu_milli, row.usage.mem_bytes)
            assert got["pods"] == row.pods and got["inferred"] is False


def test_a_deployment_in_the_middle_of_a_rollout_sums_both_replicasets_like_kubectl(cluster, capsys):
    _, kubeconfig = cluster
    assert main(["top", "--kubeconfig", kubeconfig, "workloads", "-n", zoo.NAMESPACE]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["KIND", "NAME", "PODS", "RESTARTS", "CPU(cores)", "%CPU/R", "%CPU/L", "MEMORY(bytes)",
                                "%MEM/R", "%MEM/L"]
    row = next(line.split() for line in lines if line.split()[:2] == ["Deployment", "storefront"])
    assert row[2] == "3/3"
    assert (row[4], row[7]) == kubectl_total(kubeconfig, zoo.NAMESPACE, "-l", "app=storefront")


def test_namespace_usage_equals_kubectl_top_pods_sum_of_the_namespace(cluster, capsys):
    _, kubeconfig = cluster
    snapshot = snapshot_of(kubeconfig)
    assert main(["top", "--kubeconfig", kubeconfig, "namespaces"]) == 0
    table = {line.split()[0]: line.split() for line in capsys.readouterr().out.splitlines()[1:]}
    measured = [row for row in snapshot.namespaces if row.has_metrics]
    assert len(measured) >= 5
    for row in measured:
        total = kubectl_total(kubeconfig, row.namespace)
        assert cells(row.usage) == total, row.namespace
        assert (table[row.namespace][2], table[row.namespace][5]) == total
