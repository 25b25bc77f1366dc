"""Real engines given the simulated cluster's past: rate() across the seam between the generated
past and the live scrapes is the metrics API's usage; `ktopui sim --prometheus` runs one and the
demo's holds its past from the start."""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import httpx
import pytest
import yaml
from helpers.engines import ENGINES

from ktopui.cli import DEMO_HISTORY, DEMO_NODES, demo_cluster
from ktopui.model.quantity import parse_quantity
from ktopui.sim.cluster import SimOptions
from ktopui.sim.server import SimServer

RESOLUTION = 2.0
SCRAPE_INTERVAL = 1.0  # half the resolution: every live collection is scraped
HISTORY = 600.0
SIDE = 6  # collections each side of the seam in the window compared
COUNTED = 250  # collections of the past counted (it has HISTORY / RESOLUTION)
# Counters near a thousand seconds read as float64 (VictoriaMetrics keeps about 12 digits).
NANOCORES = {"prometheus": 1, "victoriametrics": 1000}
DEMO_PROXY = "/api/v1/namespaces/monitoring/services/prometheus-k8s:web/proxy"


@pytest.fixture(scope="module")
def sim():
    with SimServer(SimOptions(nodes=3, pods_per_node=4, seed=5, metric_resolution=RESOLUTION,
                              churn_per_minute=0)) as server:
        yield server


@pytest.fixture(scope="module", params=sorted(ENGINES))
def with_past(request, sim, tmp_path_factory):
    """(engine, the cluster time just before it was started) for each engine holding the past."""
    why = ENGINES[request.param][0]()
    if why:
        pytest.skip(why)
    began = sim.cluster.now()
    engine = sim.run_prometheus(tmp_path_factory.mktemp(request.param), engine=request.param,
                                scrape_interval=SCRAPE_INTERVAL, history=HISTORY)
    yield engine, began
    engine.stop()


def _query(url: str, expr: str, at: float) -> list[dict]:
    query = urllib.parse.urlencode({"query": expr, "time": f"{at:.3f}"})
    with urllib.request.urlopen(f"{url}/api/v1/query?{query}", timeout=30) as response:
        body = json.load(response)
    assert body["status"] == "success", body
    return body["data"]["result"]


