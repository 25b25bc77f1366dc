"""kubeconfig files pointing at the simulator. Written as YAML by hand: every value is
a JSON string literal, which is also a valid YAML scalar, so no YAML library is needed."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def render(server: str, *, user: str, context: str = "sim", namespace: str | None = None,
           token: str | None = None, client_cert: tuple[bytes, bytes] | None = None,
           ca_pem: bytes | None = None, ca_path: Path | None = None) -> str:
    """A complete kubeconfig: one cluster, one user (token or client cert), one context, current."""
    s = json.dumps
    cluster = [f"    server: {s(server)}"]
    if ca_pem is not None:
        cluster.append(f"    certificate-authority-data: {s(_b64(ca_pem))}")
    elif ca_path is not None:
        cluster.append(f"    certificate-authority: {s(str(ca_path))}")
    creds = []
    if token is not None:
        creds.append(f"    token: {s(token)}")
    if client_cert is not None:
        creds.append(f"    client-certificate-data: {s(_b64(client_cert[0]))}")
        creds.append(f"    client-key-data: {s(_b64(client_cert[1]))}")
    ctx = [f"    cluster: {s(context)}", f"    user: {s(user)}"]
    if namespace:
        ctx.append(f"    namespace: {s(namespace)}")
    lines = [
        "apiVersion: v1",
        "kind: Config",
        "clusters:",
        f"- name: {s(context)}",
        "  cluster:",
        *cluster,
        "users:",
        f"- name: {s(user)}",
        "  user:" if creds else "  user: {}",
        *creds,
        "contexts:",
        f"- name: {s(context)}",
        "  context:",
        *ctx,
        f"current-context: {s(context)}",
        "preferences: {}",
    ]
    return "\n".join(lines) + "\n"


def write(path: str | os.PathLike[str], text: str) -> Path:
    """Write with owner-only permissions (it holds a credential), creating parent directories."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    return out
