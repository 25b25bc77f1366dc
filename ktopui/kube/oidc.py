"""auth-provider `oidc`, as client-go plugin/pkg/client/auth/oidc/oidc.go does it.

Not through the `kubernetes` package: its loader refreshes with a blocking
network call while loading, skips TLS verification of the identity provider
when no idp-certificate-authority is given, and ignores tokens containing
'=', '+' or '/'. Here: the id-token is used while it is valid for 10 more
seconds; otherwise the refresh-token is exchanged at the issuer's token
endpoint (OpenID discovery) on the first request that needs it, and the new
tokens are written back to the kubeconfig file that defines the user.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
import time
from collections.abc import Mapping
from urllib.parse import parse_qsl, quote

import httpx
import yaml

from ktopui.kube.errors import ConfigError, CredentialError
from ktopui.kube.kubeconfig import KubeconfigLoader
from ktopui.kube.shared_lock import SharedLock
from ktopui.kube.proxy import proxy_from_environment
from ktopui.kube.tls import build_context

EXPIRY_DELTA = 10.0  # seconds, client-go expiryDelta


def check_config(cfg: Mapping[str, str]) -> None:
    """newOIDCAuthProvider's checks, done when the kubeconfig is loaded."""
    for key in ("idp-issuer-url", "client-id"):
        if not cfg.get(key):
            raise ConfigError(f"Must provide {key}", hint="In the oidc auth-provider config of the kubeconfig user.")


def id_token_expired(id_token: str, now: float) -> bool:
    parts = id_token.split(".")
    if len(parts) != 3:
        raise CredentialError("ID Token is not a valid JWT")
    try:
        payload = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(payload)
        exp = float(claims.get("exp") or 0) if isinstance(claims, dict) else 0.0
    except (binascii.Error, ValueError, TypeError):
        raise CredentialError("ID Token is not a valid JWT: cannot parse its claims") from None
    return not now + EXPIRY_DELTA < exp