def _held_at(engine, selector: str, at: float) -> None:
    """Wait until the engine holds a live sample stamped `at` or later."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        engine.flush()
        result = _query(engine.url, f"timestamp(container_memory_working_set_bytes{{{selector}}})", time.time())
        if result and float(result[0]["value"][1]) >= at:
            return
        time.sleep(0.2)
    pytest.fail(f"the engine has no sample at {at} for {selector}")


def test_rate_across_the_seam_is_the_metrics_apis_usage(with_past, sim, sim_api):
    engine, began = with_past
    cluster = sim.cluster
    pod = next(p for p in cluster.pods if p.phase == "Running" and p.node is not None and p.node.ready
               and len(p.running_specs) > 1)
    selector = f'namespace="{pod.namespace}",pod="{pod.name}",container!="",image!=""'
    seam = cluster.kubelet_scrape(pod.node, began)  # the generated past ends at or after it
    first, last = seam - SIDE, cluster.kubelet_scrape(pod.node, time.time()) + SIDE
    at = round(cluster.scrape_time(pod.node, last) * 1000) / 1000
    _held_at(engine, selector, at)
    window = f"{round((last - first) * RESOLUTION * 1000)}ms"
    cpu = {r["metric"]["container"]: float(r["value"][1]) * 1e9
           for r in _query(engine.url, f"rate(container_cpu_usage_seconds_total{{{selector}}}[{window}])", at)}
    resets = _query(engine.url, f"resets(container_cpu_usage_seconds_total{{{selector}}}[{HISTORY:g}s])", at)
    assert cpu.keys() == {spec.name for spec in pod.running_specs}
    assert [float(r["value"][1]) for r in resets] == [0.0] * len(cpu)
    for i, spec in enumerate(pod.running_specs):
        mean = sum(cluster.pod_usage(pod, k)[i][0] for k in range(first + 1, last + 1)) / (last - first)
        assert cpu[spec.name] == pytest.approx(mean, abs=NANOCORES[engine.kind]), spec.name
    # cluster.pod_usage is the number the metrics API serves
    served = sim_api(sim).get(f"/apis/metrics.k8s.io/v1beta1/namespaces/{pod.namespace}/pods/{pod.name}").json()
    now = cluster.kubelet_scrape(pod.node, cluster.now())
    usage = {c["name"]: parse_quantity(c["usage"]["cpu"]).nanos for c in served["containers"]}
    if cluster.kubelet_scrape(pod.node, cluster.now()) == now:
        assert usage == {spec.name: cluster.pod_usage(pod, now)[i][0] for i, spec in enumerate(pod.running_specs)}


def test_the_engine_holds_the_whole_past_at_every_collection(with_past, sim):
    engine, began = with_past
    node = next(n for n in sim.cluster.nodes if n.ready)
    last = sim.cluster.kubelet_scrape(node, began) - 1  # the past ends there or later
    at = round(sim.cluster.scrape_time(node, last) * 1000) / 1000
    selector = f'id="/",node="{node.name}"'
    # a window one second short of COUNTED collections: the same ones whether its start is open or closed
    window = f"{COUNTED * RESOLUTION - 1:g}s"
    counted = _query(engine.url, f"count_over_time(container_memory_working_set_bytes{{{selector}}}[{window}])", at)
    assert [r["value"][1] for r in counted] == [str(COUNTED)]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_ktopui_sim_runs_its_engine_with_a_past_and_stops_it(tmp_path, sig):
    why = ENGINES["prometheus"][0]()
    if why:
        pytest.skip(why)
    sim = subprocess.Popen([sys.executable, "-m", "ktopui", "sim", "--nodes", "2", "--pods-per-node", "2",
                            "--prometheus", "--history", "10m", "--kubeconfig", str(tmp_path / "config")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    pid = None
    try:
        lines = []
        for line in sim.stdout:
            lines.append(line)
            if line.startswith("Ctrl-C"):
                break
        engine_line = next(line for line in lines if line.startswith("prometheus (pid "))
        pid = int(engine_line.split("pid ", 1)[1].split(")", 1)[0])
        url = engine_line.split(" at ", 1)[1].split(" ", 1)[0]
        assert "holding 10m of the past" in engine_line and "monitoring/prometheus-k8s" in engine_line
        assert any("ktopui history pods -A --since 1h" in line for line in lines)
        counted = _query(url, 'count_over_time(container_memory_working_set_bytes{id="/"}[10m])', time.time())
        assert len(counted) == 2 and all(int(r["value"][1]) >= 35 for r in counted)
        os.kill(pid, 0)
    finally:
        sim.send_signal(sig)
        ended = sim.wait(timeout=30)
    assert pid is not None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        left = False
    else:
        left = True
        os.kill(pid, signal.SIGKILL)  # a test that fails leaves no engine behind
    assert (ended, left) == (0, False), sim.stderr.read()


def test_the_demos_prometheus_holds_its_past_from_the_start(tmp_path):
    why = ENGINES["prometheus"][0]()
    if why:
        pytest.skip(why)
    with demo_cluster() as kubeconfig:
        doc = yaml.safe_load(Path(kubeconfig).read_text())
        ca = tmp_path / "ca.crt"
        ca.write_bytes(base64.b64decode(doc["clusters"][0]["cluster"]["certificate-authority-data"]))
        with httpx.Client(base_url=doc["clusters"][0]["cluster"]["server"], timeout=10,
                          verify=ssl.create_default_context(cafile=str(ca)),
                          headers={"Authorization": f"Bearer {doc['users'][0]['user']['token']}"}) as api:
            query = f'count_over_time(container_memory_working_set_bytes{{id="/"}}[{DEMO_HISTORY}s])'
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.HTTPError):
                    answer = api.post(f"{DEMO_PROXY}/api/v1/query", data={"query": query})
                    if answer.status_code == 200:
                        break
                time.sleep(0.2)
            else:
                pytest.fail("the demo's Prometheus did not answer within 60 s")
    counts = [int(r["value"][1]) for r in answer.json()["data"]["result"]]
    assert len(counts) == DEMO_NODES - 1  # one node's kubelet is down
    assert min(counts) >= DEMO_HISTORY / 15 - 2
