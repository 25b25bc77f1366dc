"""Services and the API server's service proxy in the simulated cluster."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from helpers.kubectl import find_kubectl, kubectl


class _Echo(BaseHTTPRequestHandler):
    """Answers with what it was asked, in a status, headers and body of its own choosing."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        seen = {"method": self.command, "path": self.path, "body": body.decode(),
                "authorization": self.headers.get("Authorization"), "content_type": self.headers.get("Content-Type")}
        text = json.dumps(seen).encode()
        self.send_response(418 if "teapot" in self.path else 200)
        self.send_header("Content-Type", "application/x-echo")
        self.send_header("X-Echo", "yes")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    do_GET = do_POST = _answer


@pytest.fixture
def echo_url():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def api(sim_server, sim_api, echo_url):
    sim_server.expose_service("monitoring", "prometheus-k8s",
                              {"app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "k8s"},
                              9090, echo_url)
    sim_server.expose_service("monitoring", "prometheus-operated", {"operated-prometheus": "true"}, 9090, echo_url)
    sim_server.expose_service("vm", "vmsingle-k8s", {"app.kubernetes.io/name": "vmsingle"}, 8429, echo_url,
                              port_name="http", path_prefix="/prefix")
    return sim_api(sim_server)


def _names(doc: dict) -> list[str]:
    return [f'{i["metadata"]["namespace"]}/{i["metadata"]["name"]}' for i in doc["items"]]


def test_services_are_listed_with_label_selectors_as_the_api_server_does(api):
    every = api.get("/api/v1/services").json()
    assert every["kind"] == "ServiceList"
    assert _names(every) == ["monitoring/prometheus-k8s", "monitoring/prometheus-operated", "vm/vmsingle-k8s"]
    chosen = api.get("/api/v1/services", params={"labelSelector": "app.kubernetes.io/name in (prometheus,vmsingle)"})
    assert _names(chosen.json()) == ["monitoring/prometheus-k8s", "vm/vmsingle-k8s"]
    operated = api.get("/api/v1/namespaces/monitoring/services", params={"labelSelector": "operated-prometheus=true"})
    assert _names(operated.json()) == ["monitoring/prometheus-operated"]
    assert _names(api.get("/api/v1/namespaces/vm/services").json()) == ["vm/vmsingle-k8s"]
    one = api.get("/api/v1/namespaces/vm/services/vmsingle-k8s").json()
    assert (one["kind"], one["spec"]["ports"]) == (
        "Service", [{"name": "http", "protocol": "TCP", "port": 8429, "targetPort": "http"}])
    missing = api.get("/api/v1/namespaces/vm/services/nope")
    assert (missing.status_code, missing.json()["message"]) == (404, 'services "nope" not found')
    bad = api.get("/api/v1/services", params={"labelSelector": "a in (b"})
    assert bad.status_code == 400


@pytest.mark.parametrize("name", ["prometheus-k8s", "prometheus-k8s:web", "prometheus-k8s:9090",
                                  "http:prometheus-k8s:web", "prometheus-k8s:"])
def test_the_service_proxy_forwards_a_get_with_its_query(api, name):
    response = api.get(f"/api/v1/namespaces/monitoring/services/{name}/proxy/api/v1/query",
                       params=[("query", 'up{job="a b"}'), ("match[]", "x"), ("match[]", "y")])
    assert response.status_code == 200
    seen = response.json()
    assert seen["path"] == "/api/v1/query?query=up%7Bjob%3D%22a+b%22%7D&match%5B%5D=x&match%5B%5D=y"
    assert seen["authorization"] is None  # the user's credentials stay with the API server
    assert (response.headers["content-type"], response.headers["x-echo"]) == ("application/x-echo", "yes")


def test_the_service_proxy_forwards_a_post_body_and_the_targets_own_status(api):
    response = api.post("/api/v1/namespaces/vm/services/vmsingle-k8s:http/proxy/api/v1/query_range",
                        content=b"query=up&step=15", headers={"Content-Type": "application/x-www-form-urlencoded"})
    seen = response.json()
    assert (seen["method"], seen["path"], seen["body"], seen["content_type"]) == (
        "POST", "/prefix/api/v1/query_range", "query=up&step=15", "application/x-www-form-urlencoded")
    teapot = api.get("/api/v1/namespaces/vm/services/vmsingle-k8s/proxy/teapot")
    assert teapot.status_code == 418


def test_the_service_proxy_refuses_without_services_proxy_rights(api, sim_server):
    sim_server.faults.forbid("sim-admin", "get", "services/proxy", namespace="monitoring")
    response = api.get("/api/v1/namespaces/monitoring/services/prometheus-k8s:web/proxy/api/v1/query")
    assert response.status_code == 403
    assert response.json()["message"] == (
        'services "prometheus-k8s" is forbidden: User "sim-admin" cannot get resource "services/proxy" in API '
        'group "" in the namespace "monitoring"')
    assert api.get("/api/v1/namespaces/monitoring/services").status_code == 200  # listing is another right
    sim_server.faults.forbid("sim-admin", "list", "services")
    assert api.get("/api/v1/services").status_code == 403


def test_a_post_through_the_proxy_needs_create_on_services_proxy(api, sim_server):
    sim_server.faults.forbid("sim-admin", "create", "services/proxy")
    assert api.get("/api/v1/namespaces/monitoring/services/prometheus-k8s/proxy/api/v1/query").status_code == 200
    assert api.post("/api/v1/namespaces/monitoring/services/prometheus-k8s/proxy/api/v1/query").status_code == 403


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_target_that_refuses_gives_the_api_servers_503(sim_server, sim_api):
    port = _closed_port()
    sim_server.expose_service("monitoring", "prometheus-k8s", {}, 9090, f"http://127.0.0.1:{port}")
    response = sim_api(sim_server).get("/api/v1/namespaces/monitoring/services/prometheus-k8s:web/proxy/api/v1/query")
    assert response.status_code == 503
    assert response.json() == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": f"error trying to reach service: dial tcp 127.0.0.1:{port}: connect: connection refused",
        "reason": "ServiceUnavailable", "code": 503}


