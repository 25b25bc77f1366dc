"""Static credentials and which credentials a kubeconfig user gets (no network)."""

from __future__ import annotations

import os
import tempfile

import httpx
import pytest
from helpers.kubeconfigs import b64, simple, write

from ktopui.kube.auth import TokenFileAuth
from ktopui.kube.connection import load_connection
from ktopui.kube.errors import ConfigError, CredentialError


def connect(home, user, **kw):
    write(home / ".kube" / "config", simple(user=user, **kw))
    return load_connection(environ={"HOME": str(home)})


class Recorder:
    """An API server stand-in: answers 401 to tokens not in `valid`."""

    def __init__(self, *valid: str) -> None:
        self.valid = set(valid)
        self.seen: list[httpx.Headers] = []  # copies: a retried request is the same object

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(httpx.Headers(request.headers))
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return httpx.Response(200 if token in self.valid else 401)

    @property
    def authorizations(self) -> list[str | None]:
        return [h.get("Authorization") for h in self.seen]


async def get(auth: httpx.Auth, handler, headers=None) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler), auth=auth) as client:
        return await client.get("https://k8s.example/api", headers=headers)


async def test_bearer_token(home):
    conn = connect(home, {"token": "s3cr3t"})
    server = Recorder("s3cr3t")
    assert (await get(conn.auth, server)).status_code == 200
    assert server.authorizations == ["Bearer s3cr3t"]
    assert conn.auth_method == "bearer token"
    assert "s3cr3t" not in repr(conn.auth)


async def test_authorization_already_in_the_request_wins(home):
    conn = connect(home, {"token": "s3cr3t"})
    server = Recorder("other")
    await get(conn.auth, server, headers={"Authorization": "Bearer other"})
    assert server.authorizations == ["Bearer other"]


async def test_token_file_wins_over_token_and_is_trimmed(home, tmp_path):
    (home / "tok").write_text("  from-file\n")
    conn = connect(home, {"token": "inline", "tokenFile": "../tok"})
    server = Recorder("from-file")
    assert (await get(conn.auth, server)).status_code == 200
    assert server.authorizations == ["Bearer from-file"]
    assert conn.auth_method == "token file ~/tok"


async def test_unreadable_token_file_falls_back_to_token(home):
    conn = connect(home, {"token": "inline", "tokenFile": "/nope/tok"})
    server = Recorder("inline")
    assert (await get(conn.auth, server)).status_code == 200


def test_unreadable_token_file_alone_fails_at_load(home):
    with pytest.raises(CredentialError) as e:
        connect(home, {"tokenFile": "/nope/tok"})
    assert e.value.message == "open /nope/tok: no such file or directory"


def test_empty_token_file(home):
    (home / "tok").write_text("\n")
    with pytest.raises(CredentialError, match=f'read empty token from file "{home / "tok"}"'):
        connect(home, {"tokenFile": str(home / "tok")})


async def test_token_file_is_reread_periodically(tmp_path):
    path = tmp_path / "tok"
    path.write_text("one")
    auth = TokenFileAuth(str(path), period=3600)
    server = Recorder("one", "two")
    await get(auth, server)
    path.write_text("two")
    await get(auth, server)
    assert server.authorizations == ["Bearer one", "Bearer one"]  # within the period: cached
    auth = TokenFileAuth(str(path), period=0)
    path.write_text("one")
    await get(auth, server)
    path.write_text("two")
    await get(auth, server)
    assert server.authorizations[2:] == ["Bearer one", "Bearer two"]


async def test_token_file_is_reread_after_401_and_the_request_retried(tmp_path):
    path = tmp_path / "tok"
    path.write_text("old")
    auth = TokenFileAuth(str(path), period=3600)
    server = Recorder("old")
    await get(auth, server)
    path.write_text("new\n")
    server.valid = {"new"}
    response = await get(auth, server)
    assert response.status_code == 200
    assert server.authorizations == ["Bearer old", "Bearer old", "Bearer new"]
    server.valid = set()
    assert (await get(auth, server)).status_code == 401  # unchanged file: no second retry
    assert server.authorizations[3:] == ["Bearer new"]


async def test_basic_auth(home):
    conn = connect(home, {"username": "bob", "password": "pw"})
    server = Recorder()
    await get(conn.auth, server)
    assert server.authorizations == ["Basic Ym9iOnB3"]


