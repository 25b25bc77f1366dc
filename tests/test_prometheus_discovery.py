"""Finding Prometheus in the cluster: Services by label, the port, the proxy path, the confirmation,
and why nothing was found (against a small API server written here)."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from ktopui.kube.api import KubeAPI
from ktopui.kube.prometheus_discovery import find_prometheus
from tests.helpers.fake_apiserver import FakeAPIServer, prometheus_answer, serve

WEB = [{"name": "web", "port": 9090}]


@pytest.fixture
async def cluster():
    fake = FakeAPIServer()
    async with serve(fake) as server, httpx.AsyncClient(base_url=server.url) as http:
        yield fake, KubeAPI(http, server.url), server


async def test_kube_prometheus_stack_is_found_and_confirmed_through_the_proxy(cluster):
    fake, api, server = cluster
    fake.add_service("monitoring", "kps-prometheus", {"app": "kube-prometheus-stack-prometheus"},
                     [{"name": "http-web", "port": 9090}, {"name": "reloader-web", "port": 8080}], prometheus_answer)
    found = await find_prometheus(api)
    assert found.source is not None and found.reason == ""
    assert found.source.base == f"{server.url}/api/v1/namespaces/monitoring/services/kps-prometheus:http-web/proxy"
    assert (found.source.name, found.source.flavour, found.source.via) == (
        "monitoring/kps-prometheus", "kube-prometheus-stack", "proxy")
    # Three lists and one confirmation: the whole cost.
    assert [m for m, p, _ in server.seen if p == "/api/v1/services"] == ["GET"] * 3
    assert fake.proxied == ["/api/v1/namespaces/monitoring/services/kps-prometheus:http-web/proxy/api/v1/query"]


async def test_the_operator_s_named_service_wins_over_its_headless_one(cluster):
    fake, api, _ = cluster
    fake.add_service("monitoring", "prometheus-operated", {"operated-prometheus": "true"}, WEB, prometheus_answer)
    fake.add_service("monitoring", "prometheus-k8s", {"app.kubernetes.io/name": "prometheus",
                                                      "app.kubernetes.io/part-of": "kube-prometheus"},
                     [{"name": "web", "port": 9090}, {"name": "reloader-web", "port": 8080}], prometheus_answer)
    found = await find_prometheus(api)
    assert found.source.name == "monitoring/prometheus-k8s" and found.source.flavour == "prometheus-operator"


@pytest.mark.parametrize(("labels", "ports", "flavour", "path"), [
    ({"app": "prometheus", "component": "server"}, [{"name": "http", "port": 80}], "prometheus", "prom:http/proxy"),
    ({"app.kubernetes.io/name": "prometheus", "app.kubernetes.io/component": "server"}, [{"port": 80}],
     "prometheus", "prom:80/proxy"),
    ({"app.kubernetes.io/name": "thanos-query"}, [{"name": "grpc", "port": 10901}, {"name": "http", "port": 10902}],
     "thanos", "prom:http/proxy"),
    ({"app.kubernetes.io/name": "vmselect"}, [{"name": "http", "port": 8481}], "victoriametrics",
     "prom:http/proxy/select/0/prometheus"),
    ({"app.kubernetes.io/name": "vmsingle"}, [{"name": "https", "port": 8429}], "victoriametrics",
     "https:prom:https/proxy"),
])
async def test_each_installation_gets_its_flavour_port_and_path(cluster, labels, ports, flavour, path):
    fake, api, server = cluster
    fake.add_service("mon", "prom", labels, ports, prometheus_answer)
    found = await find_prometheus(api)
    assert found.source.flavour == flavour
    assert found.source.base == f"{server.url}/api/v1/namespaces/mon/services/{path}"


async def test_services_that_only_look_alike_are_left_alone(cluster):
    fake, api, _server = cluster
    fake.add_service("mon", "alertmanager", {"app": "prometheus", "component": "alertmanager"}, WEB)
    fake.add_service("mon", "node-exporter", {"app.kubernetes.io/name": "prometheus-node-exporter"}, WEB)
    found = await find_prometheus(api)
    assert found.source is None
    assert found.reason == "no Prometheus, Thanos or VictoriaMetrics service found by its labels"
    assert fake.proxied == []


async def test_nothing_in_the_cluster_costs_three_lists_and_says_why(cluster):
    _fake, api, server = cluster
    found = await find_prometheus(api)
    assert found.source is None and "no Prometheus" in found.reason
    assert len(server.seen) == 3 and len(found.tried) == 3


async def test_a_forbidden_service_list_says_which_rbac_to_ask_for(cluster):
    fake, api, _ = cluster
    fake.forbid_list = True
    found = await find_prometheus(api)
    assert found.source is None
    assert found.reason.startswith("not allowed to list services cluster-wide: services is forbidden")
    assert "list services" in found.hint


async def test_a_forbidden_proxy_says_which_rbac_to_ask_for(cluster):
    fake, api, _ = cluster
    fake.add_service("monitoring", "prometheus-k8s", {"app.kubernetes.io/name": "prometheus"}, WEB, prometheus_answer)
    fake.forbid_proxy = True
    found = await find_prometheus(api)
    assert found.source is None
    assert found.reason.startswith("found but not answering through the service proxy: "
                                   "Prometheus monitoring/prometheus-k8s: refused (403)")
    assert found.hint.startswith("Ask a cluster admin for RBAC permission to get services/proxy in namespace "
                                 "'monitoring'")


async def test_a_service_with_nothing_behind_it_is_passed_over_for_one_that_answers(cluster):
    fake, api, _ = cluster
    fake.add_service("a", "thanos", {"app.kubernetes.io/name": "thanos-query"}, [{"name": "http", "port": 10902}])
    fake.add_service("b", "prometheus", {"app": "prometheus", "component": "server"}, WEB, prometheus_answer)
    found = await find_prometheus(api)
    assert found.source.name == "b/prometheus"
    assert found.tried[-2:] == ["query 1 through a/thanos's service proxy", "query 1 through b/prometheus's service proxy"]


async def test_a_service_that_hangs_is_given_up_on_within_the_confirmation_deadline(cluster, monkeypatch):
    monkeypatch.setattr("ktopui.kube.prometheus_discovery.CONFIRM_DEADLINE", 0.5)
    fake, api, _ = cluster

    async def hangs(method, rest, form, headers):
        await asyncio.sleep(30)
    fake.add_service("a", "thanos", {"app.kubernetes.io/name": "thanos-query"}, [{"name": "http", "port": 10902}],
                     hangs)
    fake.add_service("b", "prometheus", {"app": "prometheus", "component": "server"}, WEB, prometheus_answer)
    started = time.monotonic()
    found = await find_prometheus(api)
    assert found.source.name == "b/prometheus" and time.monotonic() - started < 5
