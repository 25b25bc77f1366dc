"""Credentials of a kubeconfig user, as httpx.Auth.

Which credentials a user gets follows kubectl (client-go client_config.go
getUserIdentificationPartialConfig and transport/round_trippers.go): a
static token or basic auth is put in the Authorization header first, so it
short-circuits exec plugins and auth-providers; a client certificate in the
kubeconfig also disables exec plugins; token + basic auth is an error.

No object here shows a secret in its repr or in an error message.
"""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncGenerator, Generator, Mapping
from dataclasses import dataclass, field
from urllib.parse import quote

import httpx

from ktopui.kube import exec_plugin, oidc
from ktopui.kube.errors import ConfigError, CredentialError
from ktopui.kube.exec_plugin import ExecConfig, ExecCredential, ExecPlugin
from ktopui.kube.kubeconfig import bool_field, data_field, go_os_error, string_field
from ktopui.kube.tls import KubeSSLContext, describe_cert

TOKEN_FILE_PERIOD = 60.0  # client-go NewCachedFileTokenSource re-reads every minute

_REMOVED_PROVIDERS = {
    "gcp": "Use the gke-gcloud-auth-plugin exec plugin instead: "
           "https://cloud.google.com/blog/products/containers-kubernetes/kubectl-auth-changes-in-gke",
    "azure": "Use the kubelogin exec plugin instead: https://github.com/Azure/kubelogin",
}


def header_problem(value: str) -> str:
    """Why `value` cannot go in an HTTP header ("" if it can), naming the place, never the value."""
    for i, ch in enumerate(value):
        if ch in "\r\n":
            what = "a line break"
        elif ord(ch) > 126:
            what = "a non-ASCII character"
        elif ord(ch) < 32 and ch != "\t" or ord(ch) == 127:
            what = "a control character"
        else:
            continue
        return f"contains {what} (character {i + 1} of {len(value)}), which cannot be sent in an HTTP header"
    return ""


def checked_token(token: str, whose: str, error: type[ConfigError] | type[CredentialError] = CredentialError) -> str:
    """`token` without surrounding whitespace (a pasted token often ends in a newline;
    client-go trims token files so); `error` naming `whose` if it still cannot be sent."""
    token = token.strip()
    if problem := header_problem(token):
        raise error(f"the token of {whose} {problem}",
                    hint="Copy the token again, without line breaks or other characters around it.")
    return token


class KubeAuth(httpx.Auth):
    """Base: adds impersonation headers (kubeconfig `as`, `as-groups`...) and
    leaves a request that already carries credentials alone, as every
    client-go auth round-tripper does."""

    def __init__(self) -> None:
        self.impersonation: list[tuple[str, str]] = []

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def _prepare(self, request: httpx.Request) -> bool:
        """Add impersonation headers; True if the request already has an Authorization header."""
        if self.impersonation:
            names = {name.lower() for name, _ in self.impersonation}
            kept = [(k, v) for k, v in request.headers.multi_items() if k.lower() not in names]
            request.headers = httpx.Headers(kept + self.impersonation)
        return "Authorization" in request.headers

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self._prepare(request)
        yield request


class BearerTokenAuth(KubeAuth):
    def __init__(self, token: str) -> None:
        super().__init__()
        self._header = f"Bearer {token}"

    def auth_flow(self, request):
        if not self._prepare(request):
            request.headers["Authorization"] = self._header
        yield request


class BasicAuth(KubeAuth):
    def __init__(self, username: str, password: str) -> None:
        super().__init__()
        self.username = username
        self._header = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()

    def __repr__(self) -> str:
        return f"BasicAuth(username={self.username!r})"

    def auth_flow(self, request):
        if not self._prepare(request):
            request.headers["Authorization"] = self._header
        yield request


