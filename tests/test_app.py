"""The dashboard, driven through Textual's pilot against the simulated cluster over HTTPS."""

from __future__ import annotations

import pytest

from helpers.app import make_app, names, refresh, refreshed, screen_lines, table

from ktopui.model.nodes import NODES
from ktopui.sim.cluster import SimOptions
from ktopui.sim.server import SimServer
from ktopui.ui.dialogs import HelpScreen, NamespaceScreen
from ktopui.ui.messages import SnapshotReady
from ktopui.ui.screens import MainScreen, NodePodsScreen, PodScreen
from ktopui.ui.table import RowTable

SIZE = (120, 40)


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    # No churn: tests that move the clock must find the same pods afterwards.
    server = SimServer(SimOptions(nodes=6, pods_per_node=6, seed=21, churn_per_minute=0)).start()
    server.cluster.freeze()
    kubeconfig = server.write_kubeconfig(tmp_path_factory.mktemp("app") / "config")
    yield server, kubeconfig
    server.stop()


async def test_startup_shows_every_node_and_pod(sim):
    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        assert isinstance(app.screen, MainScreen)
        nodes = table(app, "nodes")
        expected = sorted(n.name for n in server.cluster.nodes)
        assert names(nodes) == expected
        assert len(table(app, "pods").rows) == len(server.cluster.pods)
        header = app.screen.query_one("ClusterHeader").render().plain
        assert f"{len(expected)} nodes" in header and "all namespaces" in header


async def test_sort_keys_and_their_reverse(sim):
    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        nodes = table(app, "nodes")

        def values(column_id):
            value = NODES.values[next(c for c in nodes.columns if c.id == column_id).sort]
            return [value(r) for r in nodes.rows if value(r) is not None]

        await pilot.press("c")
        assert (nodes.sort_column, nodes.sort_descending) == ("cpu", True)
        assert values("cpu") == sorted(values("cpu"), reverse=True)
        await pilot.press("c")
        assert nodes.sort_descending is False and values("cpu") == sorted(values("cpu"))
        await pilot.press("m")
        assert nodes.sort_column == "mem" and values("mem") == sorted(values("mem"), reverse=True)
        await pilot.press("a")
        assert nodes.sort_column == "mem_pct"
        await pilot.press("r")
        assert nodes.sort_column == "mem_req_pct"
        await pilot.press("c", "l")
        assert nodes.sort_column == "cpu_lim_pct"
        await pilot.press("n")
        assert nodes.sort_column == "name" and names(nodes) == sorted(names(nodes))
        await pilot.press("n")
        assert names(nodes) == sorted(names(nodes), reverse=True)


async def test_clicking_a_header_sorts_by_that_column(sim):
    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        nodes = table(app, "nodes")
        x = 0
        for column, width in nodes.layout().columns:
            if column.id == "pods":
                break
            x += width + 1
        await pilot.click(RowTable, offset=(x + 1, 0))
        assert nodes.sort_column == "pods"
        assert "PODS▼" in nodes.render_line(0).text


async def test_selection_stays_on_the_same_pod_when_sorting_moves_it(sim):
    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await pilot.press("2")
        pods = table(app)
        await pilot.press("down", "down", "down")
        chosen = pods.cursor_key
        await pilot.press("m")  # re-sort: the row moves
        assert pods.cursor_key == chosen
        server.cluster.advance(60)  # usage changes, so CPU order changes too
        await refresh(app, pilot)
        assert pods.cursor_key == chosen
        assert pods.kind.key(pods.cursor_row) == chosen


async def test_drill_down_node_to_pods_to_pod_and_back_restores_row_and_sort(sim):
    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        nodes = table(app, "nodes")
        await pilot.press("m", "down")
        node_key, sort = nodes.cursor_key, (nodes.sort_column, nodes.sort_descending)

        await pilot.press("enter")
        assert isinstance(app.screen, NodePodsScreen) and app.screen.node == node_key
        node_pods = table(app)
        assert node_pods.rows and all(r.node == node_key for r in node_pods.rows)
        assert f"Nodes › {node_key} › pods" in app.screen.query_one("#crumbs").render().plain

        pod = node_pods.cursor_row
        await pilot.press("enter")
        assert isinstance(app.screen, PodScreen)
        containers = table(app)
        assert {c.name for c in containers.rows} == {c.name for c in pod.containers}
        crumbs = app.screen.query_one("#crumbs").render().plain
        assert f"{node_key} › {pod.namespace}/{pod.name}" in crumbs

        await pilot.press("escape")
        assert isinstance(app.screen, NodePodsScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)
        nodes = table(app, "nodes")
        assert nodes.cursor_key == node_key
        assert (nodes.sort_column, nodes.sort_descending) == sort


