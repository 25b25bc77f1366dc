"""The machine's real kubectl, used as the oracle."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path


def find_kubectl(minor: str = "1.33") -> str | None:
    """kubectl.1.NN lives beside the `kubectl` dispatcher's real path."""
    dispatcher = shutil.which("kubectl")
    candidates = []
    if dispatcher:
        candidates.append(Path(os.path.realpath(dispatcher)).parent / f"kubectl.{minor}")
    candidates.append(Path("/usr/lib/google-cloud-sdk/bin") / f"kubectl.{minor}")
    return next((str(c) for c in candidates if c.exists()), None)


KUBECTL = find_kubectl()


def kubectl(kubeconfig: str, *args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env["HOME"] = str(Path(kubeconfig).parent)  # keep kubectl's discovery cache out of ~
    return subprocess.run(
        [KUBECTL, "--kubeconfig", kubeconfig, *args], capture_output=True, text=True, env=env, timeout=60
    )
