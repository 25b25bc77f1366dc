"""The dashboard under faults: a message where the user looks, nothing lost, recovery by itself."""

from __future__ import annotations

import pytest
from helpers.app import make_app, names, refresh, refreshed, table

from ktopui.model import history_keys
from ktopui.model.history import CPU
from ktopui.sim.cluster import SimOptions
from ktopui.sim.server import SimServer

SIZE = (160, 40)


@pytest.fixture
def sim(tmp_path):
    server = SimServer(SimOptions(nodes=5, pods_per_node=5, seed=61, churn_per_minute=0)).start()
    server.cluster.freeze()
    yield server, server.write_kubeconfig(tmp_path / "config")
    server.stop()


def header(app) -> str:
    return app.screen.query_one("ClusterHeader").render().plain


def crumbs(app) -> str:
    return app.screen.query_one("#crumbs").render().plain


async def warm_up(app, pilot, server, samples=3):
    await refreshed(app, pilot)
    for _ in range(samples - 1):
        server.cluster.advance(15)
        await refresh(app, pilot)


# Nodes and pods come from watches, which a fault on a new request does not
# touch; the metrics lists are what every refresh asks for. (A 503 on the
# metrics API means its backend is down: that case has its own test.)
NODE_METRICS, POD_METRICS = "/apis/metrics.k8s.io/v1beta1/nodes", "/apis/metrics.k8s.io/v1beta1/pods"
TRANSIENT_FAULTS = {
    "server error": (lambda f: f.server_error(502, prefix=NODE_METRICS), "node metrics: refresh failed: the server answered 502"),
    "dropped connection": (lambda f: f.drop_connections(prefix=NODE_METRICS), "node metrics: refresh failed"),
    # (The rest of its long message gives way to the data's age and the retry at 160 columns.)
    "truncated body": (lambda f: f.truncate_bodies(prefix=POD_METRICS), "broke before the response"),
    "malformed JSON": (lambda f: f.malformed_json(prefix=POD_METRICS), "pod metrics: refresh failed: malformed JSON"),
    "rate limited": (lambda f: f.too_many_requests(retry_after=9, prefix=NODE_METRICS), "Too many requests"),
    "timeout": (lambda f: f.set_latency(NODE_METRICS, 3.0), "timed out waiting for the server"),
}


@pytest.mark.parametrize("fault", sorted(TRANSIENT_FAULTS))
async def test_transient_fault_keeps_everything_and_recovers(sim, fault):
    server, kubeconfig = sim
    inject, message = TRANSIENT_FAULTS[fault]
    # A 2 s interval, so a 9 s Retry-After visibly wins over the backoff.
    app = make_app(kubeconfig, interval=2, request_timeout=1.0)
    async with app.run_test(size=SIZE) as pilot:
        await warm_up(app, pilot, server)
        nodes = table(app, "nodes")
        await pilot.press("m", "down", "down")
        shown, chosen, sort = names(nodes), nodes.cursor_key, (nodes.sort_column, nodes.sort_descending)
        samples = len(app.session.history.series(history_keys.node(chosen), CPU))
        pods_before = len(table(app, "pods").rows)

        inject(server.faults)
        server.cluster.advance(15)
        await refresh(app, pilot)
        text = header(app)
        assert message in text, text
        assert "ago)" in text and "retry in" in text
        if fault == "rate limited":
            assert app.session.next_refresh_at - app.session.clock() >= 8.5  # Retry-After honoured
        else:
            assert app.session.next_refresh_at - app.session.clock() <= 4.5  # first backoff step: 2-4 s
        # Nothing the user had is lost.
        assert names(nodes) == shown and nodes.cursor_key == chosen
        assert (nodes.sort_column, nodes.sort_descending) == sort
        assert len(table(app, "pods").rows) == pods_before
        assert len(app.session.history.series(history_keys.node(chosen), CPU)) >= samples

        server.faults.reset()
        server.cluster.advance(15)
        await refresh(app, pilot)
        assert "refresh failed" not in header(app)
        assert nodes.cursor_key == chosen
        assert len(app.session.history.series(history_keys.node(chosen), CPU)) > samples


async def test_backoff_grows_while_the_server_keeps_failing(sim):
    server, kubeconfig = sim
    app = make_app(kubeconfig, interval=1)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        server.faults.server_error(500)
        delays = []
        for _ in range(4):
            await refresh(app, pilot)
            delays.append(app.session.delay_after(app.session.snapshot))
        assert delays[-1] > delays[0] and max(delays) <= 60


