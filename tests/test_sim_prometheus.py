"""A real Prometheus and VictoriaMetrics scraping the simulated cluster through the API server's node
proxy agree with the metrics API, and are reachable through the service proxy."""

from __future__ import annotations

import json
import ssl
import time
import urllib.parse
import urllib.request

import httpx
import pytest
from helpers.engines import ENGINES

from ktopui.model.quantity import parse_quantity
from ktopui.sim.cluster import SimOptions
from ktopui.sim.server import SimServer

RESOLUTION = 2.0  # the sim's metric resolution, in seconds
SCRAPE_INTERVAL = 1.0  # half of it: every one of the kubelet's collections is scraped
SCRAPES = 8  # the windows compared: rate() over this many of the kubelet's collections
# Both engines read the counters as float64 (VictoriaMetrics keeps about 12 significant digits):
# counters near a million seconds leave a micro-second of rounding, under a microcore of rate.
NANOCORES = {"prometheus": 1, "victoriametrics": 1000}
# The window that makes rate() the mean of exactly SCRAPES collections ending at the query time:
# SCRAPES × RESOLUTION for both. Prometheus 2 reads a range closed at both ends, so the window
# holds SCRAPES + 1 samples spanning all of it (nothing to extrapolate); VictoriaMetrics adds the
# last sample before the window and does not extrapolate (its windows are at least 10 s).
WINDOW = SCRAPES * RESOLUTION


@pytest.fixture(scope="module")
def sim():
    with SimServer(SimOptions(nodes=3, pods_per_node=4, seed=5, metric_resolution=RESOLUTION,
                              churn_per_minute=0)) as server:
        yield server


@pytest.fixture(scope="module")
def engines(sim, tmp_path_factory):
    """Every engine installed, all scraping the one cluster every SCRAPE_INTERVAL seconds."""
    started = {kind: sim.run_prometheus(tmp_path_factory.mktemp(kind), engine=kind, scrape_interval=SCRAPE_INTERVAL)
               for kind, (have, _) in ENGINES.items() if have() is None}
    yield started
    for engine in started.values():
        engine.stop()


@pytest.fixture(scope="module", params=sorted(ENGINES))
def scraped(request, sim, engines):
    """(sim, engine) for each engine in turn."""
    why = ENGINES[request.param][0]()
    if why:
        pytest.skip(why)
    return sim, engines[request.param]


@pytest.fixture(scope="module")
def watched(sim, engines):
    """(pod, its selector, {scrape number: {container: usage}}) for SCRAPES + 1 collections the
    metrics API served while every engine was scraping."""
    pod = next(p for p in sim.cluster.pods if p.phase == "Running" and p.node is not None
               and len(p.running_specs) > 1)
    selector = f'namespace="{pod.namespace}",pod="{pod.name}",container!="",image!=""'
    for engine in engines.values():
        _scraped_by(engine, selector, sim.cluster.now() - RESOLUTION)  # scraping: the windows start after this
    context = ssl.create_default_context(cafile=str(sim.ca_path))
    with httpx.Client(base_url=sim.url, verify=context, headers={"Authorization": f"Bearer {sim.token}"}) as api:
        return pod, selector, _served(sim, api, pod, SCRAPES + 1)


def _query(url: str, expr: str, at: float) -> list[dict]:
    query = urllib.parse.urlencode({"query": expr, "time": f"{at:.3f}"})
    with urllib.request.urlopen(f"{url}/api/v1/query?{query}", timeout=30) as response:
        body = json.load(response)
    assert body["status"] == "success", body
    return body["data"]["result"]


