"""`ktopui rightsize` against real Prometheus and VictoriaMetrics holding generated cAdvisor history:
each suggestion is the rule (CPU p95 per pod, memory peak + 15 %, the largest across pods, rounded
up to m and Mi) computed here with numpy from the generated series, over the pods of the
workload that are listed and those that are gone."""

from __future__ import annotations

import asyncio
import json
import math
import time

import numpy as np
import pytest

from ktopui.batch.usage_history import pod_usage, window
from ktopui.kube.prometheus import url_client
from tests.helpers.cadvisor_history import MI, SCRAPE, Container
from tests.helpers.history_world import history_world

SINCE = 12 * 3600.0
STEP = 30.0  # what --since 12h reads at (rightsize.step_for)


@pytest.fixture(scope="module", params=["prometheus", "victoriametrics"])
def world(request, tmp_path_factory):
    with history_world(request.param, tmp_path_factory.mktemp(request.param)) as world:
        yield world


def group_of(world, c: Container) -> tuple[str, str, str, str]:
    return (c.namespace, "Deployment", c.pod.rsplit("-", 2)[0], c.name)


def the_rule(world, containers: list[Container], now: float) -> tuple[int, int, int]:
    """(CPU millicores, memory bytes, pods) by the rule, from the generated series: CPU at each
    point of the window's grid, memory at every generated sample (nothing between points is lost)."""
    end = math.floor(now / STEP) * STEP
    grid = np.arange(end - SINCE, end + 1, STEP)
    cpu, memory = [], []
    for c in containers:
        points = grid[(grid >= c.start) & (grid <= c.end)]
        samples = world.history.sample_times(max(c.start, grid[0] - STEP + SCRAPE), c.end)
        cpu.append(np.percentile([c.cpu_blocks[world.history.block(t)] for t in points], 95))
        memory.append(max(world.history.memory_at(c, t) for t in samples))
    return (max(1, math.ceil(max(cpu))), max(1, math.ceil(max(memory) * 1.15 / MI)) * MI, len(containers))


def test_rightsize_is_the_rule_over_each_workloads_listed_and_gone_pods(world, capsys):
    now = time.time()
    code, out, err = world.run(capsys, "rightsize", "-A", "--since", "12h", "-o", "json")
    assert code == 0, err
    items = {(i["namespace"], i["kind"], i["name"], i["container"]): i for i in json.loads(out)["items"]}
    groups: dict[tuple, list[Container]] = {}
    for c in world.history.containers:
        if c.pod != world.names["nobody"]:
            groups.setdefault(group_of(world, c), []).append(c)
    assert len(groups[("web", "Deployment", "frontend", "nginx")]) == 2  # two ReplicaSets' pods
    assert len(groups[("web", "Deployment", "api", "api")]) == 2  # one gone with its ReplicaSet
    for key, containers in groups.items():
        cpu, mem, pods = the_rule(world, containers, now)
        item = items[key]
        assert (item["suggested"]["cpuMillicores"], item["suggested"]["memoryBytes"]) == (cpu, mem), key
        assert item["history"]["pods"] == pods
        span = max(min(c.end, now) for c in containers) - max(min(c.start for c in containers), now - SINCE)
        assert abs(item["history"]["hours"] - span / 3600) < 0.2
        assert item["change"]["cpuMillicores"] == cpu - item["requests"]["cpuMillicores"]
    assert items[("payments", "Deployment", "ledger-replay", "replay")]["inferred"]
    assert not any(k[2] == world.names["nobody"] for k in items)  # gone, and no workload of it is listed


def test_rightsize_memory_keeps_a_peak_that_falls_between_two_points(world, capsys):
    spiky = world.history.containers[0]
    assert (spiky.spike[0] % STEP) != 0
    code, out, err = world.run(capsys, "rightsize", "-n", spiky.namespace, "--since", "12h", "-o", "json")
    assert code == 0, err
    key = group_of(world, spiky)
    [item] = [i for i in json.loads(out)["items"] if (i["namespace"], i["kind"], i["name"], i["container"]) == key]
    assert item["suggested"]["memoryBytes"] == math.ceil(spiky.spike[1] * 1.15 / MI) * MI


def test_rightsize_table_shows_requests_limits_suggestion_change_and_history(world, capsys):
    code, out, err = world.run(capsys, "rightsize", "-n", "web", "-l", "app=frontend", "--since", "12h")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["KIND", "NAME", "CONTAINER", "CPU/R", "CPU/L", "CPU(SUGGESTED)", "CPU(CHANGE)",
                                "MEM/R", "MEM/L", "MEM(SUGGESTED)", "MEM(CHANGE)", "SAMPLES", "HOURS", "PODS"]
    rows = {line.split()[2]: line.split() for line in lines[1:]}
    assert {cells[1] for cells in rows.values()} == {"frontend"}  # -l: that workload only
    nginx = rows["nginx"]
    cpu, mem, pods = the_rule(world, [c for c in world.history.containers if c.name == "nginx"], time.time())
    assert nginx[5] == f"{cpu}m" and nginx[9] == f"{mem >> 20}Mi" and nginx[13] == str(pods)
    request = int(nginx[3].removesuffix("m"))
    assert nginx[6] == f"{'+' if cpu > request else ''}{cpu - request}m"


def test_a_range_read_in_parts_gives_the_same_points_as_one_query(world):
    async def both():
        client = url_client(world.engine.url)
        try:
            win = window(SINCE, STEP, time.time())
            selection = {"web": None, "payments": None}
            whole = await pod_usage(client, selection, win, peaks=True)
            cut = await pod_usage(client, selection, win, peaks=True, samples_per_query=5000)
            return whole, cut, client.stats.queries
        finally:
            await client.aclose()

    whole, cut, queries = asyncio.run(both())
    assert queries > 4 * 4  # (the parts: more than one query per metric per namespace)
    assert whole.series_keys() == cut.series_keys() and len(whole.series_keys()) > 5
    for key in whole.series_keys():
        np.testing.assert_array_equal(whole.cpu[key], cut.cpu[key])
        np.testing.assert_array_equal(whole.memory[key], cut.memory[key])
