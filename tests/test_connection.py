"""Cluster fields, TLS, proxies, in-cluster config and the HTTP client (no network)."""

from __future__ import annotations

import ssl
import subprocess
import sys

import pytest
from helpers.kubeconfigs import b64, kubeconfig, simple, write

from ktopui.kube.connection import load_connection, make_http_client
from ktopui.kube.errors import ConfigError
from ktopui.kube.proxy import proxy_from_environment


def connect(home, doc, **kw):
    write(home / ".kube" / "config", doc)
    return load_connection(environ={"HOME": str(home), **kw.pop("env", {})}, **kw)


@pytest.mark.parametrize(("server", "expected"), [
    ("https://k8s.example:6443/", "https://k8s.example:6443"),
    ("https://rancher.example/k8s/clusters/c-1/?x=1#f", "https://rancher.example/k8s/clusters/c-1"),
    ("k8s.example:6443", "http://k8s.example:6443"),
])
def test_server_url(home, server, expected):
    assert connect(home, simple(server)).server == expected


def test_server_without_scheme_is_https_when_tls_is_configured(home, ca):
    doc = simple("10.0.0.1:6443", cluster={"certificate-authority-data": b64(ca.cert_pem)})
    assert connect(home, doc).server == "https://10.0.0.1:6443"


def test_missing_server(home):
    doc = kubeconfig(clusters={"c": {"insecure-skip-tls-verify": True}}, users={"u": {}},
                     contexts={"c": {"cluster": "c", "user": "u"}}, current="c")
    with pytest.raises(ConfigError) as e:
        connect(home, doc)
    assert e.value.message == 'invalid configuration: no server found for cluster "c"'


def test_default_roots_verify_hostnames(home):
    conn = connect(home, simple())
    assert conn.ssl_context.verify_mode == ssl.CERT_REQUIRED
    assert conn.ssl_context.check_hostname
    assert not conn.insecure and conn.warnings == []


def test_ca_file(home, ca, tmp_path):
    (home / "ca.crt").write_bytes(ca.cert_pem)
    conn = connect(home, simple(cluster={"certificate-authority": "../ca.crt"}))
    assert conn.ssl_context.cert_store_stats()["x509_ca"] == 1  # only that CA, not the system roots
    assert conn.warnings == []


def test_ca_data_wins_over_file_with_a_warning(home, ca):
    conn = connect(home, simple(cluster={"certificate-authority": "/does/not/matter",
                                         "certificate-authority-data": b64(ca.cert_pem)}))
    assert conn.ssl_context.cert_store_stats()["x509_ca"] == 1
    assert conn.warnings == ["certificate-authority-data and certificate-authority are both specified for c. "
                             "certificate-authority-data will override."]


def test_unreadable_ca_file(home):
    with pytest.raises(ConfigError) as e:
        connect(home, simple(cluster={"certificate-authority": "/nope/ca.crt"}))
    assert e.value.message == ("invalid configuration: unable to read certificate-authority /nope/ca.crt for c "
                               "due to open /nope/ca.crt: no such file or directory")


def test_garbage_ca_data(home):
    with pytest.raises(ConfigError, match="unable to load root certificates"):
        connect(home, simple(cluster={"certificate-authority-data": b64("not a certificate")}))
    with pytest.raises(ConfigError, match="certificate-authority-data of cluster \"c\" is not valid base64"):
        connect(home, simple(cluster={"certificate-authority-data": "!!!"}))


def test_insecure_skip_tls_verify_warns(home):
    conn = connect(home, simple(cluster={"insecure-skip-tls-verify": True}))
    assert conn.insecure
    assert conn.ssl_context.verify_mode == ssl.CERT_NONE and not conn.ssl_context.check_hostname
    assert conn.warnings == ['insecure-skip-tls-verify is set for cluster "c": the server\'s certificate is not verified']


def test_insecure_with_a_ca_is_an_error(home, ca):
    with pytest.raises(ConfigError) as e:
        connect(home, simple(cluster={"insecure-skip-tls-verify": True, "certificate-authority-data": b64(ca.cert_pem)}))
    assert e.value.message == "specifying a root certificates file with the insecure flag is not allowed"


