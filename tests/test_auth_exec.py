"""Credential exec plugins: validation, the plugin protocol, caching and refresh (no network)."""

from __future__ import annotations

import asyncio
import base64
import json
import tracemalloc

import httpx
import pytest
from helpers.exec_plugins import V1, V1BETA1, exec_user, runs, token_plugin, write_plugin
from helpers.kubeconfigs import b64, simple, write
from helpers.pki import CA

from ktopui.kube.connection import load_connection
from ktopui.kube.errors import ConfigError, CredentialError
from ktopui.kube.exec_plugin import STDERR_TAIL, ExecConfig, ExecPlugin


@pytest.fixture
def home(tmp_path):
    (tmp_path / "home").mkdir()
    return tmp_path / "home"


def connect(home, user, **kw):
    write(home / ".kube" / "config", simple(user=user, **kw))
    return load_connection(environ={"HOME": str(home), "PATH": "/usr/bin:/bin"})


class Server:
    """Answers 200 to the tokens in `valid`, 401 otherwise; records what it saw."""

    def __init__(self, *valid: str) -> None:
        self.valid = set(valid)
        self.tokens: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        self.tokens.append(token)
        return httpx.Response(200 if token in self.valid else 401)


def client(conn, server) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(server), auth=conn.auth, base_url=conn.server)


@pytest.mark.parametrize(("exec_cfg", "message"), [
    ({"command": "p", "apiVersion": V1},
     "invalid configuration: interactiveMode must be specified for c to use exec authentication plugin"),
    ({"command": "p", "apiVersion": V1, "interactiveMode": "Sometimes"},
     'invalid configuration: invalid interactiveMode for c: "Sometimes"'),
    ({"interactiveMode": "Never"},
     "invalid configuration: [command must be specified for c to use exec authentication plugin, "
     "apiVersion must be specified for c to use exec authentication plugin]"),
    ({"command": "p", "apiVersion": V1, "interactiveMode": "Never", "env": [{"value": "x"}]},
     "invalid configuration: env variable name must be specified for c to use exec authentication plugin"),
    ({"command": "p", "apiVersion": "client.authentication.k8s.io/v1alpha1", "interactiveMode": "Never"},
     'exec plugin: invalid apiVersion "client.authentication.k8s.io/v1alpha1"'),
])
def test_exec_validation(home, exec_cfg, message):
    with pytest.raises(ConfigError) as e:
        connect(home, {"exec": exec_cfg})
    assert e.value.message == message


def test_v1beta1_defaults_interactive_mode(home):
    conn = connect(home, exec_user("aws-iam-authenticator", api_version=V1BETA1, mode=None))
    assert conn.auth.plugin.config.interactive_mode == "IfAvailable"
    assert conn.auth_method == "exec plugin aws-iam-authenticator"


def test_loading_does_not_run_the_plugin(home, tmp_path):
    plugin = token_plugin(tmp_path / "plugin.py")
    connect(home, exec_user(str(plugin)))
    assert runs(plugin) == []


async def test_command_relative_to_the_kubeconfig_and_exec_info(home, tmp_path):
    ca = CA()
    plugins = home / ".kube" / "bin"
    plugins.mkdir(parents=True)
    plugin = token_plugin(plugins / "plugin.py")
    user = exec_user("./bin/plugin.py", args=["get-token", "--cluster", "x"],
                     env=[{"name": "PLUGIN_OPT", "value": "42"}], provideClusterInfo=True)
    conn = connect(home, user, cluster={
        "certificate-authority-data": b64(ca.cert_pem), "tls-server-name": "api.internal",
        "extensions": [{"name": "client.authentication.k8s.io/exec", "extension": {"audience": "k8s"}}]})
    server = Server("exec-token-1")
    async with client(conn, server) as c:
        assert (await c.get("/api")).status_code == 200
    [run] = runs(plugin)
    assert run["argv"] == ["get-token", "--cluster", "x"]
    assert run["env"]["PLUGIN_OPT"] == "42"
    assert run["env"]["HOME"] == str(home)  # the environment is passed on
    assert json.loads(run["info"]) == {
        "kind": "ExecCredential", "apiVersion": V1,
        "spec": {"interactive": False, "cluster": {
            "server": "https://k8s.example:6443", "tls-server-name": "api.internal",
            "certificate-authority-data": base64.b64encode(ca.cert_pem).decode(), "config": {"audience": "k8s"}}}}


