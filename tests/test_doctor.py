"""`ktopui doctor` against the simulated cluster over HTTPS: a healthy cluster, the metrics API
in each broken state, stale and missing metrics, the output formats and the exit code."""

from __future__ import annotations

import json

import pytest

from ktopui.cli import main
from ktopui.doctor import FAIL, OK, SKIP, WARN, Finding, diagnose, exit_code
from ktopui.doctor.metrics import _freshness, age_text, go_duration
from ktopui.doctor.report import render_json, render_text
from ktopui.kube.connection import load_connection
from ktopui.kube.objects import NodeMetrics, ObjectMeta

EXPECTED_CHECKS = [
    "kubeconfig", "connection", "credentials", "server version",
    "permission: list nodes", "permission: watch nodes", "permission: list pods", "permission: watch pods",
    "permission: list nodes.metrics.k8s.io", "permission: list pods.metrics.k8s.io", "permission: list namespaces",
    "metrics API", "node metrics", "pod metrics", "metrics freshness", "Prometheus",
]  # fmt: skip


@pytest.fixture
def sim(make_sim_server, tmp_path):
    server = make_sim_server(nodes=4, pods_per_node=5)
    return server, server.write_kubeconfig(tmp_path / "config")


def doctor(capsys, kubeconfig, *args: str) -> tuple[int, dict, dict[str, dict]]:
    """Exit code, the JSON document and its findings by check."""
    code = main(["doctor", "--kubeconfig", str(kubeconfig), *args, "-o", "json"])
    doc = json.loads(capsys.readouterr().out)
    return code, doc, {f["check"]: f for f in doc["findings"]}


def doctor_text(capsys, kubeconfig, *args: str) -> tuple[int, str]:
    code = main(["doctor", "--kubeconfig", str(kubeconfig), *args])
    return code, capsys.readouterr().out


# -- a healthy cluster ------------------------------------------------------------


def test_healthy_cluster(sim, capsys):
    _, kubeconfig = sim
    code, doc, found = doctor(capsys, kubeconfig)
    assert code == 0 and doc["ok"] is True
    assert [f["check"] for f in doc["findings"]] == EXPECTED_CHECKS
    # No Prometheus in this cluster: not a problem, said in passing.
    assert {f["status"] for f in doc["findings"][:-1]} == {OK} and found["Prometheus"]["status"] == SKIP
    assert all(f["next_step"] == "" for f in doc["findings"][:-1])
    assert str(kubeconfig) in found["kubeconfig"]["detail"] and 'context "sim"' in found["kubeconfig"]["detail"]
    assert "bearer token" in found["credentials"]["detail"]
    assert "authenticated as sim-admin" in found["credentials"]["detail"]
    assert "CN=ktopui-sim-ca from certificate-authority-data" in found["connection"]["detail"]
    assert "server name 127.0.0.1" in found["connection"]["detail"]
    assert found["server version"]["detail"] == "Kubernetes v1.33.1 (linux/amd64)"
    assert "metrics.k8s.io/v1beta1 is served" in found["metrics API"]["detail"]
    assert "service kube-system/metrics-server, Available" in found["metrics API"]["detail"]
    assert "metrics for 4 of 4 nodes" in found["node metrics"]["detail"]
    assert "old (window 15" in found["metrics freshness"]["detail"]


def test_healthy_cluster_as_text(sim, capsys):
    _, kubeconfig = sim
    code, out = doctor_text(capsys, kubeconfig)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("✔ ok    kubeconfig: ")
    assert sum(line.startswith("✔ ok    ") for line in lines) == len(EXPECTED_CHECKS) - 1
    assert "next step" not in out
    assert lines[-1] == "Everything ktopui needs works."


