"""End to end over real HTTPS: kubeconfig -> load_connection -> make_http_client -> the simulated API server."""

from __future__ import annotations

import asyncio
import ssl
import time
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from helpers.exec_plugins import V1, exec_user, runs, write_plugin
from helpers.kubeconfigs import b64
from helpers.pki import CA
from helpers.credentials import TokenVendor, sim_kubeconfig, vending_plugin
from helpers.proxies import ConnectProxy, Socks5Proxy

from ktopui.kube.connection import load_connection, make_http_client
from ktopui.kube.errors import CredentialError
from ktopui.sim.cluster import SimOptions
from ktopui.sim.server import SimServer


@pytest.fixture(scope="module")
def sim():
    with SimServer(SimOptions(nodes=2, pods_per_node=2, seed=1)) as server:
        yield server


def connect(path, **kw):
    return load_connection(kubeconfig=str(path), environ={"HOME": str(path.parent), "PATH": "/usr/bin:/bin"}, **kw)


async def nodes(conn) -> httpx.Response:
    async with make_http_client(conn, timeout=10) as client:
        return await client.get("/api/v1/nodes")


def requests_for(sim, since: int, count: int):
    """The server's records of the `count` node lists sent since `since` (it records a request
    after answering it, so the last record may lag the client's response)."""
    deadline = time.monotonic() + 5
    while True:
        found = [r for r in list(sim.requests)[since:] if r.path == "/api/v1/nodes"]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.01)


def tls_failure(exc: BaseException) -> ssl.SSLError | None:
    while exc is not None:
        if isinstance(exc, ssl.SSLError):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


async def test_token(sim, tmp_path):
    conn = connect(sim_kubeconfig(sim, tmp_path / "config", token=sim.token))
    response = await nodes(conn)
    assert response.status_code == 200
    assert len(response.json()["items"]) == 2


async def test_token_file_rotated_on_disk(sim, tmp_path):
    token_file = tmp_path / "token"
    first = sim.issue_token(None)
    token_file.write_text(first + "\n")
    conn = connect(sim_kubeconfig(sim, tmp_path / "config", user={"token": None, "tokenFile": "token"}))
    assert conn.auth_method == "token file ~/token"
    assert (await nodes(conn)).status_code == 200
    # The file is rotated and the old token revoked: the 401 makes the client re-read the file and retry.
    token_file.write_text(sim.issue_token(None))
    sim.revoke_token(first)
    before = len(sim.requests)
    assert (await nodes(conn)).status_code == 200
    assert [r.status for r in requests_for(sim, before, 2)] == [401, 200]


async def test_client_certificate(sim, tmp_path):
    conn = connect(sim_kubeconfig(sim, tmp_path / "config", client_cert=sim.issue_client_cert("jane")))
    assert conn.auth_method == "client certificate data (CN=jane)"
    before = len(sim.requests)
    assert (await nodes(conn)).status_code == 200
    assert [r.user for r in requests_for(sim, before, 1)] == ["jane"]


@pytest.mark.parametrize("embed_ca", [True, False])
async def test_ca_data_or_file(sim, tmp_path, embed_ca):
    path = sim_kubeconfig(sim, tmp_path / "config", token=sim.token, embed_ca=embed_ca)
    cluster = yaml.safe_load(path.read_text())["clusters"][0]["cluster"]
    assert ("certificate-authority-data" in cluster) == embed_ca
    assert (await nodes(connect(path))).status_code == 200


async def test_unknown_ca_fails_the_handshake(sim, tmp_path):
    other = CA()
    conn = connect(sim_kubeconfig(sim, tmp_path / "config", token=sim.token,
                                  cluster={"certificate-authority-data": b64(other.cert_pem)}))
    with pytest.raises(httpx.ConnectError) as e:
        await nodes(conn)
    assert isinstance(tls_failure(e.value), ssl.SSLCertVerificationError)


@pytest.mark.parametrize("through_proxy", [False, True])
async def test_tls_server_name(sim, tmp_path, through_proxy):
    port = urlsplit(sim.url).port
    with ConnectProxy() as proxy:
        cluster = {"server": f"https://127.0.0.1:{port}", "tls-server-name": "sim.ktopui.test"}
        if through_proxy:
            cluster["proxy-url"] = proxy.url
        conn = connect(sim_kubeconfig(sim, tmp_path / "config", token=sim.token, cluster=cluster))
        assert (await nodes(conn)).status_code == 200
        conn = connect(sim_kubeconfig(sim, tmp_path / "config", token=sim.token,
                                      cluster={**cluster, "tls-server-name": "wrong.ktopui.test"}))
        with pytest.raises(httpx.ConnectError) as e:
            await nodes(conn)
        failure = tls_failure(e.value)
        assert isinstance(failure, ssl.SSLCertVerificationError) and "mismatch" in failure.verify_message
        if through_proxy:
            assert proxy.targets == [f"127.0.0.1:{port}"] * 2


async def test_insecure_skip_tls_verify(sim, tmp_path):
    conn = connect(sim_kubeconfig(sim, tmp_path / "config", token=sim.token, cluster={
        "certificate-authority-data": None, "insecure-skip-tls-verify": True}))
    assert any("insecure-skip-tls-verify" in w for w in conn.warnings)
    assert (await nodes(conn)).status_code == 200


