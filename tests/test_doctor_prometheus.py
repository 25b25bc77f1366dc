"""The doctor's Prometheus section against real engines (one with cAdvisor-like series, one empty,
one whose series lack the pod labels), a forbidden service proxy, and through `ktopui doctor`."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request

import httpx
import pytest

from ktopui.cli import main
from ktopui.doctor import prometheus as doctor_prometheus
from ktopui.doctor.findings import FAIL, OK, SKIP, WARN
from ktopui.kube.api import KubeAPI
from ktopui.kube.prometheus_settings import PromSettings
from ktopui.sim.cluster import SimOptions
from ktopui.sim.engines import have_prometheus, have_victoria_metrics
from ktopui.sim.server import SimServer
from tests.helpers import cadvisor_series as gen
from tests.helpers.engines import holding
from tests.helpers.fake_apiserver import FakeAPIServer, prometheus_answer, serve

DATA = gen.Window(scrapes=480)


@pytest.fixture(scope="module")
def with_series(tmp_path_factory):
    """Prometheus holding two hours of series, ending a minute ago."""
    text = gen.openmetrics(DATA.begin_now().start, DATA.scrapes)
    with holding("prometheus", tmp_path_factory.mktemp("prometheus"), text) as engine:
        yield engine


@pytest.fixture(scope="module")
def unlabelled(tmp_path_factory):
    """VictoriaMetrics whose cAdvisor series were scraped without Kubernetes labels."""
    now = int(time.time()) - 30
    text = "".join(f'{name}{{id="/docker/abc",image="x",container="app"}} 1 {now}\n{name}{{id="/"}} 1 {now}\n'
                   for name in ("container_cpu_usage_seconds_total", "container_memory_working_set_bytes"))
    with holding("victoriametrics", tmp_path_factory.mktemp("vm"), text + "# EOF\n") as engine:
        yield engine


@pytest.fixture
async def api():
    fake = FakeAPIServer()
    async with serve(fake) as server, httpx.AsyncClient(base_url=server.url) as http:
        yield fake, KubeAPI(http, server.url)


def by_check(findings):
    return {f.check: f for f in findings}


async def test_a_healthy_source_says_what_it_has(with_series, api):
    _, kube = api
    found = by_check(await doctor_prometheus.check(kube, PromSettings(url=with_series.url)))
    assert found["Prometheus"].status == OK and found["Prometheus"].detail == f"{with_series.url}, by URL"
    series = found["Prometheus series"]
    assert series.status == OK
    assert series.detail.startswith("container_cpu_usage_seconds_total, container_memory_working_set_bytes present; "
                                    "CFS throttling counters present; no kube-prometheus recording rules")
    assert found["Prometheus labels"].status == OK
    # The newest sample is as old as the generated data's end, however long the engine took to start.
    age = time.time() - DATA.end
    freshness = found["Prometheus freshness"]
    assert freshness.status == (OK if age <= doctor_prometheus.STALE_AFTER else WARN)
    assert freshness.detail in {f"newest sample {doctor_prometheus._duration(age - lag)} old" for lag in range(5)}
    # Two hours of history: enough for the dashboard, not for a week's rightsizing.
    retention = found["Prometheus retention"]
    assert (retention.status, retention.detail) == (WARN, "history reaches back at least 1h; kept for 30d")
    assert "rightsize" in retention.next_step


async def test_an_engine_without_the_series_says_which_are_missing(prometheus_engine, api):
    _, kube = api
    found = by_check(await doctor_prometheus.check(kube, PromSettings(url=prometheus_engine.url)))
    assert found["Prometheus"].status == OK
    missing = found["Prometheus series"]
    assert missing.status == WARN
    assert missing.detail == ("missing: container_cpu_usage_seconds_total, container_memory_working_set_bytes: "
                              "no history can be read")
    assert "/metrics/cadvisor" in missing.next_step
    assert "Prometheus labels" not in found


async def test_series_without_pod_labels_are_named(unlabelled, api):
    _, kube = api
    found = by_check(await doctor_prometheus.check(kube, PromSettings(url=unlabelled.url)))
    labels = found["Prometheus labels"]
    assert labels.status == WARN
    assert labels.detail == 'container series lack namespace, pod; node series (id="/") lack node'
    assert found["Prometheus series"].detail.endswith("no CFS throttling counters (no THROTTLE%); "
                                                      "no kube-prometheus recording rules")


async def test_a_forbidden_proxy_names_the_rbac_to_ask_for(api):
    fake, kube = api
    fake.add_service("monitoring", "prometheus-k8s", {"app.kubernetes.io/name": "prometheus"},
                     [{"name": "web", "port": 9090}], prometheus_answer)
    fake.forbid_proxy = True
    [finding] = await doctor_prometheus.check(kube, PromSettings())
    assert finding.status == WARN
    assert finding.detail.startswith("none usable: found but not answering through the service proxy: "
                                     "Prometheus monitoring/prometheus-k8s: refused (403)")
    assert finding.next_step.startswith("Ask a cluster admin for RBAC permission to get services/proxy")


async def test_a_given_url_that_does_not_answer_fails_and_none_found_or_off_only_skip(api):
    _, kube = api
    async with serve(FakeAPIServer()) as gone:
        url = gone.url
    [refused] = await doctor_prometheus.check(kube, PromSettings(url=url))
    assert (refused.status, refused.detail) == (FAIL, f"Prometheus {url}: connection refused")
    [none] = await doctor_prometheus.check(kube, PromSettings())
    assert none.status == SKIP and none.detail.startswith("none found (no Prometheus, Thanos or VictoriaMetrics")
    [off] = await doctor_prometheus.check(kube, PromSettings(enabled=False))
    assert off.status == SKIP and off.detail.startswith("turned off")


def test_ktopui_doctor_checks_the_prometheus_it_is_given(make_sim_server, tmp_path, with_series, capsys):
    kubeconfig = make_sim_server(nodes=2, pods_per_node=2).write_kubeconfig(tmp_path / "config")
    code = main(["doctor", "--kubeconfig", str(kubeconfig), "--prometheus", with_series.url, "-o", "json"])
    found = {f["check"]: f for f in json.loads(capsys.readouterr().out)["findings"]}
    assert code == 0
    assert found["Prometheus"]["detail"] == f"{with_series.url}, by URL"
    assert found["Prometheus series"]["status"] == OK


@pytest.mark.parametrize(("text", "error"), [
    ('[prometheus]\nurl = "prom:9090"\n', "line 2: prometheus.url: not an http:// or https:// URL with a host"),
    ('view = "pods"\nprometheus = 5\n', "line 2: prometheus: expected `object`, got `int`"),
    ('[prometheus]\n\nverify = false\n', 'line 3: unknown key "prometheus.verify"; known keys: enabled, url'),
])
def test_a_bad_prometheus_section_in_the_config_file_stops_the_doctor(tmp_path, capsys, text, error):
    (tmp_path / "c.toml").write_text(text)
    assert main(["--config", str(tmp_path / "c.toml"), "doctor"]) == 1
    assert capsys.readouterr().err.startswith(f"error: {tmp_path / 'c.toml'}, {error}")


# -- the simulated cluster's own Prometheus ------------------------------------------------


@pytest.fixture(scope="module", params=["prometheus", "victoriametrics"])
def scraping(request, tmp_path_factory):
    """A simulated cluster (on the real clock) scraped by its own engine, once it has samples."""
    with SimServer(SimOptions(nodes=2, pods_per_node=3, seed=3, metric_resolution=2.0)) as sim:
        have = {"prometheus": have_prometheus, "victoriametrics": have_victoria_metrics}[request.param]
        if why := have():
            pytest.skip(why)
        engine = sim.run_prometheus(tmp_path_factory.mktemp(request.param), engine=request.param, scrape_interval=1)
        deadline = time.monotonic() + 30
        while not _scraped(engine.url) and time.monotonic() < deadline:
            time.sleep(0.5)
        yield sim, engine


def _scraped(url: str) -> bool:
    query = urllib.parse.urlencode({"query": 'count(container_memory_working_set_bytes{id="/"})'})
    try:
        with urllib.request.urlopen(f"{url}/api/v1/query?{query}", timeout=5) as response:
            return bool(json.load(response)["data"]["result"])
    except OSError:
        return False


def test_ktopui_doctor_finds_the_cluster_s_prometheus_and_its_series(scraping, tmp_path, capsys):
    sim, engine = scraping
    kubeconfig = sim.write_kubeconfig(tmp_path / "config")
    code = main(["doctor", "--kubeconfig", str(kubeconfig), "-o", "json"])
    found = {f["check"]: f for f in json.loads(capsys.readouterr().out)["findings"]}
    assert code == 0
    source = {"prometheus": "monitoring/prometheus-k8s (prometheus-operator)",
              "victoriametrics": "monitoring/vmsingle-k8s (victoriametrics)"}[engine.kind]
    assert found["Prometheus"] == {"check": "Prometheus", "status": OK, "next_step": "",
                                   "detail": f"{source} through the API server's service proxy"}
    assert found["Prometheus series"]["status"] == OK
    assert found["Prometheus labels"]["detail"] == "series carry namespace, pod, container; nodes carry node"
    assert found["Prometheus freshness"]["status"] == OK
    # Seconds of history: enough to show, too little for longer charts.
    assert found["Prometheus retention"]["status"] == WARN
    assert found["Prometheus retention"]["detail"].startswith("history reaches back less than 1h")
