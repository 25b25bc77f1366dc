"""`ktopui top` when things go wrong: a clear message on stderr, a non-zero exit, nothing on stdout."""

from __future__ import annotations

import time

import pytest

from ktopui.cli import main
from ktopui.sim.cluster import SimOptions
from ktopui.sim.server import SimServer


@pytest.fixture
def sim(tmp_path):
    server = SimServer(SimOptions(nodes=3, pods_per_node=3, seed=41, frozen=True)).start()
    yield server, str(server.write_kubeconfig(tmp_path / "config"))
    server.stop()


def top(capsys, kubeconfig, *args):
    code = main(["top", "--kubeconfig", kubeconfig, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_missing_metrics_api_says_what_to_install(sim, capsys):
    server, kubeconfig = sim
    server.faults.metrics_absent = True
    code, out, err = top(capsys, kubeconfig, "nodes")
    assert (code, out) == (1, "")
    assert err.startswith("error: Metrics API not available")
    assert "metrics-server" in err


def test_metrics_backend_down_says_it_is_the_backend(sim, capsys):
    server, kubeconfig = sim
    server.faults.metrics_down = True
    code, out, err = top(capsys, kubeconfig, "pods", "-A")
    assert (code, out) == (1, "")
    assert "metrics backend is not answering" in err and "service unavailable" in err
    assert "kubectl get apiservice v1beta1.metrics.k8s.io" in err


def test_forbidden_names_the_verb_and_resource(sim, capsys):
    server, kubeconfig = sim
    server.faults.forbid("sim-admin", "list", "nodes", group="")
    code, out, err = top(capsys, kubeconfig, "nodes")
    assert (code, out) == (1, "")
    assert err.startswith("Error from server (Forbidden): nodes is forbidden:")
    assert "cannot list resource \"nodes\"" in err
    assert "RBAC permission to list nodes" in err


def test_expired_token_says_to_log_in_again(sim, capsys, tmp_path):
    server, _ = sim
    token = server.issue_token(0.01)
    time.sleep(0.05)
    kubeconfig = str(server.write_kubeconfig(tmp_path / "expired", token=token))
    code, out, err = top(capsys, kubeconfig, "nodes")
    assert (code, out) == (1, "")
    assert err.startswith("error: You must be logged in to the server (Unauthorized")
    assert token not in err


def test_unreachable_server_is_one_readable_line(sim, capsys):
    server, kubeconfig = sim
    server.stop()
    code, out, err = top(capsys, kubeconfig, "nodes")
    assert (code, out) == (1, "")
    assert "was refused - did you specify the right host or port?" in err


def test_bad_sort_key_is_rejected_like_kubectl(sim, capsys):
    _, kubeconfig = sim
    assert top(capsys, kubeconfig, "nodes", "--sort-by", "disk") == (
        1,
        "",
        "error: --sort-by accepts only cpu or memory\n",
    )


def test_invalid_quantity_spoils_one_cell_not_the_command(sim, capsys):
    server, kubeconfig = sim
    victim = server.cluster.nodes[0].name
    server.faults.invalid_quantity("nodemetrics", victim, resource="memory", value="6GiB")
    code, out, err = top(capsys, kubeconfig, "nodes")
    assert code == 0, err
    row = next(line.split() for line in out.splitlines() if line.startswith(victim))
    assert row[3:5] == ["?", "?"]
    assert sum(1 for line in out.splitlines()[1:] if "?" not in line) >= 1


def test_json_output_has_the_same_numbers(sim, capsys):
    import json

    _, kubeconfig = sim
    _, table, _ = top(capsys, kubeconfig, "pods", "-A", "--no-headers")
    code, out, _ = top(capsys, kubeconfig, "pods", "-A", "-o", "json")
    assert code == 0
    items = {(i["namespace"], i["name"]): i for i in json.loads(out)["items"]}
    for ns, name, cpu, mem in (line.split() for line in table.splitlines()):
        assert f"{items[ns, name]['cpuMillicores']}m" == cpu
        assert f"{items[ns, name]['memoryBytes'] // 1048576}Mi" == mem


def test_json_with_sum_carries_the_total_the_table_prints(sim, capsys):
    import json

    _, kubeconfig = sim
    _, table, _ = top(capsys, kubeconfig, "pods", "-A", "--sum")
    code, out, _ = top(capsys, kubeconfig, "pods", "-A", "--sum", "-o", "json")
    assert code == 0
    doc = json.loads(out)
    cpu, mem = table.splitlines()[-1].split()
    assert f"{doc['total']['cpuMillicores']}m" == cpu
    assert f"{doc['total']['memoryBytes'] // 1048576}Mi" == mem
    assert doc["total"]["problems"] == {}
    _, without_sum, _ = top(capsys, kubeconfig, "pods", "-A", "-o", "json")
    assert "total" not in json.loads(without_sum)