async def test_no_cluster_info_unless_asked(home, tmp_path):
    plugin = token_plugin(tmp_path / "plugin.py", api_version=V1BETA1)
    conn = connect(home, exec_user(str(plugin), api_version=V1BETA1))
    async with client(conn, Server("exec-token-1")) as c:
        await c.get("/api")
    assert json.loads(runs(plugin)[0]["info"]) == {"kind": "ExecCredential", "apiVersion": V1BETA1,
                                                   "spec": {"interactive": False}}


async def test_credentials_cached_until_expiry(home, tmp_path):
    plugin = token_plugin(tmp_path / "plugin.py", expires_in=3600)
    conn = connect(home, exec_user(str(plugin)))
    server = Server("exec-token-1")
    async with client(conn, server) as c:
        for _ in range(3):
            assert (await c.get("/api")).status_code == 200
    assert len(runs(plugin)) == 1


async def test_expired_credentials_rerun_the_plugin(home, tmp_path):
    plugin = token_plugin(tmp_path / "plugin.py", expires_in=-10)
    conn = connect(home, exec_user(str(plugin)))
    server = Server("exec-token-1", "exec-token-2", "exec-token-3")
    async with client(conn, server) as c:
        for _ in range(3):
            assert (await c.get("/api")).status_code == 200
    assert server.tokens == ["exec-token-1", "exec-token-2", "exec-token-3"]


async def test_401_reruns_the_plugin_and_retries_once(home, tmp_path):
    plugin = token_plugin(tmp_path / "plugin.py")  # no expiry: cached until rejected
    conn = connect(home, exec_user(str(plugin)))
    server = Server("exec-token-1")
    async with client(conn, server) as c:
        assert (await c.get("/api")).status_code == 200
        server.valid = {"exec-token-2"}  # the server revoked the first token
        assert (await c.get("/api")).status_code == 200
        server.valid = set()
        assert (await c.get("/api")).status_code == 401  # retried once, then the 401 is returned
    assert server.tokens == ["exec-token-1", "exec-token-1", "exec-token-2", "exec-token-2", "exec-token-3"]


async def test_concurrent_requests_run_the_plugin_once(home, tmp_path):
    plugin = token_plugin(tmp_path / "plugin.py")
    conn = connect(home, exec_user(str(plugin)))
    async with client(conn, Server("exec-token-1")) as c:
        responses = await asyncio.gather(*(c.get("/api") for _ in range(10)))
    assert {r.status_code for r in responses} == {200}
    assert len(runs(plugin)) == 1


async def test_missing_binary(home):
    conn = connect(home, exec_user("kubelogin-not-installed", installHint="brew install \x1b[1mkubelogin\x1b[0m"))
    with pytest.raises(CredentialError) as e:
        async with client(conn, Server()) as c:
            await c.get("/api")
    assert e.value.message == "exec: executable kubelogin-not-installed not found"
    assert "client-go credential plugin that is not installed" in e.value.hint
    assert e.value.hint.endswith("brew install \\x1b[1mkubelogin\\x1b[0m")


async def test_failing_plugin_quotes_stderr_never_stdout(home, tmp_path):
    plugin = write_plugin(tmp_path / "plugin.py", """
        print('{"status": {"token": "half-written-s3cr3t"}}')
        print("  error: SSO session expired; run `sso login`  ", file=sys.stderr)
        sys.exit(3)
    """)
    conn = connect(home, exec_user(str(plugin)))
    with pytest.raises(CredentialError) as e:
        async with client(conn, Server()) as c:
            await c.get("/api")
    assert e.value.message == f"exec: executable {plugin} failed with exit code 3"
    assert e.value.hint == "Plugin stderr:\nerror: SSO session expired; run `sso login`"
    assert "s3cr3t" not in str(e.value)