def test_a_service_without_endpoints_or_that_port_gives_503(sim_server, sim_api, echo_url):
    sim_server.expose_service("monitoring", "empty", {}, 9090, "")
    sim_server.expose_service("monitoring", "full", {}, 9090, echo_url)
    api = sim_api(sim_server)
    for path in ("empty/proxy/", "full:8080/proxy/"):
        response = api.get(f"/api/v1/namespaces/monitoring/services/{path}")
        name = path.split(":")[0].split("/")[0]
        assert (response.status_code, response.json()["message"]) == (
            503, f'no endpoints available for service "{name}"')


def test_a_target_that_hangs_up_mid_answer_ends_the_answer(sim_server, sim_api):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        def half_answer() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"sta")

        thread = threading.Thread(target=half_answer, daemon=True)
        thread.start()
        sim_server.expose_service("monitoring", "broken", {}, 9090, f"http://127.0.0.1:{port}")
        with pytest.raises(httpx.RemoteProtocolError):
            sim_api(sim_server).get("/api/v1/namespaces/monitoring/services/broken/proxy/api/v1/query")
        thread.join(5)
    assert sim_api(sim_server).get("/api/v1/services").status_code == 200  # the server goes on


@pytest.mark.kubectl
@pytest.mark.skipif(find_kubectl() is None, reason="kubectl is not installed")
def test_kubectl_lists_the_services_and_reads_through_both_proxies(api, sim_server, tmp_path):
    config = str(sim_server.write_kubeconfig(tmp_path / "config"))
    listed = kubectl(config, "get", "svc", "-n", "monitoring", "-o", "name")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == ["service/prometheus-k8s", "service/prometheus-operated"]
    proxied = kubectl(config, "get", "--raw", "/api/v1/namespaces/monitoring/services/prometheus-k8s:web/proxy/x?a=1")
    assert json.loads(proxied.stdout)["path"] == "/x?a=1"
    node = sim_server.cluster.nodes[0].name
    cadvisor = kubectl(config, "get", "--raw", f"/api/v1/nodes/{node}/proxy/metrics/cadvisor")
    assert "# TYPE container_cpu_usage_seconds_total counter" in cadvisor.stdout