async def test_a_screen_reused_for_another_node_or_pod_keeps_nothing_of_the_last(sim):
    """Drill-down screens are made once and reused; each node or pod still starts afresh."""
    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        first_node, second_node = names(table(app, "nodes"))[:2]
        await pilot.press("enter")
        node_screen = app.screen
        node_pods = table(app)
        await pilot.press("m", "down")
        first_pod = node_pods.cursor_row
        await pilot.press("enter")  # into a pod of the first node
        pod_screen = app.screen
        assert {c.name for c in table(app).rows} == {c.name for c in first_pod.containers}
        await pilot.press("escape", "slash", *first_pod.name[:3], "enter")  # filter the node's pods
        assert node_pods.filter_text
        await pilot.press("escape", "escape", "escape")  # clear the filter, back to the nodes
        assert isinstance(app.screen, MainScreen)

        await pilot.press("down", "enter")  # the second node
        assert app.screen is node_screen and node_screen.node == second_node
        assert f"Nodes › {second_node} › pods" in app.screen.query_one("#crumbs").render().plain
        expected = {p.key for p in server.cluster.pods if p.node is not None and p.node.name == second_node}
        assert {r.key for r in node_pods.rows} == expected
        assert (node_pods.sort_column, node_pods.sort_descending) == ("cpu", True) and not node_pods.filter_text
        assert node_pods.cursor_index == 0 and node_pods.cursor_key == node_pods.kind.key(node_pods.rows[0])
        assert not app.screen.query_one("#filter").display

        second_pod = node_pods.cursor_row
        assert second_pod.key != first_pod.key
        await pilot.press("enter")
        assert app.screen is pod_screen and (pod_screen.namespace, pod_screen.pod) == second_pod.key
        assert {c.name for c in table(app).rows} == {c.name for c in second_pod.containers}
        assert f"{second_pod.namespace}/{second_pod.name}" in app.screen.query_one("#crumbs").render().plain
        assert app.screen.query_one("#table").has_focus


async def test_pod_view_drills_into_a_pod(sim):
    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await pilot.press("2", "enter")
        assert isinstance(app.screen, PodScreen)
        assert "Pods ›" in app.screen.query_one("#crumbs").render().plain


async def test_filter_narrows_rows_as_you_type_and_escape_clears_it(sim):
    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await pilot.press("2")
        pods = table(app)
        everything = len(pods.rows)
        await pilot.press("slash", *"kube-sys")
        assert 0 < len(pods.rows) < everything
        assert all("kube-sys" in f"{r.namespace}/{r.name}" for r in pods.rows)
        await pilot.press("enter")  # keep the filter, back to the table
        assert pods.has_focus and pods.filter_text == "kube-sys"
        await pilot.press("escape")
        assert len(pods.rows) == everything


async def test_namespace_picker_switches_scope_without_restart(sim):
    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await pilot.press("s")
        for _ in range(40):
            if isinstance(app.screen, NamespaceScreen):
                break
            await pilot.pause(0.05)
        picker = app.screen
        assert isinstance(picker, NamespaceScreen) and "kube-system" in picker.namespaces
        picker.query_one("OptionList").highlighted = picker.namespaces.index("kube-system") + 1
        before = app.refresh_count
        await pilot.press("enter")
        await refreshed(app, pilot, since=before)
        assert app.session.scope.namespace == "kube-system"
        assert {r.namespace for r in table(app, "pods").rows} == {"kube-system"}
        assert "namespace kube-system" in app.screen.query_one("ClusterHeader").render().plain


async def test_space_pauses_updates(sim):
    server, kubeconfig = sim
    app = make_app(kubeconfig, interval=1)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await pilot.press("space")
        assert app.session.paused
        count = app.refresh_count
        await pilot.pause(2.5)
        assert app.refresh_count == count
        assert "PAUSED" in app.screen.query_one("ClusterHeader").render().plain
        count = app.refresh_count
        await pilot.press("space")
        await refreshed(app, pilot, since=count)


