"""The dashboard with Prometheus: sparklines backfilled from a real engine holding generated
usage of the simulated cluster's pods, the header naming the source, detail charts over a range,
and Prometheus failing while the live view goes on."""

from __future__ import annotations

import csv
import socket
import ssl
import time
from datetime import datetime

import httpx
import pytest
from helpers.app import cells_on_screen, make_app, refreshed, select, table
from helpers.engines import started
from helpers.hostile_prometheus import Hostile
from helpers.usage_series import Container, Generated

from ktopui.kube.prometheus_settings import PromSettings
from ktopui.model import history_keys
from ktopui.model.history import CPU, MEMORY
from ktopui.sim.cluster import SimOptions
from ktopui.sim.server import SimServer
from ktopui.ui.rollup_screens import WorkloadPodsScreen
from ktopui.ui.screens import NodePodsScreen, PodScreen

SIZE = (120, 40)
T0 = (time.time() // 3600 - 1) * 3600  # the sim's frozen clock: a recent hour (the engines keep it)
NOW = T0 + 60  # the dashboard's clock


def _containers(server: SimServer) -> list[Container]:
    """Every running container of the sim, with usage of its own to generate."""
    context = ssl.create_default_context(cafile=str(server.ca_path))
    with httpx.Client(base_url=server.url, verify=context, headers={"Authorization": f"Bearer {server.token}"}) as client:
        pods = client.get("/api/v1/pods").json()["items"]
    found = []
    for i, pod in enumerate(p for p in pods if p["status"].get("phase") == "Running"):
        for j, c in enumerate(pod["spec"]["containers"]):
            found.append(Container(pod["metadata"]["namespace"], pod["metadata"]["name"], c["name"],
                                   pod["spec"]["nodeName"], 0.0625 * (1 + (i + j) % 7), (50 + 10 * (i % 9)) << 20,
                                   throttled=0.125 * ((i + j) % 3)))
    return found


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """(sim, kubeconfig, engine, generated): the sim frozen at T0, Prometheus with its last hour."""
    server = SimServer(SimOptions(nodes=3, pods_per_node=4, seed=5, start_time=T0, frozen=True,
                                  churn_per_minute=0)).start()
    data_dir = tmp_path_factory.mktemp("prometheus")
    kubeconfig = server.write_kubeconfig(data_dir.parent / "kubeconfig")
    generated = Generated(T0 - 3600, NOW, _containers(server))
    source = data_dir.parent / "usage.om"
    source.write_text(generated.openmetrics())
    try:
        with started("prometheus", data_dir, blocks_from=source) as engine:
            yield server, kubeconfig, engine, generated
    finally:
        server.stop()


def app_on(world, prometheus: PromSettings | None = None):
    _, kubeconfig, engine, _ = world
    return make_app(kubeconfig, clock=lambda: NOW, prometheus=prometheus or PromSettings(url=engine.url))


async def until(pilot, condition, what: str, seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"never: {what}")


def header_text(app) -> str:
    return app.screen.query_one("ClusterHeader").render().plain


async def test_backfilled_pod_sparklines_equal_the_generated_usage(world):
    _, _, engine, generated = world
    app = app_on(world)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await pilot.press("2")
        pods = table(app, "pods")
        shown = [history_keys.pod(r.namespace, r.name) for r in pods.shown_rows()]
        backfill = app.session.prom.backfill
        await until(pilot, lambda: set(shown) <= backfill.filled, "the visible pods filled")
        history = app.session.history
        running = {history_keys.pod(c.namespace, c.pod) for c in generated.containers}
        assert len(set(shown) & running) >= 10
        for key in set(shown) & running:
            _, namespace, name = key
            times, memory, cpu = history.times(key), history.series(key, MEMORY), history.series(key, CPU)
            # The sim's one live sample (frozen, it has one) is the newest; before it, Prometheus's.
            filled = times[:-1]
            assert len(filled) >= history.capacity_for(key) - 6 and (filled < times[-1]).all(), key
            assert memory[:-1].tolist() == [generated.memory(namespace, name, t) for t in filled]
            assert cpu[:-1] == pytest.approx(generated.cpu_milli(namespace, name))
        assert f"prom: {engine.url}" in header_text(app)


async def test_backfilled_nodes_and_the_header_trend_on_the_first_screen(world):
    _, _, _, generated = world
    app = app_on(world)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        backfill = app.session.prom.backfill
        nodes = [history_keys.node(r.name) for r in table(app, "nodes").shown_rows()]
        await until(pilot, lambda: {history_keys.CLUSTER, *nodes} <= backfill.filled, "nodes and cluster filled")
        history = app.session.history
        for key in nodes:
            assert history.series(key, CPU)[:-1] == pytest.approx(generated.node_cpu_milli(key[1]))
        assert len(history.times(history_keys.CLUSTER)) > 100


async def test_without_prometheus_the_header_says_off_and_range_keys_say_why(world):
    app = app_on(world, PromSettings(enabled=False))
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        assert "prom: off" in header_text(app)
        await pilot.press("2", "enter")
        await until(pilot, lambda: isinstance(app.screen, PodScreen), "the pod's screen")
        await pilot.press("8")
        await pilot.pause()
        assert any("History from Prometheus is off (off)" in str(n.message) for n in app._notifications)
        assert app.screen.range_name == ""


async def test_a_pod_over_24h_charts_prometheus_with_its_request_and_limit(world):
    _, _, _, generated = world
    app = app_on(world)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await pilot.press("2", "enter")
        await until(pilot, lambda: isinstance(app.screen, PodScreen), "the pod's screen")
        screen = app.screen
        await pilot.press("8")
        await until(pilot, lambda: screen.range_usage is not None, "the 24h range")
        usage = screen.range_usage
        assert usage.name == "24h" and usage.seconds == 86400 and usage.end <= NOW
        some = next(c for c in generated.containers if (c.namespace, c.pod) == (screen.namespace, screen.pod))
        assert usage.cpu[some.name][-1] == pytest.approx(some.cores * 1000)
        charts = screen.query_one("#charts").render().plain
        assert "last 24h from Prometheus" in charts and "hours ago" in charts
        if screen.row.requests.cpu_milli is not None:
            assert "request" in charts
        await pilot.press("0")
        assert screen.range_name == "" and "from Prometheus" not in str(screen.query_one("#charts").render())


# -- Prometheus failing ------------------------------------------------------------


async def test_prometheus_refusing_at_start_is_one_word_and_one_line_and_the_view_goes_on(world):
    async with Hostile(503, b"no healthy upstream\x1b]0;pwned\x07") as url:
        app = app_on(world, PromSettings(url=url))
        async with app.run_test(size=SIZE) as pilot:
            await refreshed(app, pilot)
            await until(pilot, lambda: app.session.prom.failure, "the failure said")
            header = header_text(app)
            assert "prom: failed" in header
            assert "history from Prometheus failed" in header and "\x1b" not in header
            assert table(app, "nodes").rows  # the live view, as it was
            before = app.refresh_count
            app.session.wake()
            await refreshed(app, pilot, since=before)
            assert app.session.prom.backfill is None


async def test_range_queries_failing_leave_the_live_history_and_say_so_once(world):
    rules = b'{"status":"success","data":{"resultType":"vector","result":[]}}'
    hostile = Hostile(503, b"upstream connect error", instant=(200, rules))
    async with hostile as url:
        app = app_on(world, PromSettings(url=url))
        async with app.run_test(size=SIZE) as pilot:
            await refreshed(app, pilot)
            await until(pilot, lambda: app.session.prom.failure, "the failure said")
            history = app.session.history
            node = history_keys.node(table(app, "nodes").shown_rows()[0].name)
            assert len(history.times(node)) == 1  # the live sample only: nothing lost, nothing half-filled
            header = header_text(app)
            assert f"prom: {url} unavailable" in header and "history from Prometheus failed" in header
            asked = hostile.requests
            await pilot.press("2")
            await pilot.pause(0.3)
            assert hostile.requests == asked  # not asked again before the pause after a failure
            assert table(app, "pods").rows


async def test_a_slow_prometheus_never_holds_up_refreshes(world):
    async with Hostile(200, b"{}", delay=30) as url:
        app = app_on(world, PromSettings(url=url))
        async with app.run_test(size=SIZE) as pilot:
            await refreshed(app, pilot)
            began = time.monotonic()
            for _ in range(3):
                before = app.refresh_count
                app.session.wake()
                await refreshed(app, pilot, since=before)
            assert time.monotonic() - began < 5
            assert app.session.prom.client is None and app.session.prom.failure == ""  # still opening


async def test_a_node_over_6h_charts_its_own_usage_with_its_allocatable(world):
    _, _, _, generated = world
    app = app_on(world)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await until(pilot, lambda: app.session.prom.client is not None, "Prometheus opened")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, NodePodsScreen), "the node's pods")
        screen = app.screen
        charts = screen.query_one("#charts")
        assert not charts.display  # no pane until a range is picked
        await pilot.press("7")
        await until(pilot, lambda: screen.range_usage is not None, "the 6h range")
        await pilot.pause()
        assert screen.range_usage.cpu[""][-1] == pytest.approx(generated.node_cpu_milli(screen.node))
        text = charts.render().plain
        assert charts.display and "last 6h from Prometheus" in text and "allocatable" in text
        await pilot.press("0")
        assert not charts.display


