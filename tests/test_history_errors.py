"""`ktopui history` and `ktopui rightsize` against scripted Prometheus answers: when things go
wrong (a bad duration, no Prometheus, Prometheus down, a 503 through the API server's service
proxy, partial data), each ends in a clear line on stderr (exit code 1), or, for partial data, a
warning with the output still written; and what the commands ask for."""

from __future__ import annotations

import json
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ktopui.cli import main
from ktopui.model import promql

KUBE_PROMETHEUS = {"app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "k8s",
                   "app.kubernetes.io/part-of": "kube-prometheus"}
T0 = 1796605200.0


class Scripted:
    """A Prometheus HTTP API on 127.0.0.1 in a thread: instant queries answer an empty vector;
    range queries answer `range_reply` (status, body); the paths and queries seen are kept."""

    def __init__(self, range_reply) -> None:
        self.seen: list[tuple[str, str]] = []
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def answer(self, form: dict[str, str]) -> None:
                path = urllib.parse.urlsplit(self.path).path
                scripted.seen.append((path, form.get("query", "")))
                if path.endswith("/api/v1/query"):
                    status, body = 200, {"status": "success", "data": {"resultType": "vector", "result": []}}
                elif path.endswith("/api/v1/query_range"):
                    status, body = range_reply(form)
                else:
                    status, body = 404, {"status": "error", "errorType": "not_found", "error": "no such path"}
                data = json.dumps(body).encode() if isinstance(body, dict) else body
                self.send_response(status)
                self.send_header("Content-Type", "application/json" if isinstance(body, dict) else "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                self.answer(dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query)))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                self.answer(dict(urllib.parse.parse_qsl(self.rfile.read(length).decode())))

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def one_series(form: dict[str, str]) -> dict:
    """A container's CPU or memory (by the query) at the range's first two steps."""
    start, step = float(form["start"]), float(form["step"])
    value = "250" if "cpu" in form["query"] else "1048576"
    return {"namespace": "web", "pod": "api-0", "container": "api"}, [[start, value], [start + step, value]]


@pytest.fixture
def kubeconfig(sim_server, tmp_path):
    return str(sim_server.write_kubeconfig(tmp_path / "config"))


def run(capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv, says", [
    (("history", "pods", "--since", "7x"), "'7x' is not a duration"),
    (("history", "pods", "--since", "1h", "--step", "0"), "'0' is not a duration"),
    (("history", "pods", "--since", "30d", "--step", "15s"), "more than 11000 points"),
    (("history", "pods", "web-1", "-l", "app=web", "--since", "1h"), "only one of NAME or --selector"),
    (("rightsize", "--since", "a week"), "'a week' is not a duration"),
])
def test_a_bad_flag_is_one_error_line_and_exit_1_before_anything_is_asked(capsys, argv, says):
    code, out, err = run(capsys, *argv, "--kubeconfig", "/nonexistent/config")
    assert code == 1 and out == ""
    assert err.startswith("error: ") and says in err and err.count("\n") == 1


def test_prometheus_down_is_one_line_naming_it_and_exit_1(capsys, kubeconfig):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # (closed again: nothing listens there)
    code, out, err = run(capsys, "history", "pods", "--since", "1h", "--kubeconfig", kubeconfig,
                         "--prometheus", f"http://127.0.0.1:{port}")
    assert code == 1 and out == ""
    assert err.startswith("error: ") and f"127.0.0.1:{port}" in err


def test_no_prometheus_in_the_cluster_says_so_and_how_to_name_one(capsys, kubeconfig):
    code, out, err = run(capsys, "rightsize", "--kubeconfig", kubeconfig)
    assert code == 1 and out == ""
    assert err.startswith("error: no Prometheus in the cluster: ")
    assert err.splitlines()[-1] == "Name one with --prometheus URL."


def test_no_prometheus_flag_is_an_error_for_commands_that_need_it(capsys, kubeconfig):
    code, out, err = run(capsys, "history", "nodes", "--since", "1h", "--kubeconfig", kubeconfig, "--no-prometheus")
    assert code == 1 and out == "" and "--no-prometheus" in err


def test_a_503_through_the_service_proxy_is_an_error_not_an_empty_export(capsys, sim_server, kubeconfig):
    with Scripted(lambda form: (503, b"upstream connect error")) as prometheus:
        sim_server.expose_service("monitoring", "prometheus-k8s", KUBE_PROMETHEUS, 9090, prometheus.url)
        code, out, err = run(capsys, "history", "pods", "-n", "web", "--since", "1h", "--kubeconfig", kubeconfig)
    assert any(path.endswith("/api/v1/query_range") for path, _ in prometheus.seen)  # found, through the proxy
    assert code == 1 and out == ""
    assert err.startswith("error: ") and "monitoring/prometheus-k8s" in err and "503" in err


