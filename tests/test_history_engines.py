"""`ktopui history` against real Prometheus and VictoriaMetrics holding generated cAdvisor history:
the CSV is the generated series to the documented rounding, selections pick what they say, and a
workload is the sum of its pods, gone ones included."""

from __future__ import annotations

import csv
import io
import json
import time
from datetime import datetime
from itertools import pairwise

import pytest

from ktopui.batch.series_csv import cpu_text, memory_text
from tests.helpers.cadvisor_history import SCRAPE, Container, History
from tests.helpers.history_world import history_world

LOOKBACK = 300.0  # how long an engine may carry a series' last value past its last sample


@pytest.fixture(scope="module", params=["prometheus", "victoriametrics"])
def world(request, tmp_path_factory):
    with history_world(request.param, tmp_path_factory.mktemp(request.param)) as world:
        yield world


def parse(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


def seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def state(history: History, c: Container, t: float, rate_window: float) -> str:
    """What a point at `t` may show for `c`: "exact" (the generated values, within one block
    and full data), "none" (no sample near), or "edge" (a rate window or lookback over an edge)."""
    if t < c.start or t > c.end + LOOKBACK + rate_window:
        return "none"
    # (VictoriaMetrics leaves out the newest 30 s; a minute of margin before the end.)
    if t < c.start + rate_window + SCRAPE or t > c.end - 60 or history.block(t - rate_window) != history.block(t):
        return "edge"
    return "exact"


def expected(history: History, c: Container, t: float) -> tuple[str, str]:
    return cpu_text(c.cpu_blocks[history.block(t)]), memory_text(history.memory_at(c, t))


def test_history_pods_csv_is_the_generated_series_to_the_documented_rounding(world, capsys):
    asked = time.time()
    code, out, err = world.run(capsys, "history", "pods", "-n", "web", "--since", "3h", "--step", "60")
    assert code == 0, err
    rows = parse(out)
    assert list(rows[0]) == ["time", "namespace", "pod", "container", "cpu_millicores", "memory_bytes"]
    generated = {c.key: c for c in world.history.containers if c.namespace == "web"}
    got = {(r["namespace"], r["pod"], r["container"], seconds(r["time"])): (r["cpu_millicores"], r["memory_bytes"])
           for r in rows}
    assert len(got) == len(rows)  # one row per container per step
    # Only containers: no pod cgroup, no pause sandbox, no other namespace.
    assert {key[:3] for key in got} <= set(generated)
    times = sorted({key[3] for key in got})
    assert all(b - a == 60 for a, b in pairwise(times))
    # From the window's start (3 h back) to the data's end (the last whole hour: 2 h or more later).
    assert asked - 3 * 3600 - 120 <= times[0] <= asked - 3 * 3600 + 60 and times[-1] - times[0] >= 2 * 3600
    exact = 0
    for c in generated.values():
        for t in times:
            s = state(world.history, c, t, 75.0)
            if s == "exact":
                assert got[(*c.key, t)] == expected(world.history, c, t), (c.key, t)
                exact += 1
            elif s == "none":
                assert (*c.key, t) not in got
    assert exact > 150
    # Sorted by time, then by names.
    order = [(seconds(r["time"]), r["namespace"], r["pod"], r["container"]) for r in rows]
    assert order == sorted(order)


def test_history_nodes_are_each_nodes_root_cgroup(world, capsys):
    code, out, err = world.run(capsys, "history", "nodes", "--since", "2h", "--step", "120")
    assert code == 0, err
    rows = parse(out)
    assert list(rows[0]) == ["time", "node", "cpu_millicores", "memory_bytes"]
    assert {r["node"] for r in rows} == set(world.history.nodes)
    checked = 0
    for r in rows:
        t = seconds(r["time"])
        cpu, mem = world.history.nodes[r["node"]]
        if t <= world.history.end - 60 and world.history.block(t - 135) == world.history.block(t):
            assert (r["cpu_millicores"], r["memory_bytes"]) == (cpu_text(cpu[world.history.block(t)]),
                                                                memory_text(mem[world.history.block(t)]))
            checked += 1
    assert checked > 15  # (the data ends on the last whole hour: at least an hour of the two)


def test_history_pod_name_reads_that_pod_even_when_it_is_gone(world, capsys):
    gone = world.names["old_replicaset"]
    code, out, err = world.run(capsys, "history", "pods", gone, "-n", "web", "--since", "12h", "--step", "600")
    assert code == 0, err
    rows = parse(out)
    assert rows and {r["pod"] for r in rows} == {gone}


def test_history_label_selector_picks_the_listed_pods_it_matches(world, capsys):
    code, out, err = world.run(capsys, "history", "pods", "-A", "-l", "app=api", "--since", "1h", "--step", "300")
    assert code == 0, err
    live_api = {p["metadata"]["name"] for p in world.pods if p["metadata"].get("labels", {}).get("app") == "api"}
    assert {r["pod"] for r in parse(out)} == live_api  # not the gone api pod: -l selects listed pods


def test_history_workloads_sum_a_deployments_pods_of_two_replicasets_and_attribute_gone_pods(world, capsys):
    code, out, err = world.run(capsys, "history", "workloads", "-A", "--since", "12h", "--step", "600")
    assert code == 0, err
    rows = parse(out)
    assert list(rows[0]) == ["time", "namespace", "kind", "workload", "cpu_millicores", "memory_bytes"]
    got = {(r["namespace"], r["kind"], r["workload"], seconds(r["time"])): (r["cpu_millicores"], r["memory_bytes"])
           for r in rows}
    names = world.names

    def workload(c: Container) -> tuple[str, str, str]:
        if c.pod == names["nobody"]:
            return (c.namespace, "Pod", c.pod)
        return (c.namespace, "Deployment", c.pod.rsplit("-", 2)[0])  # (every generated pod is a Deployment's)

    members: dict[tuple, list[Container]] = {}
    for c in world.history.containers:
        members.setdefault(workload(c), []).append(c)
    assert ("web", "Deployment", "frontend") in members and len(members[("web", "Deployment", "frontend")]) == 2
    assert ("payments", "Deployment", "ledger-replay") in {k[:3] for k in got}
    assert ("web", "Pod", names["nobody"]) in {k[:3] for k in got}
    times = sorted({k[3] for k in got})
    summed_both = 0
    for key, containers in members.items():
        for t in times:
            states = [state(world.history, c, t, 615.0) for c in containers]
            if "edge" in states or "exact" not in states:
                continue
            alive = [c for c, s in zip(containers, states) if s == "exact"]
            cpu = sum(c.cpu_blocks[world.history.block(t)] for c in alive)
            mem = sum(world.history.memory_at(c, t) for c in alive)
            assert got[(*key, t)] == (cpu_text(cpu), memory_text(mem)), (key, t)
            summed_both += len(alive) > 1
    assert summed_both > 5  # a Deployment's old and new pods summed at the same step


def test_history_json_holds_the_csv_numbers_grouped_by_series(world, capsys):
    argv = ("history", "pods", "-n", "payments", "--since", "1h", "--step", "300")
    _, out, _ = world.run(capsys, *argv)
    code, text, err = world.run(capsys, *argv, "-o", "json")
    assert code == 0, err
    doc = json.loads(text)
    assert doc["kind"] == "PodHistory" and '"step": 300,' in text
    flat = sorted((p["time"], s["namespace"], s["pod"], s["container"],
                   "" if p["cpu_millicores"] is None else str(p["cpu_millicores"]),
                   "" if p["memory_bytes"] is None else str(p["memory_bytes"]))
                  for s in doc["series"] for p in s["points"])
    assert flat == sorted(tuple(r.values()) for r in parse(out))


def test_history_workload_name_writes_that_workload_only(world, capsys):
    code, out, err = world.run(capsys, "history", "workloads", "frontend", "-n", "web", "--since", "12h",
                               "--step", "1800")
    assert code == 0, err
    assert {(r["namespace"], r["kind"], r["workload"]) for r in parse(out)} == {("web", "Deployment", "frontend")}


def test_history_of_a_name_without_series_is_an_error_naming_it(world, capsys):
    code, out, err = world.run(capsys, "history", "pods", "no-such-pod", "-n", "web", "--since", "1h")
    assert code == 1 and out == ""
    assert err.startswith("error: no history of pod no-such-pod in namespace web over the last 1h")


def test_history_nodes_label_selector_and_name_pick_those_nodes(world, capsys):
    node = sorted(world.history.nodes)[1]
    code, out, err = world.run(capsys, "history", "nodes", "-l", f"kubernetes.io/hostname={node}", "--since", "1h",
                               "--step", "600")
    assert code == 0, err
    assert {r["node"] for r in parse(out)} == {node}
    code, out, err = world.run(capsys, "history", "nodes", node, "--since", "1h", "--step", "600")
    assert code == 0, err
    assert {r["node"] for r in parse(out)} == {node}
    code, out, err = world.run(capsys, "history", "nodes", "-l", "no-such=label", "--since", "1h")
    assert code == 1 and out == "" and err == "error: no nodes match 'no-such=label'\n"