async def test_a_workload_over_1h_charts_its_containers_summed_over_its_pods(world):
    _, _, _, generated = world
    app = app_on(world)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await until(pilot, lambda: app.session.prom.client is not None, "Prometheus opened")
        await pilot.press("3")
        workloads = table(app, "workloads")
        running = {(c.namespace, c.pod) for c in generated.containers}
        busiest = max(workloads.rows, key=lambda w: sum(
            (p.namespace, p.name) in running for p in app.session.snapshot.workload_pods(w.key)))
        await select(pilot, workloads, busiest.key)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, WorkloadPodsScreen), "the workload's pods")
        screen = app.screen
        await pilot.press("6")
        await until(pilot, lambda: screen.range_usage is not None, "the 1h range")
        pods = {p.name for p in app.session.snapshot.workload_pods(busiest.key)}
        expected: dict[str, float] = {}
        for c in generated.containers:
            if c.namespace == busiest.namespace and c.pod in pods:
                expected[c.name] = expected.get(c.name, 0.0) + c.cores * 1000
        usage = screen.range_usage
        assert {name: values[-1] for name, values in usage.cpu.items()} == pytest.approx(expected)
        assert "last 1h from Prometheus" in screen.query_one("#charts").render().plain


async def test_throttle_column_shows_the_most_throttled_container_of_visible_pods_and_workloads(world):
    _, _, _, generated = world
    app = app_on(world)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await until(pilot, lambda: app.session.prom.throttling is not None, "Prometheus opened")
        await pilot.press("2")
        pods = table(app, "pods")
        await until(pilot, lambda: "throttle" in pods.visible_column_ids(), "the THROTTLE% column")
        shares = app.session.prom.throttling.shares
        shown = pods.shown_rows()
        await until(pilot, lambda: any(history_keys.pod(r.namespace, r.name) in shares for r in shown),
                    "throttling of the visible pods")
        await pilot.pause(0.1)
        for y, row in enumerate(shown[:10], start=1):
            worst = max((c.throttled for c in generated.containers if (c.namespace, c.pod) == (row.namespace, row.name)),
                        default=0.0)
            cell = cells_on_screen(app, pods, y)["throttle"].strip()
            assert cell == (f"{worst * 100:.0f}%" if worst else "-"), row.name
        await pilot.press("3")
        workloads = table(app, "workloads")
        await until(pilot, lambda: any(w.key and history_keys.workload(*w.key) in shares
                                       for w in workloads.shown_rows()), "throttling of the visible workloads")


