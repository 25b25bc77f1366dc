"""`ktopui doctor` and RBAC: each missing verb and resource is named, with what to ask for."""

from __future__ import annotations

import json

import pytest

from ktopui.cli import main
from ktopui.doctor.checks import PERMISSIONS


@pytest.fixture
def sim(make_sim_server, tmp_path):
    server = make_sim_server(nodes=3, pods_per_node=4)
    return server, server.write_kubeconfig(tmp_path / "config")


def doctor(capsys, kubeconfig, *args: str) -> tuple[int, dict[str, dict]]:
    code = main(["doctor", "--kubeconfig", str(kubeconfig), *args, "-o", "json"])
    return code, {f["check"]: f for f in json.loads(capsys.readouterr().out)["findings"]}


@pytest.mark.parametrize(("verb", "resource", "group", "namespaced", "needed"), PERMISSIONS,
                         ids=[f"{p[0]}-{p[1]}{'.' + p[2] if p[2] else ''}" for p in PERMISSIONS])
def test_each_denial_is_named(sim, capsys, verb, resource, group, namespaced, needed):
    server, kubeconfig = sim
    full = f"{resource}.{group}" if group else resource
    server.faults.forbid("sim-admin", verb, resource, namespace="web" if namespaced else None, group=group)
    code, found = doctor(capsys, kubeconfig, "-n", "web")
    finding = found[f"permission: {verb} {full}"]
    where = 'in namespace "web"' if namespaced else "cluster-wide"
    assert finding["status"] == ("fail" if needed else "warn")
    assert finding["detail"] == f'denied: user "sim-admin" may not {verb} {full} {where}'
    assert f"Ask a cluster admin for RBAC permission to {verb} {full} {where}" in finding["next_step"]
    can_i = f"`kubectl auth can-i {verb} {full}" + (" -n web`" if namespaced else "`")
    assert can_i in finding["next_step"]
    if namespaced:
        assert "kubectl create rolebinding ktopui-view --clusterrole=view --user=sim-admin -n web" in finding[
            "next_step"]
    else:
        assert "kubectl create clusterrolebinding ktopui-reader" in finding["next_step"]
    if not needed:
        assert "Without it ktopui lists all" in finding["next_step"] or "namespace picker" in finding["next_step"]
    assert code == (1 if needed else 0)
    others = [f for check, f in found.items() if check.startswith("permission: ") and f is not finding]
    assert all(f["status"] == "ok" for f in others)
    # A denied read is explained by the permission, not reported twice.
    assert "reading nodes and pods" not in found


def test_list_without_watch_is_told_what_it_costs_and_what_to_ask_for(sim, capsys):
    server, kubeconfig = sim
    server.faults.forbid("sim-admin", "watch", "pods")
    code, found = doctor(capsys, kubeconfig, "-A")
    finding = found["permission: watch pods"]
    assert code == 0 and finding["status"] == "warn"  # the dashboard works, at a cost
    pods = len(server.cluster.pods)
    assert finding["next_step"].startswith(
        f"Without it ktopui lists all {pods} pods again every 15s, a full LIST each time instead of a stream of "
        "changes: more load on the API server, and changes shown up to 15s late. Ask a cluster admin for RBAC "
        "permission to watch pods cluster-wide")
    assert "--verb=get,list,watch" in finding["next_step"]
    assert "`kubectl auth can-i watch pods --all-namespaces`" in finding["next_step"]


def test_denials_across_all_namespaces(sim, capsys):
    server, kubeconfig = sim
    server.faults.forbid("sim-admin", "list", "pods", group="")
    code, found = doctor(capsys, kubeconfig, "-A")
    finding = found["permission: list pods"]
    assert code == 1 and finding["status"] == "fail"
    assert finding["detail"] == 'denied: user "sim-admin" may not list pods in all namespaces'
    assert "`kubectl auth can-i list pods --all-namespaces`" in finding["next_step"]


def test_denied_metrics_skip_what_depends_on_them(sim, capsys):
    server, kubeconfig = sim
    server.faults.forbid("sim-admin", "list", "nodes", group="metrics.k8s.io")
    code, found = doctor(capsys, kubeconfig)
    assert code == 1
    assert found["metrics API"]["status"] == "ok"  # served and Available; only reading it is denied
    assert "reading metrics is forbidden" in found["metrics API"]["detail"]
    assert found["node metrics"]["status"] == "skip" and "forbidden" in found["node metrics"]["detail"]


def test_the_server_names_the_user(sim, capsys, tmp_path):
    server, _ = sim
    kubeconfig = server.write_kubeconfig(tmp_path / "jane", client_cert=server.issue_client_cert("jane"))
    server.faults.forbid("jane", "list", "nodes", group="metrics.k8s.io")
    code, found = doctor(capsys, kubeconfig)
    assert code == 1
    assert "authenticated as jane" in found["credentials"]["detail"]
    assert "client certificate" in found["credentials"]["detail"] or "CN=jane" in found["credentials"]["detail"]
    finding = found["permission: list nodes.metrics.k8s.io"]
    assert finding["detail"] == 'denied: user "jane" may not list nodes.metrics.k8s.io cluster-wide'
    assert "--clusterrole=ktopui-reader --user=jane" in finding["next_step"]


def test_without_access_reviews_the_requests_tell(sim, capsys):
    server, kubeconfig = sim
    server.faults.forbid("sim-admin", "create", "selfsubjectaccessreviews")
    server.faults.forbid("sim-admin", "list", "pods", namespace="web", group="metrics.k8s.io")
    code, found = doctor(capsys, kubeconfig, "-n", "web")
    assert code == 1
    reviews = found["access reviews"]
    assert reviews["status"] == "warn"
    assert 'cannot create resource "selfsubjectaccessreviews"' in reviews["detail"]
    denied = found["permission: list pods.metrics.k8s.io"]
    assert denied["status"] == "fail"
    assert denied["detail"].startswith('denied: user "sim-admin" may not list pods.metrics.k8s.io in namespace "web"')
    assert found["permission: list nodes"]["status"] == "ok"  # a list request succeeded
    assert found["permission: watch pods"]["status"] == "skip"
    assert "could not be asked" in found["permission: watch pods"]["detail"]
