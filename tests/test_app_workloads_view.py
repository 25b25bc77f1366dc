"""The workloads (`3`) and namespaces (`4`) views on the simulated cluster: what they show equals
the snapshot's rows (and kubectl's sums), sorting, filtering, the drills and Esc back."""

from __future__ import annotations

import re

import pytest
from helpers.app import cells_on_screen, make_app, names, refresh, refreshed, screen_lines, select, table
from helpers.kubectl import KUBECTL
from helpers.owners import read
from helpers.sims import frozen_sim
from test_rollups_vs_kubectl import kubectl_total, selectors

from ktopui.ui.cells import cpu_text, level, mem_text, pct_text
from ktopui.ui.rollup_screens import NamespaceWorkloadsScreen, WorkloadPodsScreen
from ktopui.ui.screens import PodScreen

SIZES = [(80, 24), (120, 40), (200, 50)]


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    with frozen_sim(tmp_path_factory.mktemp("workloads"), nodes=12, pods_per_node=9, seed=7) as sim:
        yield sim


async def settled(app, pilot) -> None:
    """Refreshed until the owners are all known (the first refresh may infer them from labels)."""
    await refreshed(app, pilot)
    for _ in range(20):
        snapshot = app.session.snapshot
        if snapshot.workloads and not any(w.inferred for w in snapshot.workloads):
            return
        await refresh(app, pilot)
    raise AssertionError("the owners never settled")


def busiest(app):
    return max((w for w in app.session.snapshot.workloads if w.has_metrics and w.pods > 1),
               key=lambda w: (w.usage.cpu_milli, w.name))


async def test_key_3_shows_every_workload_with_the_snapshots_numbers(sim):
    _, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=(200, 50)) as pilot:
        await settled(app, pilot)
        await pilot.press("3")
        t = table(app, "workloads")
        assert app.screen.active_table() is t
        snapshot = app.session.snapshot
        assert sorted(names(t)) == sorted(w.key for w in snapshot.workloads)
        # Sorted by CPU, the busiest first.
        assert t.sort_column == "cpu" and t.sort_descending
        shown = [w.usage.cpu_milli or -1 for w in t.rows]
        assert shown == sorted(shown, reverse=True)
        for y, row in enumerate(t.rows[: t.size.height - 1], start=1):
            cells = cells_on_screen(app, t, y)
            assert cells["kind"].strip() == row.kind
            assert cells["pods"].strip() == f"{row.running}/{row.pods}"
            assert cells["restarts"].strip() == str(row.restarts)
            assert cells["oom_kills"].strip() == str(row.oom_kills)
            assert cells["cpu"].strip() == cpu_text(row.usage.cpu_milli)
            assert cells["mem"].strip() == mem_text(row.usage.mem_bytes)
        crumbs = screen_lines(app)[app.screen.query_one("#crumbs").region.y]
        assert "Workloads" in crumbs and "Namespaces" in crumbs


async def test_workloads_sort_by_memory_and_restarts_and_filter_by_name(sim):
    _, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(app, pilot)
        await pilot.press("3", "m")
        t = table(app, "workloads")
        assert (t.sort_column, t.sort_descending) == ("mem", True)
        mems = [w.usage.mem_bytes or -1 for w in t.rows]
        assert mems == sorted(mems, reverse=True)
        await pilot.press("t")
        assert t.sort_column == "restarts"
        target = busiest(app)
        await pilot.press("slash", *target.name, "enter")
        assert t.rows and all(target.name in f"{w.namespace}/{w.name}" for w in t.rows)
        assert target.key in names(t)


async def test_enter_on_a_workload_shows_its_pods_then_a_pod_and_esc_restores_row_and_sort(sim):
    _, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(app, pilot)
        await pilot.press("3", "m")
        t = table(app, "workloads")
        target = busiest(app)
        await select(pilot, t, target.key)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, WorkloadPodsScreen)
        pods = table(app)
        expected = app.session.snapshot.workload_pods(target.key)
        assert sorted(names(pods)) == sorted(expected.keys)
        assert len(pods.rows) == target.pods
        assert "namespace" not in pods.visible_column_ids()
        assert sum(p.usage.cpu_milli for p in pods.rows if p.has_metrics) >= target.usage.cpu_milli - len(pods.rows)
        first = pods.rows[0]
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PodScreen) and (app.screen.namespace, app.screen.pod) == first.key
        await pilot.press("escape")
        await pilot.press("escape")
        await pilot.pause()
        t = table(app, "workloads")
        assert app.screen.active_table() is t
        assert t.cursor_key == target.key
        assert (t.sort_column, t.sort_descending) == ("mem", True)


