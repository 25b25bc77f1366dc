"""From the user's kubeconfig (or the pod's service account) to one httpx.AsyncClient.

load_connection() does what kubectl does before its first request: select and
merge kubeconfig files, pick the context, validate what it references
(client-go ConfirmUsable), build TLS, pick the proxy and the credentials, and
compute the namespace. It reads files but makes no network call and runs no
plugin; exec plugins and OIDC refreshes run on the first request that needs
them.
"""

from __future__ import annotations

import importlib.util
import os
import re
import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx

from ktopui import __version__
from ktopui.kube import kubeconfig as kc
from ktopui.kube.auth import TokenFileAuth, UserAuth, auth_for_user
from ktopui.kube.auth import validation_errors as user_validation_errors
from ktopui.kube.errors import ConfigError
from ktopui.kube.exec_plugin import CLUSTER_EXTENSION, cluster_info
from ktopui.kube.inflate import ACCEPT_ENCODING
from ktopui.kube.proxy import proxy_from_environment, proxy_url_error
from ktopui.kube.tls import build_context

SERVICEACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"

_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


@dataclass
class ClusterConnection:
    server: str  # base URL, no trailing slash
    context: str  # context name ("" in-cluster)
    cluster: str
    user: str
    namespace: str  # effective namespace
    namespace_source: str  # "flag" | "context" | "in-cluster" | "default"
    ssl_context: ssl.SSLContext  # carries tls-server-name and the client certificate
    insecure: bool
    tls_server_name: str | None
    proxy: str | None  # the cluster's proxy-url; None = proxy environment (env_proxy)
    auth: httpx.Auth | None
    auth_method: str  # for people, never the secret
    config_files: list[str]
    warnings: list[str]
    disable_compression: bool
    # The proxy HTTPS_PROXY/HTTP_PROXY/NO_PROXY give for `server` (Go's rules), used when proxy is None.
    env_proxy: str | None = None


def load_connection(*, kubeconfig: str | None = None, context: str | None = None,
                    namespace: str | None = None, environ: Mapping[str, str] | None = None,
                    serviceaccount_dir: str = SERVICEACCOUNT_DIR) -> ClusterConnection:
    """The connection kubectl would use with these --kubeconfig/--context/--namespace flags.

    Raises ConfigError (or CredentialError for an unreadable tokenFile) with
    client-go's texts. `environ` supplies KUBECONFIG, HOME, the proxy
    variables, the in-cluster variables and the exec plugins' environment.
    """
    env = os.environ if environ is None else environ
    config = kc.load(kubeconfig, env)
    if config.is_empty() and not context:
        # client-go DeferredLoadingClientConfig: in-cluster only when nothing is configured.
        if in_cluster_possible(env, serviceaccount_dir):
            return _in_cluster(namespace, env, serviceaccount_dir, config.warnings)
        raise kc.nothing_configured(config)
    sel = kc.select(config, context)
    warnings = list(config.warnings)

    errors, cluster_warnings = _cluster_validation(sel.cluster_name, sel.cluster)
    user_errors, user_warnings = user_validation_errors(sel.user_name, sel.user)
    errors += user_errors
    if errors:
        # errConfigurationInvalid formatting
        raise ConfigError("invalid configuration: " + (errors[0] if len(errors) == 1 else f"[{', '.join(errors)}]"))
    warnings += cluster_warnings + user_warnings

    cluster, where = sel.cluster, f'cluster "{sel.cluster_name}"'
    insecure = kc.bool_field(cluster, "insecure-skip-tls-verify", where)
    server_name = kc.string_field(cluster, "tls-server-name", where) or None
    disable_compression = kc.bool_field(cluster, "disable-compression", where)
    ca_pem = kc.data_field(cluster, "certificate-authority-data", where)
    if ca_pem is None and (ca_file := kc.string_field(cluster, "certificate-authority", where)):
        ca_pem = _read(ca_file)
    has_client_cert = bool(sel.user.get("client-certificate") or sel.user.get("client-certificate-data"))
    server, userinfo = _server_url(kc.string_field(cluster, "server", where), sel.cluster_name,
                                   tls=bool(ca_pem) or insecure or has_client_cert)
    ssl_context = build_context(ca_pem=ca_pem, insecure=insecure, server_name=server_name, where=where)
    if insecure:
        warnings.append(f"insecure-skip-tls-verify is set for {where}: the server's certificate is not verified")

    proxy = kc.string_field(cluster, "proxy-url", where) or None
    env_proxy = None if proxy else proxy_from_environment(server, env)
    _check_socks_support(proxy or env_proxy)

    if server.startswith("https://"):
        extension = next((e.get("extension") for e in cluster.get("extensions") or []
                          if isinstance(e, dict) and e.get("name") == CLUSTER_EXTENSION), None)
        user_auth = auth_for_user(
            sel.user_name, sel.user, ssl_context=ssl_context, origin=sel.user_origin, environ=env,
            exec_cluster_info=cluster_info(server=server, tls_server_name=server_name, insecure=insecure,
                                           ca_pem=ca_pem, proxy_url=proxy, disable_compression=disable_compression,
                                           extension=extension),
            url_userinfo=userinfo)
    else:
        # client-go reads credentials only for TLS transports (IsConfigTransportTLS).
        user_auth = UserAuth(None, "none (plain http)")
        if sel.user:
            warnings.append(f'{where} is plain http: the credentials of user "{sel.user_name}" are not sent')
    warnings += user_auth.warnings

    context_ns = kc.string_field(sel.context_entry, "namespace", f'context "{sel.context}"')
    ns, ns_source = _namespace(namespace, context_ns, env, serviceaccount_dir, sel.context)
    return ClusterConnection(
        server=server, context=sel.context, cluster=sel.cluster_name, user=sel.user_name,
        namespace=ns, namespace_source=ns_source, ssl_context=ssl_context, insecure=insecure,
        tls_server_name=server_name, proxy=proxy, auth=user_auth.auth, auth_method=user_auth.method,
        config_files=config.files, warnings=warnings, disable_compression=disable_compression,
        env_proxy=env_proxy)


