"""What to request, on the simulated cluster: a workload's pods screen shows each container's
suggestion (the rule counted again here from the history, the plain way), its gap and the
history it rests on, and a `kubectl set resources` line that `y` copies and the real kubectl
accepts; `w` sorts the workloads by what they would free."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from helpers.app import make_app, refresh, screen_lines, select, table
from helpers.kubectl import KUBECTL
from helpers.sims import frozen_sim
from test_app_workloads_view import settled

from ktopui.model.history import CPU, MEMORY
from ktopui.model.workload_advice import memory_text
from ktopui.ui.rollup_screens import WorkloadPodsScreen

MI = 1 << 20
SAMPLES = 6


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    with frozen_sim(tmp_path_factory.mktemp("advice"), nodes=8, pods_per_node=8, seed=11) as sim:
        yield sim


async def with_history(app, pilot, server) -> None:
    """Owners settled, then SAMPLES metrics timestamps 15 s apart."""
    await settled(app, pilot)
    for _ in range(SAMPLES - 1):
        server.cluster.advance(15)
        await refresh(app, pilot)


def plain_suggestion(app, key, container: str) -> tuple[int, int]:
    """The rule counted the plain way: each pod's np.percentile and max, the largest of them."""
    history = app.session.history
    cpus, mems = [], []
    for row in app.session.snapshot.workload_pods(key):
        series_key = row.container_history_key(container)
        cpu, mem = history.series(series_key, CPU), history.series(series_key, MEMORY)
        if len(cpu):
            cpus.append(np.percentile(cpu.astype(np.float64), 95))
            mems.append(mem.astype(np.float64).max())
    return int(np.ceil(max(cpus))), int(np.ceil(max(mems) * 1.15 / MI)) * MI


def deployment_with_requests(app):
    rows = [w for w in app.session.snapshot.workloads
            if w.kind == "Deployment" and w.running > 1 and w.requests.cpu_milli and w.has_metrics]
    return max(rows, key=lambda w: (w.running, w.name))


async def open_workload(app, pilot, key) -> None:
    await pilot.press("3")
    t = table(app, "workloads")
    await pilot.press("n")  # (by name: the row is where select finds it)
    await select(pilot, t, key)
    await pilot.press("enter")
    await pilot.pause()
    assert isinstance(app.screen, WorkloadPodsScreen)


async def test_a_workloads_pods_screen_shows_each_containers_suggestion_gap_history_and_kubectl_line(sim):
    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=(200, 50)) as pilot:
        await with_history(app, pilot, server)
        target = deployment_with_requests(app)
        await open_workload(app, pilot, target.key)
        text = "\n".join(screen_lines(app))
        assert "What to request" in text and "SUGGESTED CPU" in text
        first = next(iter(app.session.snapshot.workload_pods(target.key)))
        container = next(c for c in first.info.spec.containers if c.role != "init")
        cpu, mem = plain_suggestion(app, target.key, container.name)
        line = (f"kubectl set resources deployment/{target.name} -n {target.namespace} -c {container.name} "
                f"--requests=cpu={cpu}m,memory={memory_text(mem)}")
        assert line in text
        assert "provisional (< 1 h)" in text  # a minute and a quarter of history
        # The gap: today's request (the largest its pods ask for: a rollout has two specs) less the suggestion.
        advice = app.screen.query_one("#advice").containers
        mine = next(c for c in advice if c.name == container.name)
        requested = max(c.requests.cpu_milli for row in app.session.snapshot.workload_pods(target.key)
                        for c in row.info.spec.containers if c.name == container.name)
        assert mine.cpu_gap == requested - cpu
        assert (mine.pods, mine.samples) == (target.running, SAMPLES * target.running)

        await pilot.press("y")
        await pilot.pause()
        assert line in app.clipboard.splitlines()
        assert any("Copied" in n.message for n in app._notifications)


async def test_a_bare_pod_says_kubectl_set_resources_does_not_apply_and_copies_nothing(sim):
    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=(200, 50)) as pilot:
        await with_history(app, pilot, server)
        bare = next(w for w in app.session.snapshot.workloads if w.kind == "Pod" and w.has_metrics)
        await open_workload(app, pilot, bare.key)
        text = "\n".join(screen_lines(app))
        assert "What to request" in text and "kubectl set resources applies to its controller" in text
        assert "kubectl set resources pod" not in text
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard == ""
        assert any("Nothing to copy" in n.message for n in app._notifications)


