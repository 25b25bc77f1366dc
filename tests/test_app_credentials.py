"""Credentials under a running dashboard, and secrets that never show.

Scans everything ktopui shows (every screen, as text), prints (`ktopui top`)
and logs (`--log`) in these scenarios for the token and key material it was
given, and expects to find none.
"""

from __future__ import annotations

import asyncio
import logging
import re

import pytest
from helpers.app import refresh, refreshed, table
from helpers.credentials import TokenVendor, sim_kubeconfig, vending_plugin
from helpers.exec_plugins import exec_user, runs, write_plugin

from ktopui.cli import main
from ktopui.kube.connection import load_connection
from ktopui.logs import log_session
from ktopui.sim.cluster import SimOptions
from ktopui.sim.server import SimServer
from ktopui.live.session import ClusterSession
from ktopui.ui.app import KtopApp


@pytest.fixture
def sim(tmp_path):
    server = SimServer(SimOptions(nodes=3, pods_per_node=3, seed=71, churn_per_minute=0)).start()
    server.cluster.freeze()
    vendor = TokenVendor(server)
    yield server, vendor
    vendor.close()
    server.stop()


@pytest.fixture
def log_file(tmp_path):
    path = tmp_path / "ktopui.log"
    yield path
    for name in ("ktopui", "httpx"):
        logger = logging.getLogger(name)
        for handler in logger.handlers[:]:
            logger.removeHandler(handler)
            handler.close()


def header(app) -> str:
    return app.screen.query_one("ClusterHeader").render().plain


async def everything_shown(app, pilot) -> str:
    """The text of every screen the user can reach, plus the header."""
    shown = [app.export_screenshot()]
    for keys in (("2",), ("enter",), ("escape", "1", "enter"), ("escape", "question_mark")):
        await pilot.press(*keys)
        await pilot.pause(0.2)
        shown.append(app.export_screenshot())
    await pilot.press("escape")
    return "\n".join(shown)


def assert_absent(secrets, *texts):
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"secret leaked: {secret[:6]}…"


async def test_exec_token_expiring_mid_session_is_refreshed_unnoticed(sim, tmp_path, log_file):
    server, vendor = sim
    plugin = vending_plugin(tmp_path / "plugin.py", vendor, query="ttl=1.2", expires_in=0.5)
    kubeconfig = sim_kubeconfig(server, tmp_path / "config", user={"token": None, **exec_user(str(plugin))})
    conn = load_connection(kubeconfig=str(kubeconfig))
    log_session(str(log_file), conn)
    app = KtopApp(ClusterSession(conn, interval=60))
    async with app.run_test(size=(150, 40)) as pilot:
        await refreshed(app, pilot)
        for _ in range(4):
            await asyncio.sleep(0.5)
            await refresh(app, pilot)
            assert "⚠" not in header(app), header(app)
        assert len(table(app, "nodes").rows) == 3
        shown = await everything_shown(app, pilot)
    minted = {re.search(r'"token": "([^"]+)"', line).group(1) for line in _vendor_log(plugin)}
    assert len(runs(plugin)) >= 3
    assert_absent(minted, shown, log_file.read_text())


def _vendor_log(plugin):
    """The tokens the plugin handed out (it records them for this check)."""
    return [line for line in plugin.with_suffix(".tokens").read_text().splitlines() if line]


async def test_exec_plugin_that_starts_failing_is_named_with_its_stderr(sim, tmp_path, log_file):
    server, vendor = sim
    plugin = write_plugin(tmp_path / "plugin.py", f"""
        import urllib.request
        if len(open(LOG).readlines()) > 1:
            print("login expired: run 'corp-login' again", file=sys.stderr)
            sys.exit(3)
        status = json.load(urllib.request.urlopen({vendor.url!r} + "/?ttl=0.5"))
        print(json.dumps({{"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential",
                          "status": status}}))
    """)
    kubeconfig = sim_kubeconfig(server, tmp_path / "config", user={"token": None, **exec_user(str(plugin))})
    conn = load_connection(kubeconfig=str(kubeconfig))
    log_session(str(log_file), conn)
    app = KtopApp(ClusterSession(conn, interval=60))
    async with app.run_test(size=(200, 40)) as pilot:
        await refreshed(app, pilot)
        shown = [r.name for r in table(app, "nodes").rows]
        await asyncio.sleep(0.7)  # the token is rejected now; the plugin fails from here on
        await refresh(app, pilot)
        text = header(app)
        assert f"exec plugin {plugin}" in text or "plugin.py" in text, text
        assert "login expired: run 'corp-login' again" in text
        assert [r.name for r in table(app, "nodes").rows] == shown
        assert app.is_running
    assert "login expired" in log_file.read_text()


async def test_static_token_and_client_key_never_appear_anywhere(sim, tmp_path, log_file, capsys):
    server, vendor = sim
    token = server.issue_token(None)
    cert, key = server.issue_client_cert("jane")
    key_body = "".join(key.decode().splitlines()[1:-1])[:40]

    for name, kw in (("token", {"token": token}), ("cert", {"client_cert": (cert, key)})):
        kubeconfig = server.write_kubeconfig(tmp_path / f"config-{name}", **kw)
        conn = load_connection(kubeconfig=str(kubeconfig))
        log_session(str(log_file), conn)
        app = KtopApp(ClusterSession(conn, interval=60))
        server.faults.server_error(500, count=2, prefix="/api/v1/pods")
        async with app.run_test(size=(150, 40)) as pilot:
            await refreshed(app, pilot)
            await refresh(app, pilot)
            shown = await everything_shown(app, pilot)
        for args in (["top", "nodes"], ["top", "pods", "-A", "--containers"], ["top", "pods", "-n", "nope"]):
            await asyncio.to_thread(main, [*args, "--kubeconfig", str(kubeconfig), "--log", str(log_file)])
        printed = capsys.readouterr()
        server.faults.forbid("jane" if name == "cert" else "sim-admin", "list", "nodes", group="")
        await asyncio.to_thread(main, ["top", "nodes", "--kubeconfig", str(kubeconfig), "--log", str(log_file)])
        failed = capsys.readouterr()
        assert "forbidden" in failed.err
        server.faults.reset()
        assert_absent({token, key_body}, shown, printed.out, printed.err, failed.err, log_file.read_text())
    assert "refresh failed" in log_file.read_text() or "ServerError" in log_file.read_text()