def test_insecure_must_be_a_boolean(home):
    with pytest.raises(ConfigError, match="insecure-skip-tls-verify of cluster \"c\" must be true or false"):
        connect(home, simple(cluster={"insecure-skip-tls-verify": "true"}))


def test_tls_server_name_is_pinned_on_the_context(home):
    conn = connect(home, simple("https://127.0.0.1:6443", cluster={"tls-server-name": "api.internal"}))
    assert conn.tls_server_name == "api.internal"
    assert conn.ssl_context.server_name == "api.internal"


@pytest.mark.parametrize("proxy", ["http://proxy:3128", "https://proxy:3129", "socks5://proxy:1080"])
def test_proxy_url(home, proxy):
    conn = connect(home, simple(cluster={"proxy-url": proxy}), env={"HTTPS_PROXY": "http://ignored:1"})
    assert conn.proxy == proxy and conn.env_proxy is None


@pytest.mark.parametrize(("proxy", "problem"), [
    ("ftp://proxy:21", 'unsupported scheme "ftp", must be http, https, or socks5'),
    ("proxy:3128", 'unsupported scheme "proxy", must be http, https, or socks5'),
])
def test_invalid_proxy_url(home, proxy, problem):
    with pytest.raises(ConfigError) as e:
        connect(home, simple(cluster={"proxy-url": proxy}))
    assert e.value.message == f"invalid configuration: invalid 'proxy-url' \"{proxy}\" for cluster \"c\": {problem}"


def test_proxy_from_environment_when_no_proxy_url(home):
    conn = connect(home, simple(), env={"HTTPS_PROXY": "corp:3128"})
    assert conn.proxy is None and conn.env_proxy == "http://corp:3128"


@pytest.mark.parametrize(("server", "env", "expected"), [
    ("https://api.example", {"HTTPS_PROXY": "http://p:1", "HTTP_PROXY": "http://q:1"}, "http://p:1"),
    ("http://api.example", {"HTTPS_PROXY": "http://p:1", "HTTP_PROXY": "http://q:1"}, "http://q:1"),
    ("https://api.example", {"https_proxy": "socks5://p:1"}, "socks5://p:1"),
    ("https://api.example", {"ALL_PROXY": "http://p:1"}, None),  # Go ignores ALL_PROXY
    ("https://127.0.0.1:6443", {"HTTPS_PROXY": "http://p:1"}, None),  # loopback: never proxied
    ("https://localhost:6443", {"HTTPS_PROXY": "http://p:1"}, None),
    ("https://10.1.2.3", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "10.0.0.0/8"}, None),
    ("https://11.1.2.3", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "10.0.0.0/8"}, "http://p:1"),
    ("https://api.example", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "example"}, None),
    ("https://api.example", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "xample"}, "http://p:1"),
    ("https://api.example", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "api.example"}, None),
    ("https://k.api.example", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "api.example"}, None),
    ("https://api.example", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": ".api.example"}, "http://p:1"),
    ("https://k.api.example", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "*.api.example"}, None),
    ("https://api.example:6443", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "api.example:443"}, "http://p:1"),
    ("https://api.example:6443", {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "api.example:6443"}, None),
    ("https://api.example", {"HTTPS_PROXY": "http://p:1", "no_proxy": "*"}, None),
])
def test_proxy_environment_follows_go(server, env, expected):
    assert proxy_from_environment(server, env) == expected


def test_disable_compression(home):
    conn = connect(home, simple(cluster={"disable-compression": True}))
    assert conn.disable_compression
    client = make_http_client(conn)
    assert client.headers["Accept-Encoding"] == "identity"
    assert "gzip" in make_http_client(connect(home, simple())).headers["Accept-Encoding"]


def test_http_client_base_url_and_timeout(home):
    client = make_http_client(connect(home, simple("https://r.example/k8s/clusters/c-1")), timeout=7.5)
    assert str(client.build_request("GET", "/api/v1/nodes").url) == "https://r.example/k8s/clusters/c-1/api/v1/nodes"
    assert client.timeout.read == 7.5
    assert client.headers["User-Agent"].startswith("ktopui/")