@pytest.mark.parametrize("proxy_kind", [ConnectProxy, Socks5Proxy])
async def test_proxy_url(sim, tmp_path, proxy_kind):
    with proxy_kind() as proxy:
        conn = connect(sim_kubeconfig(sim, tmp_path / "config", token=sim.token, cluster={"proxy-url": proxy.url}))
        assert (await nodes(conn)).status_code == 200
        assert proxy.targets == [urlsplit(sim.url).netloc]


@pytest.fixture
def vendor(sim):
    vendor = TokenVendor(sim)
    yield vendor
    vendor.close()


async def test_exec_plugin_token_refreshed_on_expiry(sim, tmp_path, vendor):
    # The plugin says when its token expires (0.6 s, before the server stops accepting it at 1.5 s):
    # the client runs it again before using an expired token.
    plugin = vending_plugin(tmp_path / "plugin.py", vendor, query="ttl=1.5", expires_in=0.6)
    conn = connect(sim_kubeconfig(sim, tmp_path / "config", user={"token": None, **exec_user(str(plugin))}))
    before = len(sim.requests)
    async with make_http_client(conn, timeout=10) as client:
        for _ in range(6):
            assert (await client.get("/api/v1/nodes")).status_code == 200
            await asyncio.sleep(0.3)
    assert len(runs(plugin)) >= 2  # about one run per 0.6 s
    assert [r.status for r in requests_for(sim, before, 6)] == [200] * 6


async def test_exec_plugin_token_refreshed_on_401(sim, tmp_path, vendor):
    # No expirationTimestamp: the token is cached until the server rejects it (0.5 s).
    plugin = vending_plugin(tmp_path / "plugin.py", vendor, query="ttl=0.5", expires_in=None)
    conn = connect(sim_kubeconfig(sim, tmp_path / "config", user={"token": None, **exec_user(str(plugin))}))
    before = len(sim.requests)
    async with make_http_client(conn, timeout=10) as client:
        assert (await client.get("/api/v1/nodes")).status_code == 200
        await asyncio.sleep(0.7)
        assert (await client.get("/api/v1/nodes")).status_code == 200  # the caller never sees the 401
    assert [r.status for r in requests_for(sim, before, 3)] == [200, 401, 200]
    assert len(runs(plugin)) == 2


def cert_plugin(path, vendor, *, expires_in: float):
    """Each run returns a certificate for a new user: exec-user-1, exec-user-2..."""
    return write_plugin(path, f"""
        import datetime, urllib.request
        user = "exec-user-%d" % len(open(LOG).readlines())
        status = json.load(urllib.request.urlopen({vendor.url!r} + "/?kind=cert&user=" + user))
        exp = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds={expires_in!r})
        status["expirationTimestamp"] = exp.isoformat().replace("+00:00", "Z")
        print(json.dumps({{"apiVersion": {V1!r}, "kind": "ExecCredential", "status": status}}))
    """)


async def test_exec_plugin_client_certificate_rotation(sim, tmp_path, vendor):
    # Expiry makes the client fetch a new certificate; pooled connections presenting the old one
    # must not be reused (the server authenticates the certificate of the connection).
    plugin = cert_plugin(tmp_path / "plugin.py", vendor, expires_in=0.5)
    conn = connect(sim_kubeconfig(sim, tmp_path / "config", user={"token": None, **exec_user(str(plugin))}))
    before = len(sim.requests)
    async with make_http_client(conn, timeout=10) as client:
        assert (await client.get("/api/v1/nodes")).status_code == 200
        assert (await client.get("/api/v1/nodes")).status_code == 200
        await asyncio.sleep(0.7)
        assert (await client.get("/api/v1/nodes")).status_code == 200
    assert [r.user for r in requests_for(sim, before, 3)] == ["exec-user-1", "exec-user-1", "exec-user-2"]


async def test_retired_connections_close_once_their_responses_are_read(sim, tmp_path, vendor):
    plugin = cert_plugin(tmp_path / "plugin.py", vendor, expires_in=0.3)
    conn = connect(sim_kubeconfig(sim, tmp_path / "config", user={"token": None, **exec_user(str(plugin))}))
    async with make_http_client(conn, timeout=10) as client:
        pools = client._transport._in_flight  # white box: pool -> responses not yet closed
        async with client.stream("GET", "/api/v1/nodes") as unread:
            await asyncio.sleep(0.5)
            assert (await client.get("/api/v1/nodes")).status_code == 200  # new certificate, new pool
            assert sorted(pools.values()) == [0, 1]  # the old pool still serves `unread`
            await unread.aread()
        assert list(pools.values()) == [0]


async def test_exec_plugin_failure(sim, tmp_path):
    plugin = write_plugin(tmp_path / "plugin.py", """
        print("token: leaked-if-quoted")
        print("could not reach the identity provider", file=sys.stderr)
        sys.exit(1)
    """)
    conn = connect(sim_kubeconfig(sim, tmp_path / "config", user={"token": None, **exec_user(str(plugin))}))
    with pytest.raises(CredentialError) as e:
        await nodes(conn)
    assert e.value.message == f"exec: executable {plugin} failed with exit code 1"
    assert "could not reach the identity provider" in e.value.hint
    assert "leaked-if-quoted" not in str(e.value)


async def test_expired_token_with_no_way_to_refresh_is_a_401(sim, tmp_path):
    conn = connect(sim_kubeconfig(sim, tmp_path / "config", token=sim.issue_token(0.01)))
    time.sleep(0.05)
    assert (await nodes(conn)).status_code == 401
