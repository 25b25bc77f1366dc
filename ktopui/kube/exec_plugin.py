"""Credential exec plugins (kubeconfig `user.exec`).

Mirrors client-go plugin/pkg/client/auth/exec/exec.go: the plugin gets
KUBERNETES_EXEC_INFO, prints an ExecCredential on stdout, and its
credentials are cached until expirationTimestamp (no skew) and re-fetched
after any 401. Unlike client-go, the request that got the 401 is retried
once with the new credentials, and the plugin's stderr is captured so that a
failure can be reported where the dashboard shows errors.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from ktopui.kube.errors import ConfigError, CredentialError
from ktopui.kube.shared_lock import SharedLock

API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")
INTERACTIVE_MODES = ("Never", "IfAvailable", "Always")
# Extension of a kubeconfig cluster passed to the plugin as spec.cluster.config.
CLUSTER_EXTENSION = "client.authentication.k8s.io/exec"

_INSTALL_HELP = (
    "It looks like you are trying to use a client-go credential plugin that is not installed.\n\n"
    "To learn more about this feature, consult the documentation available at:\n"
    "      https://kubernetes.io/docs/reference/access-authn-authz/authentication/#client-go-credential-plugins"
)
_STDERR_QUOTE_CHARS = 2000
# What is kept of a plugin's stderr (its end, where the error usually is): a
# plugin writing forever must not fill memory.
STDERR_TAIL = 64 * 1024
# An ExecCredential is a few KB even with a certificate and key.
MAX_STDOUT = 1024 * 1024
_READ = 64 * 1024


def validation_errors(user_name: str, raw: dict) -> list[str]:
    """client-go validateAuthInfo's complaints about an exec section."""
    errors = []
    if not raw.get("command"):
        errors.append(f"command must be specified for {user_name} to use exec authentication plugin")
    if not raw.get("apiVersion"):
        errors.append(f"apiVersion must be specified for {user_name} to use exec authentication plugin")
    for env in raw.get("env") or []:
        if not isinstance(env, dict) or not env.get("name"):
            errors.append(f"env variable name must be specified for {user_name} to use exec authentication plugin")
    mode = _interactive_mode(raw)
    if not mode:
        errors.append(f"interactiveMode must be specified for {user_name} to use exec authentication plugin")
    elif mode not in INTERACTIVE_MODES:
        errors.append(f'invalid interactiveMode for {user_name}: "{mode}"')
    return errors


def _interactive_mode(raw: dict) -> str:
    # api/v1/defaults.go: only v1beta1 defaults it; v1 requires it.
    mode = raw.get("interactiveMode") or ""
    if not mode and raw.get("apiVersion") == "client.authentication.k8s.io/v1beta1":
        return "IfAvailable"
    return mode


@dataclass(frozen=True)
class ExecConfig:
    command: str
    args: tuple[str, ...] = field(repr=False)  # arguments and environment may carry secrets
    env: tuple[tuple[str, str], ...] = field(repr=False)
    api_version: str
    interactive_mode: str
    install_hint: str

    @classmethod
    def from_kubeconfig(cls, raw: dict) -> ExecConfig:
        """From a validated exec section."""
        api_version = raw["apiVersion"]
        if api_version not in API_VERSIONS:
            raise ConfigError(f'exec plugin: invalid apiVersion "{api_version}"',
                              hint="Supported: " + ", ".join(API_VERSIONS) + ".")
        return cls(
            command=str(raw["command"]),
            args=tuple(str(a) for a in raw.get("args") or ()),
            env=tuple((str(e["name"]), str(e.get("value") or "")) for e in raw.get("env") or ()),
            api_version=api_version,
            interactive_mode=_interactive_mode(raw),
            install_hint=str(raw.get("installHint") or ""),
        )

    @property
    def name(self) -> str:
        return os.path.basename(self.command)


