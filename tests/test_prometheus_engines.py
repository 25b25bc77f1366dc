"""The client and the PromQL builder against real engines (Prometheus, VictoriaMetrics) holding
generated cAdvisor-like series: what the expressions return is what the series imply."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ktopui.kube.prometheus import PromBadQuery, url_client
from ktopui.model import promql
from tests.helpers import cadvisor_series as gen
from tests.helpers.engines import holding

DATA = gen.Window(scrapes=480)  # two hours
STEP = 60.0


@pytest.fixture(scope="module", params=["prometheus", "victoriametrics"])
def loaded(request, tmp_path_factory):
    """An engine of each kind holding the generated series (with the recording rules)."""
    text = gen.openmetrics(DATA.begin_now().start, DATA.scrapes, recording_rules=True)
    with holding(request.param, tmp_path_factory.mktemp(request.param), text) as engine:
        yield engine


@pytest.fixture
async def client(loaded):
    client = url_client(loaded.url)
    yield client
    await client.aclose()


def by(result, *names):
    return {tuple(s.labels.get(n, "") for n in names): s for s in result.series}


def span() -> tuple[int, int]:
    """An hour of the data, starting after the first rate window: every point rests on full data."""
    return DATA.start + 600, DATA.start + 600 + 3600


async def test_pod_cpu_is_the_containers_rate_in_millicores_without_the_pod_cgroup_or_pause(client):
    q_start, q_end = span()
    window = promql.rate_window(STEP)
    got = by(await client.query_range(promql.pod_cpu("shop", None, window), q_start, q_end, STEP),
             "namespace", "pod", "container")
    want = {(c.namespace, c.pod, c.name): c.millicores for c in gen.CONTAINERS if c.namespace == "shop"}
    assert set(got) == set(want)
    for key, series in got.items():
        assert len(series.values) == 61
        np.testing.assert_allclose(series.values, want[key], rtol=1e-9)


async def test_a_counter_reset_does_not_show_as_a_drop_or_a_spike(client):
    restart = DATA.start + gen.SCRAPE * 200  # db's counter starts again from zero there
    got = await client.query_range(promql.pod_cpu("shop", ["db-0"], promql.rate_window(STEP)),
                                   restart - 600, restart + 600, STEP)
    [series] = got.series
    np.testing.assert_allclose(series.values, 1500, rtol=1e-9)


async def test_a_pod_list_matches_those_pods_exactly_even_with_regex_characters_in_names(client):
    q_start, q_end = span()
    got = by(await client.query_range(promql.pod_cpu(None, ["api.v2-0", "web-1"], "1m"), q_start, q_end, STEP),
             "namespace", "pod", "container")
    assert set(got) == {("other", "api.v2-0", "api"), ("shop", "web-1", "app"), ("shop", "web-1", "sidecar"),
                        ("other", "web-1", "app")}


async def test_pod_memory_is_the_working_set_at_each_step(client):
    q_start, q_end = span()
    got = by(await client.query_range(promql.pod_memory("other", None), q_start, q_end, STEP),
             "namespace", "pod", "container")
    steps = np.arange(q_start, q_end + 1, STEP)
    for c in (c for c in gen.CONTAINERS if c.namespace == "other"):
        series = got.pop((c.namespace, c.pod, c.name))
        np.testing.assert_array_equal(series.times, steps)
        np.testing.assert_array_equal(series.values, [c.memory(DATA.scrape(t)) for t in steps])
    assert got == {}


async def test_nodes_are_their_root_cgroups(client):
    q_start, q_end = span()
    window = promql.rate_window(STEP)
    cpu = by(await client.query_range(promql.node_cpu(["node-a", "node-b"], window), q_start, q_end, STEP), "node")
    memory = by(await client.query_range(promql.node_memory(None), q_start, q_end, STEP), "node")
    steps = np.arange(q_start, q_end + 1, STEP)
    for node in ("node-a", "node-b"):
        np.testing.assert_allclose(cpu[(node,)].values, gen.node_millicores(node), rtol=1e-9)
        np.testing.assert_array_equal(memory[(node,)].values,
                                      [gen.node_memory(node, DATA.scrape(t)) for t in steps])


async def test_throttling_is_throttled_periods_over_periods(client):
    q_start, q_end = span()
    got = by(await client.query_range(promql.pod_throttle("shop", None), q_start, q_end, STEP), "pod", "container")
    assert set(got) == {("db-0", "db")}
    np.testing.assert_allclose(got[("db-0", "db")].values, 0.25, rtol=1e-9)


async def test_the_recording_rules_are_found_and_give_the_same_numbers(client):
    q_start, q_end = span()
    # Asked as of the data's end: at "now" the rules' newest samples are past the 5-minute
    # lookback when a loaded machine has taken minutes to get here.
    rules = await client.probe_rules(at=DATA.end)
    assert rules == promql.RecordingRules(cpu_rate5m=True, memory=True)
    assert client.rules is rules
    step = 300.0
    window = promql.cpu_window(step, rules)
    assert window == "5m"
    cpu = by(await client.query_range(promql.pod_cpu("shop", None, window, rules), q_start, q_end, step),
             "pod", "container")
    memory = by(await client.query_range(promql.pod_memory("shop", None, rules), q_start, q_end, step),
                "pod", "container")
    for c in (c for c in gen.CONTAINERS if c.namespace == "shop"):
        np.testing.assert_allclose(cpu[(c.pod, c.name)].values, c.millicores, rtol=1e-9)
        assert memory[(c.pod, c.name)].values[0] == c.memory(DATA.scrape(q_start))


async def test_an_instant_query_and_a_batch_of_many_pods_are_answered(client):
    _, q_end = span()
    names = [f"pod-{i:05d}" for i in range(3000)] + ["db-0"]
    runs = list(promql.batches(names, max_chars=8000))
    assert len(runs) > 1 and sum(len(r) for r in runs) == len(names)
    found = []
    for run in runs:
        got = await client.query(promql.pod_memory("shop", run), at=q_end)
        found += [s.labels["pod"] for s in got.series]
    assert found == ["db-0"]


async def test_the_engine_s_complaint_about_a_bad_query_is_a_bad_query(client):
    q_start, q_end = span()
    with pytest.raises(PromBadQuery) as caught:
        await client.query_range("sum((", q_start, q_end, STEP)
    assert caught.value.message.startswith(f"Prometheus {client.source.name}: ")


async def test_runtime_info_says_the_retention_where_the_engine_has_it(client, loaded):
    info = await client.runtime_info()
    if loaded.kind == "prometheus":
        assert "30d" in info.get("storageRetention", "")
    else:
        assert info == {}
    assert not math.isnan(client.stats.bytes)
