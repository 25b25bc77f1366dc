"""The dashboard as the config file shapes it: view, columns, sort, thresholds, keys, theme."""

from __future__ import annotations

import re

import pytest
from helpers.app import cells_on_screen, make_app, refreshed, screen_lines, table
from helpers.sims import frozen_sim

from ktopui import config
from ktopui.ui import cells, remembered_theme
from ktopui.ui.dialogs import HelpScreen
from ktopui.ui.rollup_screens import NamespaceWorkloadsScreen
from ktopui.ui.settings import vocabulary

SIZE = (140, 40)


@pytest.fixture(scope="module")
def sim(tmp_path_factory):
    with frozen_sim(tmp_path_factory.mktemp("settings"), nodes=4, pods_per_node=5, seed=5) as sim:
        yield sim


def settings(text: str) -> config.Settings:
    return config.parse(text, "config.toml", vocabulary())


async def test_the_config_file_picks_the_first_view_its_columns_and_its_sort(sim):
    _, kubeconfig = sim
    app = make_app(kubeconfig, settings=settings(
        'view = "pods"\n'
        '[nodes]\ncolumns = ["name", "mem", "cpu"]\nsort = "mem"\ndescending = true\n'
        '[pods]\ncolumns = ["name", "restarts", "node", "cpu"]\nsort = "restarts"\ndescending = true\n'
    ))
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        assert app.screen.active_table_id() == "pods"
        assert app.focused is table(app, "pods")
        pods, nodes = table(app, "pods"), table(app, "nodes")
        assert [c.id for c in pods.columns] == ["name", "restarts", "node", "cpu"]
        assert (pods.sort_column, pods.sort_descending) == ("restarts", True)
        assert [c.id for c in nodes.columns] == ["name", "mem", "cpu"]
        assert (nodes.sort_column, nodes.sort_descending) == ("mem", True)
        await pilot.press("1", "enter")  # a node's pods: the same columns, less the node
        await pilot.pause()
        assert [c.id for c in table(app).columns] == ["name", "restarts", "cpu"]


async def test_a_pods_sort_by_node_falls_back_to_name_on_one_nodes_pods(sim):
    _, kubeconfig = sim
    app = make_app(kubeconfig, settings=settings('[pods]\nsort = "node"\n'))
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        assert table(app, "pods").sort_column == "node"
        await pilot.press("enter")
        await pilot.pause()
        assert (table(app).sort_column, table(app).sort_descending) == ("name", False)


async def test_thresholds_from_the_config_file_mark_the_cells_and_the_help(sim):
    _, kubeconfig = sim
    app = make_app(kubeconfig, settings=settings("[thresholds]\nwarning = 10\ncritical = 20\n"))
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        assert (cells.pct_text(15), cells.pct_text(25), cells.level(15)) == ("15%!", "25%!!", "warn")
        nodes = table(app, "nodes")
        mem_pct = next(c for c in nodes.columns if c.id == "mem_pct")
        shown = [mem_pct.text(r, None) for r in nodes.rows if r.mem_pct is not None]
        assert shown and all(t.endswith("!!") for t, r in zip(shown, nodes.rows) if r.mem_pct >= 20)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("pagedown")  # (the notes come after the keys)
        await pilot.pause()
        assert "N%! from 10 % on, N%!! from 20 % on" in " ".join(" ".join(screen_lines(app)).split())
    # The next app (or test) starts from the built-in marks again.
    assert cells.pct_text(75) == "75%!" and cells.pct_text(15) == "15%"


async def test_keys_are_remapped_by_binding_id(sim):
    _, kubeconfig = sim
    app = make_app(kubeconfig, settings=settings('[keys]\n"sort.cpu" = "x"\n"view.pods" = "f2"\n'))
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        nodes = table(app, "nodes")
        await pilot.press("c")
        assert nodes.sort_column == "name"  # c is no longer a sort key
        await pilot.press("x")
        assert (nodes.sort_column, nodes.sort_descending) == ("cpu", True)
        await pilot.press("f2")
        assert app.screen.active_table_id() == "pods"
        await pilot.press("question_mark")
        help_text = "\n".join(screen_lines(app))
        assert "1 / f2" in help_text
        assert "  x " in help_text and "sort by CPU usage" in help_text


async def test_the_theme_picked_in_the_app_is_remembered_and_the_config_file_is_left_alone(sim, tmp_path):
    _, kubeconfig = sim
    state = tmp_path / "state" / "ktopui" / "state.json"
    config_file = tmp_path / "config.toml"
    config_file.write_text('# my settings, hand-written\ntheme = "gruvbox"  # warm\n')
    chosen = config.load(config_file, vocabulary())
    themes = vocabulary().themes

    def start():
        return make_app(kubeconfig, settings=chosen, theme=remembered_theme.recall(state, chosen.theme, themes),
                        remember_theme=lambda t: remembered_theme.remember(state, t, chosen.theme))

    app = start()
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "gruvbox"
        app.theme = "nord"  # what picking a theme in the command palette does
        await pilot.pause()
    app = start()
    async with app.run_test(size=SIZE) as pilot:
        assert app.theme == "nord"
    assert config_file.read_text() == '# my settings, hand-written\ntheme = "gruvbox"  # warm\n'
    # Editing the config file's theme later is the newer wish: it wins.
    assert remembered_theme.recall(state, "dracula", themes) == "dracula"