async def test_help_lists_every_key(sim):
    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = "\n".join(screen_lines(app))
        for key in ("c ", "m ", "a ", "r ", "l ", "n ", "/ ", "s ", "Space", "q ", "Enter", "Esc", "1 / 2"):
            assert key in text, key
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_refresh_failure_keeps_the_tables_and_recovers(sim):
    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        nodes = table(app, "nodes")
        before = names(nodes)
        await pilot.press("down")
        chosen = nodes.cursor_key
        # Nodes and pods come from watches; the metrics are what each refresh asks for.
        server.faults.server_error(500, prefix="/apis/metrics.k8s.io/v1beta1/nodes")
        try:
            await refresh(app, pilot)
            header = app.screen.query_one("ClusterHeader").render().plain
            assert "node metrics: refresh failed: the server answered 500" in header
            assert "ago)" in header and "retry in" in header
            assert names(nodes) == before and nodes.cursor_key == chosen
        finally:
            server.faults.clear_rules()
        await refresh(app, pilot)
        assert "refresh failed" not in app.screen.query_one("ClusterHeader").render().plain
        assert nodes.cursor_key == chosen


async def test_narrow_terminal_keeps_the_essential_columns(sim):
    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=(80, 24)) as pilot:
        await refreshed(app, pilot)
        shown = table(app, "nodes").visible_column_ids()
        assert {"name", "cpu", "cpu_pct", "mem", "mem_pct"} <= set(shown)


async def test_rows_show_history_sparklines_as_metrics_timestamps_advance(sim):
    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=(200, 40)) as pilot:
        await refreshed(app, pilot)
        for _ in range(3):
            server.cluster.advance(15)
            await refresh(app, pilot)
        nodes = table(app, "nodes")
        assert "cpu_hist" in nodes.visible_column_ids()
        line = nodes.render_line(1).text
        assert sum(ch in "▁▂▃▄▅▆▇█" for ch in line) >= 2 * 4  # CPU and memory, 4 samples each


async def test_restart_and_pod_count_sort_keys(sim):
    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await pilot.press("o")
        nodes = table(app, "nodes")
        assert nodes.sort_column == "pods"
        assert [r.pods for r in nodes.rows] == sorted((r.pods for r in nodes.rows), reverse=True)
        await pilot.press("2", "t")
        pods = table(app, "pods")
        assert pods.sort_column == "restarts"
        assert [r.restarts for r in pods.rows] == sorted((r.restarts for r in pods.rows), reverse=True)


async def test_command_palette_offers_the_same_actions(sim):
    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        commands = {c.title: c for c in app.get_system_commands(app.screen)}
        for title in ("Nodes view", "Pods view", "Sort by CPU", "Sort by memory", "Sort by % of requests",
                      "Pause or resume updates", "Switch namespace", "Filter rows", "Keys"):
            assert title in commands, title
        commands["Pods view"].callback()
        commands["Sort by memory"].callback()
        await pilot.pause()
        assert app.screen.active_table_id() == "pods"
        assert table(app, "pods").sort_column == "mem"


async def test_switching_views_keeps_the_footer_and_sorts_the_hidden_view_when_shown(sim):
    from textual.widgets._footer import FooterKey

    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        keys = list(app.screen.query(FooterKey))
        pods = table(app, "pods")
        assert pods.pending  # hidden: its rows wait
        await pilot.press("2")
        assert not pods.pending and len(pods.rows) == len(server.cluster.pods)
        await pilot.press("1")
        await pilot.pause()
        assert list(app.screen.query(FooterKey)) == keys  # same widgets: not rebuilt on focus moves


async def test_letters_typed_right_after_slash_go_to_the_filter_and_slash_can_be_typed_in_it(sim):
    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await pilot.press("2", "slash", "w", "e", "b", "slash", "a")
        await pilot.pause()
        assert app.screen.query_one("#filter").value == "web/a"
        shown = table(app, "pods").rows
        assert shown and all(f"{p.namespace}/{p.name}".startswith("web/a") for p in shown)


async def test_keys_typed_faster_than_they_are_handled_reach_the_filter_in_order(sim):
    # A busy screen (a refresh being shown) queues keys: a `/` typed inside the
    # filter must not overtake the letters typed before it.
    from textual import events

    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await pilot.press("2")
        for key in ["slash", *"team", "slash", *"web-1", "slash"]:
            char = "/" if key == "slash" else key
            event = events.Key(key, char)
            event.set_sender(app)
            app.post_message(event)  # all queued before any is handled
        await pilot.pause()
        assert app.screen.query_one("#filter").value == "team/web-1/"


async def test_a_key_press_makes_the_refresh_worker_step_aside(sim):
    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        priority = app.session.priority
        before = priority.last_input
        await pilot.press("down")
        assert priority.last_input > before  # what the join's checkpoints look at
        await refresh(app, pilot)  # and refreshes still finish


async def test_a_cursor_on_the_top_line_stays_there_when_sorting(sim):
    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        nodes = table(app, "nodes")
        await pilot.press("c")
        busiest = max((r for r in nodes.rows if r.usage.cpu_milli is not None), key=lambda r: r.usage.cpu_milli)
        assert nodes.cursor_row is nodes.rows[0] and nodes.cursor_key == busiest.name