@dataclass(frozen=True, repr=False)
class ExecCredential:
    token: str | None
    cert_pem: bytes | None
    key_pem: bytes | None
    expires_at: float | None  # epoch seconds; None = valid until the server says otherwise

    def __repr__(self) -> str:
        token = "<redacted>" if self.token else None
        return f"ExecCredential(token={token}, cert={self.cert_pem is not None}, expires_at={self.expires_at})"


def _stdin_is_terminal() -> bool:
    try:
        return os.isatty(0)
    except OSError:
        return False


class ExecPlugin:
    """Runs the plugin when credentials are missing, expired or rejected."""

    def __init__(self, config: ExecConfig, *, cluster_info: dict | None, environ: Mapping[str, str],
                 stdin_is_terminal: Callable[[], bool] = _stdin_is_terminal) -> None:
        self.config = config
        self._cluster_info = cluster_info
        self._environ = dict(environ)
        self._stdin_is_terminal = stdin_is_terminal
        self._cached: ExecCredential | None = None
        self._lock = SharedLock()  # (the dashboard's doctor runs in a loop of its own)

    def __repr__(self) -> str:
        return f"ExecPlugin({self.config.command!r})"

    async def credentials(self) -> ExecCredential:
        async with self._lock:
            if self._cached is None or self._expired(self._cached):
                self._cached = await self._run()
            return self._cached

    async def refresh(self, rejected: ExecCredential) -> ExecCredential:
        """Credentials to use after `rejected` got a 401 (runs the plugin once for concurrent callers)."""
        async with self._lock:
            if self._cached is rejected or self._cached is None:
                self._cached = await self._run()
            return self._cached

    @staticmethod
    def _expired(cred: ExecCredential) -> bool:
        return cred.expires_at is not None and time.time() > cred.expires_at

    def _interactive(self) -> bool:
        mode = self.config.interactive_mode
        if mode == "Never":
            return False
        terminal = self._stdin_is_terminal()
        if mode == "Always" and not terminal:
            raise CredentialError("exec plugin cannot support interactive mode: standard input is not a terminal",
                                  hint=f"The kubeconfig sets interactiveMode: Always for {self.config.command}.")
        return terminal

    def _exec_info(self, interactive: bool) -> str:
        spec: dict = {"interactive": interactive}
        if self._cluster_info is not None:
            spec["cluster"] = self._cluster_info
        return json.dumps({"kind": "ExecCredential", "apiVersion": self.config.api_version, "spec": spec},
                          separators=(",", ":"))

    async def _run(self) -> ExecCredential:
        cfg = self.config
        interactive = self._interactive()
        env = {**self._environ, **dict(cfg.env), "KUBERNETES_EXEC_INFO": self._exec_info(interactive)}
        try:
            proc = await asyncio.create_subprocess_exec(
                cfg.command, *cfg.args, env=env,
                stdin=None if interactive else asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        except (FileNotFoundError, PermissionError, NotADirectoryError):
            hint = _INSTALL_HELP + (f"\n\n{cfg.install_hint}" if cfg.install_hint else "")
            raise CredentialError(f"exec: executable {cfg.command} not found", hint=hint) from None
        except OSError as e:
            raise CredentialError(f"exec: {cfg.command}: {e.strerror or e}") from None
        try:
            stdout, stderr = await asyncio.gather(_read_stdout(proc), _read_stderr(proc.stderr, echo=interactive))
            code = await proc.wait()
        except BaseException:  # cancelled: nobody will use what the plugin prints
            proc.kill()
            raise
        if stdout is None:
            raise CredentialError(
                f"exec plugin {cfg.command} wrote more than {MAX_STDOUT // 1024} KiB on stdout, "
                "more than any credential takes; ktopui stopped it", hint=_quote_stderr(stderr))
        if code != 0:
            raise CredentialError(
                f"exec: executable {cfg.command} failed with exit code {code if code >= 0 else -1}",
                hint=_quote_stderr(stderr))
        try:
            return _parse_credential(stdout, cfg.api_version)
        except CredentialError as e:
            # Never quote stdout: it holds the credentials.
            raise CredentialError(f"exec plugin {cfg.command}: {e.message}", hint=_quote_stderr(stderr)) from None


async def _read_stdout(proc: asyncio.subprocess.Process) -> bytes | None:
    """All of the plugin's stdout; None (and the plugin killed) once it outgrows MAX_STDOUT."""
    out = bytearray()
    while chunk := await proc.stdout.read(_READ):
        out += chunk
        if len(out) > MAX_STDOUT:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            return None
    return bytes(out)


async def _read_stderr(stream: asyncio.StreamReader, *, echo: bool) -> bytes:
    """The last STDERR_TAIL bytes of stderr, read to its end; all of it echoed to ours
    (as kubectl does) when the plugin may be prompting the user."""
    tail = bytearray()
    while chunk := await stream.read(_READ):
        tail += chunk
        if len(tail) > STDERR_TAIL:
            del tail[:-STDERR_TAIL]
        if echo:
            sys.stderr.write(chunk.decode("utf-8", "replace"))
            sys.stderr.flush()
    return bytes(tail)


def _quote_stderr(stderr: bytes) -> str:
    # (CredentialError escapes what could drive the terminal, as it does for every message)
    text = stderr.decode("utf-8", "replace").strip()
    if len(text) > _STDERR_QUOTE_CHARS:
        text = "..." + text[-_STDERR_QUOTE_CHARS:]
    return f"Plugin stderr:\n{text}" if text else "The plugin wrote nothing on stderr."


def _parse_credential(stdout: bytes, api_version: str) -> ExecCredential:
    """Validate an ExecCredential with client-go's error texts."""
    try:
        doc = json.loads(stdout)
    except ValueError as e:
        raise CredentialError(f"decoding stdout: {getattr(e, 'msg', 'invalid JSON')}") from None
    if not isinstance(doc, dict):
        raise CredentialError("decoding stdout: expected an ExecCredential object")
    returned = doc.get("apiVersion", "")
    if returned != api_version:
        raise CredentialError(f"exec plugin is configured to use API version {api_version}, "
                              f"plugin returned version {returned}")
    if (kind := doc.get("kind", "ExecCredential")) != "ExecCredential":
        raise CredentialError(f'decoding stdout: no kind "{kind}" is registered for version "{api_version}"')
    status = doc.get("status")
    if not isinstance(status, dict):
        raise CredentialError("exec plugin didn't return a status field")
    for field_name in ("token", "clientCertificateData", "clientKeyData", "expirationTimestamp"):
        if not isinstance(status.get(field_name) or "", str):
            raise CredentialError(f"decoding stdout: status.{field_name} must be a string")
    token = status.get("token") or None
    cert = status.get("clientCertificateData") or None
    key = status.get("clientKeyData") or None
    if not (token or cert or key):
        raise CredentialError("exec plugin didn't return a token or cert/key pair")
    if (cert is None) != (key is None):
        raise CredentialError("exec plugin returned only certificate or key, not both")
    expires_at = None
    if stamp := status.get("expirationTimestamp"):
        try:
            expires_at = datetime.fromisoformat(stamp).timestamp()
        except ValueError:
            raise CredentialError(f"decoding stdout: invalid expirationTimestamp {stamp!r}") from None
    return ExecCredential(token=token, cert_pem=cert.encode() if cert else None,
                          key_pem=key.encode() if key else None, expires_at=expires_at)


def cluster_info(*, server: str, tls_server_name: str | None, insecure: bool, ca_pem: bytes | None,
                 proxy_url: str | None, disable_compression: bool, extension) -> dict:
    """spec.cluster for provideClusterInfo (clientauthentication v1 Cluster, omitempty fields left out)."""
    info: dict = {"server": server}
    if tls_server_name:
        info["tls-server-name"] = tls_server_name
    if insecure:
        info["insecure-skip-tls-verify"] = True
    if ca_pem:
        info["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
    if proxy_url:
        info["proxy-url"] = proxy_url
    if disable_compression:
        info["disable-compression"] = True
    if extension is not None:
        info["config"] = extension
    return info
