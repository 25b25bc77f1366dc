"""A pod's detail at 24h, pinned: Prometheus found by its labels through the sim's service proxy,
holding a day of generated usage for the pod (promtool blocks), the cluster's clock frozen."""

from __future__ import annotations

import ssl

import httpx
import pytest
from helpers.app import select, table
from helpers.engines import started
from helpers.scenes import SHOWN_SERVER, start_cluster, wait_for_refresh
from helpers.usage_series import Container, Generated

from ktopui.kube.prometheus_settings import PromSettings
from ktopui.live.session import ClusterSession
from ktopui.model import history_keys
from ktopui.ui.app import KtopApp
from ktopui.ui.screens import PodScreen

KUBE_PROMETHEUS = {"app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "k8s",
                   "app.kubernetes.io/part-of": "kube-prometheus"}


def _a_pod_of_two_containers(server) -> tuple[str, str, str, list[str]]:
    """(namespace, name, node, containers) of the first running pod with two containers, by name."""
    context = ssl.create_default_context(cafile=str(server.ca_path))
    with httpx.Client(base_url=server.url, verify=context, headers={"Authorization": f"Bearer {server.token}"}) as c:
        pods = c.get("/api/v1/pods").json()["items"]
    pod = min((p for p in pods if p["status"].get("phase") == "Running" and len(p["spec"]["containers"]) == 2),
              key=lambda p: (p["metadata"]["namespace"], p["metadata"]["name"]))
    return (pod["metadata"]["namespace"], pod["metadata"]["name"], pod["spec"]["nodeName"],
            [c["name"] for c in pod["spec"]["containers"]])


@pytest.fixture
def pod_with_a_day(tmp_path):
    server = start_cluster()
    now = server.cluster.clock.now()
    namespace, name, node, containers = _a_pod_of_two_containers(server)
    generated = Generated(now - 25 * 3600, now, [
        Container(namespace, name, containers[0], node, 0.375, 180 << 20, throttled=0.25),
        Container(namespace, name, containers[1], node, 0.0625, 40 << 20),
    ], step=60)
    source = tmp_path / "day.om"
    source.write_text(generated.openmetrics())
    with started("prometheus", tmp_path / "prometheus", blocks_from=source) as engine:
        server.expose_service("monitoring", "prometheus-k8s", KUBE_PROMETHEUS, 9090, engine.url)
        kubeconfig = server.write_kubeconfig(tmp_path / "kubeconfig", context="demo")
        session = ClusterSession.from_kubeconfig(kubeconfig=str(kubeconfig), interval=2,
                                                 clock=server.cluster.clock.now, prometheus=PromSettings())
        session.place.server = SHOWN_SERVER
        yield KtopApp(session), (namespace, name)
    server.stop()


def test_pod_detail_over_24h_snapshot(snap_compare, pod_with_a_day):
    app, key = pod_with_a_day

    async def run_before(pilot):
        await wait_for_refresh(app, pilot, 0)
        await pilot.press("2")
        await select(pilot, table(app, "pods"), key)
        await pilot.press("enter")
        for _ in range(200):
            if isinstance(app.screen, PodScreen) and app.session.prom.backfill is not None:
                break
            await pilot.pause(0.05)
        await pilot.press("8")
        screen = app.screen
        backfill = app.session.prom.backfill
        for _ in range(400):
            if screen.range_usage is not None and not backfill.busy and history_keys.pod(*key) in backfill.filled:
                break
            await pilot.pause(0.05)
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=(160, 40), run_before=run_before)