def test_a_remembered_theme_that_is_unreadable_or_unknown_is_ignored(tmp_path):
    state = tmp_path / "state.json"
    state.write_text("{not json")
    assert remembered_theme.recall(state, "nord", ["nord", "dracula"]) == "nord"
    remembered_theme.remember(state, "gone", "nord")
    assert remembered_theme.recall(state, "nord", ["nord", "dracula"]) == "nord"
    remembered_theme.remember(state, "dracula", "nord")
    assert remembered_theme.recall(state, "nord", ["nord", "dracula"]) == "dracula"


def test_a_state_directory_that_cannot_be_written_costs_only_the_memory(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    remembered_theme.remember(blocker / "ktopui" / "state.json", "nord", "textual-dark")
    assert remembered_theme.state_path({"HOME": "/h"}) == tmp_path.__class__("/h/.local/state/ktopui/state.json")
    assert remembered_theme.state_path({"HOME": "/h", "XDG_STATE_HOME": "/s"}).parts[:3] == ("/", "s", "ktopui")


# -- the workloads and namespaces views ------------------------------------------------------


@pytest.mark.parametrize("view", config.VIEWS)
async def test_the_config_file_opens_the_app_on_each_view(sim, view):
    _, kubeconfig = sim
    app = make_app(kubeconfig, settings=settings(f'view = "{view}"\n'))
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        assert app.screen.active_table_id() == view
        assert app.focused is table(app, view) and table(app, view).rows


def _values(t, column_id: str) -> list:
    """The values the table sorts by in that column, as shown top to bottom (no data, None, last)."""
    value = t.kind.values[next(c.sort for c in t.columns if c.id == column_id)]
    values = [value(r) for r in t.rows]
    assert values[: len(values) - values.count(None)].count(None) == 0
    return [v for v in values if v is not None]


async def test_workloads_show_the_columns_chosen_in_their_order_and_sort_by_the_one_chosen(sim):
    _, kubeconfig = sim
    app = make_app(kubeconfig, settings=settings(
        'view = "workloads"\n'
        '[workloads]\ncolumns = ["name", "kind", "mem", "pods", "namespace", "cpu"]\nsort = "pods"\n'
    ))  # (no `descending`: as `o` sorts, the most pods first)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        t = table(app, "workloads")
        assert [c.id for c in t.columns] == t.layout().ids() == ["name", "kind", "mem", "pods", "namespace", "cpu"]
        header = cells_on_screen(app, t, 0)
        assert [text.split()[0] for text in header.values()] == ["NAME", "KIND", "MEMORY", "PODS▼", "NAMESPACE", "CPU"]
        assert (t.sort_column, t.sort_descending) == ("pods", True)
        pods = _values(t, "pods")
        assert len(set(pods)) > 1 and pods == sorted(pods, reverse=True)


async def test_namespaces_show_the_columns_chosen_in_their_order_and_sort_by_the_one_chosen(sim):
    _, kubeconfig = sim
    app = make_app(kubeconfig, settings=settings(
        'view = "namespaces"\n'
        '[namespaces]\ncolumns = ["mem", "namespace", "cpu_req", "pods"]\nsort = "mem"\ndescending = false\n'
    ))
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        t = table(app, "namespaces")
        assert [c.id for c in t.columns] == t.layout().ids() == ["mem", "namespace", "cpu_req", "pods"]
        assert [text.split()[0] for text in cells_on_screen(app, t, 0).values()] == [
            "MEMORY▲", "NAMESPACE", "CPU", "PODS"]
        assert (t.sort_column, t.sort_descending) == ("mem", False)
        mem = _values(t, "mem")
        assert len(set(mem)) > 1 and mem == sorted(mem)


async def test_a_section_with_only_columns_keeps_the_views_sort_or_name_order_without_its_column(sim):
    _, kubeconfig = sim
    app = make_app(kubeconfig, settings=settings(
        '[workloads]\ncolumns = ["name", "mem", "cpu"]\n[namespaces]\ncolumns = ["pods", "namespace"]\n'))
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await pilot.press("3")
        workloads = table(app, "workloads")
        assert (workloads.sort_column, workloads.sort_descending) == ("cpu", True)
        await pilot.press("4")
        namespaces = table(app, "namespaces")
        assert [c.id for c in namespaces.columns] == ["pods", "namespace"]
        assert (namespaces.sort_column, namespaces.sort_descending) == ("name", False)
        shown = [r.namespace for r in namespaces.rows]
        assert len(shown) > 1 and shown == sorted(shown)


async def test_a_namespaces_workloads_take_the_workloads_section_less_the_namespace(sim):
    _, kubeconfig = sim
    app = make_app(kubeconfig, settings=settings(
        'view = "namespaces"\n'
        '[workloads]\ncolumns = ["namespace", "name", "restarts", "cpu"]\nsort = "restarts"\ndescending = true\n'
    ))
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, NamespaceWorkloadsScreen)
        t = table(app)
        assert [c.id for c in t.columns] == ["name", "restarts", "cpu"]
        assert (t.sort_column, t.sort_descending) == ("restarts", True)


