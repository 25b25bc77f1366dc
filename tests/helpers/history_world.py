"""A simulated cluster and a real engine holding generated cAdvisor history for its pods, and
`ktopui` run against both as a user runs it (the command line, in this process)."""

from __future__ import annotations

import contextlib
import ssl
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from ktopui.cli import main
from ktopui.sim.cluster import SimOptions
from ktopui.sim.engines import Engine
from ktopui.sim.server import SimServer
from tests.helpers.cadvisor_history import History, for_cluster
from tests.helpers.engines import started


@dataclass
class World:
    server: SimServer
    kubeconfig: Path
    engine: Engine
    history: History
    names: dict[str, str]  # the gone pods, by what each shows (cadvisor_history.for_cluster)
    pods: list[dict]  # the API's pods

    def run(self, capsys, *argv: str) -> tuple[int, str, str]:
        """`ktopui ARGV` with this cluster's kubeconfig and this engine's URL: exit code, stdout, stderr."""
        capsys.readouterr()
        code = main([*argv, "--kubeconfig", str(self.kubeconfig), "--prometheus", self.engine.url])
        out, err = capsys.readouterr()
        return code, out, err


@contextlib.contextmanager
def history_world(kind: str, directory: Path):
    """A frozen 3-node simulated cluster, and an engine of `kind` holding its pods' generated history."""
    server = SimServer(SimOptions(nodes=3, pods_per_node=4, seed=7, churn_per_minute=0, frozen=True)).start()
    try:
        kubeconfig = server.write_kubeconfig(directory / "config")
        context = ssl.create_default_context(cafile=str(server.ca_path))
        with httpx.Client(base_url=server.url, verify=context,
                          headers={"Authorization": f"Bearer {server.token}"}) as api:
            pods = api.get("/api/v1/pods").json()["items"]
            replicasets = api.get("/apis/apps/v1/replicasets").json()["items"]
            nodes = [n["metadata"]["name"] for n in api.get("/api/v1/nodes").json()["items"]]
        history, names = for_cluster(pods, replicasets, nodes, time.time())
        text = history.openmetrics()
        if kind == "prometheus":
            source = directory / "history.om"
            source.write_text(text)
            engine = started(kind, directory / kind, blocks_from=source)
        else:
            engine = started(kind, directory / kind)
            engine.import_openmetrics(text)
        with engine:
            yield World(server, kubeconfig, engine, history, names, pods)
    finally:
        server.stop()
