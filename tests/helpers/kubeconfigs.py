"""Kubeconfig files for tests."""

from __future__ import annotations

import base64
from pathlib import Path

import yaml


def kubeconfig(*, clusters=None, users=None, contexts=None, current: str | None = None) -> dict:
    """A kubeconfig document from {name: body} mappings."""
    doc: dict = {"apiVersion": "v1", "kind": "Config"}
    for key, body_key, entries in (("clusters", "cluster", clusters), ("users", "user", users),
                                   ("contexts", "context", contexts)):
        if entries is not None:
            doc[key] = [{"name": name, body_key: body} for name, body in entries.items()]
    if current is not None:
        doc["current-context"] = current
    return doc


def write(path: Path, doc: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def simple(server: str = "https://k8s.example:6443", *, name: str = "c", user: dict | None = None,
           cluster: dict | None = None, namespace: str | None = None) -> dict:
    """One cluster, one user, one context, all called `name`, the context current."""
    context = {"cluster": name, "user": name}
    if namespace is not None:
        context["namespace"] = namespace
    return kubeconfig(clusters={name: {"server": server, **(cluster or {})}},
                      users={name: user if user is not None else {"token": "t0ken"}},
                      contexts={name: context}, current=name)


def b64(data: bytes | str) -> str:
    return base64.b64encode(data.encode() if isinstance(data, str) else data).decode()
