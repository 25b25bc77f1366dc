"""What to request with Prometheus: a workload's detail suggests by `ktopui rightsize`'s rule over its
7-day window, read from a real Prometheus holding a generated week of the simulated cluster's
usage (a memory spike days ago included), equal to the rule counted here with numpy from the
generated series; `y` copies those numbers; the session's history stands in, saying why, when
Prometheus is off or has no series."""

from __future__ import annotations

import math
import ssl
import time
from dataclasses import dataclass

import httpx
import numpy as np
import pytest
from helpers.app import cells_on_screen, make_app, screen_lines, table
from helpers.engines import started
from helpers.hostile_prometheus import Hostile
from helpers.usage_series import Container, Generated
from test_app_workload_advice import open_workload
from test_app_workloads_view import settled

from ktopui.kube.prometheus_settings import PromSettings
from ktopui.model import history_keys
from ktopui.model.workload_advice import memory_text
from ktopui.sim.cluster import SimOptions
from ktopui.sim.server import SimServer
from ktopui.ui.advice_panel import AdvicePanel
from ktopui.ui.cells import cpu_text, mem_text

SIZE = (200, 50)
T0 = (time.time() // 3600 - 1) * 3600  # the sim's frozen clock: a recent whole hour
NOW = T0 + 60  # the dashboard's clock
WEEK = 7 * 86400
STEP = 300  # rightsize's step over 7d; the generated samples lie on its grid
MI = 1 << 20
SPIKE = 96 * MI  # added to one container's working set at one sample, three days ago


@dataclass(frozen=True)
class Spiky(Container):
    spike_at: int = -1  # the sample (index) whose working set jumps by SPIKE

    def memory_at(self, i: int) -> float:
        return super().memory_at(i) + (SPIKE if i == self.spike_at else 0)


def _pods(server: SimServer) -> list[dict]:
    context = ssl.create_default_context(cafile=str(server.ca_path))
    with httpx.Client(base_url=server.url, verify=context, headers={"Authorization": f"Bearer {server.token}"}) as client:
        return [p for p in client.get("/api/v1/pods").json()["items"] if p["status"].get("phase") == "Running"]


def _workload(pod: dict) -> tuple[str, str, str] | None:
    """(kind, namespace, name) of a pod's Deployment or DaemonSet (None: another owner)."""
    for o in pod["metadata"].get("ownerReferences", []):
        if o["kind"] == "ReplicaSet":
            return ("Deployment", pod["metadata"]["namespace"], o["name"].rsplit("-", 1)[0])
        if o["kind"] == "DaemonSet":
            return ("DaemonSet", pod["metadata"]["namespace"], o["name"])
    return None


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """(sim, kubeconfig, engine, generated, target): Prometheus with a week of the sim's pods at
    5-minute samples; `target` the (kind, namespace, name) of the workload with the most pods."""
    server = SimServer(SimOptions(nodes=3, pods_per_node=4, seed=5, start_time=T0, frozen=True,
                                  churn_per_minute=0)).start()
    data_dir = tmp_path_factory.mktemp("prometheus")
    kubeconfig = server.write_kubeconfig(data_dir.parent / "kubeconfig")
    pods = _pods(server)
    by_workload: dict[tuple[str, str, str], int] = {}
    for p in pods:
        if (key := _workload(p)) is not None:
            by_workload[key] = by_workload.get(key, 0) + 1
    target = max(by_workload, key=lambda k: (by_workload[k], k))
    start = T0 - WEEK - 2 * STEP  # (a rate at the window's first point needs the sample before it)
    spike_at = (3 * 86400) // STEP
    containers = []
    for i, pod in enumerate(pods):
        for j, c in enumerate(pod["spec"]["containers"]):
            ours = _workload(pod) == target and j == 0
            containers.append(Spiky(pod["metadata"]["namespace"], pod["metadata"]["name"], c["name"],
                                    pod["spec"]["nodeName"], 0.0625 * (1 + (i + j) % 7), (50 + 10 * (i % 9)) << 20,
                                    spike_at=spike_at if ours and i % 2 == 0 else -1))
            spike_at += 1 if ours else 0
    generated = Generated(start, T0, containers, step=STEP)
    source = data_dir.parent / "usage.om"
    source.write_text(generated.openmetrics())
    try:
        with started("prometheus", data_dir, blocks_from=source) as engine:
            yield server, kubeconfig, engine, generated, target
    finally:
        server.stop()


def app_on(world, prometheus: PromSettings | None = None):
    _, kubeconfig, engine, _, _ = world
    return make_app(kubeconfig, clock=lambda: NOW, prometheus=prometheus or PromSettings(url=engine.url))


async def until(pilot, condition, what: str, seconds: float = 20) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"never: {what}")


