"""Discovery and queries end to end: the simulated cluster (HTTPS, its credentials) lists its Services
and forwards the service proxy to a real Prometheus or VictoriaMetrics holding generated series."""

from __future__ import annotations

import numpy as np
import pytest

from ktopui.kube.api import KubeAPI
from ktopui.kube.connection import load_connection, make_http_client
from ktopui.kube.prometheus import PromRefused, PromUnavailable, proxy_client
from ktopui.kube.prometheus_discovery import find_prometheus
from ktopui.kube.prometheus_settings import PromSettings, open_prometheus
from ktopui.model import promql
from ktopui.sim import prometheus as sim_prometheus
from tests.helpers import cadvisor_series as gen
from tests.helpers.engines import holding

DATA = gen.Window(scrapes=240)
# As kube-prometheus and VictoriaMetrics' operator label their services.
EXPOSED = {
    "prometheus": [("monitoring", "prometheus-k8s", {"app.kubernetes.io/name": "prometheus",
                                                     "app.kubernetes.io/instance": "k8s",
                                                     "app.kubernetes.io/part-of": "kube-prometheus"}, 9090, "web"),
                   ("monitoring", "prometheus-operated", {"operated-prometheus": "true"}, 9090, "web")],
    "victoriametrics": [("monitoring", "vmsingle-k8s", {"app.kubernetes.io/name": "vmsingle"}, 8429, "http")],
}


@pytest.fixture(scope="module", params=sorted(EXPOSED))
def engine(request, tmp_path_factory):
    text = gen.openmetrics(DATA.begin_now().start, DATA.scrapes)
    with holding(request.param, tmp_path_factory.mktemp(request.param), text) as running:
        yield running


@pytest.fixture
async def cluster(make_sim_server, tmp_path, engine):
    server = make_sim_server(nodes=2, pods_per_node=2)
    for namespace, name, labels, port, port_name in EXPOSED[engine.kind]:
        server.expose_service(namespace, name, labels, port, engine.url, port_name=port_name)
    conn = load_connection(kubeconfig=str(server.write_kubeconfig(tmp_path / "config")),
                           environ={"HOME": str(tmp_path)})
    async with make_http_client(conn) as http:
        yield server, KubeAPI(http, conn.server)


async def test_discovery_finds_the_engine_and_queries_go_through_the_proxy(cluster, engine):
    server, api = cluster
    found = await find_prometheus(api)
    want = {"prometheus": ("monitoring/prometheus-k8s", "prometheus-operator", "prometheus-k8s:web"),
            "victoriametrics": ("monitoring/vmsingle-k8s", "victoriametrics", "vmsingle-k8s:http")}[engine.kind]
    assert (found.source.name, found.source.flavour) == want[:2]
    assert found.source.base == f"{server.url}/api/v1/namespaces/monitoring/services/{want[2]}/proxy"
    client = proxy_client(api, found.source)
    step = 60.0
    result = await client.query_range(promql.pod_cpu("shop", None, promql.rate_window(step)),
                                      DATA.start + 600, DATA.end, step)
    got = {(s.labels["pod"], s.labels["container"]): s.values for s in result.series}
    assert got.keys() == {(c.pod, c.name) for c in gen.CONTAINERS if c.namespace == "shop"}
    for c in (c for c in gen.CONTAINERS if c.namespace == "shop"):
        np.testing.assert_allclose(got[(c.pod, c.name)], c.millicores, rtol=1e-9)


async def test_a_long_pod_list_goes_as_post_which_rbac_calls_create(cluster, engine):
    server, api = cluster
    found = await find_prometheus(api)
    client = proxy_client(api, found.source)
    pods = [f"web-{i:04d}-{'x' * 40}" for i in range(200)] + ["db-0"]
    expr = promql.pod_memory("shop", pods)
    [db] = (await client.query(expr, at=DATA.end)).series
    assert db.labels["pod"] == "db-0"
    server.faults.forbid("sim-admin", "create", "services/proxy")
    with pytest.raises(PromRefused) as refused:
        await client.query(expr, at=DATA.end - 60)
    assert "create services/proxy in namespace 'monitoring'" in refused.value.hint
    # Short queries still go as GET, which `get` allows.
    assert len((await client.query(promql.pod_memory("shop", ["db-0"]), at=DATA.end)).series) == 1


async def test_without_services_proxy_rights_discovery_says_so(cluster):
    server, api = cluster
    server.faults.forbid("sim-admin", "get", "services/proxy", namespace="monitoring")
    opened = await open_prometheus(PromSettings(), api)
    assert opened.client is None and opened.note == ""
    assert "refused (403)" in opened.found.reason
    assert opened.found.hint.startswith("Ask a cluster admin for RBAC permission to get services/proxy in namespace "
                                        "'monitoring'")


async def test_an_engine_still_starting_is_found_unavailable_not_missing_and_then_answers(make_sim_server, tmp_path):
    """What the demo does: the Services are there (no endpoints) before the engine answers, so a
    dashboard that looks early is told to try again, and finds the engine once it is up."""
    server = make_sim_server(nodes=1, pods_per_node=1)
    sim_prometheus.announce(server)
    conn = load_connection(kubeconfig=str(server.write_kubeconfig(tmp_path / "config")),
                           environ={"HOME": str(tmp_path)})
    async with make_http_client(conn) as http:
        api = KubeAPI(http, conn.server)
        early = await open_prometheus(PromSettings(), api)
        assert early.client is None and isinstance(early.found.error, PromUnavailable)
        assert "no endpoints available" in early.found.error.message
        server.run_prometheus(tmp_path / "prometheus")
        later = await open_prometheus(PromSettings(), api)
        assert later.client is not None and later.client.source.name == "monitoring/prometheus-k8s"
        await later.client.aclose()