def test_plain_http_server_gets_no_credentials(home):
    conn = connect(home, simple("http://127.0.0.1:8080", user={"token": "s3cr3t"}))
    assert conn.auth is None
    assert conn.warnings == ['cluster "c" is plain http: the credentials of user "c" are not sent']


def test_validation_errors_are_aggregated(home):
    doc = simple(cluster={"proxy-url": "ftp://x"}, user={"token": "t", "username": "u", "password": "p"})
    with pytest.raises(ConfigError) as e:
        connect(home, doc)
    assert e.value.message == ("invalid configuration: [invalid 'proxy-url' \"ftp://x\" for cluster \"c\": "
                               "unsupported scheme \"ftp\", must be http, https, or socks5, more than one "
                               "authentication method found for c; found [token basicAuth], only one is allowed]")


def test_secrets_never_in_repr(home):
    doc = simple(user={"token": "s3cr3t-token", "as": "jane"})
    conn = connect(home, doc)
    assert "s3cr3t" not in repr(conn)
    conn = connect(home, simple(user={"username": "bob", "password": "s3cr3t-pw"}))
    assert "s3cr3t" not in repr(conn) and conn.auth_method == "basic auth (user bob)"


@pytest.fixture
def service_account(tmp_path, ca):
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text("sa-token\n")
    (sa / "ca.crt").write_bytes(ca.cert_pem)
    (sa / "namespace").write_text("monitoring")
    return sa


def test_in_cluster_when_no_kubeconfig(home, service_account):
    env = {"HOME": str(home), "KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    conn = load_connection(environ=env, serviceaccount_dir=str(service_account))
    assert conn.server == "https://10.96.0.1:443"
    assert (conn.context, conn.cluster, conn.user) == ("", "", "")
    assert (conn.namespace, conn.namespace_source) == ("monitoring", "in-cluster")
    assert conn.auth_method == "in-cluster service account"
    assert conn.ssl_context.cert_store_stats()["x509_ca"] == 1
    assert conn.config_files == []
    request = make_http_client(conn).build_request("GET", "/api")
    assert next(conn.auth.auth_flow(request)).headers["Authorization"] == "Bearer sa-token"


def test_in_cluster_namespace_flag_and_ipv6(home, service_account):
    env = {"HOME": str(home), "KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443",
           "POD_NAMESPACE": "from-env"}
    conn = load_connection(environ=env, serviceaccount_dir=str(service_account))
    assert conn.server == "https://[fd00::1]:443"
    assert conn.namespace == "from-env"
    conn = load_connection(namespace="flagged", environ=env, serviceaccount_dir=str(service_account))
    assert (conn.namespace, conn.namespace_source) == ("flagged", "flag")


def test_in_cluster_needs_token_file_and_service_env(home, tmp_path):
    env = {"HOME": str(home), "KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    with pytest.raises(ConfigError, match="no kubeconfig found"):
        load_connection(environ=env, serviceaccount_dir=str(tmp_path / "absent"))


def test_in_cluster_without_ca_uses_system_roots(home, tmp_path):
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text("t")
    env = {"HOME": str(home), "KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    conn = load_connection(environ=env, serviceaccount_dir=str(sa))
    assert conn.warnings == [f"Expected to load root CA config from {sa / 'ca.crt'}, but got err: "
                             f"open {sa / 'ca.crt'}: no such file or directory"]
    assert conn.ssl_context.verify_mode == ssl.CERT_REQUIRED


def test_kubeconfig_beats_in_cluster(home, service_account):
    env = {"HOME": str(home), "KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    conn = connect(home, simple(), env=env, serviceaccount_dir=str(service_account))
    assert conn.server == "https://k8s.example:6443"


def test_loading_stays_light(home, tmp_path):
    """`ktopui top` must not pay for the kubernetes package (nor cryptography without client certificates)."""
    write(home / ".kube" / "config", simple(user={"auth-provider": {"name": "oidc", "config": {
        "idp-issuer-url": "https://issuer.example", "client-id": "k", "id-token": "a.b.c"}}}))
    code = ("import sys; from ktopui.kube.connection import load_connection, make_http_client;"
            f"c = load_connection(environ={{'HOME': {str(home)!r}}}); make_http_client(c);"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('kubernetes', 'cryptography')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