def the_rule(generated: Generated, namespace: str, pods: set[str], container: str) -> tuple[int, int, int]:
    """(CPU millicores, memory bytes, samples): each pod's p95 of CPU and peak memory over the week
    before the window's end, the largest of the pods, CPU up to whole m, memory + 15 % up to Mi."""
    end = math.floor(NOW / STEP) * STEP
    times = np.array(generated.times())
    inside = np.flatnonzero((times >= end - WEEK) & (times <= end))
    cpus, peaks = [], []
    for c in generated.containers:
        if c.namespace == namespace and c.pod in pods and c.name == container:
            cpus.append(np.percentile(np.full(len(inside), c.cores * 1000), 95))
            peaks.append(max(c.memory_at(int(i)) for i in inside))
    return math.ceil(max(cpus)), math.ceil(max(peaks) * 1.15 / MI) * MI, len(inside) * len(cpus)


async def test_a_workloads_advice_with_prometheus_is_the_rule_over_the_generated_week(world):
    _, _, engine, generated, target = world
    kind, namespace, name = target
    app = app_on(world)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        await until(pilot, lambda: app.session.prom.advice is not None, "Prometheus opened")
        await open_workload(app, pilot, target)
        panel = app.screen.query_one(AdvicePanel)
        await until(pilot, lambda: "from Prometheus" in str(panel._basis), "the week's suggestion")
        pods = {p.name for p in app.session.snapshot.workload_pods(target)}
        assert len(pods) >= 2
        for shown in panel.containers:
            cpu, memory, samples = the_rule(generated, namespace, pods, shown.name)
            assert (shown.cpu_milli, shown.mem_bytes) == (cpu, memory), shown.name
            assert (shown.samples, shown.pods, shown.span, shown.provisional) == (samples, len(pods), WEEK, False)
        first = panel.containers[0]
        assert first.mem_bytes > SPIKE  # the spike, days before the session's history, counts
        text = "\n".join(screen_lines(app))
        assert f"Over the last 7d, from Prometheus {engine.url}." in text
        assert "168 h of history" in text and "provisional" not in text
        await pilot.press("y")
        await pilot.pause()
        assert (f"kubectl set resources {kind.lower()}/{name} -n {namespace} -c {first.name} "
                f"--requests=cpu={first.cpu_milli}m,memory={memory_text(first.mem_bytes)}") in app.clipboard
        # Opened again within minutes: the same answer, its namespace's range queries (memory
        # peaks over 5-minute steps: rightsize's alone) asked again of nobody.
        client, asked = app.session.prom.client, []
        query_range = client.query_range

        def spied(expr, *args):
            asked.append(expr)
            return query_range(expr, *args)

        client.query_range = spied
        await pilot.press("escape")
        await pilot.pause()
        await open_workload(app, pilot, target)
        panel = app.screen.query_one(AdvicePanel)
        await until(pilot, lambda: "from Prometheus" in str(panel._basis), "the week's suggestion again")
        assert panel.containers[0] == first
        assert not [expr for expr in asked if "max_over_time" in expr and f'namespace="{namespace}"' in expr]


