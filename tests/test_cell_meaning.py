"""What cells say: no data is not zero, overcommit is not an emergency, marks stand out without colour."""

from __future__ import annotations

import pytest

from helpers.app import make_app, refreshed, table

from ktopui.sim.cluster import SimOptions
from ktopui.sim.server import SimServer

SIZE = (200, 40)


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    # Seed 21 has running pods with limits and no metrics (on a node that is not ready).
    server = SimServer(SimOptions(nodes=6, pods_per_node=6, seed=21, churn_per_minute=0)).start()
    server.cluster.freeze()
    kubeconfig = server.write_kubeconfig(tmp_path_factory.mktemp("cells") / "config")
    yield server, kubeconfig
    server.stop()


def _cell(t, row, column_id: str) -> str:
    column = next(c for c in t.columns if c.id == column_id)
    return column.text(row, t.history)


async def test_a_pod_without_metrics_shows_no_limit_percentage_and_sorts_after_those_with_one(sim):
    _, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await pilot.press("2")
        pods = table(app, "pods")
        unmeasured = [r for r in pods.rows if not r.has_metrics and r.info is not None and r.info.spec.cpu_bounded]
        assert unmeasured
        for row in unmeasured:
            assert (_cell(pods, row, "cpu_lim_pct"), _cell(pods, row, "mem_lim_pct")) == ("-", "-")
        for key in ("l", "l"):  # %CPU/L, descending then ascending: no data comes last both ways
            await pilot.press(key)
            shown = [_cell(pods, r, "cpu_lim_pct") for r in pods.rows]
            first_dash = shown.index("-")
            assert all(text == "-" for text in shown[first_dash:])
            assert set(map(pods.row_key, unmeasured)) <= set(map(pods.row_key, pods.rows[first_dash:]))