async def test_key_4_shows_namespaces_with_quota_use_and_enter_shows_their_workloads(sim):
    _, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=(200, 50)) as pilot:
        await settled(app, pilot)
        await pilot.press("4")
        t = table(app, "namespaces")
        snapshot = app.session.snapshot
        assert sorted(names(t)) == sorted(n.namespace for n in snapshot.namespaces)
        quota_ids = [c.id for c in t.columns if c.id.startswith("quota_")]
        assert set(quota_ids) <= set(t.visible_column_ids())
        with_quota = [n for n in snapshot.namespaces if n.quota is not None]
        without = [n for n in snapshot.namespaces if n.quota is None]
        assert with_quota and without
        for row in (with_quota[0], without[0]):
            y = 1 + [r.namespace for r in t.rows].index(row.namespace)
            cells = cells_on_screen(app, t, y)
            assert cells["cpu"].strip() == cpu_text(row.usage.cpu_milli)
            assert cells["mem"].strip() == mem_text(row.usage.mem_bytes)
            assert cells["cpu_req"].strip() == cpu_text(row.requests.cpu_milli)
            assert cells["pods"].strip() == f"{row.running}/{row.pods}"
            for resource in ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory"):
                cell = cells[f"quota_{resource.replace('.', '_')}_pct"].strip()
                pct = row.quota_pct(resource)
                assert cell == ("" if pct is None else pct_text(pct)), (row.namespace, resource)
        target = with_quota[0].namespace
        await select(pilot, t, target)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, NamespaceWorkloadsScreen)
        workloads = table(app)
        assert sorted(names(workloads)) == sorted(w.key for w in snapshot.workloads if w.namespace == target)
        assert "namespace" not in workloads.visible_column_ids()
        first = workloads.rows[0]
        await pilot.press("home", "enter")
        await pilot.pause()
        assert isinstance(app.screen, WorkloadPodsScreen) and app.screen.key == first.key
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, NamespaceWorkloadsScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert table(app, "namespaces").cursor_key == target


@pytest.mark.skipif(KUBECTL is None, reason="kubectl 1.33 is not installed beside the dispatcher")
async def test_a_workloads_cpu_and_memory_cells_equal_kubectl_top_pods_sum_of_its_pods(sim, sim_api):
    server, kubeconfig = sim
    wanted = selectors(read(sim_api(server)))
    app = make_app(kubeconfig)
    async with app.run_test(size=(200, 50)) as pilot:
        await settled(app, pilot)
        await pilot.press("3")
        t = table(app, "workloads")
        checked = 0
        for kind in ("Deployment", "StatefulSet", "DaemonSet"):
            row = next(r for r in t.rows if r.kind == kind and r.has_metrics and r.key in wanted)
            await select(pilot, t, row.key)
            cells = cells_on_screen(app, t, t.cursor_index - int(t.scroll_y) + 1)
            _, namespace, _ = row.key
            total = kubectl_total(str(kubeconfig), namespace, "-l", wanted[row.key])
            assert (cells["cpu"].strip(), cells["mem"].strip()) == total, row.key
            checked += 1
        assert checked == 3


async def test_a_namespace_scope_leaves_the_namespace_column_out(sim):
    _, kubeconfig = sim
    app = make_app(kubeconfig, namespace="web")
    async with app.run_test(size=(120, 40)) as pilot:
        await settled(app, pilot)
        await pilot.press("3")
        t = table(app, "workloads")
        assert t.rows and {w.namespace for w in t.rows} == {"web"}
        assert "namespace" not in [c.id for c in t.columns]


async def test_workloads_inferred_from_labels_are_marked_after_their_kind(make_sim_server, tmp_path):
    server = make_sim_server(nodes=6, pods_per_node=9, churn_per_minute=0)
    server.faults.forbid_replicasets()
    app = make_app(server.write_kubeconfig(tmp_path / "config"))
    async with app.run_test(size=(200, 50)) as pilot:
        await refreshed(app, pilot)
        await pilot.press("3")
        t = table(app, "workloads")
        inferred = [r for r in t.rows if r.inferred]
        assert inferred and {r.kind for r in inferred} >= {"Deployment"}
        for row in (inferred[0], next(r for r in t.rows if not r.inferred)):
            await select(pilot, t, row.key)
            cells = cells_on_screen(app, t, t.cursor_index - int(t.scroll_y) + 1)
            assert cells["kind"].strip() == (f"{row.kind}*" if row.inferred else row.kind)


