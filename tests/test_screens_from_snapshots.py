"""The screens shown snapshots made by hand, with no server: a session fed by the test."""

from __future__ import annotations

import dataclasses
import ssl
from types import MappingProxyType

import msgspec
from helpers.app import names, refreshed, table
from helpers.feeds import HandFed

from ktopui.kube.connection import ClusterConnection
from ktopui.kube.errors import ServerError
from ktopui.kube.objects import Pod
from ktopui.live.feed import Inputs, Scope
from ktopui.live.session import ClusterSession
from ktopui.model.amounts import Amounts, Usage
from ktopui.model.history import epoch
from ktopui.model.nodes import NodeRow
from ktopui.model.pod_info import NO_PROBLEMS, pod_info
from ktopui.model.pod_view_join import PodViewJoin
from ktopui.model.samples import PodSample
from ktopui.model.snapshot import SOURCES, Coverage, Snapshot, SourceHealth, Totals
from ktopui.ui.app import KtopApp
from ktopui.ui.messages import SnapshotReady

NOW = epoch("2026-11-18T12:00:00Z")
STAMP = "2026-11-18T11:59:50Z"
GiB = 1 << 30


def connection() -> ClusterConnection:
    """A connection to nowhere: nothing here makes a request."""
    return ClusterConnection(
        server="https://cluster.invalid:6443", context="by-hand", cluster="by-hand", user="tester", namespace="default",
        namespace_source="default", ssl_context=ssl.create_default_context(), insecure=False, tls_server_name=None,
        proxy=None, auth=None, auth_method="none", config_files=[], warnings=[], disable_compression=False,
    )


def node(name: str, cpu: int, mem: int, *, pods: int) -> NodeRow:
    return NodeRow(name, status="Ready", roles="worker", pods=pods, usage=Usage(cpu, mem, mem * 1000), has_metrics=True,
                   timestamp=STAMP, window="15s", available=Amounts(4000, 16 * GiB, 16 * GiB * 1000),
                   requests=Amounts(1000, 2 * GiB, 2 * GiB * 1000), limits=Amounts(2000, 4 * GiB, 4 * GiB * 1000))


