"""The simulated kubelets' cAdvisor metrics agree with the metrics API they stand beside."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import quote

import pytest
from helpers.exposition import parse

from ktopui.model.quantity import parse_quantity
from ktopui.sim import cadvisor, hostile
from ktopui.sim.cadvisor import PAUSE_IMAGE, throttled_periods

CPU = "container_cpu_usage_seconds_total"
MEMORY = "container_memory_working_set_bytes"


def _cadvisor(api, node: str):
    response = api.get(f"/api/v1/nodes/{quote(node, safe='')}/proxy/metrics/cadvisor")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(response.text)[1]


def _by_row(samples, name: str) -> dict[tuple[str, str, str, str], str]:
    return {(s.labels["namespace"], s.labels["pod"], s.labels["container"], s.labels["image"]): s.value
            for s in samples if s.name == name}


def _nanoseconds(seconds: str) -> int:
    return int(Decimal(seconds) * 1_000_000_000)


@pytest.fixture
def two_scrapes(sim_server, sim_api):
    """(api, node, samples at scrape k, samples at scrape k+1, pod metrics at k+1) for a busy node."""
    api = sim_api(sim_server)
    node = max(sim_server.cluster.nodes, key=lambda n: len(n.pods))
    before = _cadvisor(api, node.name)
    sim_server.cluster.advance(sim_server.cluster.resolution)
    after = _cadvisor(api, node.name)
    metrics = api.get("/apis/metrics.k8s.io/v1beta1/pods").json()["items"]
    return api, node, before, after, metrics


def test_a_containers_cpu_rate_over_one_window_is_the_metrics_apis_usage_to_the_nanocore(two_scrapes, sim_server):
    _, node, before, after, metrics = two_scrapes
    first, second = _by_row(before, CPU), _by_row(after, CPU)
    resolution = int(sim_server.cluster.resolution)
    pods_on_node = {(p.namespace, p.name) for p in node.pods.values()}
    compared = 0
    for item in metrics:
        key = (item["metadata"]["namespace"], item["metadata"]["name"])
        if key not in pods_on_node:
            continue
        for container in item["containers"]:
            row = next(k for k in second if k[:3] == (*key, container["name"]))
            spent = _nanoseconds(second[row]) - _nanoseconds(first[row])
            assert spent % resolution == 0
            assert spent // resolution == parse_quantity(container["usage"]["cpu"]).nanos, (key, container)
            compared += 1
    assert compared >= 5


def test_a_containers_working_set_is_the_metrics_apis_memory(two_scrapes):
    _, _, _, after, metrics = two_scrapes
    memory = _by_row(after, MEMORY)
    compared = 0
    for item in metrics:
        key = (item["metadata"]["namespace"], item["metadata"]["name"])
        for container in item["containers"]:
            rows = [k for k in memory if k[:3] == (*key, container["name"])]
            if rows:
                assert int(memory[rows[0]]) == parse_quantity(container["usage"]["memory"]).value()
                compared += 1
    assert compared >= 5


def test_the_root_cgroups_rate_is_the_nodes_usage(two_scrapes, sim_server):
    api, node, before, after, _ = two_scrapes
    usage = api.get(f"/apis/metrics.k8s.io/v1beta1/nodes/{node.name}").json()["usage"]
    [first] = [s for s in before if s.name == CPU and s.labels["id"] == "/"]
    [second] = [s for s in after if s.name == CPU and s.labels["id"] == "/"]
    assert first.labels == {"container": "", "id": "/", "image": "", "name": "", "namespace": "", "pod": ""}
    spent = _nanoseconds(second.value) - _nanoseconds(first.value)
    assert spent // int(sim_server.cluster.resolution) == parse_quantity(usage["cpu"]).nanos
    [memory] = [s for s in after if s.name == MEMORY and s.labels["id"] == "/"]
    assert int(memory.value) == parse_quantity(usage["memory"]).value()


def test_each_pod_has_its_cgroup_and_pause_sandbox_beside_its_containers(two_scrapes):
    _, node, _, after, _ = two_scrapes
    cpu = _by_row(after, CPU)
    for pod in node.pods.values():
        if pod.started is None or pod.finished is not None:
            continue
        key = (pod.namespace, pod.name)
        containers = [_nanoseconds(v) for k, v in cpu.items() if k[:2] == key and k[2]]
        assert len(containers) == len(pod.running_specs)
        pause = _nanoseconds(cpu[(*key, "", PAUSE_IMAGE)])
        assert _nanoseconds(cpu[(*key, "", "")]) == sum(containers) + pause


def test_samples_carry_their_nodes_scrape_time_in_milliseconds(two_scrapes, sim_server):
    _, _, before, after, _ = two_scrapes
    stamps = {s.timestamp_ms for s in after}
    assert len(stamps) == 1
    [stamp] = stamps
    assert stamp - {s.timestamp_ms for s in before}.pop() == int(sim_server.cluster.resolution * 1000)
    assert stamp <= sim_server.cluster.now() * 1000 < stamp + sim_server.cluster.resolution * 1000


def test_pods_that_ended_or_have_not_started_are_absent(sim_server, sim_api):
    api = sim_api(sim_server)
    ended = [p for p in sim_server.cluster.pods if p.node is not None and (p.started is None or p.finished)]
    assert ended, "the simulated cluster has finished Jobs"
    for pod in ended:
        samples = _cadvisor(api, pod.node.name)
        assert not [s for s in samples if s.labels.get("pod") == pod.name]


def test_throttled_periods_follow_usage_against_the_limit(two_scrapes, sim_server):
    assert throttled_periods(300_000_000, 1000, 150) == 0  # well below the limit
    assert throttled_periods(1_000_000_000, 1000, 150) > 75  # most at the limit
    assert throttled_periods(5_000_000_000, 1000, 150) == 135
    _, node, before, after, _ = two_scrapes
    periods = int(sim_server.cluster.resolution * 10)
    rows = 0
    for family in ("container_cpu_cfs_periods_total", "container_cpu_cfs_throttled_periods_total"):
        first, second = _by_row(before, family), _by_row(after, family)
        for row in first.keys() & second.keys():
            pod = next(p for p in node.pods.values() if (p.namespace, p.name) == row[:2])
            i = [s.name for s in pod.running_specs].index(row[2])
            spec = pod.running_specs[i]
            assert spec.cpu_lim is not None
            added = int(second[row]) - int(first[row])
            if family == "container_cpu_cfs_periods_total":
                assert added == periods
            else:
                rate = sim_server.cluster.pod_usage(pod, sim_server.cluster.kubelet_scrape(node, sim_server.cluster.now()))
                assert added == throttled_periods(rate[i][0], spec.cpu_lim, periods)
            rows += 1
    assert rows > 0


def test_hostile_names_are_escaped_and_read_back_intact(make_sim_server, sim_api):
    server = make_sim_server(hostile_text=True)
    api = sim_api(server)
    node = next(n for n in server.cluster.nodes if any(p.name == hostile.POD for p in n.pods.values()))
    samples = _cadvisor(api, node.name)
    assert {(s.labels["namespace"], s.labels["pod"], s.labels["container"]) for s in samples
            if s.labels["pod"] == hostile.POD} >= {(hostile.NAMESPACE, hostile.POD, hostile.CONTAINER)}


def test_label_values_escape_backslash_quote_and_newline():
    text = cadvisor._labels('a"b', "c\\d", "e\nf", "", "", "")
    assert text == '{container="a\\"b",id="c\\\\d",image="e\\nf",name="",namespace="",pod=""}'


def test_nodes_proxy_forbidden_gives_403_naming_the_subresource(sim_server, sim_api):
    api = sim_api(sim_server)
    node = sim_server.cluster.nodes[0].name
    sim_server.faults.forbid("sim-admin", "get", "nodes/proxy")
    response = api.get(f"/api/v1/nodes/{node}/proxy/metrics/cadvisor")
    assert response.status_code == 403
    assert response.json()["message"] == (f'nodes "{node}" is forbidden: User "sim-admin" cannot get resource '
                                          '"nodes/proxy" in API group "" at the cluster scope')
    assert api.get(f"/api/v1/nodes/{node}").status_code == 200


def test_an_unknown_node_or_kubelet_path_is_not_found(sim_server, sim_api):
    api = sim_api(sim_server)
    assert api.get("/api/v1/nodes/nope/proxy/metrics/cadvisor").status_code == 404
    node = sim_server.cluster.nodes[0].name
    response = api.get(f"/api/v1/nodes/{node}/proxy/metrics/probes")
    assert (response.status_code, response.text) == (404, "404 page not found\n")


def test_a_node_whose_kubelet_is_down_gives_the_api_servers_503(sim_server, sim_api):
    node = next(n for n in sim_server.cluster.nodes if not n.ready)
    response = sim_api(sim_server).get(f"/api/v1/nodes/{node.name}/proxy/metrics/cadvisor")
    assert response.status_code == 503
    assert response.json()["message"] == (
        f"error trying to reach service: dial tcp {node.ip}:10250: connect: connection refused")


def test_counters_across_a_clock_jump_add_up_every_collection_in_between(sim_server, sim_api):
    api, cluster = sim_api(sim_server), sim_server.cluster
    node = max(cluster.nodes, key=lambda n: len(n.pods))
    before = _by_row(_cadvisor(api, node.name), CPU)
    k = cluster.kubelet_scrape(node, cluster.now())
    cluster.advance(10 * cluster.resolution)
    after = _by_row(_cadvisor(api, node.name), CPU)
    pod = next(p for p in node.pods.values() if p.phase == "Running" and p.started is not None)
    for i, spec in enumerate(pod.running_specs):
        row = (pod.namespace, pod.name, spec.name, spec.image)
        spent = _nanoseconds(after[row]) - _nanoseconds(before[row])
        used = sum(cluster.pod_usage(pod, j)[i][0] for j in range(k + 1, k + 11))
        assert spent == used * int(cluster.resolution)