PERCENT = re.compile(r" *(-|~?\d+%(!!?)?)")
# What must be on screen at every size, per view: the row's identity and its usage.
ESSENTIAL = {
    "workloads": {"kind", "namespace", "name", "cpu", "cpu_req_pct", "mem", "mem_req_pct"},
    "namespaces": {"namespace", "cpu", "mem", "quota_requests_cpu_pct", "quota_requests_memory_pct"},
    "workload-pods": {"name", "cpu", "mem", "cpu_req_pct", "mem_req_pct"},
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("view", list(ESSENTIAL))
async def test_the_views_keep_what_matters_whole_at_every_size(sim, size, view):
    _, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=size) as pilot:
        await settled(app, pilot)
        if view == "namespaces":
            await pilot.press("4")
        else:
            await pilot.press("3")
            if view == "workload-pods":
                await select(pilot, table(app, "workloads"), busiest(app).key)
                await pilot.press("enter")
                await pilot.pause()
        t = table(app)
        assert ESSENTIAL[view] <= set(t.visible_column_ids()), t.visible_column_ids()
        header = cells_on_screen(app, t, 0)
        for column, _ in t.layout().columns:
            assert header[column.id].strip().rstrip("▲▼").endswith(column.title), (column.id, header)
        for y in range(1, min(len(t.rows), t.size.height - 1) + 1):
            cells = cells_on_screen(app, t, y)
            for column_id, cell in cells.items():
                if column_id.endswith("pct"):
                    assert PERCENT.fullmatch(cell) or (column_id.startswith("quota") and not cell.strip()), cell
            if "kind" in cells:  # whole up to StatefulSet*; a longer kind (ReplicationController) keeps its start
                kind, cell = t.rows[y - 1].kind, cells["kind"].strip()
                whole = len(kind) <= len("StatefulSet") and cell.rstrip("*") == kind
                assert whole or (len(cell) >= 11 and kind.startswith(cell.rstrip("…"))), cell


@pytest.fixture(scope="module")
def unmeasured(tmp_path_factory):
    # Seed 21 has running pods without metrics (on a node that is not ready): whole workloads without usage.
    with frozen_sim(tmp_path_factory.mktemp("unmeasured"), nodes=6, pods_per_node=6, seed=21) as sim:
        yield sim


async def test_a_running_workload_without_metrics_shows_dashes_never_zero_and_sorts_last(unmeasured):
    _, kubeconfig = unmeasured
    app = make_app(kubeconfig)
    async with app.run_test(size=(200, 50)) as pilot:
        await settled(app, pilot)
        await pilot.press("3")
        t = table(app, "workloads")
        row = next(r for r in t.rows if not r.has_metrics and r.running)
        await select(pilot, t, row.key)
        cells = cells_on_screen(app, t, t.cursor_index - int(t.scroll_y) + 1)
        for column_id in ("cpu", "mem", "cpu_req_pct", "cpu_lim_pct", "mem_req_pct", "mem_lim_pct"):
            assert cells[column_id].strip() == "-", (column_id, cells)
        assert all(r.has_metrics for r in t.rows[: t.cursor_index])  # no data after every number


async def test_without_colour_a_critical_workload_cell_is_bold_and_reversed(sim, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    _, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=(200, 50)) as pilot:
        await settled(app, pilot)
        assert app.no_color
        await pilot.press("3", "r")  # the most over its CPU requests first
        t = table(app, "workloads")
        assert t.sort_column == "cpu_req_pct" and level(t.rows[0].cpu_req_pct) == "crit"
        await pilot.press("down")  # (the cursor off it)
        strip = t.render_line(1)
        text = pct_text(t.rows[0].cpu_req_pct)
        style = next(s.style for s in strip if s.text.strip() == text)
        assert style.reverse and style.bold


async def test_quotas_forbidden_leave_the_quota_cells_blank_and_the_header_says_so(make_sim_server, tmp_path):
    server = make_sim_server(nodes=6, pods_per_node=9, churn_per_minute=0)
    server.faults.forbid_resourcequotas()
    app = make_app(server.write_kubeconfig(tmp_path / "config"))
    async with app.run_test(size=(200, 50)) as pilot:
        await refreshed(app, pilot)
        await refresh(app, pilot)
        await pilot.press("4")
        t = table(app, "namespaces")
        assert t.rows and all(r.quota is None for r in t.rows)
        for y in range(1, min(len(t.rows), t.size.height - 1) + 1):
            cells = cells_on_screen(app, t, y)
            assert cells["cpu"].strip() and not any(cells[c].strip() for c in cells if c.startswith("quota_"))
        header = "\n".join(screen_lines(app)[:3])
        assert header.count("quotas not shown: resourcequotas may not be listed") == 1