class TokenFileAuth(KubeAuth):
    """Bearer token read from a file that something else rotates (projected
    service account tokens, tokenFile). Re-read every `period` seconds and
    after a 401; the request is then retried once if the token changed.
    Whitespace is trimmed (client-go transport/token_source.go). If a read
    fails, the last token read (or the kubeconfig `token`) is kept."""

    requires_request_body = True  # the request may be sent twice

    def __init__(self, path: str, *, fallback: str | None = None, period: float = TOKEN_FILE_PERIOD) -> None:
        super().__init__()
        self.path = path
        self._period = period
        self._token = fallback
        self._read_at = float("-inf")
        if fallback is None:
            self._read()  # like client-go, an unreadable tokenFile fails at load

    def __repr__(self) -> str:
        return f"TokenFileAuth({self.path!r})"

    def _read(self) -> str:
        """Re-read the file; on failure keep the last token (client-go cachingTokenSource)."""
        self._read_at = time.monotonic()
        try:
            with open(self.path, encoding="utf-8", errors="replace") as f:
                token = f.read().strip()
        except OSError as e:
            if self._token is None:
                raise CredentialError(go_os_error("open", self.path, e)) from None
            return self._token
        if not token:
            if self._token is None:
                raise CredentialError(f'read empty token from file "{self.path}"')
            return self._token
        try:
            self._token = checked_token(token, f'token file "{self.path}"')
        except CredentialError:
            if self._token is None:
                raise
        return self._token

    def current_token(self) -> str:
        if self._token is None or time.monotonic() - self._read_at >= self._period:
            return self._read()
        return self._token

    def auth_flow(self, request):
        if self._prepare(request):
            yield request
            return
        token = self.current_token()
        request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401 and self._read() != token:
            request.headers["Authorization"] = f"Bearer {self._token}"
            yield request


class ExecAuth(KubeAuth):
    """Bearer token and/or client certificate from an exec plugin."""

    requires_request_body = True  # the request may be sent twice

    def __init__(self, plugin: ExecPlugin, ssl_context: KubeSSLContext) -> None:
        super().__init__()
        self.plugin = plugin
        self._ssl_context = ssl_context
        self._cert_loaded: ExecCredential | None = None

    def __repr__(self) -> str:
        return f"ExecAuth({self.plugin.config.command!r})"

    def sync_auth_flow(self, request):
        raise RuntimeError("exec plugin credentials need an httpx.AsyncClient")

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if self._prepare(request):
            yield request
            return
        await request.aread()
        cred = await self.plugin.credentials()
        self._apply(request, cred)
        response = yield request
        if response.status_code != 401:
            return
        fresh = await self.plugin.refresh(cred)
        if fresh != cred:
            self._apply(request, fresh)
            yield request

    def _apply(self, request: httpx.Request, cred: ExecCredential) -> None:
        if cred.token:
            token = checked_token(cred.token, f"exec plugin {self.plugin.config.command}")
            request.headers["Authorization"] = f"Bearer {token}"
        else:
            request.headers.pop("Authorization", None)
        if cred.cert_pem and self._cert_loaded is not cred:
            try:
                self._ssl_context.load_client_cert(cred.cert_pem, cred.key_pem or b"")
            except (OSError, ValueError) as e:
                raise CredentialError(f"exec plugin {self.plugin.config.command}: failed parsing client "
                                      f"key/certificate: {getattr(e, 'reason', None) or e}") from None
            self._cert_loaded = cred


class OIDCAuth(KubeAuth):
    def __init__(self, provider: oidc.OIDCProvider) -> None:
        super().__init__()
        self.provider = provider

    def __repr__(self) -> str:
        return f"OIDCAuth(issuer={self.provider.issuer!r})"

    def sync_auth_flow(self, request):
        raise RuntimeError("oidc credentials need an httpx.AsyncClient")

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        if not self._prepare(request):
            token = checked_token(await self.provider.id_token(), f"the oidc provider {self.provider.issuer}")
            request.headers["Authorization"] = f"Bearer {token}"
        yield request


@dataclass
class UserAuth:
    auth: httpx.Auth | None
    method: str
    warnings: list[str] = field(default_factory=list)