async def test_without_metrics_api_it_shows_requests_and_says_why_then_recovers(sim):
    server, kubeconfig = sim
    server.faults.metrics_absent = True
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        text = header(app)
        assert "no usage: Metrics API not available" in text and "metrics-server" in text
        assert "no usage: showing requests and limits" in crumbs(app)
        nodes = table(app, "nodes")
        assert {"cpu_req", "mem_req", "cpu_req_pct"} <= set(nodes.visible_column_ids())
        assert "cpu" not in nodes.visible_column_ids()
        assert len(nodes.rows) == 5 and any(r.requests.cpu_milli for r in nodes.rows)
        await pilot.press("c")  # CPU usage is unknown: sorts by CPU requests instead
        assert nodes.sort_column == "cpu_req"
        await pilot.press("2")
        assert "cpu_req" in table(app, "pods").visible_column_ids()

        server.faults.metrics_absent = False
        await refresh(app, pilot)
        assert "no usage" not in header(app)
        assert "cpu" in table(app, "pods").visible_column_ids()
        assert any(r.has_metrics for r in table(app, "pods").rows)


async def test_metrics_backend_down_is_named(sim):
    server, kubeconfig = sim
    server.faults.metrics_down = True
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        assert "metrics backend is not answering" in header(app)


async def test_user_who_cannot_list_nodes_still_gets_pods(sim):
    server, kubeconfig = sim
    server.faults.forbid("sim-admin", "list", "nodes", group="")
    server.faults.forbid("sim-admin", "list", "nodes", group="metrics.k8s.io")
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        assert "nodes: permission denied" in header(app)
        nodes = table(app, "nodes")
        assert not nodes.rows and "Cannot show nodes" in nodes.empty_message
        assert "forbidden" in nodes.empty_message
        await pilot.press("2")
        assert len(table(app, "pods").rows) >= 20


async def test_user_who_cannot_list_pods_cluster_wide_is_offered_a_namespace(sim):
    server, kubeconfig = sim
    server.faults.forbid("sim-admin", "list", "pods", group="")
    server.faults.forbid("sim-admin", "list", "pods", group="metrics.k8s.io")
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        assert "pods: permission denied" in header(app)
        assert "press s to pick a namespace" in header(app)
        server.faults.clear_forbidden()
        server.faults.forbid("sim-admin", "list", "pods", namespace="", group="")
        before = app.refresh_count
        app.session.set_namespace("default")
        # (two: a refresh under way when the scope changed may land first, with the old lists)
        await refreshed(app, pilot, count=2, since=before)
        assert "permission denied" not in header(app)
        assert {r.namespace for r in table(app, "pods").rows} == {"default"}


async def test_invalid_quantity_in_one_object_hides_nothing_else(sim):
    server, kubeconfig = sim
    victim = server.cluster.nodes[0].name
    server.faults.invalid_quantity("nodemetrics", victim, resource="cpu", value="1g")
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        nodes = table(app, "nodes")
        by_name = {r.name: r for r in nodes.rows}
        cpu = next(c for c in nodes.columns if c.id == "cpu")
        assert cpu.text(by_name[victim], app.session.history) == "?"
        assert "1g" in by_name[victim].problems["cpu"]
        others = [r for n, r in by_name.items() if n != victim and r.has_metrics]
        assert others and all(cpu.text(r, app.session.history).endswith("m") for r in others)


async def test_unreachable_server_is_reported_and_the_app_keeps_running(sim):
    server, kubeconfig = sim
    app = make_app(kubeconfig, request_timeout=1.0)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        shown = names(table(app, "nodes"))
        server.stop()
        # The watch streams break first; their reconnects (after a backoff) are refused.
        for _ in range(10):
            await refresh(app, pilot)
            if "was refused" in header(app):
                break
            await pilot.pause(0.5)
        assert "was refused" in header(app)
        assert names(table(app, "nodes")) == shown
        await pilot.press("2", "c", "1")  # still responsive
        assert app.is_running


async def test_doctor_screen_explains_a_missing_metrics_api(sim):
    from ktopui.ui.dialogs import DoctorScreen
    from ktopui.ui.screens import MainScreen

    server, kubeconfig = sim
    server.faults.metrics_absent = True
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await pilot.press("d")
        assert isinstance(app.screen, DoctorScreen)
        for _ in range(100):
            if app.screen.findings is not None:
                break
            await pilot.pause(0.05)
        failed = [f for f in app.screen.findings if f.status == "fail"]
        assert [f.check for f in failed] == ["metrics API"]
        await pilot.pause(0.1)
        shown = app.export_screenshot().replace("&#160;", " ")
        assert "FAIL" in shown and "metrics-server" in shown  # the finding and its next step
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
