"""Fixed scenes of the dashboard on the simulated cluster.

The screenshot script (screenshots/generate.py) and the snapshot tests both
use these, so the images in screenshots/ and the pinned snapshots show the
same screens. The cluster clock is frozen and only moved by `prime`, so
every run renders identically.
"""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from ktopui.live.session import ClusterSession
from ktopui.sim.cluster import SimOptions
from ktopui.sim.server import SimServer
from ktopui.ui.app import KtopApp

START = 1_795_000_000.0  # a fixed cluster time (2026-11-18), so timestamps never change
# More nodes than a 200x50 terminal shows, so every table scrolls.
OPTIONS = SimOptions(nodes=48, pods_per_node=9, seed=7, start_time=START, frozen=True)
SHOWN_SERVER = "https://sim.ktopui.test:6443"  # the real port changes every run
SAMPLES = 24
RESOLUTION = 15.0

# Keys that lead from the nodes view to each scene.
SCENES: dict[str, tuple[str, ...]] = {
    "nodes": ("c",),
    "pods": ("2",),
    "node-pods": ("c", "enter"),
    "pod": ("2", "enter"),
    "doctor": ("d",),
    "failing": ("2",),
    "workloads": ("3",),
    "namespaces": ("4",),
    "workload-pods": ("3", "enter"),  # the busiest workload's pods
    "workload-detail": ("3", "w", "enter"),  # what to request for the workload that would free the most CPU
    "pools": ("p",),
}
# Faults switched on once the history is in: the scene shows the refresh after.
FAULTS = {
    # Rate-limited node metrics: a Retry-After, so the retry the header names is always 30 s away.
    "failing": lambda faults: faults.too_many_requests(retry_after=30, prefix="/apis/metrics.k8s.io/v1beta1/nodes"),
}


def start_cluster() -> SimServer:
    return SimServer(OPTIONS).start()


def scene_app(server: SimServer, workdir: Path) -> KtopApp:
    kubeconfig = server.write_kubeconfig(workdir / "kubeconfig", context="demo")
    # The clock is frozen, so the regular 2 s refreshes re-read identical data.
    session = ClusterSession.from_kubeconfig(kubeconfig=str(kubeconfig), interval=2, clock=server.cluster.clock.now)
    session.place.server = SHOWN_SERVER
    return KtopApp(session)


async def wait_for_refresh(app: KtopApp, pilot: Pilot, since: int) -> None:
    for _ in range(600):
        if app.refresh_count > since:
            await pilot.pause()
            return
        await pilot.pause(0.05)
    raise TimeoutError("the dashboard did not refresh")


async def prime(app: KtopApp, pilot: Pilot, server: SimServer, samples: int = SAMPLES) -> None:
    """Let history build up: one refresh per metrics resolution step."""
    await wait_for_refresh(app, pilot, 0)
    for _ in range(samples - 1):
        server.cluster.advance(RESOLUTION)
        count = app.refresh_count
        app.session.wake()
        await wait_for_refresh(app, pilot, count)


async def show(app: KtopApp, pilot: Pilot, server: SimServer, scene: str) -> None:
    await prime(app, pilot, server)
    if scene in FAULTS:
        FAULTS[scene](server.faults)
        count = app.refresh_count
        app.session.wake()
        await wait_for_refresh(app, pilot, count)
    await pilot.press(*SCENES[scene])
    if scene == "doctor":
        for _ in range(200):
            if getattr(app.screen, "findings", None) is not None:
                break
            await pilot.pause(0.05)
    await pilot.pause(0.3)