def _cluster_validation(name: str, cluster: dict) -> tuple[list[str], list[str]]:
    """client-go validateClusterInfo: (errors, warnings). CA data and file together
    is an error in kubectl; here the data wins with a warning, as the message says."""
    errors, warnings = [], []
    if not cluster.get("server"):
        errors.append(f'no server found for cluster "{name}"')
    if proxy_url := cluster.get("proxy-url"):
        if problem := proxy_url_error(str(proxy_url)):
            errors.append(f"invalid 'proxy-url' \"{proxy_url}\" for cluster \"{name}\": {problem}")
    ca_file = cluster.get("certificate-authority")
    if ca_file and cluster.get("certificate-authority-data"):
        warnings.append(f"certificate-authority-data and certificate-authority are both specified for {name}. "
                        "certificate-authority-data will override.")
    elif isinstance(ca_file, str) and ca_file:
        try:
            open(ca_file, "rb").close()
        except OSError as e:
            errors.append(f"unable to read certificate-authority {ca_file} for {name} due to "
                          f"{kc.go_os_error('open', ca_file, e)}")
    return errors, warnings


def _server_url(server: str, cluster_name: str, *, tls: bool) -> tuple[str, tuple[str, str] | None]:
    """Base URL without query, fragment, trailing slash or user and password, and
    those (None when absent). A server without a scheme is https when TLS is
    configured (client-go DefaultServerURL). The URL is shown and logged, so
    the password must not stay in it."""
    parts = urlsplit(server)
    if not parts.scheme or not parts.netloc:
        parts = urlsplit(("https://" if tls else "http://") + server)
    try:
        valid = parts.scheme in ("http", "https") and bool(parts.hostname) and (parts.port or 0) >= 0
    except ValueError:  # a port that is not a number
        valid = False
    if not valid:
        shown = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
        raise ConfigError(f'invalid server URL "{shown}" for cluster "{cluster_name}"')
    userinfo = None
    if parts.username is not None or parts.password is not None:
        userinfo = (unquote(parts.username or ""), unquote(parts.password or ""))
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", "")), userinfo


def _check_socks_support(proxy: str | None) -> None:
    if proxy and proxy.startswith("socks5") and importlib.util.find_spec("socksio") is None:
        raise ConfigError(f"proxy {proxy} needs SOCKS support, which is not installed",
                          hint="Install it with: pip install 'ktopui[socks]'")


def _namespace(flag: str | None, from_context: str, env: Mapping[str, str], sa_dir: str,
               context: str) -> tuple[str, str]:
    """--namespace, else the context's, else (when in-cluster config is possible)
    POD_NAMESPACE or the service account's, else "default"
    (client-go DeferredLoadingClientConfig.Namespace)."""
    if flag:
        ns, source = flag, "flag"
    elif from_context:
        ns, source = from_context, "context"
    elif (pod_ns := _pod_namespace(env, sa_dir)) is not None:
        ns, source = pod_ns, "in-cluster"
    else:
        ns, source = "default", "default"
    if len(ns) > 63 or not _DNS1123_LABEL.fullmatch(ns):
        where = f' for context "{context}"' if source == "context" else ""
        raise ConfigError(f'namespace "{ns}"{where} does not conform to the kubernetes DNS_LABEL rules')
    return ns, source


def _pod_namespace(env: Mapping[str, str], sa_dir: str) -> str | None:
    if not in_cluster_possible(env, sa_dir):
        return None
    if env.get("POD_NAMESPACE"):
        return env["POD_NAMESPACE"]
    try:
        with open(os.path.join(sa_dir, "namespace"), encoding="utf-8") as f:
            return f.read().strip() or None
    except OSError:
        return None


