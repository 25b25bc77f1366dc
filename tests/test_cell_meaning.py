"""What cells say: no data is not zero, overcommit is not an emergency, marks stand out without colour."""

from __future__ import annotations

import pytest

from helpers.app import make_app, refreshed, table
from helpers.sims import frozen_sim

SIZE = (200, 40)


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    # Seed 21 has running pods with limits and no metrics (on a node that is not ready).
    with frozen_sim(tmp_path_factory.mktemp("cells"), nodes=6, pods_per_node=6, seed=21) as sim:
        yield sim


@pytest.fixture(scope="module")
def busy(tmp_path_factory):
    """Nodes over 90 % of their CPU, and limits overcommitting allocatable several times."""
    with frozen_sim(tmp_path_factory.mktemp("busy"), nodes=12, pods_per_node=30, seed=7) as sim:
        yield sim


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
            assert set(map(pods.kind.key, unmeasured)) <= set(map(pods.kind.key, pods.rows[first_dash:]))


def _segment(t, y: int, needle: str):
    """The segment of table line `y` whose text contains `needle`."""
    return next(s for s in t.render_line(y) if needle in s.text)


async def test_node_limits_over_allocatable_are_overcommit_not_marked_or_coloured(busy):
    _, kubeconfig = busy
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        nodes = table(app, "nodes")
        assert "cpu_lim_pct" in nodes.visible_column_ids()
        await pilot.press("l")  # the most overcommitted first; the cursor then moves off it
        await pilot.press("down")
        busiest = nodes.rows[0]
        assert busiest.cpu_lim_pct > 100
        text = _cell(nodes, busiest, "cpu_lim_pct")
        assert text == f"{busiest.cpu_lim_pct}%"
        cell = _segment(nodes, 1, text)
        name = _segment(nodes, 1, busiest.name[:8])
        assert cell.style == name.style  # drawn as plain text
        # Usage over allocatable still is an emergency.
        hot = next(r for r in nodes.rows if r.cpu_pct is not None and r.cpu_pct >= 90)
        assert _cell(nodes, hot, "cpu_pct").endswith("%!!")


async def test_without_colour_critical_cells_stand_out_reversed_not_dimmed(busy, monkeypatch):
    from textual.color import Color
    from textual.filter import monochrome_style

    monkeypatch.setenv("NO_COLOR", "1")
    _, kubeconfig = busy
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        assert app.no_color
        nodes = table(app, "nodes")
        await pilot.press("a", "down")  # the busiest node (of its allocatable) first; the cursor off it
        assert _cell(nodes, nodes.rows[0], "cpu_pct").endswith("!!")
        crit = _segment(nodes, 1, "%!!").style
        plain = _segment(nodes, 1, nodes.rows[0].name[:8]).style

        def brightness(style) -> float:
            seen = monochrome_style(style)
            # (reversed, the text colour is the cell's background: a light block)
            return Color.from_rich_color(seen.color).brightness

        assert crit.reverse and crit.bold
        assert brightness(crit) >= brightness(plain)


async def test_a_nodes_trend_is_drawn_from_zero_up_to_its_allocatable(busy):
    from helpers.app import refresh

    from ktopui.model import history_keys
    from ktopui.model.history import CPU
    from ktopui.ui.cells import SPARK

    server, kubeconfig = busy
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        for _ in range(4):
            server.cluster.advance(15)
            await refresh(app, pilot)
        nodes = table(app, "nodes")
        checked = 0
        for row in nodes.rows:
            samples = app.session.history.last(history_keys.node(row.name), CPU, 10)
            line = _cell(nodes, row, "cpu_hist").strip()
            if len(line) < 4:
                continue
            highest = max(float(v) for v in samples if v == v) / row.available.cpu_milli
            # As high as the busiest sample is of the node's allocatable, not stretched to the top.
            assert max(SPARK.index(ch) for ch in line) == min(7, round(highest * 7)), (row.name, line)
            checked += 1
        assert checked >= 6