async def test_a_workloads_sort_by_namespace_falls_back_to_name_where_that_column_is_left_out(sim):
    _, kubeconfig = sim
    chosen = settings('view = "namespaces"\n[workloads]\nsort = "namespace"\n')
    app = make_app(kubeconfig, settings=chosen)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        assert table(app, "workloads").sort_column == "namespace"
        await pilot.press("enter")  # one namespace's workloads: no namespace column
        await pilot.pause()
        assert (table(app).sort_column, table(app).sort_descending) == ("name", False)
        assert "namespace" not in [c.id for c in table(app).columns]
    namespace = next(p.namespace for p in sim[0].cluster.pods)
    app = make_app(kubeconfig, settings=chosen, namespace=namespace)  # the scope is one namespace
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        workloads = table(app, "workloads")
        assert "namespace" not in [c.id for c in workloads.columns]
        assert (workloads.sort_column, workloads.sort_descending) == ("name", False)


@pytest.mark.parametrize(("view", "chosen", "sort"), [
    ("workloads", ["name", "namespace", "kind", "pods", "restarts", "oom_kills", "cpu", "cpu_req_pct", "cpu_lim_pct",
                   "cpu_hist", "mem", "mem_req_pct", "mem_lim_pct"], "restarts"),
    ("namespaces", ["namespace", "pods", "cpu", "mem", "cpu_req", "cpu_lim", "mem_req", "mem_lim",
                    "quota_limits_memory_pct"], "quota_limits_memory_pct"),
])
async def test_at_80_columns_the_chosen_columns_give_way_by_priority_keeping_their_order_and_the_sorted_one(
        sim, view, chosen, sort):
    _, kubeconfig = sim
    app = make_app(kubeconfig, settings=settings(
        f'view = "{view}"\n[{view}]\ncolumns = {chosen!r}\nsort = "{sort}"\n'.replace("'", '"')))
    async with app.run_test(size=(80, 24)) as pilot:
        await refreshed(app, pilot)
        t = table(app, view)
        shown = t.layout().ids()
        left_out = [c for c in t.columns if c.id not in shown]
        assert left_out and sort in shown  # the sorted column, however unimportant, and in its place
        assert shown == [i for i in chosen if i in shown]
        assert {c.id for c in t.columns if c.priority >= 90} <= set(shown)  # names and usage
        # Columns of equal priority go together; each such group left out needs more room than is left.
        room = t.line_width - sum(w + 1 for _, w in t.layout().columns) + 1
        for priority in {c.priority for c in left_out}:
            assert sum(c.width + 1 for c in left_out if c.priority == priority) > room
        header = [text.strip() for text in cells_on_screen(app, t, 0).values()]
        assert header == [("NAMESPACE/" if c.id in t.layout().folded else "") + c.title + ("▼" if c.id == sort else "")
                          for c, _ in t.layout().columns]


async def test_the_new_views_and_the_pools_are_rebound_by_binding_id(sim):
    _, kubeconfig = sim
    app = make_app(kubeconfig, settings=settings(
        '[keys]\n"view.workloads" = "f3"\n"view.namespaces" = "f4"\n"view.pools" = "b"\n'))
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await pilot.press("3")
        assert app.screen.active_table_id() == "nodes"  # 3 is no longer a view key
        await pilot.press("f3")
        assert app.screen.active_table_id() == "workloads"
        await pilot.press("f4")
        assert app.screen.active_table_id() == "namespaces"
        await pilot.press("b")
        assert app.screen.active_table_id() == "pools"
        await pilot.press("b")
        assert app.screen.active_table_id() == "nodes"
        hints = {c.title: c.help for c in app.get_system_commands(app.screen)}
        assert (hints["Workloads view"], hints["Namespaces view"], hints["Node pools"].split(":")[0]) == (
            "f3", "f4", "b")
        await pilot.press("question_mark")
        help_text = "\n".join(screen_lines(app))
        assert "1 / 2 / f3 / f4" in help_text
        assert re.search(r"[│ ]b +nodes grouped by pool", help_text)
