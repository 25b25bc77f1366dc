"""Node pools: the nodes grouped by the label their provisioner sets, summed, against an
independent count over the simulated cluster's objects and `kubectl top nodes -l LABEL=VALUE`;
the free capacity rule; nodes without a pool; the config file's labels; the `p` key and the
drill-down through a pool, at 80x24 and 120x40."""

from __future__ import annotations

import math
import re
import ssl

import httpx
import msgspec
import pytest
from helpers.app import make_app, refreshed, screen_lines, select, table
from helpers.kubectl import KUBECTL, kubectl
from helpers.sims import frozen_sim
from kubernetes.utils import parse_quantity

from ktopui import config
from ktopui.cli import parse_args
from ktopui.kube.connection import load_connection
from ktopui.kube.objects import Node, NodeMetrics, Pod
from ktopui.model.amounts import Amounts
from ktopui.model.nodes import NodeRow, node_rows
from ktopui.model.pools import PoolJoin, pool_rows
from ktopui.model.quantity import percent
from ktopui.model.status import NO_POOL, POOL_LABELS, lean_node
from ktopui.ui.columns import pools as pool_columns
from ktopui.ui.main import build_app
from ktopui.ui.screens import MainScreen, NodePodsScreen, PoolNodesScreen
from ktopui.ui.settings import vocabulary

PROVISIONERS = POOL_LABELS[:4]  # Karpenter, EKS, GKE, AKS: the sim's workers carry one each
NOT_DONE = ("Succeeded", "Failed")


def settings(text: str) -> config.Settings:
    return config.parse(text, "config.toml", vocabulary())


def milli(text: str) -> int:
    return math.ceil(parse_quantity(text) * 1000)


def whole(text: str) -> int:
    return math.ceil(parse_quantity(text))


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    with frozen_sim(tmp_path_factory.mktemp("pools"), nodes=30, pods_per_node=3, seed=7) as sim:
        yield sim


@pytest.fixture(scope="module")
def cluster(sim):
    """The simulated cluster's nodes and pods as the API server serves them (read with httpx,
    not with ktopui), and each node's pool by the default labels."""
    server, _ = sim
    context = ssl.create_default_context(cafile=str(server.ca_path))
    with httpx.Client(base_url=server.url, verify=context, headers={"Authorization": f"Bearer {server.token}"},
                      timeout=30) as api:
        nodes = api.get("/api/v1/nodes").json()["items"]
        pods = api.get("/api/v1/pods").json()["items"]
        metrics = api.get("/apis/metrics.k8s.io/v1beta1/nodes").json()["items"]
    pool_of = {}
    for node in nodes:
        labels = node["metadata"]["labels"]
        pool_of[node["metadata"]["name"]] = next((labels[k] for k in POOL_LABELS if labels.get(k)), "-")
    return nodes, pods, {m["metadata"]["name"]: m for m in metrics}, pool_of


# -- the rule, on node rows made by hand -------------------------------------------