class OIDCProvider:
    def __init__(self, cfg: Mapping[str, str], *, kubeconfig_file: str | None, user_name: str,
                 environ: Mapping[str, str]) -> None:
        self._cfg = dict(cfg)
        self._file = kubeconfig_file
        self._user = user_name
        self._environ = environ
        self._lock = SharedLock()  # (the dashboard's doctor runs in a loop of its own)

    @property
    def issuer(self) -> str:
        return self._cfg["idp-issuer-url"]

    def __repr__(self) -> str:
        return f"OIDCProvider(issuer={self.issuer!r})"

    async def id_token(self) -> str:
        async with self._lock:
            token = self._cfg.get("id-token")
            if token and not id_token_expired(token, time.time()):
                return token
            refresh_token = self._cfg.get("refresh-token")
            if not refresh_token:
                raise CredentialError("No valid id-token, and cannot refresh without refresh-token",
                                      hint=f"Log in again to {self.issuer}.")
            async with self._http_client() as client:
                token_url = await self._token_endpoint(client)
                answer = await self._refresh(client, token_url, refresh_token)
            id_token = answer.get("id_token")
            if not isinstance(id_token, str) or not id_token:
                raise CredentialError(
                    "token response did not contain an id_token, either the scope \"openid\" wasn't requested "
                    "upon login, or the provider doesn't support id_tokens as part of the refresh response")
            new = dict(self._cfg, **{"id-token": id_token})
            if answer.get("refresh_token"):
                new["refresh-token"] = answer["refresh_token"]
            try:
                self._persist(new)
            except (OSError, ValueError, yaml.YAMLError) as e:
                raise CredentialError(f"could not persist new tokens: {e}") from None
            self._cfg = new
            return id_token

    def _http_client(self) -> httpx.AsyncClient:
        ca = self._cfg.get("idp-certificate-authority-data")
        if ca:
            try:
                ca_pem = base64.b64decode("".join(ca.split()), validate=True)
            except (binascii.Error, ValueError):
                raise CredentialError("idp-certificate-authority-data is not valid base64") from None
        elif path := self._cfg.get("idp-certificate-authority"):
            try:
                with open(path, "rb") as f:
                    ca_pem = f.read()
            except OSError as e:
                raise CredentialError(f"unable to read idp-certificate-authority {path}: {e.strerror}") from None
        else:
            ca_pem = None  # the system roots: the issuer is always verified
        ctx = build_context(ca_pem=ca_pem, insecure=False, server_name=None, where=f"oidc issuer {self.issuer}")
        return httpx.AsyncClient(verify=ctx, timeout=30.0, trust_env=False,
                                 proxy=proxy_from_environment(self.issuer, self._environ))

    async def _token_endpoint(self, client: httpx.AsyncClient) -> str:
        url = self.issuer.rstrip("/") + "/.well-known/openid-configuration"
        try:
            resp = await client.get(url)
        except httpx.HTTPError as e:
            raise CredentialError(f"oidc: failed to query metadata endpoint {url}: {e}") from None
        if resp.status_code != 200:
            body = resp.text
            body = body[:80] + "..." if len(body) > 80 else body
            raise CredentialError(f"oidc: failed to query metadata endpoint {resp.status_code} "
                                  f"{resp.reason_phrase}: {body!r}")
        try:
            token_url = resp.json().get("token_endpoint")
        except (ValueError, AttributeError) as e:
            raise CredentialError(f"oidc: failed to decode provider discovery object: {e}") from None
        if not token_url:
            raise CredentialError("oidc: discovery object doesn't contain a token_endpoint")
        return token_url

    async def _refresh(self, client: httpx.AsyncClient, token_url: str, refresh_token: str) -> dict:
        """OAuth2 refresh grant; client credentials in the Authorization header,
        then in the form if that is refused (golang.org/x/oauth2 AuthStyleAutoDetect)."""
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        client_id, secret = self._cfg["client-id"], self._cfg.get("client-secret", "")
        basic = base64.b64encode(f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()).decode()
        try:
            resp = await client.post(token_url, data=form, headers={"Authorization": f"Basic {basic}"})
            if resp.status_code in (400, 401):
                resp = await client.post(token_url, data={**form, "client_id": client_id, "client_secret": secret})
        except httpx.HTTPError as e:
            raise CredentialError(f"failed to refresh token: {e}") from None
        answer = _token_response(resp)
        if not resp.is_success or "error" in answer:
            # The error code and description are meant for people; the body is never quoted whole.
            detail = " ".join(str(answer[k]) for k in ("error", "error_description") if answer.get(k))
            raise CredentialError(f"failed to refresh token: oauth2: cannot fetch token: {resp.status_code} "
                                  f"{resp.reason_phrase}" + (f": {detail}" if detail else ""))
        return answer

    def _persist(self, new_cfg: dict[str, str]) -> None:
        """Write the tokens back where the user is defined (client-go PersisterForUser)."""
        if not self._file:
            return
        path = os.path.realpath(self._file)  # write through symlinks, as kubectl does
        with open(path, "rb") as f:
            doc = yaml.load(f, Loader=KubeconfigLoader)
        for entry in (doc or {}).get("users") or []:
            if isinstance(entry, dict) and entry.get("name") == self._user:
                provider = (entry.get("user") or {}).get("auth-provider")
                if isinstance(provider, dict):
                    provider["config"] = new_cfg
                    break
        else:
            raise ValueError(f'{path} no longer defines an oidc auth-provider for user "{self._user}"')
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".ktopui-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w") as f:
                yaml.safe_dump(doc, f, default_flow_style=False, sort_keys=False)
            os.chmod(tmp, os.stat(path).st_mode & 0o7777)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise


def _token_response(resp: httpx.Response) -> dict:
    kind = resp.headers.get("content-type", "").split(";")[0].strip()
    if kind in ("application/x-www-form-urlencoded", "text/plain"):
        return dict(parse_qsl(resp.text))
    try:
        answer = resp.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}