async def test_without_prometheus_there_is_no_throttle_column(world):
    app = app_on(world, PromSettings(enabled=False))
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await pilot.press("2")
        assert all(c.id != "throttle" for c in table(app, "pods").columns)


async def test_the_export_key_writes_the_rows_and_their_history_as_csv_and_names_the_file(world, tmp_path,
                                                                                           monkeypatch):
    _, _, _, generated = world
    monkeypatch.chdir(tmp_path)
    app = app_on(world)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await until(pilot, lambda: app.session.prom.backfill is not None, "Prometheus opened")
        await pilot.press("2")
        pods = table(app, "pods")
        shown = [history_keys.pod(r.namespace, r.name) for r in pods.shown_rows()]
        await until(pilot, lambda: set(shown) <= app.session.prom.backfill.filled, "the visible pods filled")
        await pilot.press("e")
        await until(pilot, lambda: list(tmp_path.glob("ktopui-pods-*.csv")), "the export written")
        await until(pilot, lambda: any("Exported" in str(n.message) for n in app._notifications), "the notice")
        path = next(tmp_path.glob("ktopui-pods-*.csv"))
        said = next(str(n.message) for n in app._notifications if "Exported" in str(n.message))
        assert str(path.resolve()) in said and f"Exported {len(pods.rows)} pods" in said
        assert path.stat().st_mode & 0o777 == 0o600
    lines = list(csv.reader(path.read_text().splitlines()))
    assert lines[0] == ["time", "namespace", "pod", "container", "cpu_millicores", "memory_bytes"]
    c = next(c for c in generated.containers if history_keys.pod(c.namespace, c.pod) in shown)
    own = [line for line in lines[1:] if line[1:4] == [c.namespace, c.pod, c.name]]
    times = [datetime.fromisoformat(line[0].replace("Z", "+00:00")).timestamp() for line in own]
    assert len(own) >= 50
    backfilled = own[:-1]  # (the newest is the sim's own sample)
    assert [float(line[5]) for line in backfilled] == [c.memory_at(generated.index(t)) for t in times[:-1]]
    assert {float(line[4]) for line in backfilled} == {c.cores * 1000}