async def test_a_refresh_landing_as_a_screen_is_pushed_waits_for_it_to_be_composed(sim):
    """A dashboard benchmark run crashed here: Enter, then a refresh before PodScreen had its header."""
    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        row = table(app, "pods").cursor_row
        app.push_screen(PodScreen(app.session, row.namespace, row.name, via_node=None))
        app.post_message(SnapshotReady(app.session, app.session.snapshot))  # a refresh landing now
        await pilot.pause()
        assert isinstance(app.screen, PodScreen)
        assert row.name in app.screen.query_one("#crumbs").render().plain


async def test_a_repaint_of_unchanged_rows_formats_nothing_and_new_data_or_theme_shows_at_once(sim):
    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=(200, 40)) as pilot:
        await refreshed(app, pilot)
        nodes = table(app, "nodes")

        def lines():
            return [nodes.render_line(y).text for y in range(1, len(nodes.rows) + 1)]

        def fresh_lines():
            nodes.forget_lines()
            return lines()

        first = fresh_lines()
        formatted = nodes.formatted
        assert formatted
        # Switching to the pods and back repaints the nodes: nothing to format again.
        await pilot.press("2", "1")
        assert lines() == first and nodes.formatted == formatted

        # New metrics bring new rows, shown at once and as a fresh format gives them.
        server.cluster.advance(15)
        await refresh(app, pilot)
        after = lines()
        assert nodes.formatted > formatted and after != first and after == fresh_lines()

        # The cursor moving down repaints the two lines in their new looks.
        before = [list(nodes.render_line(y)) for y in (1, 2)]
        await pilot.press("down")
        moved = [list(nodes.render_line(y)) for y in (1, 2)]
        nodes.forget_lines()
        assert moved != before and moved == [list(nodes.render_line(y)) for y in (1, 2)]

        # The cursor's line and the tones follow a theme change.
        styled = [nodes.render_line(y) for y in (1, 2)]
        app.theme = "textual-light" if app.theme != "textual-light" else "textual-dark"
        await pilot.pause()
        restyled = [nodes.render_line(y) for y in (1, 2)]
        assert [list(s) for s in restyled] != [list(s) for s in styled]
        nodes.forget_lines()
        assert [list(s) for s in restyled] == [list(nodes.render_line(y)) for y in (1, 2)]


async def test_the_samples_of_the_list_before_are_freed_off_the_ui_thread_once_the_tables_let_go(sim, monkeypatch):
    import threading

    from helpers.watches import until

    from ktopui.live import joiner

    disposed = []
    real = joiner.dispose

    def recording(rows, pause):
        disposed.append((threading.current_thread() is threading.main_thread(), len(rows)))
        real(rows, pause)

    monkeypatch.setattr(joiner, "dispose", recording)
    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await pilot.press("2", "1")  # (both tables have shown the pods)
        await refresh(app, pilot)
        await pilot.pause(0.2)
        # The same pods and metrics: the same view, nothing of it dies.
        assert all(count == 0 for _, count in disposed)
        # After a new pod metrics list, the samples of the list before go at once
        # (not a refresh later, when two lists' samples would have been alive).
        pods = len(app.session.snapshot.pods)
        server.cluster.advance(15)
        await refresh(app, pilot)
        await until(lambda: any(count for _, count in disposed), within=5, what="the samples before freed")
        assert [entry for entry in disposed if entry[1]] == [(False, pods)]


async def test_a_screen_put_away_shows_the_latest_snapshot_when_it_comes_back(sim):
    from ktopui.ui.header import ClusterHeader

    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        main = app.screen
        await pilot.press("enter")  # into a node's pods: the main screen is under it
        await pilot.pause()
        await refresh(app, pilot)
        assert app.screen.query_one(ClusterHeader).summary == app.session.snapshot.summary()
        assert main.query_one(ClusterHeader).summary.health is not app.session.snapshot.health  # (not shown under)
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is main and main.query_one(ClusterHeader).summary == app.session.snapshot.summary()
        assert "usage reported by" in main.query_one(ClusterHeader).render().plain


async def test_nothing_keeps_the_pods_a_new_metrics_list_replaced(sim):
    """Once the tables show the new pods, the view before is no one's, put-away screens'
    headers included: what it held is freed (in a worker thread, see above)."""
    import weakref

    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await pilot.press("2", "enter", "escape", "1", "enter", "escape")  # (screens shown, then put away)
        gone = weakref.ref(app.session.snapshot.pods)
        server.cluster.advance(15)
        await refresh(app, pilot)
        await pilot.pause()
        assert gone() is None