@pytest.mark.parametrize(("stdout", "message"), [
    ("not json s3cr3t", "decoding stdout: Expecting value"),
    ('{"apiVersion": "client.authentication.k8s.io/v1beta1", "status": {"token": "s3cr3t"}}',
     f"exec plugin is configured to use API version {V1}, plugin returned version {V1BETA1}"),
    (json.dumps({"apiVersion": V1, "kind": "ExecCredential"}), "exec plugin didn't return a status field"),
    (json.dumps({"apiVersion": V1, "kind": "ExecCredential", "status": {}}),
     "exec plugin didn't return a token or cert/key pair"),
    (json.dumps({"apiVersion": V1, "kind": "ExecCredential", "status": {"clientCertificateData": "s3cr3t"}}),
     "exec plugin returned only certificate or key, not both"),
    (json.dumps({"apiVersion": V1, "kind": "ExecCredential",
                 "status": {"token": "s3cr3t", "expirationTimestamp": "tomorrow"}}),
     "decoding stdout: invalid expirationTimestamp 'tomorrow'"),
])
async def test_invalid_plugin_output(home, tmp_path, stdout, message):
    plugin = write_plugin(tmp_path / "plugin.py", f"print({stdout!r})")
    conn = connect(home, exec_user(str(plugin)))
    with pytest.raises(CredentialError) as e:
        async with client(conn, Server()) as c:
            await c.get("/api")
    assert e.value.message == f"exec plugin {plugin}: {message}"
    assert "s3cr3t" not in str(e.value)


async def test_always_interactive_needs_a_terminal(tmp_path):
    plugin = token_plugin(tmp_path / "plugin.py")
    config = ExecConfig.from_kubeconfig({"command": str(plugin), "apiVersion": V1, "interactiveMode": "Always"})
    with pytest.raises(CredentialError, match="exec plugin cannot support interactive mode: standard input is "
                                              "not a terminal"):
        await ExecPlugin(config, cluster_info=None, environ={}, stdin_is_terminal=lambda: False).credentials()
    assert runs(plugin) == []


async def test_interactive_if_available_with_a_terminal(tmp_path):
    plugin = token_plugin(tmp_path / "plugin.py")
    config = ExecConfig.from_kubeconfig({"command": str(plugin), "apiVersion": V1, "interactiveMode": "IfAvailable"})
    cred = await ExecPlugin(config, cluster_info=None, environ={}, stdin_is_terminal=lambda: True).credentials()
    assert cred.token == "exec-token-1"
    assert json.loads(runs(plugin)[0]["info"])["spec"]["interactive"] is True
    assert "exec-token" not in repr(cred)


async def test_client_certificate_from_plugin(home, tmp_path):
    cert, key = CA().issue("exec-user")
    plugin = write_plugin(tmp_path / "plugin.py", f"""
        print(json.dumps({{"apiVersion": {V1!r}, "kind": "ExecCredential",
                          "status": {{"clientCertificateData": {cert.decode()!r}, "clientKeyData": {key.decode()!r}}}}}))
    """)
    conn = connect(home, exec_user(str(plugin)))
    seen = []
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda r: seen.append(r) or httpx.Response(200)),
                                 auth=conn.auth) as c:
        await c.get("https://k8s.example/api")
    assert "Authorization" not in seen[0].headers
    assert conn.ssl_context.cert_generation == 1


async def test_a_plugin_flooding_stderr_is_kept_to_a_bounded_tail(home, tmp_path):
    plugin = write_plugin(tmp_path / "plugin.py", """
        block = "x" * 65535 + "\\n"
        for _ in range(3200):  # 200 MiB
            sys.stderr.write(block)
        sys.stderr.write("error: the last words")
        sys.exit(1)
    """)
    conn = connect(home, exec_user(str(plugin)))
    tracemalloc.start()
    try:
        with pytest.raises(CredentialError) as e:
            async with client(conn, Server()) as c:
                await c.get("/api")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * STDERR_TAIL, peak  # (4 MiB, of 200 MiB written)
    assert e.value.hint.endswith("xxx\nerror: the last words") and len(e.value.hint) < 2100


async def test_a_plugin_flooding_stdout_is_stopped(home, tmp_path):
    plugin = write_plugin(tmp_path / "plugin.py", """
        print("starting up", file=sys.stderr, flush=True)
        while True:
            sys.stdout.write('{"status": {"token": "s3cr3t"}} ' * 1000)
    """)
    conn = connect(home, exec_user(str(plugin)))
    with pytest.raises(CredentialError) as e:
        async with client(conn, Server()) as c:
            await asyncio.wait_for(c.get("/api"), 20)
    assert e.value.message == f"exec plugin {plugin} wrote more than 1024 KiB on stdout, " \
                              "more than any credential takes; ktopui stopped it"
    assert e.value.hint == "Plugin stderr:\nstarting up" and "s3cr3t" not in str(e.value)