async def test_a_namespace_picked_backfills_its_pods_on_screen(world):
    _, _, _, generated = world
    namespace = sorted({c.namespace for c in generated.containers})[-1]
    app = app_on(world)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await until(pilot, lambda: app.session.prom.backfill is not None, "Prometheus opened")
        await pilot.press("2")
        before = app.refresh_count
        app.session.set_namespace(namespace)
        await refreshed(app, pilot, since=before)
        shown = [history_keys.pod(r.namespace, r.name) for r in table(app, "pods").shown_rows()]
        assert shown and {k[1] for k in shown} == {namespace}
        await until(pilot, lambda: set(shown) <= app.session.prom.backfill.filled, "the namespace's pods filled")
        running = [k for k in shown if any(history_keys.pod(c.namespace, c.pod) == k for c in generated.containers)]
        assert all(len(app.session.history.times(k)) > 10 for k in running)


async def test_a_prometheus_that_is_down_is_said_once_and_the_view_goes_on(world):
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    app = app_on(world, PromSettings(url=f"http://127.0.0.1:{port}"))
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await until(pilot, lambda: app.session.prom.failure, "the failure said")
        header = header_text(app)
        assert "prom: failed" in header and "history from Prometheus failed" in header
        assert table(app, "nodes").rows and app.session.prom.backfill is None


async def test_partial_answers_fill_the_trends_and_say_so_on_the_status_line(world):
    rules = b'{"status":"success","data":{"resultType":"vector","result":[]}}'
    partial = b'{"status":"success","warnings":["store eu-1 \\u001b[31munreachable"],"data":{"resultType":"matrix","result":[]}}'
    async with Hostile(200, partial, instant=(200, rules)) as url:
        app = app_on(world, PromSettings(url=url))
        async with app.run_test(size=SIZE) as pilot:
            await refreshed(app, pilot)
            await until(pilot, lambda: app.session.prom.warning, "the warning heard")
            await pilot.pause()
            header = header_text(app)
            assert "Prometheus answered in part: store eu-1" in header and "\x1b" not in header
            assert app.session.prom.failure == ""


async def test_an_export_asks_prometheus_for_its_rows_history_first(world, tmp_path, monkeypatch):
    _, _, _, generated = world
    monkeypatch.chdir(tmp_path)
    app = app_on(world)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await until(pilot, lambda: app.session.prom.backfill is not None, "Prometheus opened")
        await pilot.press("3", "e")  # at once: the export does not wait for the screen's backfill
        await until(pilot, lambda: list(tmp_path.glob("ktopui-workloads-*.csv")), "the export written")
        snapshot = app.session.snapshot
    lines = list(csv.reader(next(tmp_path.glob("ktopui-workloads-*.csv")).read_text().splitlines()))
    assert lines[0] == ["time", "namespace", "kind", "workload", "cpu_millicores", "memory_bytes"]
    running = {(c.namespace, c.pod) for c in generated.containers}
    some = next(w for w in snapshot.workloads
                if all((w.namespace, p.name) in running for p in snapshot.workload_pods(w.key)))
    pods = {p.name for p in snapshot.workload_pods(some.key)}
    own = [line for line in lines[1:] if line[1:4] == [some.namespace, some.kind, some.name]]
    assert len(own) >= 50
    expected = sum(c.cores * 1000 for c in generated.containers if c.namespace == some.namespace and c.pod in pods)
    assert float(own[0][4]) == pytest.approx(expected)
