"""Regenerate the images in screenshots/ from the app running on the simulated cluster.

    python screenshots/generate.py

Each scene is rendered by Textual to SVG, then to PNG by headless Chromium
when it is installed (Debian package `chromium`). The Prometheus scenes (a pod
over 24h, `ktopui rightsize`) need Debian's `prometheus`: a small simulated
cluster's real Prometheus holding the day before it started, made from the
simulator's own usage.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The scenes live with the tests, which pin the same screens as snapshots.
sys.path.insert(0, str(HERE.parent / "tests"))
from helpers.app import select, table  # noqa: E402
from helpers.scenes import SHOWN_SERVER, scene_app, show, start_cluster, wait_for_refresh  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.text import Text  # noqa: E402

from ktopui import cli  # noqa: E402
from ktopui.kube.prometheus_settings import PromSettings  # noqa: E402
from ktopui.live.session import ClusterSession  # noqa: E402
from ktopui.sim.cluster import SimOptions  # noqa: E402
from ktopui.sim.engines import have_prometheus  # noqa: E402
from ktopui.sim.server import SimServer  # noqa: E402
from ktopui.ui.app import KtopApp  # noqa: E402

SHOTS = {
    # file name: (scene, terminal size, fault switched on before the scene)
    "nodes": ("nodes", (160, 32), None),
    "pods": ("pods", (160, 32), None),
    "node-pods": ("node-pods", (160, 32), None),
    "pod-detail": ("pod", (160, 44), None),
    "nodes-80x24": ("nodes", (80, 24), None),
    "pods-80x24": ("pods", (80, 24), None),
    "workloads": ("workloads", (160, 32), None),
    "namespaces": ("namespaces", (160, 32), None),
    "workload-pods": ("workload-pods", (160, 32), None),
    "workload-detail": ("workload-detail", (160, 36), None),
    "pools": ("pools", (160, 32), None),
    # The aggregation layer misconfigured: metrics-server answers the availability check with 403.
    "doctor": ("doctor", (140, 42), lambda faults: faults.metrics_unavailable("FailedDiscoveryCheck", bad_status=403)),
}


async def render_svg(scene: str, size: tuple[int, int], fault=None) -> str:
    server = start_cluster()
    if fault is not None:
        fault(server.faults)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            app = scene_app(server, Path(tmp))
            async with app.run_test(size=size) as pilot:
                await show(app, pilot, server, scene)
                return app.export_screenshot(title="ktopui")
    finally:
        server.stop()


# A small cluster: a day of its past is made in seconds.
PROM_OPTIONS = SimOptions(nodes=4, pods_per_node=6, seed=7)
DAY = 24 * 3600.0


@contextlib.contextmanager
def cluster_with_a_day(tmp: Path) -> Iterator[tuple[SimServer, Path]]:
    server = SimServer(PROM_OPTIONS).start()
    try:
        server.run_prometheus(tmp / "prometheus", history=DAY)
        yield server, server.write_kubeconfig(tmp / "kubeconfig", context="demo")
    finally:
        server.stop()


async def pod_over_a_day(size: tuple[int, int]) -> str:
    """A pod of two containers in its detail, the 24h range picked (key 8)."""
    with tempfile.TemporaryDirectory() as tmp, cluster_with_a_day(Path(tmp)) as (server, kubeconfig):
        session = ClusterSession.from_kubeconfig(kubeconfig=str(kubeconfig), interval=2, prometheus=PromSettings())
        session.place.server = SHOWN_SERVER
        app = KtopApp(session)
        async with app.run_test(size=size) as pilot:
            await wait_for_refresh(app, pilot, 0)
            await pilot.press("2")
            pods = table(app, "pods")
            busiest = max((p for p in server.cluster.pods if p.phase == "Running" and len(p.running_specs) == 2),
                          key=lambda p: sum(p.cpu_base))
            await select(pilot, pods, (busiest.namespace, busiest.name))
            await pilot.press("enter")
            await pilot.pause(0.5)
            await pilot.press("8")
            for _ in range(400):
                if getattr(app.screen, "range_usage", None) is not None:
                    break
                await pilot.pause(0.05)
            await pilot.pause(0.5)
            return app.export_screenshot(title="ktopui")


def rightsize_table() -> str:
    """`ktopui rightsize -A --since 24h` on that cluster, recorded as a terminal wide enough for it shows it."""
    with tempfile.TemporaryDirectory() as tmp, cluster_with_a_day(Path(tmp)) as (_, kubeconfig):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = cli.main(["rightsize", "-A", "--since", "24h", "--kubeconfig", str(kubeconfig)])
        if code != 0:
            raise SystemExit(f"ktopui rightsize failed ({code})")
    table = out.getvalue().rstrip("\n")
    width = max(len(line) for line in table.splitlines())
    console = Console(record=True, width=width, file=io.StringIO(), force_terminal=True, color_system="truecolor")
    console.print("$ ktopui rightsize -A --since 24h", style="bold")
    console.print(Text(table, no_wrap=True))
    return console.export_svg(title="ktopui rightsize")


def to_png(svg: Path, png: Path) -> bool:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        return False
    match = re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg.read_text())
    width, height = (int(float(v)) + 1 for v in match.groups()) if match else (1600, 1000)
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--no-first-run", f"--user-data-dir={profile}",
                f"--window-size={width},{height}", f"--screenshot={png}", svg.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
    return True


def main() -> None:
    for name, (scene, size, fault) in SHOTS.items():
        svg = HERE / f"{name}.svg"
        svg.write_text(asyncio.run(render_svg(scene, size, fault)))
        made = "svg + png" if to_png(svg, HERE / f"{name}.png") else "svg (no chromium for png)"
        print(f"{name}: {made}")
    why = have_prometheus()
    if why:
        print(f"pod-detail-24h, rightsize: not made: {why}")
        return
    for name, make in (("pod-detail-24h", lambda: asyncio.run(pod_over_a_day((160, 44)))),
                       ("rightsize", rightsize_table)):
        svg = HERE / f"{name}.svg"
        svg.write_text(make())
        made = "svg + png" if to_png(svg, HERE / f"{name}.png") else "svg (no chromium for png)"
        print(f"{name}: {made}")


if __name__ == "__main__":
    main()