def nodes_of(*specs: tuple) -> list[NodeRow]:
    """Node rows as node_rows makes them, of nodes with 4 CPUs, 8Gi and 110 pods allocatable, each
    running one pod: spec (name, pool, (cpu, memory) used or None, (cpu, memory) the pod requests)."""
    nodes, metrics, pods = [], [], []
    for name, pool, used, requested in specs:
        nodes.append(msgspec.convert({"metadata": {"name": name, "labels": {"agentpool": pool}},
                                      "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}}, Node))
        if used is not None:
            metrics.append(msgspec.convert({"metadata": {"name": name}, "timestamp": "2026-01-01T00:00:00Z",
                                            "window": "15s", "usage": {"cpu": used[0], "memory": used[1]}}, NodeMetrics))
        resources = {"requests": dict(zip(("cpu", "memory"), requested))}
        pods.append(msgspec.convert({"metadata": {"name": f"{name}-pod", "namespace": "web"},
                                     "spec": {"nodeName": name, "containers": [{"name": "app", "resources": resources}]},
                                     "status": {"phase": "Running"}}, Pod))
    return node_rows(nodes, metrics, pods)


def test_free_capacity_is_allocatable_less_the_larger_of_requests_and_usage_per_node_then_summed():
    rows = nodes_of(
        ("busy", "web", ("3", "2Gi"), ("1", "6Gi")),  # uses more CPU than it asks for, asks more memory
        ("over", "web", ("5", "9Gi"), ("500m", "1Gi")),  # over its allocatable: no room, and none taken
        ("quiet", "web", None, ("1500m", "1Gi")),  # no metrics: its requests count
    )
    assert [r.free for r in rows] == [Amounts(1000, 2 << 30), Amounts(0, 0), Amounts(2500, 7 << 30)]
    (web,) = pool_rows(rows)
    assert web.free == Amounts(1000 + 0 + 2500, (2 << 30) + 0 + (7 << 30))
    # Summed per node, not taken from the pool's totals (which would let "over" eat the others' room).
    assert web.free.cpu_milli != web.available.cpu_milli - max(web.requests.cpu_milli, web.usage.cpu_milli)
    assert (len(web.nodes), web.pods, web.pods_allocatable, web.requests) == (3, 3, 330, Amounts(3000, 8 << 30))


def test_a_pools_percentages_are_of_the_nodes_reporting_usage_and_say_when_some_do_not():
    rows = nodes_of(("a", "p", ("1", "1Gi"), ()), ("b", "p", None, ()))
    (pool,) = pool_rows(rows)
    assert (pool.usage.cpu_milli, pool.cpu_pct, pool.cpu_partial) == (1000, 25, True)  # 1 of the 4 CPUs of "a"
    assert (pool.usage.mem_bytes, pool.mem_pct, pool.mem_partial) == (1 << 30, 12, True)  # 1Gi of its 8Gi
    assert pool.available == Amounts(8000, 16 << 30)
    (whole_pool,) = pool_rows(rows[:1])
    assert not whole_pool.cpu_partial and not whole_pool.mem_partial
    (unmeasured,) = pool_rows(rows[1:])
    assert (unmeasured.usage.cpu_milli, unmeasured.cpu_pct, unmeasured.cpu_partial) == (None, None, False)


def test_the_pool_is_the_first_label_present_and_nodes_without_any_form_the_pool_dash():
    def labelled(name, labels):
        return msgspec.convert({"metadata": {"name": name, "labels": labels},
                                "status": {"allocatable": {"cpu": "1", "memory": "1Gi"}}}, Node)

    nodes = [
        labelled("k", {"karpenter.sh/nodepool": "general", "node.kubernetes.io/instance-type": "m5.large"}),
        labelled("e", {"agentpool": "", "eks.amazonaws.com/nodegroup": "ng"}),  # an empty value is no pool
        labelled("i", {"node.kubernetes.io/instance-type": "m5.large"}),
        labelled("none", {"kubernetes.io/os": "linux"}),
        labelled("aaa", {}),
    ]
    rows = node_rows([lean_node(n) for n in nodes], None)  # (what the nodes' watch keeps of each)
    assert {r.name: r.pool for r in rows} == {"k": "general", "e": "ng", "i": "m5.large", "none": NO_POOL,
                                               "aaa": NO_POOL}
    assert sorted(p.name for p in pool_rows(rows)) == ["-", "general", "m5.large", "ng"]
    assert {r.pool for r in node_rows(nodes, None, pool_labels=["agentpool"])} == {NO_POOL}
    # Metrics of a node not in the node list: no labels, so no pool.
    stray = msgspec.convert({"metadata": {"name": "stray"}, "timestamp": "2026-01-01T00:00:00Z", "window": "15s",
                             "usage": {"cpu": "1", "memory": "1Gi"}}, NodeMetrics)
    assert sum(len(p.nodes) for p in pool_rows(node_rows(nodes, [stray]))) == len(nodes)


def test_pool_rows_are_made_again_only_when_a_node_row_changed():
    rows = nodes_of(("a", "p", ("1m", "1"), ()), ("b", "q", ("1m", "1"), ()))
    join = PoolJoin()
    first = join.update(rows)
    assert join.update(list(rows)) is first
    changed = [rows[0], nodes_of(("b", "q", ("2m", "1"), ()))[0]]
    assert join.update(changed) is not first
    assert {p.name: p.usage.cpu_milli for p in join.rows} == {"p": 1, "q": 2}


# -- against the simulated cluster ---------------------------------------------------


async def test_pools_sum_their_nodes_exactly_as_an_independent_count_over_the_cluster(sim, cluster):
    _, kubeconfig = sim
    nodes, pods, metrics, pool_of = cluster
    expected: dict[str, dict] = {}
    for n in nodes:
        name, allocatable = n["metadata"]["name"], n["status"]["allocatable"]
        e = expected.setdefault(pool_of[name], {"nodes": 0, "pods": 0, "pods_allocatable": 0, "cpu": 0, "mem": 0,
                                                "cpu_of": 0, "mem_of": 0, "unmeasured": 0})
        e["nodes"] += 1
        e["pods_allocatable"] += int(allocatable["pods"])
        e["pods"] += sum(1 for p in pods if p["spec"].get("nodeName") == name and p["status"]["phase"] not in NOT_DONE)
        if name in metrics:
            e["cpu"] += milli(metrics[name]["usage"]["cpu"])
            e["mem"] += whole(metrics[name]["usage"]["memory"])
            e["cpu_of"] += milli(allocatable["cpu"])
            e["mem_of"] += whole(allocatable["memory"])
        else:
            e["unmeasured"] += 1
    assert len(expected) >= 5 and any(e["unmeasured"] for e in expected.values())  # (the sim's broken node)

    app = make_app(kubeconfig)
    async with app.run_test(size=(200, 50)) as pilot:
        await refreshed(app, pilot)
        shown = {p.name: p for p in app.session.snapshot.pools}
        node_rows_by_name = {r.name: r for r in app.session.snapshot.nodes}

    assert shown.keys() == expected.keys()
    for name, e in expected.items():
        pool = shown[name]
        assert (len(pool.nodes), pool.pods, pool.pods_allocatable) == (e["nodes"], e["pods"], e["pods_allocatable"])
        assert (pool.usage.cpu_milli, pool.usage.mem_bytes) == (e["cpu"], e["mem"]), name
        assert pool.cpu_pct == percent(e["cpu"], e["cpu_of"])
        assert pool.mem_pct == percent(e["mem"], e["mem_of"])
        assert pool.cpu_partial == pool.mem_partial == bool(e["unmeasured"])
        members = [node_rows_by_name[n] for n in pool_of if pool_of[n] == name]
        assert pool.requests.cpu_milli == sum(r.requests.cpu_milli or 0 for r in members)
        assert pool.free == Amounts(
            sum(max(0, r.available.cpu_milli - max(r.requests.cpu_milli or 0, r.usage.cpu_milli or 0)) for r in members),
            sum(max(0, r.available.mem_bytes - max(r.requests.mem_bytes or 0, r.usage.mem_bytes or 0)) for r in members),
        )


@pytest.mark.kubectl
@pytest.mark.skipif(KUBECTL is None, reason="kubectl.1.33 is not installed beside the kubectl dispatcher")
async def test_a_pools_cpu_is_the_sum_of_kubectl_top_nodes_with_its_label(sim, cluster):
    _, kubeconfig = sim
    nodes = cluster[0]
    selectors = sorted({(key, n["metadata"]["labels"][key]) for n in nodes for key in PROVISIONERS
                        if key in n["metadata"]["labels"]})
    assert {key for key, _ in selectors} == set(PROVISIONERS)
    app = make_app(kubeconfig)
    async with app.run_test(size=(200, 50)) as pilot:
        await refreshed(app, pilot)
        shown = {p.name: p for p in app.session.snapshot.pools}
    for key, value in selectors:
        lines = kubectl(str(kubeconfig), "top", "nodes", "-l", f"{key}={value}", "--no-headers").stdout.splitlines()
        cpus = [line.split()[1] for line in lines if "<unknown>" not in line]
        assert cpus and len(lines) == len(shown[value].nodes)
        assert shown[value].usage.cpu_milli == sum(int(c.removesuffix("m")) for c in cpus)
        assert shown[value].cpu_partial == (len(cpus) < len(lines))


async def test_pool_labels_from_the_config_file_regroup_the_nodes_and_those_without_any_go_last(sim, cluster, tmp_path):
    _, kubeconfig = sim
    pool_of = cluster[3]
    chosen = settings('[nodes]\npool_labels = ["agentpool", "karpenter.sh/nodepool"]\n')
    app = build_app(parse_args([]), load_connection(kubeconfig=str(kubeconfig)), chosen, {"HOME": str(tmp_path)})
    async with app.run_test(size=(120, 40)) as pilot:
        await refreshed(app, pilot)
        await pilot.press("p")
        pools = table(app, "pools")
        assert [r.name for r in pools.rows] == ["general", "memorypool", NO_POOL]
        others = {n for n, pool in pool_of.items() if pool not in ("general", "memorypool")}
        assert {r.name for r in pools.rows[-1].nodes} == others
        await pilot.press("n")  # name, Z to A: the nodes without a pool stay last
        assert [r.name for r in pools.rows] == ["memorypool", "general", NO_POOL]


# -- the key and the drill-down ---------------------------------------------------------


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
async def test_p_groups_the_nodes_by_pool_and_enter_shows_a_pools_nodes_then_esc_restores_row_and_sort(
        sim, cluster, size):
    _, kubeconfig = sim
    pool_of = cluster[3]
    app = make_app(kubeconfig)
    async with app.run_test(size=size) as pilot:
        await refreshed(app, pilot)
        await pilot.press("p")
        assert app.screen.active_table_id() == "pools"
        pools = table(app, "pools")
        assert app.focused is pools
        shown = pools.visible_column_ids()
        assert {"name", "cpu", "cpu_pct", "cpu_free", "mem", "mem_pct", "mem_free", "pods"} <= set(shown)
        if size[0] >= 120:
            assert shown == [c.id for c in pools.columns]
        header = screen_lines(app)[pools.region.y].split()
        assert header[0] == "POOL▲" and "%CPU" in header and "CPU FREE" in " ".join(header)
        assert "Nodes by pool" in app.screen.query_one("#crumbs").render().plain

        await pilot.press("m")  # by memory, the most first
        mems = [r.usage.mem_bytes for r in pools.rows]
        assert mems == sorted(mems, reverse=True)
        await select(pilot, pools, "compute-ng")
        sort = (pools.sort_column, pools.sort_descending)

        await pilot.press("enter")
        assert isinstance(app.screen, PoolNodesScreen) and app.screen.pool == "compute-ng"
        pool_nodes = table(app)
        assert {r.name for r in pool_nodes.rows} == {n for n, pool in pool_of.items() if pool == "compute-ng"}
        assert "Nodes by pool › compute-ng › nodes" in app.screen.query_one("#crumbs").render().plain
        first = pool_nodes.cursor_row.name
        await pilot.press("enter")  # on to that node's pods
        assert isinstance(app.screen, NodePodsScreen) and app.screen.node == first

        await pilot.press("escape", "escape")
        assert isinstance(app.screen, MainScreen) and app.screen.active_table_id() == "pools"
        pools = table(app, "pools")
        assert pools.cursor_key == "compute-ng" and (pools.sort_column, pools.sort_descending) == sort

        await pilot.press("p")
        assert app.screen.active_table_id() == "nodes" and app.focused is table(app, "nodes")


async def test_without_the_metrics_api_pools_show_requests_and_free_is_allocatable_less_requests(sim):
    server, kubeconfig = sim
    server.faults.metrics_absent = True
    try:
        app = make_app(kubeconfig)
        async with app.run_test(size=(80, 24)) as pilot:
            await refreshed(app, pilot)
            await pilot.press("p")
            pools = table(app, "pools")
            assert pools.visible_column_ids() == [c.id for c in pool_columns.RESERVED]
            await pilot.press("c")  # no CPU usage: CPU requests
            assert pools.sort_column == "cpu_req"
            assert len(pools.rows) >= 5
            for pool in pools.rows:
                assert pool.usage.cpu_milli is None and not pool.cpu_partial
                assert pool.free.cpu_milli == sum(max(0, n.available.cpu_milli - (n.requests.cpu_milli or 0))
                                                  for n in pool.nodes)
    finally:
        server.faults.metrics_absent = False


async def test_the_help_and_the_config_file_name_the_pools_key(sim):
    _, kubeconfig = sim
    app = make_app(kubeconfig, settings=settings('[keys]\n"view.pools" = "b"\n'))
    async with app.run_test(size=(120, 40)) as pilot:
        await refreshed(app, pilot)
        await pilot.press("b")
        assert app.screen.active_table_id() == "pools"
        await pilot.press("question_mark")
        assert any(re.search(r"(^|\W)b\s{2,}nodes grouped by pool", line) for line in screen_lines(app))


def test_pool_labels_in_the_config_file_are_label_keys_and_only_the_nodes_view_has_them():
    text = '[nodes]\nsort = "name"\npool_labels = ["team.example.com/pool", "Bad Key"]\n'
    with pytest.raises(config.ConfigFileError) as e:
        settings(text)
    assert (e.value.line, e.value.message.split(":")[0]) == (3, "nodes.pool_labels")
    assert '"Bad Key" is not a label key' in e.value.message
    with pytest.raises(config.ConfigFileError) as e:
        settings('[nodes]\npool_labels = []\n')
    assert "name at least one label" in e.value.message
    with pytest.raises(config.ConfigFileError) as e:
        settings('[pods]\n\npool_labels = ["agentpool"]\n')
    assert e.value.line == 3 and 'unknown key "pods.pool_labels"' in e.value.message
    assert settings('[nodes]\npool_labels = ["team.example.com/pool"]\n').nodes.pool_labels == ("team.example.com/pool",)
    assert config.Settings().nodes.pool_labels == POOL_LABELS