def test_partial_data_warnings_go_to_stderr_and_the_output_is_still_written(capsys, kubeconfig):
    def partial(form):
        return 200, {"status": "success", "warnings": ["PromQL: store eu-1 unreachable, partial data"],
                     "data": {"resultType": "matrix", "result": [
                         {"metric": one_series(form)[0], "values": one_series(form)[1]}]}}

    with Scripted(partial) as prometheus:
        code, out, err = run(capsys, "history", "pods", "-n", "web", "--since", "1h", "--kubeconfig", kubeconfig,
                             "--prometheus", prometheus.url)
    assert code == 0
    assert out.splitlines()[0] == "time,namespace,pod,container,cpu_millicores,memory_bytes"
    assert out.splitlines()[1].endswith(",web,api-0,api,250,1048576")
    assert err == "Warning: Prometheus: PromQL: store eu-1 unreachable, partial data\n"
    # One query per metric for the namespace, never one per pod.
    assert sum(path.endswith("/api/v1/query_range") for path, _ in prometheus.seen) == 2


def test_all_namespaces_without_leave_to_list_them_is_one_query_per_metric_across_all(capsys, sim_server, kubeconfig):
    sim_server.faults.forbid("sim-admin", "list", "namespaces", group="")
    with Scripted(lambda form: (200, {"status": "success", "data": {"resultType": "matrix", "result": [
            {"metric": one_series(form)[0], "values": one_series(form)[1]}]}})) as prometheus:
        code, out, err = run(capsys, "history", "pods", "-A", "--since", "1h", "--kubeconfig", kubeconfig,
                             "--prometheus", prometheus.url)
    assert code == 0, err
    queries = [query for path, query in prometheus.seen if path.endswith("/api/v1/query_range")]
    assert len(queries) == 2 and not any("namespace=" in q for q in queries)
    assert ",web,api-0,api,250,1048576" in out


def test_all_namespaces_is_one_query_per_metric_per_namespace(capsys, sim_server, sim_api, kubeconfig):
    with Scripted(lambda form: (200, {"status": "success", "data": {"resultType": "matrix", "result": []}})) as p:
        code, _, err = run(capsys, "history", "pods", "-A", "--since", "1h", "--kubeconfig", kubeconfig,
                           "--prometheus", p.url)
    assert code == 0 and "no series" in err
    queries = [query for path, query in p.seen if path.endswith("/api/v1/query_range")]
    namespaces = {ns["metadata"]["name"] for ns in sim_api(sim_server).get("/api/v1/namespaces").json()["items"]}
    assert sorted(queries) == sorted(q for ns in namespaces for q in
                                     (promql.pod_cpu(ns, None, promql.rate_window(promql.step_for(3600))),
                                      promql.pod_memory(ns, None)))


def test_the_config_files_prometheus_url_is_used_and_a_bad_one_is_an_error(capsys, kubeconfig, tmp_path):
    config = tmp_path / "config.toml"
    with Scripted(lambda form: (200, {"status": "success", "data": {"resultType": "matrix", "result": [
            {"metric": one_series(form)[0], "values": one_series(form)[1]}]}})) as prometheus:
        config.write_text(f'[prometheus]\nurl = "{prometheus.url}"\n')
        code, out, err = run(capsys, "--config", str(config), "history", "pods", "-n", "web", "--since", "1h",
                             "--kubeconfig", kubeconfig)
    assert code == 0, err
    assert ",web,api-0,api,250,1048576" in out
    config.write_text('[prometheus]\nurl = "ftp://nowhere"\n')
    code, out, err = run(capsys, "--config", str(config), "rightsize", "--kubeconfig", kubeconfig)
    assert code == 1 and out == "" and "prometheus.url" in err


def test_rightsize_asks_only_for_the_namespaces_of_the_workloads_it_advises_on(capsys, sim_server, kubeconfig):
    with Scripted(lambda form: (200, {"status": "success", "data": {"resultType": "matrix", "result": []}})) as p:
        code, out, err = run(capsys, "rightsize", "-A", "-l", "app=frontend", "--kubeconfig", kubeconfig,
                             "--prometheus", p.url)
    assert code == 0, err
    assert {line.split()[0] for line in out.splitlines()[1:]} == {"web"}
    queries = [query for path, query in p.seen if path.endswith("/api/v1/query_range")]
    assert len(queries) == 2 and all('namespace="web"' in q for q in queries)
    assert any("max_over_time(container_memory_working_set_bytes" in q for q in queries)  # peaks within each step