async def test_reclaim_of_the_workloads_on_screen_is_over_the_prometheus_week(world):
    _, _, _, generated, _ = world
    app = app_on(world)
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        await until(pilot, lambda: app.session.prom.reclaim is not None, "Prometheus opened")
        await pilot.press("3")
        await pilot.pause()
        t, reclaim, snapshot = table(app, "workloads"), app.session.prom.reclaim, app.session.snapshot
        held = {(c.namespace, c.pod) for c in generated.containers}
        expected = {}
        for row in t.shown_rows():
            view = snapshot.workload_pods(row.key)
            pods = {name for namespace, name in view.keys if (namespace, name) in held}
            if not pods:
                continue  # (no series: the session's figure stays)
            cpu = mem = None
            for info in view.infos:
                for c in (c for c in info.spec.containers if info.phase == "Running" and c.role != "init"):
                    if not any((g.namespace, g.pod, g.name) == (row.namespace, name, c.name)
                               for g in generated.containers for name in pods):
                        continue  # (a sidecar without generated series: no suggestion, no gap)
                    rule_cpu, rule_mem, _ = the_rule(generated, row.namespace, pods, c.name)
                    if c.requests.cpu_milli is not None:
                        cpu = (cpu or 0) + max(0, c.requests.cpu_milli - rule_cpu)
                    if c.requests.mem_bytes is not None:
                        mem = (mem or 0) + max(0, c.requests.mem_bytes - rule_mem)
            expected[history_keys.workload(*row.key)] = (cpu, mem)
        assert len(expected) >= 4 and any(cpu for cpu, _ in expected.values())
        await until(pilot, lambda: expected.keys() <= reclaim.cpu.keys(), "the visible workloads figured", 30)
        await pilot.pause(0.1)
        assert {key: (reclaim.cpu[key], reclaim.mem[key]) for key in expected} == expected
        # (the session's own figures, from its half hour, are not these: the cells show Prometheus's)
        assert any((row.reclaim_cpu_milli, row.reclaim_mem_bytes) != expected[history_keys.workload(*row.key)]
                   for row in t.shown_rows() if history_keys.workload(*row.key) in expected)
        for y, row in enumerate(t.shown_rows(), start=1):
            figures = expected.get(history_keys.workload(*row.key))
            if figures is not None:
                cells = cells_on_screen(app, t, y)
                assert (cells["reclaim_cpu"].strip(), cells["reclaim_mem"].strip()) == (
                    cpu_text(figures[0]), mem_text(figures[1])), row.key


async def test_prometheus_without_series_for_it_leaves_the_sessions_suggestion_saying_so(world):
    rules = b'{"status":"success","data":{"resultType":"vector","result":[]}}'
    empty = b'{"status":"success","data":{"resultType":"matrix","result":[]}}'
    async with Hostile(200, empty, instant=(200, rules)) as url:
        app = app_on(world, PromSettings(url=url))
        async with app.run_test(size=SIZE) as pilot:
            await settled(app, pilot)
            await until(pilot, lambda: app.session.prom.advice is not None, "Prometheus opened")
            await open_workload(app, pilot, world[4])
            await until(pilot, lambda: "no series" in "\n".join(screen_lines(app)), "the fallback said")
            assert "From this session's history: Prometheus has no series for it." in "\n".join(screen_lines(app))


async def test_with_prometheus_off_the_advice_says_it_rests_on_the_sessions_history(world):
    app = app_on(world, PromSettings(enabled=False))
    async with app.run_test(size=SIZE) as pilot:
        await settled(app, pilot)
        await open_workload(app, pilot, world[4])
        await until(pilot, lambda: "Prometheus is off" in "\n".join(screen_lines(app)), "the fallback said")
        assert "From this session's history: Prometheus is off." in "\n".join(screen_lines(app))