def _served(sim: SimServer, api, pod, scrapes: int) -> dict[int, dict[str, dict]]:
    """The metrics API's usage of the pod's containers at each of its node's next `scrapes`
    collections: {scrape number: {container: usage}}, read as the cluster's clock runs."""
    served: dict[int, dict[str, dict]] = {}
    while len(served) < scrapes:
        k = sim.cluster.kubelet_scrape(pod.node, sim.cluster.now())
        doc = api.get(f"/apis/metrics.k8s.io/v1beta1/namespaces/{pod.namespace}/pods/{pod.name}").json()
        if sim.cluster.kubelet_scrape(pod.node, sim.cluster.now()) == k:  # read within one collection
            served[k] = {c["name"]: c["usage"] for c in doc["containers"]}
        time.sleep(RESOLUTION / 4)
    return served


def _scraped_by(engine, selector: str, since: float) -> None:
    """Wait until the engine holds a sample stamped `since` or later (the cluster's clock is real time)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        engine.flush()
        result = _query(engine.url, f"timestamp(container_memory_working_set_bytes{{{selector}}})", time.time())
        if result and float(result[0]["value"][1]) >= since:
            return
        time.sleep(0.2)
    pytest.fail(f"the engine has no sample since {since} for {selector}")


def test_the_engines_cpu_rate_and_memory_are_the_metrics_apis_usage(scraped, watched):
    sim, engine = scraped
    pod, selector, served = watched
    last = max(served)
    at = round(sim.cluster.scrape_time(pod.node, last) * 1000) / 1000
    _scraped_by(engine, selector, at)
    window = f"{round(WINDOW * 1000)}ms"
    cpu = {r["metric"]["container"]: float(r["value"][1]) * 1e9
           for r in _query(engine.url, f"rate(container_cpu_usage_seconds_total{{{selector}}}[{window}])", at)}
    memory = {r["metric"]["container"]: int(r["value"][1])
              for r in _query(engine.url, f"container_memory_working_set_bytes{{{selector}}}", at)}
    assert cpu.keys() == memory.keys() == served[last].keys()
    for name in served[last]:
        mean = sum(parse_quantity(served[k][name]["cpu"]).nanos for k in range(last - SCRAPES + 1, last + 1)) / SCRAPES
        assert cpu[name] == pytest.approx(mean, abs=NANOCORES[engine.kind]), name
        assert memory[name] == parse_quantity(served[last][name]["memory"]).value(), name


def test_series_carry_the_labels_kube_prometheus_gives_them(scraped):
    sim, engine = scraped
    engine.flush()
    result = _query(engine.url, "count by (node, instance, job, metrics_path) (container_cpu_usage_seconds_total)",
                    time.time())
    nodes = {n.name: n for n in sim.cluster.nodes}
    assert {r["metric"]["node"] for r in result} == nodes.keys()
    for r in result:
        assert r["metric"] == {"node": r["metric"]["node"], "instance": f'{nodes[r["metric"]["node"]].ip}:10250',
                               "job": "kubelet", "metrics_path": "/metrics/cadvisor"}


def test_the_engine_is_exposed_as_its_operator_exposes_it_and_answers_through_the_proxy(scraped, sim_api):
    sim, engine = scraped
    api = sim_api(sim)
    services = api.get("/api/v1/namespaces/monitoring/services").json()["items"]
    names = {s["metadata"]["name"]: s for s in services}
    if engine.kind == "prometheus":
        assert names.keys() >= {"prometheus-k8s", "prometheus-operated"}
        assert names["prometheus-k8s"]["metadata"]["labels"] == {
            "app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "k8s",
            "app.kubernetes.io/part-of": "kube-prometheus"}
        path = "/api/v1/namespaces/monitoring/services/prometheus-k8s:web/proxy/api/v1/query"
    else:
        assert "vmsingle-k8s" in names
        assert names["vmsingle-k8s"]["metadata"]["labels"]["app.kubernetes.io/name"] == "vmsingle"
        path = "/api/v1/namespaces/monitoring/services/vmsingle-k8s:http/proxy/api/v1/query"
    answer = api.post(path, data={"query": 'up{job="kubelet"}'})
    assert answer.status_code == 200
    assert sorted(r["value"][1] for r in answer.json()["data"]["result"]) == ["1"] * len(sim.cluster.nodes)
