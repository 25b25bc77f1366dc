"""auth-provider oidc: id-token use, refresh at the issuer, tokens written back."""

from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
import yaml
from helpers.kubeconfigs import kubeconfig, write

from ktopui.kube.connection import load_connection
from ktopui.kube.errors import CredentialError


def jwt(exp: float, sub: str = "jane") -> str:
    def part(obj) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")
    return f"{part({'alg': 'RS256'})}.{part({'sub': sub, 'exp': int(exp)})}.c2ln"


class Issuer:
    """An OpenID provider: discovery and a refresh-token grant."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict, str | None]] = []  # (path, form, Authorization)
        self.reject_basic = False
        self.answer: dict = {}
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                issuer.requests.append((self.path, {}, None))
                self._json(200, {"issuer": issuer.url, "token_endpoint": issuer.url + "/token"})

            def do_POST(self):
                form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
                auth = self.headers.get("Authorization")
                issuer.requests.append((self.path, form, auth))
                if auth and issuer.reject_basic:
                    self._json(401, {"error": "invalid_client"})
                else:
                    self._json(200, issuer.answer)

            def _json(self, status, body):
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()


@pytest.fixture
def issuer():
    issuer = Issuer()
    yield issuer
    issuer.server.shutdown()
    issuer.server.server_close()


def oidc_config(home, issuer_url: str, **config) -> str:
    path = home / ".kube" / "config"
    write(path, kubeconfig(
        clusters={"c": {"server": "https://k8s.example"}},
        users={"u": {"auth-provider": {"name": "oidc", "config": {
            "idp-issuer-url": issuer_url, "client-id": "kubectl", "client-secret": "s3cr3t", **config}}}},
        contexts={"c": {"cluster": "c", "user": "u"}}, current="c"))
    return str(path)


async def authorization(conn) -> str:
    seen = []
    transport = httpx.MockTransport(lambda r: seen.append(r.headers["Authorization"]) or httpx.Response(200))
    async with httpx.AsyncClient(transport=transport, auth=conn.auth) as client:
        await client.get("https://k8s.example/api")
    return seen[0]


async def test_valid_id_token_is_used_without_asking_the_issuer(tmp_path):
    token = jwt(time.time() + 3600)
    oidc_config(tmp_path, "http://127.0.0.1:9", **{"id-token": token, "refresh-token": "r"})
    conn = load_connection(environ={"HOME": str(tmp_path)})
    assert conn.auth_method == "oidc (issuer http://127.0.0.1:9)"
    assert await authorization(conn) == f"Bearer {token}"
    assert "s3cr3t" not in repr(conn) and token not in repr(conn)


async def test_expiring_id_token_is_refreshed_and_written_back(tmp_path, issuer):
    new_token = jwt(time.time() + 3600, "jane-new")
    issuer.answer = {"id_token": new_token, "refresh_token": "r2", "access_token": "a", "token_type": "Bearer"}
    path = oidc_config(tmp_path, issuer.url, **{"id-token": jwt(time.time() + 5), "refresh-token": "r1",
                                                "extra-scopes": "groups"})
    conn = load_connection(environ={"HOME": str(tmp_path)})
    assert await authorization(conn) == f"Bearer {new_token}"
    (discovery, _, _), (token_path, form, auth) = issuer.requests
    assert discovery == "/.well-known/openid-configuration" and token_path == "/token"
    assert form == {"grant_type": ["refresh_token"], "refresh_token": ["r1"]}
    assert auth == "Basic " + base64.b64encode(b"kubectl:s3cr3t").decode()
    written = yaml.safe_load(Path(path).read_text())["users"][0]["user"]["auth-provider"]["config"]
    assert written == {"idp-issuer-url": issuer.url, "client-id": "kubectl", "client-secret": "s3cr3t",
                       "id-token": new_token, "refresh-token": "r2", "extra-scopes": "groups"}
    assert await authorization(conn) == f"Bearer {new_token}"  # no second refresh
    assert len(issuer.requests) == 2


async def test_client_credentials_in_the_form_when_basic_is_refused(tmp_path, issuer):
    issuer.reject_basic = True
    issuer.answer = {"id_token": jwt(time.time() + 3600)}
    oidc_config(tmp_path, issuer.url, **{"refresh-token": "r1"})
    conn = load_connection(environ={"HOME": str(tmp_path)})
    await authorization(conn)
    form = issuer.requests[-1][1]
    assert form["client_id"] == ["kubectl"] and form["client_secret"] == ["s3cr3t"]


async def test_persisting_follows_symlinks(tmp_path, issuer):
    issuer.answer = {"id_token": jwt(time.time() + 3600)}
    real = tmp_path / "dotfiles" / "kubeconfig"
    real.parent.mkdir()
    oidc_config(tmp_path, issuer.url, **{"refresh-token": "r1"})
    (tmp_path / ".kube" / "config").rename(real)
    (tmp_path / ".kube" / "config").symlink_to(real)
    conn = load_connection(environ={"HOME": str(tmp_path)})
    await authorization(conn)
    assert (tmp_path / ".kube" / "config").is_symlink()
    assert "id-token" in yaml.safe_load(real.read_text())["users"][0]["user"]["auth-provider"]["config"]


@pytest.mark.parametrize(("config", "answer", "message"), [
    ({"id-token": jwt(0)}, {}, "No valid id-token, and cannot refresh without refresh-token"),
    ({"id-token": "opaque"}, {}, "ID Token is not a valid JWT"),
    ({"refresh-token": "r"}, {"access_token": "a"},
     'token response did not contain an id_token, either the scope "openid" wasn\'t requested upon login, '
     "or the provider doesn't support id_tokens as part of the refresh response"),
    ({"refresh-token": "r"}, {"error": "invalid_grant", "error_description": "expired"},
     "failed to refresh token: oauth2: cannot fetch token: 200 OK: invalid_grant expired"),
])
async def test_oidc_errors(tmp_path, issuer, config, answer, message):
    issuer.answer = answer
    oidc_config(tmp_path, issuer.url, **config)
    conn = load_connection(environ={"HOME": str(tmp_path)})
    with pytest.raises(CredentialError) as e:
        await authorization(conn)
    assert e.value.message == message
    assert "s3cr3t" not in str(e.value)