def validation_errors(name: str, user: dict) -> tuple[list[str], list[str]]:
    """client-go validateAuthInfo: (errors, warnings).

    Both data and file for the client certificate or key is an error in
    kubectl; here the data wins with a warning, as the message itself says.
    """
    errors, warnings = [], []
    methods = [m for m, present in (("token", user.get("token")),
                                    ("basicAuth", user.get("username") or user.get("password"))) if present]
    if len(methods) > 1:
        errors.append(f"more than one authentication method found for {name}; found [{' '.join(methods)}], "
                      "only one is allowed")
    if user.get("client-certificate") or user.get("client-certificate-data"):
        if user.get("client-certificate") and user.get("client-certificate-data"):
            warnings.append(f"client-cert-data and client-cert are both specified for {name}. "
                            "client-cert-data will override.")
        if user.get("client-key") and user.get("client-key-data"):
            warnings.append(f"client-key-data and client-key are both specified for {name}; "
                            "client-key-data will override")
        if not (user.get("client-key") or user.get("client-key-data")):
            errors.append(f"client-key-data or client-key must be specified for {name} to use the clientCert "
                          "authentication method.")
        for key, label in (("client-certificate", "client-cert"), ("client-key", "client-key")):
            path = user.get(key)
            if isinstance(path, str) and path and not user.get(key + "-data"):
                try:
                    open(path, "rb").close()
                except OSError as e:
                    errors.append(f"unable to read {label} {path} for {name} due to {go_os_error('open', path, e)}")
    exec_cfg = user.get("exec")
    if exec_cfg is not None:
        if user.get("auth-provider") is not None:
            errors.append(f"authProvider cannot be provided in combination with an exec plugin for {name}")
        if isinstance(exec_cfg, dict):
            errors.extend(exec_plugin.validation_errors(name, exec_cfg))
        else:
            errors.append(f"exec of {name} must be an object")
    if (user.get("as-groups") or user.get("as-user-extra")) and not user.get("as"):
        errors.append(f"requesting groups or user-extra for {name} without impersonating a user")
    return errors, warnings


def auth_for_user(name: str, user: dict, *, ssl_context: KubeSSLContext, origin: str | None,
                  exec_cluster_info: dict, environ: Mapping[str, str],
                  url_userinfo: tuple[str, str] | None = None) -> UserAuth:
    """The credentials of a validated kubeconfig user; loads its client
    certificate into `ssl_context`. `exec_cluster_info` is spec.cluster for an
    exec plugin that asks for it. `url_userinfo`: the user and password written
    in the cluster's server URL, sent as basic auth when the user has no
    credentials of their own (kubectl sends them even then, in place of the
    user's token)."""
    where = f'user "{name}"'
    token = string_field(user, "token", where)
    if token:
        token = checked_token(token, where, ConfigError)
    token_file = string_field(user, "tokenFile", where)
    username = string_field(user, "username", where)
    password = string_field(user, "password", where)
    provider = user.get("auth-provider")
    exec_cfg = user.get("exec")
    methods: list[str] = []
    warnings: list[str] = []

    cert = _load_client_cert(name, user, ssl_context, environ)
    # Checked even when a token makes it unused: kubectl fails on removed providers too.
    provider_auth = _auth_provider(name, provider, origin, environ) if provider is not None else None

    header_auth: KubeAuth | None = None
    if token_file:
        if username or password:
            raise ConfigError("username/password or bearer token may be set, but not both", hint=f"For {where}.")
        header_auth = TokenFileAuth(token_file, fallback=token or None)
        methods.append(f"token file {_home_relative(token_file, environ)}")
    elif token:
        header_auth = BearerTokenAuth(token)
        methods.append("bearer token")
    elif username or password:
        header_auth = BasicAuth(username, password)
        methods.append(f"basic auth (user {username})")

    if url_userinfo is not None:
        if header_auth is None and exec_cfg is None and provider_auth is None:
            header_auth = BasicAuth(*url_userinfo)
            methods.append(f"basic auth from the server URL (user {url_userinfo[0]})")
        else:
            warnings.append(f"the user and password in the server URL are not sent: {where} has credentials "
                            "of its own")

    auth: KubeAuth | None = header_auth
    if exec_cfg is not None:
        config = ExecConfig.from_kubeconfig(exec_cfg)
        if header_auth is not None or cert:
            warnings.append(f"exec plugin {config.command} is not run: {where} also has "
                            f"{'a client certificate' if cert and header_auth is None else methods[0]}")
        else:
            info = exec_cluster_info if bool_field(exec_cfg, "provideClusterInfo", f"exec of {where}") else None
            auth = ExecAuth(ExecPlugin(config, cluster_info=info, environ=environ), ssl_context)
            methods.append(f"exec plugin {config.name}")
    elif provider_auth is not None:
        if header_auth is not None:
            warnings.append(f"auth-provider {provider_auth.provider.issuer} is not used: "
                            f"{where} also has {methods[0]}")
        else:
            auth = provider_auth
            methods.append(f"oidc (issuer {provider_auth.provider.issuer})")
    if cert:
        methods.append(cert)

    impersonation = _impersonation_headers(user, where)
    if impersonation:
        auth = auth or KubeAuth()
        auth.impersonation = impersonation
        methods.append(f"impersonating {user['as']}")
    return UserAuth(auth=auth, method=", ".join(methods) or "none", warnings=warnings)


