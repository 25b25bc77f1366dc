"""The dashboard as the config file shapes it: view, columns, sort, thresholds, keys, theme."""

from __future__ import annotations

import pytest
from helpers.app import make_app, refreshed, screen_lines, table
from helpers.sims import frozen_sim

from ktopui import config
from ktopui.ui import cells, remembered_theme
from ktopui.ui.dialogs import HelpScreen
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
