"""The config file: read with tomllib, every mistake named with its file and line; flags win over it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from ktopui import config
from ktopui.cli import build_parser, main, parse_args
from ktopui.config import ConfigFileError, Settings, ViewSettings
from ktopui.ui.columns import namespaces, workloads
from ktopui.ui.settings import VIEWS, columns_for, vocabulary

VOCABULARY = vocabulary()


def parse(text: str) -> Settings:
    return config.parse(text, "/etc/k.toml", VOCABULARY)


def error(text: str) -> ConfigFileError:
    with pytest.raises(ConfigFileError) as e:
        parse(text)
    return e.value


def test_the_printed_default_reads_back_as_the_defaults():
    text = config.default_text(VOCABULARY)
    assert parse(text) == Settings()
    # The commented-out examples (every column, every binding) are valid too, and still the defaults.
    examples = re.sub(r"^# (columns = |\"[\w.]+\" = )", r"\1", text, flags=re.M)
    assert examples.count("\ncolumns = ") == len(config.VIEWS) and '\n"sort.cpu" = "c"' in examples
    settings = parse(examples)
    for view in config.VIEWS:
        chosen = settings.view_settings(view).columns
        assert columns_for(view, chosen, reserved=False) == columns_for(view, None, reserved=False)
    assert settings.keys == {i: b.keys for i, b in VOCABULARY.bindings.items()}


def test_ktopui_config_print_default_prints_it(capsys):
    assert main(["config", "--print-default"]) == 0
    assert capsys.readouterr().out == config.default_text(VOCABULARY)


def test_an_unknown_key_names_the_file_the_line_and_the_known_keys():
    e = error('view = "pods"\n\n[thresholds]\nwarning = 60\ncritcal = 95\n')
    assert str(e) == ('/etc/k.toml, line 5: unknown key "thresholds.critcal"; known keys: warning, critical')
    assert error("colour = 1\n").line == 1


@pytest.mark.parametrize(("text", "line", "message"), [
    ('interval = "fast"\n', 1, "interval: expected `float`, got `str`"),
    ("\ninterval = 0.5\n", 2, "interval: 0.5 is too short; at least 1 second"),
    ('view = "services"\n', 1, 'view: "services" is not a view; use "nodes", "pods", "workloads" or "namespaces"'),
    ("[thresholds]\nwarning = 95\ncritical = 90\n", 2, "thresholds: warning (95) must be above 0 and below critical (90)"),
    ("[pods]\nsort = \"cpu\"\ndescending = \"yes\"\n", 3, "pods.descending: expected `bool`, got `str`"),
    ('nodes.sort = "restarts"\n', 1,
     'nodes.sort: "restarts" is not one of the nodes columns shown (' + ", ".join(VOCABULARY.columns["nodes"]) + ")"),
    ('[pods]\ncolumns = ["name", "cpu"]\nsort = "mem"\n', 3,
     'pods.sort: "mem" is not one of the pods columns shown (name, cpu)'),
    ('[nodes]\ncolumns = []\n', 2, "nodes.columns: name at least one column"),
    ('[nodes]\ncolumns = ["name", "cpu", "name"]\n', 2, "nodes.columns: name listed twice"),
    ('theme = "neon"\n', 1, 'theme: no theme "neon"; themes: ' + ", ".join(VOCABULARY.themes)),
    ('[keys]\n"sort.cpu" = ""\n', 2, 'keys.sort.cpu: "" names no key'),
    ("pods = { sort = 3 }\n", 1, "pods.sort: expected `str`, got `int`"),
])
def test_a_bad_value_names_the_file_the_line_and_what_is_wrong(text, line, message):
    e = error(text)
    assert (e.path, e.line, e.message) == ("/etc/k.toml", line, message)


def test_an_unknown_column_is_named_with_the_valid_ones():
    e = error('[thresholds]\nwarning = 50\n\n[pods]\ncolumns = ["name", "cpu%"]\n')
    assert e.line == 5
    assert e.message == 'pods.columns: no column "cpu%"; pods columns: ' + ", ".join(VOCABULARY.columns["pods"])


@pytest.mark.parametrize(("view", "columns"), [("workloads", workloads.COLUMNS), ("namespaces", namespaces.COLUMNS)])
def test_the_workloads_and_namespaces_columns_are_the_views_own(view, columns):
    valid = ", ".join(c.id for c in columns)
    assert VOCABULARY.columns[view] == [c.id for c in columns]
    e = error(f'view = "{view}"\n[{view}]\nsort = "cpu"\ncolumns = ["cpu", "cpu%"]\n')
    assert (e.line, e.message) == (4, f'{view}.columns: no column "cpu%"; {view} columns: {valid}')


@pytest.mark.parametrize(("text", "line", "message"), [
    ('[workloads]\ncolumns = ["name", "cpu"]\nsort = "restarts"\n', 3,
     'workloads.sort: "restarts" is not one of the workloads columns shown (name, cpu)'),
    ('namespaces.sort = "name"\n', 1,
     'namespaces.sort: "name" is not one of the namespaces columns shown ('
     + ", ".join(VOCABULARY.columns["namespaces"]) + ")"),
    ("[namespaces]\ncolumns = []\n", 2, "namespaces.columns: name at least one column"),
    ('[workloads]\ncolumns = ["cpu", "name", "cpu"]\nsort = "cpu"\n', 2, "workloads.columns: cpu listed twice"),
    ('[namespaces]\ndescending = "yes"\n', 2, "namespaces.descending: expected `bool`, got `str`"),
    ("workloads = { sort = 3 }\n", 1, "workloads.sort: expected `str`, got `int`"),
    ('[workloads]\npool_labels = ["team"]\n', 2,
     'unknown key "workloads.pool_labels"; known keys: columns, sort, descending'),
    ('\n[namespaces]\ncolumns = "namespace"\n', 3, "namespaces.columns: expected `array`, got `str`"),
])
def test_a_bad_workloads_or_namespaces_section_names_the_line_and_what_is_wrong(text, line, message):
    e = error(text)
    assert (e.path, e.line, e.message) == ("/etc/k.toml", line, message)


def test_a_sort_left_unwritten_need_not_be_among_the_columns_chosen():
    settings = parse('[namespaces]\ncolumns = ["namespace", "pods"]\n')
    assert settings.namespaces == ViewSettings(columns=["namespace", "pods"], sort="cpu", descending=None)
    e = error('[namespaces]\ncolumns = ["namespace", "pods"]\nsort = "cpu"\n')
    assert (e.line, e.message) == (3, 'namespaces.sort: "cpu" is not one of the namespaces columns shown '
                                      "(namespace, pods)")


def test_every_view_of_the_config_file_has_its_columns():
    assert list(VIEWS) == list(config.VIEWS)
    assert all(VOCABULARY.columns[view] for view in config.VIEWS)


def test_an_unknown_binding_is_named_with_the_valid_ones():
    e = error('[keys]\nquit = "ctrl+q"\n"sort.cpux" = "x"\n')
    assert e.line == 3
    assert e.message.startswith('keys: no binding "sort.cpux"; bindings: ')
    assert "sort.cpu, " in e.message and "quit" in e.message


def test_a_toml_syntax_error_names_the_line():
    e = error('view = "nodes"\ninterval = \n')
    assert e.line == 2 and e.path == "/etc/k.toml"
    assert str(e).startswith("/etc/k.toml, line 2: ")


def test_a_config_file_that_is_not_utf8_is_named(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b'theme = "\xff"\n')
    with pytest.raises(ConfigFileError) as e:
        config.load(path, VOCABULARY)
    assert e.value.path == str(path) and "cannot read it" in e.value.message


def test_values_in_the_file_are_used():
    settings = parse(
        'view = "pods"\ninterval = 5\ntheme = "nord"\n[thresholds]\nwarning = 50\ncritical = 80\n'
        '[pods]\ncolumns = ["name", "restarts", "cpu"]\nsort = "restarts"\n'
        '[keys]\n"sort.cpu" = "x"\n'
    )
    assert settings.view == "pods" and settings.interval == 5 and settings.theme == "nord"
    assert (settings.thresholds.warning, settings.thresholds.critical) == (50, 80)
    assert settings.pods == ViewSettings(columns=["name", "restarts", "cpu"], sort="restarts", descending=None)
    assert settings.nodes == Settings().nodes
    assert settings.keys == {"sort.cpu": "x"}


def test_no_file_at_the_default_path_means_defaults_and_the_xdg_path_is_read(tmp_path):
    env = {"HOME": str(tmp_path / "home"), "XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    assert config.load(None, VOCABULARY, environ=env) == Settings()
    (tmp_path / "xdg" / "ktopui").mkdir(parents=True)
    (tmp_path / "xdg" / "ktopui" / "config.toml").write_text('view = "pods"\n')
    assert config.load(None, VOCABULARY, environ=env).view == "pods"
    assert config.default_path({"HOME": "/home/u"}) == Path("/home/u/.config/ktopui/config.toml")


def test_a_missing_config_flag_file_is_an_error(tmp_path):
    with pytest.raises(ConfigFileError, match="cannot read it"):
        config.load(tmp_path / "nope.toml", VOCABULARY)


def test_a_bad_config_file_stops_the_dashboard_before_it_connects(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    path = tmp_path / "config.toml"
    path.write_text("[nodes]\ncolumns = [\"name\", \"gpu\"]\n")
    assert main(["--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}, line 2: nodes.columns: no column \"gpu\"")
    assert "kubeconfig" not in err


def test_a_bad_workloads_section_stops_the_dashboard_before_it_connects(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    path = tmp_path / "config.toml"
    path.write_text('view = "workloads"\n\n[workloads]\ncolumns = ["kind", "name"]\nsort = "cpu"\n')
    assert main(["--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert err == (f'error: {path}, line 5: workloads.sort: "cpu" is not one of the workloads columns shown '
                   "(kind, name)\n")


def test_ktopui_config_checks_the_file(tmp_path, capsys):
    path = tmp_path / "config.toml"
    path.write_text('view = "pods"\n')
    assert main(["config", "--config", str(path)]) == 0
    assert capsys.readouterr().out == f"{path}: valid\n"
    path.write_text('view = "pod"\n')
    assert main(["config", "--config", str(path)]) == 1
    assert f"{path}, line 1: view" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "0.5", "-3", "nan", "soon"])
def test_an_interval_below_one_second_is_rejected(value, capsys):
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args(["--interval", value])
    assert e.value.code == 2
    assert "argument --interval:" in capsys.readouterr().err


def test_the_interval_flag_wins_over_the_file(tmp_path):
    from ktopui.kube.connection import load_connection
    from ktopui.ui.main import build_app

    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        "clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n"
        "contexts: [{name: c, context: {cluster: c}}]\n"
    )
    conn = load_connection(kubeconfig=str(kubeconfig))
    settings = parse("interval = 7\n")
    env = {"HOME": str(tmp_path)}
    assert build_app(parse_args([]), conn, settings, env).session.interval == 7
    assert build_app(parse_args(["--interval", "3"]), conn, settings, env).session.interval == 3


@pytest.mark.parametrize(("text", "keys", "line"), [
    ("[nodes]\nsort = 1\n", ("nodes", "sort"), 2),
    ("nodes.sort = 1\n", ("nodes", "sort"), 1),
    ("[nodes]\n  'sort' = 1\n", ("nodes", "sort"), 2),
    ("[keys]\n\"sort.cpu\" = 1\n", ("keys", "sort.cpu"), 2),
    ("pods = {sort = 1}\n[nodes]\nsort = 2\n", ("pods", "sort"), 1),
    ("[nodes]\ncolumns = [\n  \"name\",\n  3,\n]\n", ("nodes", "columns"), 2),
    ("[pods]\nsort = 1\n", ("nodes", "sort"), None),
])
def test_a_key_is_found_on_its_line(text, keys, line):
    assert config.key_line(text, keys) == line


def test_without_metrics_the_chosen_usage_columns_stand_for_requests_and_allocatable():
    shown = columns_for("nodes", ["name", "cpu", "mem_pct"], reserved=True)
    assert [c.id for c in shown] == ["name", "cpu_req", "cpu_alloc"]
    shown = columns_for("pods", ["name", "mem", "cpu_req_pct"], reserved=True)
    assert [c.id for c in shown] == ["name", "mem_req", "mem_lim"]
    assert [c.id for c in columns_for("pods", ["namespace", "node", "name"], reserved=False, without=("node",))] == [
        "namespace", "name"]
    shown = columns_for("workloads", ["name", "namespace", "mem", "cpu_hist", "cpu"], reserved=True,
                        without=("namespace",))
    assert [c.id for c in shown] == ["name", "mem_req", "mem_lim", "cpu_req", "cpu_lim"]
    # The namespaces view lists requests and limits as columns of their own: `cpu` stands for them
    # all the same, each shown once.
    shown = columns_for("namespaces", ["namespace", "cpu_lim", "cpu", "mem", "quota_limits_cpu_pct"], reserved=True)
    assert [c.id for c in shown] == ["namespace", "cpu_lim", "cpu_req", "mem_req", "mem_lim", "quota_limits_cpu_pct"]


def test_the_readme_example_is_a_valid_config_file():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    example = re.search(r"```toml\n(.*?)```", readme, re.S).group(1)
    settings = parse(example)
    assert settings != Settings() and settings.keys["sort.cpu"] == "x"


def test_ktopui_config_names_a_missing_file(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert main(["config"]) == 0
    assert capsys.readouterr().out.startswith(f"{tmp_path / 'xdg' / 'ktopui' / 'config.toml'}: not there; the defaults")
    assert main(["config", "--config", str(tmp_path / "nope.toml")]) == 1
    assert f"error: {tmp_path / 'nope.toml'}: cannot read it: No such file" in capsys.readouterr().err
