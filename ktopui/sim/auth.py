"""Who is calling: bearer tokens (with optional expiry) and client-certificate users."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass

DEFAULT_USER = "sim-admin"


@dataclass(frozen=True, slots=True)
class User:
    name: str
    groups: tuple[str, ...] = ("system:authenticated",)


class TokenStore:
    """Static bearer tokens. Expiry runs on real (monotonic) time, not cluster time, so a
    frozen cluster clock does not keep a short-lived credential alive."""

    def __init__(self) -> None:
        self._tokens: dict[str, tuple[User, float | None]] = {}
        self._lock = threading.Lock()

    def issue(self, ttl: float | None, user: str = DEFAULT_USER) -> str:
        token = secrets.token_urlsafe(32)
        expires = None if ttl is None else time.monotonic() + ttl
        with self._lock:
            self._tokens[token] = (User(user, ("system:authenticated",)), expires)
        return token

    def revoke(self, token: str) -> None:
        with self._lock:
            self._tokens.pop(token, None)

    def lookup(self, token: str) -> User | None:
        with self._lock:
            entry = self._tokens.get(token)
        if entry is None:
            return None
        user, expires = entry
        if expires is not None and time.monotonic() >= expires:
            return None
        return user


def cert_user(peer: dict | None) -> User | None:
    """The x509 authenticator's reading of a verified client cert: CN is the user, O the groups."""
    if not peer:
        return None
    name, groups = None, []
    for rdn in peer.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                name = value
            elif key == "organizationName":
                groups.append(value)
    return User(name, (*groups, "system:authenticated")) if name else None