def in_cluster_possible(env: Mapping[str, str], sa_dir: str = SERVICEACCOUNT_DIR) -> bool:
    """client-go inClusterClientConfig.Possible."""
    return bool(env.get("KUBERNETES_SERVICE_HOST") and env.get("KUBERNETES_SERVICE_PORT")
                and os.path.isfile(os.path.join(sa_dir, "token")))


def _in_cluster(namespace: str | None, env: Mapping[str, str], sa_dir: str,
                warnings: list[str]) -> ClusterConnection:
    """client-go rest.InClusterConfig: the service account token (re-read as the
    kubelet rotates it) and CA, the API server from KUBERNETES_SERVICE_HOST/PORT."""
    host, port = env["KUBERNETES_SERVICE_HOST"], env["KUBERNETES_SERVICE_PORT"]
    server = f"https://{f'[{host}]' if ':' in host else host}:{port}"
    ca_path = os.path.join(sa_dir, "ca.crt")
    try:
        ca_pem = _read(ca_path)
    except ConfigError as e:
        ca_pem = None
        warnings = [*warnings, f"Expected to load root CA config from {ca_path}, but got err: {e.message}"]
    ssl_context = build_context(ca_pem=ca_pem, insecure=False, server_name=None, where="the in-cluster config")
    ns, source = _namespace(namespace, "", env, sa_dir, "")
    env_proxy = proxy_from_environment(server, env)
    _check_socks_support(env_proxy)
    return ClusterConnection(
        server=server, context="", cluster="", user="", namespace=ns, namespace_source=source,
        ssl_context=ssl_context, insecure=False, tls_server_name=None, proxy=None,
        auth=TokenFileAuth(os.path.join(sa_dir, "token")), auth_method="in-cluster service account",
        config_files=[], warnings=list(warnings), disable_compression=False, env_proxy=env_proxy)


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        raise ConfigError(kc.go_os_error("open", path, e)) from None


def make_http_client(conn: ClusterConnection, *, timeout: float = 30.0) -> httpx.AsyncClient:
    """The client for every request to the cluster: relative URLs ("/api/v1/nodes")."""
    # gzip only, inflated by kube/inflate.py a bounded piece at a time.
    headers = {"User-Agent": f"ktopui/{__version__}",
               "Accept-Encoding": "identity" if conn.disable_compression else ACCEPT_ENCODING}
    return httpx.AsyncClient(
        base_url=conn.server, auth=conn.auth, headers=headers, timeout=timeout,
        transport=_ClusterTransport(conn.ssl_context, conn.proxy or conn.env_proxy),
        trust_env=False,  # proxies are resolved in load_connection
    )


class _ClusterTransport(httpx.AsyncBaseTransport):
    """The connection pool for one cluster.

    When an exec plugin rotates the client certificate, new requests go to a
    fresh pool and the old one is closed once its responses are finished
    (client-go closes every connection then: exec.go connTracker.CloseAll,
    since a pooled connection keeps presenting the old certificate).
    """

    def __init__(self, ssl_context: ssl.SSLContext, proxy: str | None) -> None:
        self._ssl_context = ssl_context
        self._proxy = proxy
        self._generation = self._cert_generation()
        self._pool = self._new_pool()
        self._in_flight = {self._pool: 0}

    def _cert_generation(self) -> int:
        return getattr(self._ssl_context, "cert_generation", 0)

    def _new_pool(self) -> httpx.AsyncHTTPTransport:
        return httpx.AsyncHTTPTransport(verify=self._ssl_context, proxy=self._proxy, trust_env=False)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if (generation := self._cert_generation()) != self._generation:
            retired = self._pool
            self._generation, self._pool = generation, self._new_pool()
            self._in_flight[self._pool] = 0
            await self._close_if_retired(retired)
        pool = self._pool
        self._in_flight[pool] += 1
        try:
            response = await pool.handle_async_request(request)
        except BaseException:
            await self._finished(pool)
            raise
        response.stream = _NotifyOnClose(response.stream, lambda: self._finished(pool))
        return response

    async def _finished(self, pool: httpx.AsyncHTTPTransport) -> None:
        if pool in self._in_flight:  # not after aclose()
            self._in_flight[pool] -= 1
            await self._close_if_retired(pool)

    async def _close_if_retired(self, pool: httpx.AsyncHTTPTransport) -> None:
        if pool is not self._pool and self._in_flight[pool] == 0:
            del self._in_flight[pool]
            await pool.aclose()

    async def aclose(self) -> None:
        for pool in list(self._in_flight):
            await pool.aclose()
        self._in_flight.clear()


class _NotifyOnClose(httpx.AsyncByteStream):
    def __init__(self, stream, on_close: Callable) -> None:
        self._stream = stream
        self._on_close = on_close
        self._closed = False

    async def __aiter__(self):
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            if not self._closed:
                self._closed = True
                await self._on_close()
