"""`ktopui history` end to end as on a kube-prometheus cluster: a real Prometheus scraping the
simulated kubelets' cAdvisor through the node proxy, found by discovery and read through the API
server's service proxy; no --prometheus given."""

from __future__ import annotations

import csv
import io
import json
import time

import pytest

from ktopui.cli import main
from ktopui.sim.cluster import SimOptions
from ktopui.sim.server import SimServer
from tests.helpers.engines import ENGINES


def rows_of(capsys, *argv: str) -> list[dict]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return list(csv.DictReader(io.StringIO(out)))


def test_history_found_through_the_service_proxy_has_every_running_container_and_workloads_are_their_sums(
        capsys, tmp_path):
    why = ENGINES["prometheus"][0]()
    if why:
        pytest.skip(why)
    server = SimServer(SimOptions(nodes=2, pods_per_node=4, seed=7, churn_per_minute=0, metric_resolution=2)).start()
    try:
        kubeconfig = str(server.write_kubeconfig(tmp_path / "config"))
        server.run_prometheus(tmp_path / "prometheus", scrape_interval=1)
        flags = ("-n", "web", "--since", "2m", "--step", "15", "--kubeconfig", kubeconfig)
        deadline = time.monotonic() + 90
        pods = []
        while len({r["time"] for r in pods if r["cpu_millicores"] and r["memory_bytes"]}) < 2:
            assert time.monotonic() < deadline, "no history after 90 s of scrapes"
            time.sleep(2)
            pods = rows_of(capsys, "history", "pods", *flags)
        workloads = rows_of(capsys, "history", "workloads", *flags)
        specs = [(p.name, json.loads(p.json)["spec"]) for p in server.cluster.pods
                 if p.namespace == "web" and p.phase == "Running"]
        # (sidecars too: init containers that keep running)
        running = {(name, c["name"]) for name, spec in specs for c in spec["containers"] + [
            i for i in spec.get("initContainers", []) if i.get("restartPolicy") == "Always"]}
    finally:
        server.stop()
    # The newest step but one: the newest can still gain samples between the two commands.
    last = sorted({r["time"] for r in pods if r["cpu_millicores"] and r["memory_bytes"]})[-2]
    at_last = [r for r in pods if r["time"] == last]
    assert {r["namespace"] for r in pods} == {"web"}
    assert {(r["pod"], r["container"]) for r in at_last} == running
    assert all(float(r["cpu_millicores"]) >= 0 and int(r["memory_bytes"]) > 0 for r in at_last)
    sums: dict[str, list[float]] = {}
    for r in at_last:
        owner = r["pod"].rsplit("-", 2)[0]
        total = sums.setdefault(owner, [0.0, 0])
        total[0] += float(r["cpu_millicores"])
        total[1] += int(r["memory_bytes"])
    got = {r["workload"]: (float(r["cpu_millicores"]), int(r["memory_bytes"])) for r in workloads if r["time"] == last}
    assert got.keys() == sums.keys()
    for name, (cpu, mem) in got.items():
        assert cpu == pytest.approx(sums[name][0], abs=0.002) and mem == sums[name][1]
