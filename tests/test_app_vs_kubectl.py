"""The numbers in the dashboard's node and pod tables equal `kubectl top` on the same cluster state."""

from __future__ import annotations

import pytest

from ktopui.sim.cluster import SimOptions
from ktopui.sim.server import SimServer
from helpers.app import make_app, refreshed, table
from helpers.kubectl import KUBECTL, kubectl

pytestmark = pytest.mark.kubectl
if KUBECTL is None:
    pytest.skip("kubectl.1.33 is not installed beside the kubectl dispatcher", allow_module_level=True)


@pytest.fixture(scope="module", params=[False, True], ids=["plain", "quirky"])
def frozen_sim(request, tmp_path_factory):
    server = SimServer(SimOptions(nodes=8, pods_per_node=7, seed=31, quirky=request.param)).start()
    server.cluster.freeze()
    kubeconfig = server.write_kubeconfig(tmp_path_factory.mktemp("cmp") / "config")
    yield server, kubeconfig
    server.stop()


def cells(t, row, *column_ids):
    """Cell texts without the `!`/`!!` level marks, which kubectl does not print."""
    by_id = {c.id: c for c in t.columns}
    return tuple(by_id[c].text(row, t.history).rstrip("!") for c in column_ids)


async def test_dashboard_numbers_equal_kubectl_top(frozen_sim):
    assert KUBECTL
    server, kubeconfig = frozen_sim
    top_nodes = kubectl(str(kubeconfig), "top", "nodes", "--no-headers").stdout.splitlines()
    top_pods = kubectl(str(kubeconfig), "top", "pods", "-A", "--no-headers").stdout.splitlines()
    expected_nodes = {}
    for line in top_nodes:
        name, cpu, cpu_pct, mem, mem_pct = line.split()
        if cpu != "<unknown>":
            expected_nodes[name] = (cpu, cpu_pct, mem, mem_pct)
    expected_pods = {(ns, name): (cpu, mem) for ns, name, cpu, mem in (line.split() for line in top_pods)}

    app = make_app(kubeconfig)
    async with app.run_test(size=(200, 50)) as pilot:
        await refreshed(app, pilot)
        nodes, pods = table(app, "nodes"), table(app, "pods")
        shown_nodes = {
            r.name: cells(nodes, r, "cpu", "cpu_pct", "mem", "mem_pct") for r in nodes.rows if r.has_metrics
        }
        shown_pods = {(r.namespace, r.name): cells(pods, r, "cpu", "mem") for r in pods.rows if r.has_metrics}

    assert len(expected_nodes) >= 6 and len(expected_pods) >= 40
    assert shown_nodes == expected_nodes
    assert shown_pods == expected_pods