async def test_w_sorts_workloads_by_reclaimable_cpu_then_memory(sim):
    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=(200, 50)) as pilot:
        await with_history(app, pilot, server)
        await pilot.press("3", "c", "w")
        t = table(app, "workloads")
        assert (t.sort_column, t.sort_descending) == ("reclaim_cpu", True)
        shown = [w.reclaim_cpu_milli for w in t.rows if w.reclaim_cpu_milli is not None]
        assert shown and shown == sorted(shown, reverse=True) and shown[0] > 0
        # `-` (no figure) after every value.
        assert all(w.reclaim_cpu_milli is None for w in t.rows[len(shown):])
        await pilot.press("m", "w")
        assert t.sort_column == "reclaim_mem"


@pytest.mark.skipif(KUBECTL is None, reason="kubectl 1.33 not found")
@pytest.mark.parametrize("kind", ["Deployment", "StatefulSet", "DaemonSet", "CronJob"])
def test_the_kubectl_line_is_accepted_by_kubectl_and_sets_the_requests(tmp_path, kind):
    from ktopui.model.workload_advice import ContainerAdvice, set_resources

    advice = ContainerAdvice("app", 1000, 2 << 30, 429, 598 * MI, 8, 105.0, 2, True)
    line = set_resources(kind, "shop", "web", advice)
    assert line == (f"kubectl set resources {kind.lower()}/web -n shop -c app "
                    "--requests=cpu=429m,memory=598Mi")
    pod = {"containers": [{"name": "app", "image": "registry.example/app:1", "resources": {"requests": {"cpu": "1", "memory": "2Gi"}}},
                          {"name": "other", "image": "registry.example/other:1"}]}
    template = {"metadata": {"labels": {"app": "web"}}, "spec": pod}
    spec = {"selector": {"matchLabels": {"app": "web"}}, "template": template}
    if kind == "CronJob":
        pod["restartPolicy"] = "Never"
        spec = {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": template}}}
    group = "batch/v1" if kind == "CronJob" else "apps/v1"
    manifest = tmp_path / "workload.json"
    manifest.write_text(json.dumps({"apiVersion": group, "kind": kind,
                                        "metadata": {"name": "web", "namespace": "shop"}, "spec": spec}))
    # Offline: the same flags, the object read from the file instead of the server.
    args = line.split()[1:]
    args.remove(f"{kind.lower()}/web")
    result = subprocess.run([KUBECTL, *args, "--local", "-f", str(manifest), "-o", "json"], capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    pod_spec = (out["spec"]["jobTemplate"]["spec"] if kind == "CronJob" else out["spec"])["template"]["spec"]
    containers = {c["name"]: c for c in pod_spec["containers"]}
    assert containers["app"]["resources"]["requests"] == {"cpu": "429m", "memory": "598Mi"}
    assert "resources" not in containers["other"] or not containers["other"]["resources"]


def test_cluster_text_in_a_kubectl_line_is_quoted_for_the_shell_and_escaped_for_the_terminal():
    from ktopui.model.workload_advice import ContainerAdvice
    from ktopui.ui.advice_panel import commands

    advice = ContainerAdvice("app\x1b]52;c;ZWNobyBoaQ==\x07", 100, MI, 50, MI, 8, 60.0, 1, True)
    (line,) = commands("Deployment", "shop", "web; rm -rf ~", [advice])
    assert "\x1b" not in line and "\x07" not in line and "\\x1b" in line
    assert "'deployment/web; rm -rf ~'" in line


async def test_the_suggestion_is_counted_again_once_per_metrics_list_not_on_every_refresh(sim, monkeypatch):
    from ktopui.ui import advice_panel

    counted = []
    real = advice_panel.advice
    monkeypatch.setattr(advice_panel, "advice", lambda history, pods: counted.append(len(pods)) or real(history, pods))
    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=(200, 50)) as pilot:
        await with_history(app, pilot, server)
        await open_workload(app, pilot, deployment_with_requests(app).key)
        first = len(counted)
        for _ in range(3):  # (the clock stands still: no new metrics)
            await refresh(app, pilot)
        assert len(counted) == first
        server.cluster.advance(15)
        await refresh(app, pilot)
        assert len(counted) == first + 1