def _auth_provider(name: str, provider, origin: str | None, environ: Mapping[str, str]) -> OIDCAuth:
    if not isinstance(provider, dict):
        raise ConfigError(f'auth-provider of user "{name}" must be an object')
    kind = provider.get("name") or ""
    if kind in _REMOVED_PROVIDERS:
        raise ConfigError(f"The {kind} auth plugin has been removed.", hint=_REMOVED_PROVIDERS[kind])
    if kind != "oidc":
        raise ConfigError(f'no Auth Provider found for name "{kind}"',
                          hint="Only oidc is supported; other providers are replaced by exec plugins.")
    cfg = provider.get("config") or {}
    if not isinstance(cfg, dict):
        raise ConfigError(f'auth-provider config of user "{name}" must be an object')
    cfg = {str(k): str(v) for k, v in cfg.items()}
    oidc.check_config(cfg)
    return OIDCAuth(oidc.OIDCProvider(cfg, kubeconfig_file=origin, user_name=name, environ=environ))


def _load_client_cert(name: str, user: dict, ctx: KubeSSLContext, environ: Mapping[str, str]) -> str:
    """Load the kubeconfig client certificate, if any; its description for people.

    Each of certificate and key comes from its -data field if set, else its file."""
    where = f'user "{name}"'
    cert_data = data_field(user, "client-certificate-data", where)
    key_data = data_field(user, "client-key-data", where)
    cert_file = string_field(user, "client-certificate", where)
    key_file = string_field(user, "client-key", where)
    if not (cert_data or cert_file):
        return ""
    try:
        if cert_data is None and key_data is None:
            ctx.load_client_cert_files(cert_file, key_file)
            cert_data = _read(cert_file)
        else:
            cert_data = cert_data or _read(cert_file)
            ctx.load_client_cert(cert_data, key_data or _read(key_file))
    except OSError as e:
        reason = getattr(e, "reason", None) or e
        raise ConfigError(f"unable to load client certificate for {where}: {reason}") from None
    source = "data" if user.get("client-certificate-data") else _home_relative(cert_file, environ)
    return f"client certificate {source} ({describe_cert(cert_data)})"


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _impersonation_headers(user: dict, where: str) -> list[tuple[str, str]]:
    """client-go transport/round_trippers.go impersonatingRoundTripper."""
    as_user = string_field(user, "as", where)
    if not as_user:
        return []
    headers = [("Impersonate-User", as_user)]
    if uid := string_field(user, "as-uid", where):
        headers.append(("Impersonate-Uid", uid))
    headers += [("Impersonate-Group", str(g)) for g in user.get("as-groups") or []]
    for key, values in (user.get("as-user-extra") or {}).items():
        name = "Impersonate-Extra-" + quote(str(key), safe="!#$&'*+-.^_`|~")
        headers += [(name, str(v)) for v in (values if isinstance(values, list) else [values])]
    for header, value in headers:
        if problem := header_problem(value):
            raise ConfigError(f"invalid configuration: the {header} value of {where} {problem}")
    return headers


def _home_relative(path: str, environ: Mapping[str, str]) -> str:
    home = environ.get("HOME") or ""
    if home and (path == home or path.startswith(home.rstrip("/") + "/")):
        return "~" + path[len(home.rstrip("/")):]
    return path
