"""Credentials as people paste them: a token with a newline, a character HTTP cannot carry,
a password in the server URL. What works is used; what cannot be sent is refused by
name; no secret is ever repeated on the screen, in `top`, in the doctor or in the log."""

from __future__ import annotations

import base64
import logging

import httpx
import pytest
from helpers.app import make_app, refreshed
from helpers.credentials import sim_kubeconfig
from helpers.exec_plugins import V1, exec_user, write_plugin

from ktopui.cli import main
from ktopui.kube import errors
from ktopui.kube.api import KubeAPI, Target, transport_error
from ktopui.kube.connection import load_connection, make_http_client
from ktopui.kube.errors import ConfigError, CredentialError
from ktopui.logs import start_log

SECRET = "eyJhbGciOiJSUzI1NiJ9.SECRETPAYLOAD.sig"


@pytest.fixture
def sim(make_sim_server):
    return make_sim_server(nodes=2, pods_per_node=2)


# --log adds file handlers to process-wide loggers: taken off after each test.
pytestmark = pytest.mark.usefixtures("close_logs")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_a_token_pasted_with_a_trailing_newline_works(sim, tmp_path, capsys):
    # `token: |` in YAML keeps the line's newline: client-go would put it in the header and fail.
    path = sim_kubeconfig(sim, tmp_path / "config", user={"token": sim.token + "\n"})
    assert load_connection(kubeconfig=str(path)).auth_method == "bearer token"
    code, out, err = run(capsys, "top", "nodes", "--kubeconfig", str(path))
    assert code == 0 and out.startswith("NAME") and err == ""


async def test_the_dashboard_works_with_a_token_ending_in_a_newline(sim, tmp_path):
    path = sim_kubeconfig(sim, tmp_path / "config", user={"token": "  " + sim.token + "\n"})
    app = make_app(path)
    async with app.run_test(size=(160, 40)) as pilot:
        await refreshed(app, pilot)
        assert not app.session.snapshot.errors
        assert len(app.session.snapshot.nodes) == 2


@pytest.mark.parametrize(("token", "problem"), [
    (SECRET[:20] + "\n" + SECRET[20:], "contains a line break (character 21 of 39)"),
    ("café" + SECRET, "contains a non-ASCII character (character 4 of 42)"),
    (SECRET + "\x00", "contains a control character (character 39 of 39)"),
])
def test_a_token_that_cannot_be_sent_is_refused_by_name_in_top_and_doctor(sim, tmp_path, capsys, token, problem):
    path = sim_kubeconfig(sim, tmp_path / "config", user={"token": token})
    code, out, err = run(capsys, "top", "pods", "--kubeconfig", str(path))
    assert code == 1 and out == ""
    assert err.startswith(f'error: the token of user "sim-admin" {problem}, which cannot be sent in an HTTP header')
    code, out, err = run(capsys, "doctor", "--kubeconfig", str(path))
    assert code == 1 and "✘ FAIL  kubeconfig: the token of user" in out and "contains" in out
    for text in (out, err):
        assert "SECRETPAYLOAD" not in text and "Traceback" not in text


def test_a_token_file_with_a_line_break_inside_is_refused(sim, tmp_path):
    (tmp_path / "token").write_text(SECRET[:9] + "\r\n" + SECRET[9:] + "\n")
    path = sim_kubeconfig(sim, tmp_path / "config", user={"token": None, "tokenFile": str(tmp_path / "token")})
    with pytest.raises(CredentialError) as caught:
        load_connection(kubeconfig=str(path))
    assert f'the token of token file "{tmp_path / "token"}" contains a line break' in str(caught.value)
    assert "SECRETPAYLOAD" not in str(caught.value)


async def test_an_exec_plugin_token_that_cannot_be_sent_is_named_not_shown(sim, tmp_path):
    token = SECRET[:5] + "\n" + SECRET[5:]
    plugin = write_plugin(tmp_path / "plugin.py", f"""
        print(json.dumps({{"apiVersion": {V1!r}, "kind": "ExecCredential", "status": {{"token": {token!r}}}}}))
    """)
    path = sim_kubeconfig(sim, tmp_path / "config", user={"token": None, **exec_user(str(plugin))})
    conn = load_connection(kubeconfig=str(path))
    async with make_http_client(conn) as http:
        with pytest.raises(CredentialError) as caught:
            await KubeAPI(http, conn.server).list_nodes()
    assert str(caught.value).startswith(f"the token of exec plugin {plugin} contains a line break")
    assert "SECRETPAYLOAD" not in str(caught.value)


def test_impersonation_that_cannot_be_sent_is_refused(sim, tmp_path):
    path = sim_kubeconfig(sim, tmp_path / "config", user={"as": "jane\nX-Injected: yes"})
    with pytest.raises(ConfigError, match='the Impersonate-User value of user "sim-admin" contains a line break'):
        load_connection(kubeconfig=str(path))


def test_a_header_the_http_library_refuses_is_never_echoed():
    err = httpx.LocalProtocolError(f"Illegal header value b'Bearer {SECRET}\\n'")
    text = str(transport_error(err, "https://k8s.example:6443", Target("list", "nodes")))
    assert "could not send the request to k8s.example:6443 (list nodes): a request header is not valid" in text
    assert "SECRETPAYLOAD" not in text and "Bearer" not in text


async def test_a_password_in_the_server_url_is_never_shown_or_logged(sim, tmp_path):
    server = sim.url.replace("https://", "https://admin:pw-SECRET@")
    path = sim_kubeconfig(sim, tmp_path / "config", cluster={"server": server})
    log = tmp_path / "ktopui.log"
    conn = load_connection(kubeconfig=str(path))
    assert conn.server == sim.url
    assert "the user and password in the server URL are not sent" in " ".join(conn.warnings)
    start_log(str(log))
    logging.getLogger("ktopui").info("server %s", conn.server)
    app = make_app(path)
    async with app.run_test(size=(200, 40)) as pilot:
        await refreshed(app, pilot)
        assert not app.session.snapshot.errors  # the user's own token is what is sent
        header = app.screen.query_one("ClusterHeader").render().plain
    assert sim.url in header and "pw-SECRET" not in header
    assert {r.user for r in sim.requests} == {"sim-admin"}
    assert "pw-SECRET" not in log.read_text() and "admin:" not in log.read_text()


def test_the_server_url_user_and_password_are_sent_when_the_user_has_no_credentials(sim, tmp_path):
    server = sim.url.replace("https://", "https://admin:p%40ss@")
    path = sim_kubeconfig(sim, tmp_path / "config", cluster={"server": server}, user={"token": None})
    conn = load_connection(kubeconfig=str(path))
    assert conn.server == sim.url and conn.auth_method == "basic auth from the server URL (user admin)"
    seen = []
    client = httpx.Client(transport=httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200)),
                          auth=conn.auth)
    client.get(conn.server + "/version")
    assert seen[0].headers["Authorization"] == "Basic " + base64.b64encode(b"admin:p@ss").decode()
    assert "@" not in str(seen[0].url)


def test_an_invalid_server_url_is_reported_without_its_password(home):
    from helpers.kubeconfigs import simple, write

    write(home / ".kube" / "config", simple("https://admin:pw-SECRET@k8s.example:notaport"))
    with pytest.raises(errors.ConfigError) as caught:
        load_connection(environ={"HOME": str(home)})
    assert "k8s.example:notaport" in str(caught.value) and "pw-SECRET" not in str(caught.value)
