"""Our kubeconfig loader against the official Python client's, on what both support.

The `kubernetes` package is a test dependency only: an oracle nobody here
wrote. For each kubeconfig both loaders resolve the server, the
Authorization header sent, the CA trusted and the TLS server name, and the
answers must agree; against the simulated cluster both clients must list the
same nodes with the same file. (Where the two differ on purpose, because
kubectl differs from the Python client, tests/test_kubeconfig.py says so.)
"""

from __future__ import annotations

import asyncio
import base64
import os
import ssl
import subprocess

import httpx
import pytest
from helpers.exec_plugins import V1BETA1, exec_user, token_plugin
from helpers.kubeconfigs import b64, kubeconfig, simple, write
from helpers.kubectl import KUBECTL

from ktopui.kube.api import KubeAPI
from ktopui.kube.connection import load_connection, make_http_client

kubernetes = pytest.importorskip("kubernetes", reason="the official Python client is the oracle here")
from kubernetes import client as k8s_client  # noqa: E402
from kubernetes import config as k8s_config  # noqa: E402


def python_client_config(files: list, context: str | None = None) -> k8s_client.Configuration:
    cfg = k8s_client.Configuration()
    k8s_config.load_kube_config(config_file=os.pathsep.join(map(str, files)), context=context,
                                client_configuration=cfg, persist_config=False)
    return cfg


def python_client_authorization(cfg: k8s_client.Configuration) -> str | None:
    if cfg.refresh_api_key_hook is not None:
        cfg.refresh_api_key_hook(cfg)
    return cfg.get_api_key_with_prefix("BearerToken") or (
        "Basic " + base64.b64encode(f"{cfg.username}:{cfg.password}".encode()).decode() if cfg.username else None)


def ours(files: list, context: str | None, home) -> tuple:
    conn = load_connection(context=context, environ={"HOME": str(home), "KUBECONFIG": os.pathsep.join(map(str, files))})
    return conn, asyncio.run(_authorization(conn))


async def _authorization(conn) -> str | None:
    request = httpx.Request("GET", conn.server + "/version")
    if conn.auth is None:
        return None
    flow = conn.auth.async_auth_flow(request)
    sent = await flow.__anext__()
    await flow.aclose()
    return sent.headers.get("Authorization")


def trusted_ca_der(conn) -> list[bytes]:
    return conn.ssl_context.get_ca_certs(binary_form=True)


def assert_agree(files: list, home, context: str | None = None):
    theirs = python_client_config(files, context)
    conn, header = ours(files, context, home)
    assert conn.server == theirs.host
    assert header == python_client_authorization(theirs)
    assert conn.tls_server_name == theirs.tls_server_name
    if theirs.ssl_ca_cert:
        with open(theirs.ssl_ca_cert) as f:
            assert trusted_ca_der(conn) == [ssl.PEM_cert_to_DER_cert(f.read())]
    return conn


def test_merged_files_first_entry_wins(home, tmp_path):
    first = write(tmp_path / "a.yaml", kubeconfig(
        clusters={"shared": {"server": "https://first:6443"}},
        users={"shared": {"token": "first-token"}},
        current="from-b"))
    second = write(tmp_path / "b.yaml", kubeconfig(
        clusters={"shared": {"server": "https://second:6443"}, "only-b": {"server": "https://b:6443"}},
        users={"shared": {"token": "second-token"}, "only-b": {"token": "b-token"}},
        contexts={"from-b": {"cluster": "shared", "user": "shared"}, "b": {"cluster": "only-b", "user": "only-b"}},
        current="b"))
    assert assert_agree([first, second], home, context="from-b").server == "https://first:6443"
    assert assert_agree([first, second], home, context="b").server == "https://b:6443"
    # The Python client takes current-context from the last file that sets it;
    # kubectl (and we) from the first. kubectl is the reference.
    assert python_client_config([first, second]).host == "https://b:6443"
    conn, _ = ours([first, second], None, home)
    assert conn.context == "from-b"
    if KUBECTL:
        env = {"HOME": str(home), "KUBECONFIG": os.pathsep.join(map(str, [first, second])), "PATH": os.environ["PATH"]}
        found = subprocess.run([KUBECTL, "config", "current-context"], capture_output=True, text=True, env=env)
        assert found.stdout.strip() == "from-b"


def test_a_context_picked_by_name_among_several(home, tmp_path):
    doc = kubeconfig(
        clusters={"prod": {"server": "https://prod:6443"}, "dev": {"server": "https://dev:6443"}},
        users={"ops": {"token": "ops-token"}, "dev": {"username": "dev", "password": "s3cret"}},
        contexts={"prod": {"cluster": "prod", "user": "ops"}, "dev": {"cluster": "dev", "user": "dev"}},
        current="prod")
    path = write(tmp_path / "config", doc)
    assert assert_agree([path], home).server == "https://prod:6443"
    assert assert_agree([path], home, context="dev").server == "https://dev:6443"


def test_ca_data_ca_file_and_tls_server_name(home, tmp_path, ca):
    pem = ca.cert_pem
    data = write(tmp_path / "data.yaml", simple(cluster={"certificate-authority-data": b64(pem),
                                                         "tls-server-name": "api.internal"}))
    assert_agree([data], home)
    (tmp_path / "ca.crt").write_bytes(pem)
    on_disk = write(tmp_path / "file.yaml", simple(cluster={"certificate-authority": str(tmp_path / "ca.crt")}))
    assert trusted_ca_der(assert_agree([on_disk], home)) == [ssl.PEM_cert_to_DER_cert(pem.decode())]


def test_token_and_token_file(home, tmp_path):
    assert_agree([write(tmp_path / "t.yaml", simple(user={"token": "abc.def"}))], home)
    (tmp_path / "token").write_text("from-file")
    assert_agree([write(tmp_path / "f.yaml", simple(user={"tokenFile": str(tmp_path / "token")}))], home)


def test_exec_plugin_token(home, tmp_path):
    plugin = token_plugin(tmp_path / "plugin", "exec-token", api_version=V1BETA1)
    path = write(tmp_path / "e.yaml", simple(user=exec_user(str(plugin), api_version=V1BETA1, mode=None)))
    theirs = python_client_authorization(python_client_config([path]))
    _, mine = ours([path], None, home)
    # Each run of the plugin numbers its token: both loaders ran it once.
    assert theirs.startswith("Bearer exec-token-") and mine.startswith("Bearer exec-token-")


def test_both_clients_list_the_simulated_clusters_nodes_with_the_same_file(home, tmp_path, sim_server):
    path = sim_server.write_kubeconfig(tmp_path / "sim.yaml")
    theirs = python_client_config([path])
    with k8s_client.ApiClient(theirs) as api_client:
        their_nodes = [n.metadata.name for n in k8s_client.CoreV1Api(api_client).list_node().items]

    async def list_ours() -> list[str]:
        conn = load_connection(kubeconfig=str(path), environ={"HOME": str(home)})
        async with make_http_client(conn) as http:
            return [n.metadata.name for n in (await KubeAPI(http, conn.server).list_nodes()).items]

    assert sorted(asyncio.run(list_ours())) == sorted(their_nodes)
    assert their_nodes
