"""Credential exec plugins written by tests: small Python scripts."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

V1 = "client.authentication.k8s.io/v1"
V1BETA1 = "client.authentication.k8s.io/v1beta1"


def write_plugin(path: Path, body: str) -> Path:
    """An executable script; `body` sees json, os, sys, time and LOG (a JSON-lines file of its runs)."""
    log = path.with_suffix(".runs")
    path.write_text(f"#!{sys.executable}\nimport json, os, sys, time\nLOG = {str(log)!r}\n"
                    "with open(LOG, 'a') as f:\n"
                    "    f.write(json.dumps({'argv': sys.argv[1:], 'info': os.environ.get('KUBERNETES_EXEC_INFO'),"
                    " 'env': dict(os.environ)}) + '\\n')\n" + textwrap.dedent(body))
    path.chmod(0o755)
    return path


def runs(plugin: Path) -> list[dict]:
    log = plugin.with_suffix(".runs")
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def token_plugin(path: Path, token: str = "exec-token", *, api_version: str = V1, expires_in: float | None = None) -> Path:
    """Prints a token credential; `expires_in` seconds from each run."""
    return write_plugin(path, f"""
        status = {{"token": {token!r} + "-" + str(len(open(LOG).readlines()))}}
        if {expires_in!r} is not None:
            status["expirationTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + {expires_in!r}))
        print(json.dumps({{"apiVersion": {api_version!r}, "kind": "ExecCredential", "status": status}}))
    """)


def exec_user(command: str, *, api_version: str = V1, mode: str | None = "Never", **extra) -> dict:
    cfg = {"command": command, "apiVersion": api_version, **extra}
    if mode is not None:
        cfg["interactiveMode"] = mode
    return {"exec": cfg}