@pytest.mark.parametrize(("user", "message"), [
    ({"token": "t", "username": "bob", "password": "p"},
     "invalid configuration: more than one authentication method found for c; found [token basicAuth], "
     "only one is allowed"),
    ({"tokenFile": "/tok", "username": "bob"}, "username/password or bearer token may be set, but not both"),
    ({"exec": {"command": "x", "apiVersion": "client.authentication.k8s.io/v1", "interactiveMode": "Never"},
      "auth-provider": {"name": "oidc"}},
     "invalid configuration: authProvider cannot be provided in combination with an exec plugin for c"),
    ({"as-groups": ["g"]}, "invalid configuration: requesting groups or user-extra for c without impersonating a user"),
    ({"client-certificate": "/x.crt"},
     "invalid configuration: [client-key-data or client-key must be specified for c to use the clientCert "
     "authentication method., unable to read client-cert /x.crt for c due to open /x.crt: no such file or directory]"),
    ({"auth-provider": {"name": "gcp"}}, "The gcp auth plugin has been removed."),
    ({"auth-provider": {"name": "azure"}}, "The azure auth plugin has been removed."),
    ({"auth-provider": {"name": "keystone"}}, 'no Auth Provider found for name "keystone"'),
    ({"auth-provider": {"name": "oidc", "config": {"client-id": "k"}}}, "Must provide idp-issuer-url"),
    ({"auth-provider": {"name": "oidc", "config": {"idp-issuer-url": "https://i"}}}, "Must provide client-id"),
])
def test_invalid_users(home, user, message):
    with pytest.raises(ConfigError) as e:
        connect(home, user)
    assert e.value.message == message


def test_removed_auth_provider_points_to_exec_plugins(home):
    with pytest.raises(ConfigError) as e:
        connect(home, {"token": "t", "auth-provider": {"name": "gcp"}})
    assert "gke-gcloud-auth-plugin" in e.value.hint


def test_static_token_short_circuits_exec_and_auth_provider(home):
    conn = connect(home, {"token": "t", "exec": {"command": "never-run", "apiVersion":
                                                 "client.authentication.k8s.io/v1beta1"}})
    assert conn.auth_method == "bearer token"
    assert conn.warnings == ["exec plugin never-run is not run: user \"c\" also has bearer token"]
    conn = connect(home, {"token": "t", "auth-provider": {"name": "oidc", "config": {
        "idp-issuer-url": "https://issuer", "client-id": "k"}}})
    assert conn.auth_method == "bearer token"


async def test_client_certificate_from_files(home, ca):
    cert, key = ca.issue("jane")
    (home / "u.crt").write_bytes(cert)
    (home / "u.key").write_bytes(key)
    conn = connect(home, {"client-certificate": "../u.crt", "client-key": "../u.key"})
    assert conn.auth is None
    assert conn.auth_method == "client certificate ~/u.crt (CN=jane)"
    assert conn.ssl_context.cert_generation == 1


def test_client_certificate_data_goes_through_a_private_file_that_is_deleted(home, ca, tmp_path, monkeypatch):
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    created = []
    real_mkstemp = tempfile.mkstemp

    def spy(*a, **kw):
        fd, path = real_mkstemp(*a, **kw)
        created.append((path, os.stat(path).st_mode & 0o777))
        return fd, path

    monkeypatch.setattr(tempfile, "mkstemp", spy)
    cert, key = ca.issue("jane")
    conn = connect(home, {"client-certificate-data": b64(cert), "client-key-data": b64(key), "token": "t"})
    assert conn.auth_method == "bearer token, client certificate data (CN=jane)"
    assert [mode for _, mode in created] == [0o600]
    assert list(scratch.iterdir()) == []


def test_client_certificate_data_and_file(home, ca):
    cert, key = ca.issue("jane")
    conn = connect(home, {"client-certificate-data": b64(cert), "client-certificate": "/ignored.crt",
                          "client-key-data": b64(key), "client-key": "/ignored.key"})
    assert conn.warnings == ["client-cert-data and client-cert are both specified for c. client-cert-data will override.",
                             "client-key-data and client-key are both specified for c; client-key-data will override"]


def test_mismatched_client_key(home, ca):
    cert, _ = ca.issue("jane")
    _, other_key = ca.issue("john")
    with pytest.raises(ConfigError, match='unable to load client certificate for user "c"'):
        connect(home, {"client-certificate-data": b64(cert), "client-key-data": b64(other_key)})


def test_client_certificate_disables_exec_plugins(home, ca):
    cert, key = ca.issue("jane")
    conn = connect(home, {"client-certificate-data": b64(cert), "client-key-data": b64(key),
                          "exec": {"command": "never-run", "apiVersion": "client.authentication.k8s.io/v1beta1"}})
    assert conn.auth is None
    assert conn.warnings == ['exec plugin never-run is not run: user "c" also has a client certificate']


async def test_impersonation_headers(home):
    conn = connect(home, {"token": "t", "as": "jane", "as-uid": "42", "as-groups": ["dev", "ops"],
                          "as-user-extra": {"scopes/x": ["a", "b"]}})
    assert conn.auth_method == "bearer token, impersonating jane"
    server = Recorder("t")
    await get(conn.auth, server)
    headers = server.seen[0]
    assert headers["Impersonate-User"] == "jane"
    assert headers["Impersonate-Uid"] == "42"
    assert headers.get_list("Impersonate-Group") == ["dev", "ops"]
    assert headers.get_list("Impersonate-Extra-scopes%2Fx") == ["a", "b"]


async def test_impersonation_without_credentials(home):
    conn = connect(home, {"as": "jane"})
    server = Recorder()
    await get(conn.auth, server)
    assert server.seen[0]["Impersonate-User"] == "jane"
    assert "Authorization" not in server.seen[0]
