"""Simulated clusters for dashboard tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from ktopui.sim.cluster import SimOptions
from ktopui.sim.server import SimServer


@contextlib.contextmanager
def frozen_sim(directory: Path, **options) -> Iterator[tuple[SimServer, Path]]:
    """A started simulated cluster with no churn and its clock stopped (tests that move it
    find the same pods afterwards), and a kubeconfig for it in `directory`; stopped after."""
    server = SimServer(SimOptions(churn_per_minute=0, **options)).start()
    server.cluster.freeze()
    try:
        yield server, server.write_kubeconfig(directory / "config")
    finally:
        server.stop()
