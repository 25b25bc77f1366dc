"""The namespace picker (`s`): type to filter, pick a listed name or type one, names shown as plain text."""

from __future__ import annotations

import pytest
from helpers.app import make_app, refreshed
from helpers.sims import frozen_sim

from ktopui.model.names import namespace_name_problem
from ktopui.ui.dialogs import NamespaceScreen

SIZE = (120, 40)


@pytest.fixture
def sim(tmp_path):
    with frozen_sim(tmp_path, nodes=3, pods_per_node=6, seed=11) as sim:
        yield sim


async def open_picker(app, pilot) -> NamespaceScreen:
    await pilot.press("s")
    for _ in range(60):
        if isinstance(app.screen, NamespaceScreen):
            await pilot.pause()
            return app.screen
        await pilot.pause(0.05)
    raise AssertionError("the namespace picker did not open")


def shown(picker: NamespaceScreen) -> list[str]:
    option_list = picker.query_one("OptionList")
    return [option_list.get_option_at_index(i).prompt.plain for i in range(option_list.option_count)]


def note(picker: NamespaceScreen) -> str:
    return picker.query_one("#namespace-note").render().plain


async def test_typing_filters_the_namespaces_and_enter_picks_the_first_match(sim):
    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        picker = await open_picker(app, pilot)
        everything = shown(picker)
        assert everything[0] == NamespaceScreen.ALL and everything[1:] == sorted(everything[1:])
        await pilot.press(*"kube-s")
        assert shown(picker) == ["kube-system", "kube-s (not listed)"]
        before = app.refresh_count
        await pilot.press("enter")
        await refreshed(app, pilot, since=before)
        assert app.session.scope.namespace == "kube-system"


async def test_arrow_keys_move_through_the_matches_while_typing(sim):
    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        picker = await open_picker(app, pilot)
        await pilot.press("k", "u", "b", "e")
        matches = shown(picker)
        assert len(matches) >= 2 and all("kube" in m for m in matches[:-1])
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.session.scope.namespace == picker.choices[1]


async def test_a_typed_namespace_that_is_not_listed_is_accepted(sim):
    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        picker = await open_picker(app, pilot)
        await pilot.press(*"team-x")
        assert shown(picker) == ["team-x (not listed)"]
        await pilot.press("enter")
        await pilot.pause()
        assert app.session.scope.namespace == "team-x" and not isinstance(app.screen, NamespaceScreen)


async def test_a_typed_name_that_is_no_namespace_name_is_refused_with_the_reason(sim):
    server, kubeconfig = sim
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        picker = await open_picker(app, pilot)
        await pilot.press(*"Team_X", "enter")
        assert app.screen is picker and app.session.scope.namespace == ""
        assert "Not a namespace name: it has capital letters" in note(picker)
        await pilot.press("escape")
        assert not isinstance(app.screen, NamespaceScreen) and app.session.scope.namespace == ""


async def test_a_user_who_may_not_list_namespaces_can_type_their_own(sim):
    server, kubeconfig = sim
    server.faults.forbid("sim-admin", "list", "namespaces")
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        picker = await open_picker(app, pilot)
        assert not picker.listed and "You may not list namespaces" in note(picker)
        await pilot.press(*"my-team", "enter")
        await pilot.pause()
        assert app.session.scope.namespace == "my-team"


async def test_all_namespaces_is_preselected_when_the_view_shows_all(sim):
    server, kubeconfig = sim
    app = make_app(kubeconfig)  # the sim's context names no namespace: kubectl's "default" applies
    assert app.session.conn.namespace == "default" and app.session.scope.namespace == ""
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        picker = await open_picker(app, pilot)
        assert picker.query_one("OptionList").highlighted == 0
        await pilot.press("escape")
        app.session.set_namespace("kube-system")
        picker = await open_picker(app, pilot)
        assert picker.choices[picker.query_one("OptionList").highlighted] == "kube-system"


async def test_namespace_names_are_shown_as_text_not_markup(sim):
    _, kubeconfig = sim
    hostile = "[@click=app.quit]x[/]"
    app = make_app(kubeconfig)
    async with app.run_test(size=SIZE) as pilot:
        picker = NamespaceScreen([hostile, "[b]bold[/b]"], "")
        app.push_screen(picker)
        await pilot.pause()
        assert shown(picker)[1:] == [hostile, "[b]bold[/b]"]
        option_list = picker.query_one("OptionList")
        region = option_list.region
        await pilot.click(offset=(region.x + 3, region.y + 1))  # on the hostile name's line
        await pilot.pause()
        assert app.is_running


@pytest.mark.parametrize(("name", "problem"), [
    ("team-a", None),
    ("a" * 63, None),
    ("", "it is empty"),
    ("a" * 64, "it is 64 characters long; at most 63"),
    ("Team", "it has capital letters; namespace names are lowercase"),
    ("-team", "only lowercase letters, digits and '-' are allowed, starting and ending with a letter or digit"),
    ("team_a", "only lowercase letters, digits and '-' are allowed, starting and ending with a letter or digit"),
])
def test_namespace_names_must_be_dns_labels(name, problem):
    assert namespace_name_problem(name) == problem


# -- a namespace that does not exist (-n nosuchns) ----------------------------------


async def test_a_namespace_that_does_not_exist_is_named_in_the_header(sim):
    _, kubeconfig = sim
    app = make_app(kubeconfig, namespace="nosuchns")
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        for _ in range(40):
            if app.session.namespace_missing:
                break
            await pilot.pause(0.05)
        header = app.screen.query_one("ClusterHeader").render().plain
        assert "namespace nosuchns (does not exist: s picks another)" in header
        await open_picker(app, pilot)
        await pilot.press(*"kube-system", "enter")
        await pilot.pause()
        assert app.session.scope.namespace == "kube-system" and not app.session.namespace_missing
        assert "does not exist" not in app.screen.query_one("ClusterHeader").render().plain


async def test_without_permission_to_list_namespaces_nothing_is_claimed_about_them(sim):
    server, kubeconfig = sim
    server.faults.forbid("sim-admin", "list", "namespaces")
    app = make_app(kubeconfig, namespace="nosuchns")
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await pilot.pause(0.3)
        assert not app.session.namespace_missing
        assert "does not exist" not in app.screen.query_one("ClusterHeader").render().plain


async def test_doctor_says_the_namespace_does_not_exist(sim):
    from ktopui.doctor import FAIL, OK, diagnose
    from ktopui.kube.connection import load_connection

    _, kubeconfig = sim
    conn = load_connection(kubeconfig=str(kubeconfig))
    findings = {f.check: f for f in await diagnose(conn, namespace="nosuchns")}
    assert findings["namespace"].status == FAIL
    assert findings["namespace"].detail == 'namespace "nosuchns" does not exist'
    assert "kubectl get namespaces" in findings["namespace"].next_step
    findings = {f.check: f for f in await diagnose(conn, namespace="kube-system")}
    assert findings["namespace"].status == OK
