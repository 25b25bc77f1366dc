"""Regenerate the images in screenshots/ from the app running on the simulated cluster.

    python screenshots/generate.py

Each scene is rendered by Textual to SVG, then to PNG by headless Chromium
when it is installed (Debian package `chromium`).
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
# The scenes live with the tests, which pin the same screens as snapshots.
sys.path.insert(0, str(HERE.parent / "tests"))
from helpers.scenes import scene_app, show, start_cluster  # noqa: E402
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


if __name__ == "__main__":
    main()