def test_demo_cluster(capsys):
    code = main(["--demo", "doctor", "-o", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["context"] == "ktopui-demo" and doc["ok"]


async def test_diagnose_for_the_dashboard(sim):
    server, kubeconfig = sim
    conn = load_connection(kubeconfig=str(kubeconfig), environ={"HOME": str(kubeconfig.parent)})
    findings = await diagnose(conn, namespace="web")
    assert all(isinstance(f, Finding) for f in findings)
    assert exit_code(findings) == 0
    by_check = {f.check: f for f in findings}
    assert by_check["permission: list pods"].detail == 'allowed in namespace "web"'
    assert 'namespace "web"' in by_check["pod metrics"].detail
    server.faults.metrics_absent = True
    findings = await diagnose(conn, namespace="web")
    assert exit_code(findings) == 1 and {f.check: f for f in findings}["metrics API"].status == FAIL


# -- the metrics API ------------------------------------------------------------------


def test_metrics_api_not_registered(sim, capsys):
    server, kubeconfig = sim
    server.faults.metrics_absent = True
    code, _, found = doctor(capsys, kubeconfig)
    assert code == 1
    metrics = found["metrics API"]
    assert metrics["status"] == FAIL
    assert "not registered: there is no APIService v1beta1.metrics.k8s.io" in metrics["detail"]
    assert "discovery does not list metrics.k8s.io" in metrics["detail"]
    assert metrics["next_step"].startswith("Install metrics-server: `kubectl apply -f https://github.com/"
                                           "kubernetes-sigs/metrics-server/releases/latest/download/components.yaml`")
    for check in ("node metrics", "pod metrics", "metrics freshness"):
        assert found[check]["status"] == SKIP and "metrics API is not available" in found[check]["detail"]
    assert found["permission: list nodes"]["status"] == OK  # the rest still works


REASONS = [
    # (reason, bad_status, words in the detail, words in the next step)
    ("ServiceNotFound", None, ['service/metrics-server in "kube-system" is not present'],
     ["points at service kube-system/metrics-server, which does not exist", "Reinstall it"]),
    ("ServicePortError", None, ['is not listening on port 443'], ["port", "spec.service.port"]),
    ("EndpointsNotFound", None, ["cannot find endpoints for service/metrics-server"],
     ["No ready metrics-server pod", "--kubelet-preferred-address-types", "--kubelet-insecure-tls"]),
    ("MissingEndpoints", None, ['have no addresses with port name "https"'],
     ["No ready metrics-server pod backs service kube-system/metrics-server",
      "kubectl -n kube-system get pods -l k8s-app=metrics-server", "--kubelet-insecure-tls",
      "--kubelet-preferred-address-types=InternalIP"]),
    ("ServiceAccessError", None, ["cannot be checked due to"], ["kube-apiserver itself cannot read"]),
    ("FailedDiscoveryCheck", None, ["dial tcp 10.96.152.64:443: connect: connection refused"],
     ["kube-apiserver cannot reach metrics-server", "--secure-port", "--enable-aggregator-routing=true",
      "hostNetwork: true"]),
    ("FailedDiscoveryCheck", 403, ["bad status from https://10.96.152.64:443/apis/metrics.k8s.io/v1beta1: 403"],
     ["answered the availability check with 403", "aggregation layer is not (fully) configured",
      "--requestheader-client-ca-file", "--requestheader-allowed-names", "--proxy-client-cert-file",
      "--proxy-client-key-file", "extension-apiserver-authentication-reader"]),
    ("FailedDiscoveryCheck", 401, ["bad status from", ": 401"],
     ["--requestheader-client-ca-file", "--proxy-client-key-file"]),
]


@pytest.mark.parametrize(("reason", "bad_status", "detail_words", "step_words"), REASONS,
                         ids=[f"{r[0]}-{r[1]}" if r[1] else r[0] for r in REASONS])
def test_apiservice_unavailable_reason(sim, capsys, reason, bad_status, detail_words, step_words):
    server, kubeconfig = sim
    server.faults.metrics_unavailable(reason, bad_status=bad_status)
    code, _, found = doctor(capsys, kubeconfig)
    assert code == 1
    metrics = found["metrics API"]
    assert metrics["status"] == FAIL
    assert metrics["detail"].startswith("registered but not available: APIService v1beta1.metrics.k8s.io → "
                                        f"service kube-system/metrics-server, Available=False ({reason}: ")
    assert 'metrics requests get 503 "service unavailable"' in metrics["detail"]
    for words in detail_words:
        assert words in metrics["detail"]
    for words in step_words:
        assert words in metrics["next_step"]
    if bad_status in (401, 403):
        assert "connection" not in metrics["next_step"].lower()


def test_backend_down_plain_switch(sim, capsys):
    server, kubeconfig = sim
    server.faults.metrics_down = True
    code, _, found = doctor(capsys, kubeconfig)
    assert code == 1
    assert "Available=False (FailedDiscoveryCheck: " in found["metrics API"]["detail"]
    assert "kube-apiserver cannot reach metrics-server" in found["metrics API"]["next_step"]


def test_backend_gone_while_the_apiservice_still_says_available(sim, capsys):
    server, kubeconfig = sim
    server.faults.metrics_unavailable("Passed")
    code, _, found = doctor(capsys, kubeconfig)
    metrics = found["metrics API"]
    assert code == 1 and metrics["status"] == FAIL
    assert ('the metrics backend is not answering: 503 "dial tcp 10.96.152.64:443: connect: connection refused"'
            in metrics["detail"])
    assert "Available" in metrics["detail"]
    assert "may have gone away since kube-apiserver last checked it" in metrics["next_step"]
    assert "kubectl -n kube-system logs deploy/metrics-server" in metrics["next_step"]


def test_backend_down_when_the_apiservice_cannot_be_read(sim, capsys):
    server, kubeconfig = sim
    server.faults.metrics_down = True
    server.faults.forbid("sim-admin", "get", "apiservices")
    code, _, found = doctor(capsys, kubeconfig)
    metrics = found["metrics API"]
    assert code == 1
    assert 'registered, but the metrics backend is not answering: 503 "service unavailable"' in metrics["detail"]
    assert "the APIService could not be read: reading it is forbidden" in metrics["detail"]
    assert "kubectl -n kube-system get pods -l k8s-app=metrics-server" in metrics["next_step"]
    assert "kubectl get apiservice v1beta1.metrics.k8s.io -o yaml" in metrics["next_step"]


def test_not_registered_when_the_apiservice_cannot_be_read(sim, capsys):
    server, kubeconfig = sim
    server.faults.metrics_absent = True
    server.faults.forbid("sim-admin", "get", "apiservices")
    code, _, found = doctor(capsys, kubeconfig)
    metrics = found["metrics API"]
    assert code == 1
    assert "not available: discovery does not list metrics.k8s.io" in metrics["detail"]
    assert "Install metrics-server" in metrics["next_step"] and "ask a cluster admin" in metrics["next_step"]


def test_metrics_not_scraped_yet(sim, capsys):
    server, kubeconfig = sim
    server.faults.metrics_empty = True
    code, _, found = doctor(capsys, kubeconfig)
    assert code == 1
    nodes = found["node metrics"]
    assert nodes["status"] == FAIL
    assert "has no node metrics for any of the 4 nodes" in nodes["detail"]
    assert "metrics not available yet" in nodes["detail"]
    assert "--kubelet-insecure-tls" in nodes["next_step"]
    assert found["pod metrics"]["status"] == WARN and "no pod metrics" in found["pod metrics"]["detail"]
    assert found["metrics freshness"]["status"] == SKIP


# -- freshness ----------------------------------------------------------------------------


def test_stale_metrics(sim, capsys):
    server, kubeconfig = sim
    server.faults.stale_metrics()
    server.cluster.advance(600)
    code, _, found = doctor(capsys, kubeconfig)
    fresh = found["metrics freshness"]
    assert code == 0  # stale numbers are a warning: everything still answers
    assert fresh["status"] == WARN
    assert "the newest node metrics are 10m" in fresh["detail"] and "by the server's clock" in fresh["detail"]
    assert "stale after 2m" in fresh["detail"] and "metrics-server has stopped scraping" in fresh["detail"]
    assert "--kubelet-" in fresh["next_step"] and "kubectl -n kube-system logs deploy/metrics-server" in fresh[
        "next_step"]
    server.faults.fresh_metrics()
    _, _, found = doctor(capsys, kubeconfig)
    assert found["metrics freshness"]["status"] == OK


def _item(name: str, timestamp: str, window: str = "15s", served: str | None = None) -> NodeMetrics:
    return NodeMetrics(metadata=ObjectMeta(name=name, creationTimestamp=served), timestamp=timestamp, window=window)


def test_freshness_uses_the_clock_when_the_server_does_not_stamp_its_answer():
    items = [_item("a", "2026-01-01T00:00:00Z"), _item("b", "2026-01-01T00:00:05Z")]
    start = 1_767_225_600.0
    ok = _freshness(items, lambda: start + 20)
    assert ok.status == OK and "15s old" in ok.detail and "this machine's clock" in ok.detail
    stale = _freshness(items, lambda: start + 400)
    assert stale.status == WARN and "6m35s old by this machine's clock" in stale.detail
    # The threshold is 3 windows when that is longer than 2 minutes.
    slow = [_item("a", "2026-01-01T00:00:00Z", window="1m0s")]
    assert _freshness(slow, lambda: start + 170).status == OK
    assert "stale after 3m" in _freshness(slow, lambda: start + 190).detail


def test_freshness_names_the_nodes_left_behind():
    items = [_item("a", "2026-01-01T00:00:00Z", served="2026-01-01T00:10:00Z"),
             _item("b", "2026-01-01T00:09:55Z", served="2026-01-01T00:10:00Z")]
    finding = _freshness(items, lambda: 0.0)
    assert finding.status == WARN
    assert "1 of 2 nodes have metrics older than 2m (a)" in finding.detail


def test_duration_and_age_texts():
    assert go_duration("15.012s") == pytest.approx(15.012)
    assert go_duration("1m0.5s") == pytest.approx(60.5)
    assert go_duration("500ms") == pytest.approx(0.5)
    assert go_duration("1h2m3s") == 3723
    assert go_duration("0s") == 0 and go_duration("soon") is None
    assert [age_text(s) for s in (0, 59, 60, 607, 3600, 3725)] == ["0s", "59s", "1m", "10m7s", "1h", "1h2m"]


# -- scope, output, exit code -------------------------------------------------------------------


def test_namespace_scope(make_sim_server, tmp_path, capsys):
    server = make_sim_server(nodes=2, pods_per_node=4)
    kubeconfig = server.write_kubeconfig(tmp_path / "config", namespace="web")
    _, doc, found = doctor(capsys, kubeconfig)
    assert doc["namespace"] == "web"
    assert 'namespace "web" (from the context)' in found["kubeconfig"]["detail"]
    assert found["permission: list pods"]["detail"] == 'allowed in namespace "web"'
    _, doc, found = doctor(capsys, kubeconfig, "-A")
    assert doc["namespace"] == "" and found["permission: list pods"]["detail"] == "allowed in all namespaces"
    code = main(["-A", "doctor", "--kubeconfig", str(kubeconfig), "-o", "json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["namespace"] == ""
    _, doc, found = doctor(capsys, kubeconfig, "-n", "kube-system")
    assert 'namespace "kube-system" (from -n)' in found["kubeconfig"]["detail"]


def test_failures_print_next_steps_under_them(sim, capsys):
    server, kubeconfig = sim
    server.faults.metrics_absent = True
    code, out = doctor_text(capsys, kubeconfig)
    assert code == 1
    lines = out.splitlines()
    failed = next(i for i, line in enumerate(lines) if line.startswith("✘ FAIL  metrics API: "))
    assert lines[failed + 1].startswith("        → next step: Install metrics-server")
    assert "– skip  node metrics: not checked" in out
    assert lines[-1] == "1 problem to fix: see the next steps above."


def test_unusable_kubeconfig(tmp_path, capsys):
    code, doc, found = doctor(capsys, tmp_path / "missing")
    assert code == 1 and not doc["ok"]
    assert found["kubeconfig"]["status"] == FAIL and "no such file or directory" in found["kubeconfig"]["detail"]
    assert "kubectl config get-contexts" in found["kubeconfig"]["next_step"]
    assert found["connection"]["status"] == SKIP


def test_unknown_context(sim, capsys):
    _, kubeconfig = sim
    code, _, found = doctor(capsys, kubeconfig, "--context", "prod")
    assert code == 1
    assert 'context "prod" does not exist' in found["kubeconfig"]["detail"]
    assert "Known contexts: sim" in found["kubeconfig"]["detail"]


def test_report_rendering():
    findings = [Finding("a", OK, "fine"), Finding("b", WARN, "meh", "do x"), Finding("c", FAIL, "broken", "do y"),
                Finding("d", SKIP, "not checked")]
    text = render_text(findings)
    assert text.splitlines()[:6] == [
        "✔ ok    a: fine", "⚠ warn  b: meh", "        → next step: do x", "✘ FAIL  c: broken",
        "        → next step: do y", "– skip  d: not checked"]
    assert text.endswith("1 problem to fix, 1 warning: see the next steps above.\n")
    wrapped = render_text([Finding("c", FAIL, "word " * 40, "step " * 30)], width=60)
    assert all(len(line) <= 60 for line in wrapped.splitlines())
    assert all(line.startswith("        ") for line in wrapped.splitlines()[1:-2])
    assert "\x1b[31;1m✘ FAIL\x1b[0m" in render_text(findings, colour=True)
    doc = json.loads(render_json(findings, context="sim"))
    assert doc["ok"] is False and doc["context"] == "sim" and doc["findings"][1] == {
        "check": "b", "status": "warn", "detail": "meh", "next_step": "do x"}
    assert render_text([Finding("a", WARN, "meh", "x")]).endswith("Everything ktopui needs works (1 warning).\n")
    with pytest.raises(ValueError):
        Finding("a", "bad", "x")