def pod(namespace: str, name: str, node_name: str):
    return pod_info(msgspec.convert({
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"nodeName": node_name, "containers": [
            {"name": "app", "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                                          "limits": {"cpu": "500m", "memory": "512Mi"}}}]},
        "status": {"phase": "Running", "containerStatuses": [
            {"name": "app", "ready": True, "restartCount": 0, "state": {"running": {}}}]},
    }, Pod))


def sample(cpu: int, mem: int) -> PodSample:
    return PodSample(STAMP, "15s", Usage(cpu, mem, mem * 1000), NO_PROBLEMS, (), names=("app",), cpu_each=cpu)


HEALTHY = MappingProxyType({source: SourceHealth(ok_at=NOW) for source in SOURCES})
PODS = {("web", "api-1"): pod("web", "api-1", "node-a"), ("web", "api-2"): pod("web", "api-2", "node-b"),
        ("db", "pg-0"): pod("db", "pg-0", "node-b")}


def snapshot(cpu: dict[tuple[str, str], int], *, health=HEALTHY) -> Snapshot:
    nodes = [node("node-a", 900, 3 * GiB, pods=1), node("node-b", 2100, 9 * GiB, pods=2)]
    pods = PodViewJoin().update(PODS, {key: sample(milli, 200 << 20) for key, milli in cpu.items()})
    return Snapshot(nodes=nodes, pods=pods, health=health, newest_metrics=epoch(STAMP),
                    totals=Totals(3000, 8000, 12 * GiB, 32 * GiB), coverage=Coverage(2, *pods.coverage()))


def app_without_a_server() -> KtopApp:
    return KtopApp(ClusterSession(connection(), feed=HandFed(), interval=60, clock=lambda: NOW))


async def show(app: KtopApp, pilot, made: Snapshot) -> None:
    count = app.refresh_count
    app.post_message(SnapshotReady(app.session, made))
    await refreshed(app, pilot, since=count)


def header(app: KtopApp) -> str:
    return app.screen.query_one("ClusterHeader").render().plain


async def test_the_main_screen_shows_snapshots_made_by_hand():
    app = app_without_a_server()
    async with app.run_test(size=(160, 30)) as pilot:
        await show(app, pilot, snapshot({("web", "api-1"): 120, ("web", "api-2"): 480, ("db", "pg-0"): 50}))
        nodes = table(app, "nodes")
        assert names(nodes) == ["node-a", "node-b"]
        line = nodes.render_line(1).text
        assert "node-a" in line and "900m" in line and "22%" in line  # 900m of 4 cores
        text = header(app)
        assert "by-hand" in text and "2 nodes · 3 pods" in text and "metrics 10s old" in text
        assert "usage reported by 2/2 nodes, 3/3 running pods" in text

        await pilot.press("2")
        pods = table(app, "pods")
        assert names(pods) == [("web", "api-2"), ("web", "api-1"), ("db", "pg-0")]  # by CPU: the busiest first
        await pilot.press("down")
        assert pods.cursor_key == ("web", "api-1")

        # The next snapshot: api-1 is the busiest now; the cursor goes with it.
        await show(app, pilot, snapshot({("web", "api-1"): 700, ("web", "api-2"): 10, ("db", "pg-0"): 50}))
        assert names(pods) == [("web", "api-1"), ("db", "pg-0"), ("web", "api-2")]
        assert pods.cursor_key == ("web", "api-1")
        assert "%CPU/L" in pods.render_line(0).text and "140%" in pods.render_line(1).text  # 700m of 500m

        # A list that failed: the header says so; the rows stay as they were.
        failed = ServerError("the server answered 500 Internal Server Error to list nodes.metrics.k8s.io: boom",
                             status=500)
        health = MappingProxyType({**HEALTHY, "node metrics": SourceHealth(ok_at=NOW - 30, error=failed, failures=1)})
        await show(app, pilot, snapshot({("web", "api-1"): 700}, health=health))
        assert "node metrics: refresh failed" in header(app) and "(30s ago)" in header(app)
        assert len(table(app, "pods").rows) == 3


async def test_inputs_made_by_hand_are_joined_and_shown():
    """The same path as a cluster's, from the feed on: the joiner makes the rows and history."""
    app = app_without_a_server()
    async with app.run_test(size=(160, 30)) as pilot:
        inputs = Inputs(scope=Scope(), nodes=None, pods=PODS, pod_changes=None, node_metrics=None,
                        pod_metrics=None, pod_metrics_kept=True, health=HEALTHY, loading=())
        app.session.feed.inputs.put_nowait(inputs)
        await refreshed(app, pilot)
        await pilot.press("2")
        pods = table(app, "pods")
        assert sorted(names(pods)) == sorted(PODS)
        assert all(row.node in ("node-a", "node-b") and not row.has_metrics for row in pods.rows)
        assert "no usage" not in header(app) and "3 pods" in header(app)


async def test_a_daemonsets_and_a_namespaces_pod_counts_on_a_big_cluster_are_shown_whole():
    from ktopui.model.namespaces import NamespaceRow
    from ktopui.model.workloads import WorkloadRow

    usage = Usage(250_000, 700 * GiB, 700 * GiB * 1000)
    made = dataclasses.replace(
        snapshot({("web", "api-1"): 120}),
        workloads=[WorkloadRow("DaemonSet", "kube-system", "node-exporter", pods=4994, running=4988, usage=usage)],
        namespaces=[NamespaceRow("kube-system", pods=20010, running=20001, usage=usage)])
    for size in ((80, 24), (120, 40), (200, 50)):
        app = app_without_a_server()
        async with app.run_test(size=size) as pilot:
            await show(app, pilot, made)
            for key, view, count in (("3", "workloads", "4988/4994"), ("4", "namespaces", "20001/20010")):
                await pilot.press(key)
                shown = table(app, view)
                # Where the column fits it is whole (narrow terminals leave it out, whole).
                if "PODS" in shown.render_line(0).text or size[0] >= 120:
                    assert count in shown.render_line(1).text, (size, view)
