"""A real Prometheus (or VictoriaMetrics) scraping the simulated cluster as kube-prometheus does.

The engine scrapes each node's cAdvisor through the API server's node proxy with a service
account's token and the cluster's CA, as older kube-prometheus did: `__address__` the API
server, `__metrics_path__` /api/v1/nodes/NODE/proxy/metrics/cadvisor. The targets are the
cluster's nodes written into the config at start (the simulated cluster's nodes do not change):
Debian's prometheus is built without Kubernetes service discovery, so `kubernetes_sd_configs`
cannot be used. Series carry `node`, `instance` (the kubelet's address), `job="kubelet"` and
`metrics_path="/metrics/cadvisor"`. Sample timestamps are the kubelet's (honor_timestamps), so
a scrape between two of a node's stat collections adds nothing.

With `history`, the engine first holds the cluster's past (past.py), generated before it starts so
the live scrapes continue the generated counters: Prometheus reads it as blocks made by promtool
(the past ends a collection before the engine starts, so the head takes every live sample), VictoriaMetrics imports it once started.

The engine is then exposed as its operator would expose it: Prometheus as
monitoring/prometheus-k8s and monitoring/prometheus-operated (port `web` 9090), VictoriaMetrics
as monitoring/vmsingle-k8s (port `http` 8429), reachable through the service proxy.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from ktopui.sim import past
from ktopui.sim.engines import Engine, start_prometheus, start_victoria_metrics

if TYPE_CHECKING:
    from ktopui.sim.server import SimServer

SERVICE_ACCOUNT = "system:serviceaccount:monitoring:prometheus-k8s"
KUBE_PROMETHEUS = {"app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "k8s",
                   "app.kubernetes.io/part-of": "kube-prometheus"}
OPERATED = {"operated-prometheus": "true"}
VMSINGLE = {"app.kubernetes.io/name": "vmsingle", "app.kubernetes.io/instance": "k8s"}
KUBELET_PORT = 10250


def scrape_config(server: SimServer, directory: Path, interval: float, escape_paths: bool = False) -> dict:
    """The `kubelet` job for cAdvisor, as a scrape_configs entry both engines read; `escape_paths`:
    node names percent-encoded in the metrics path (VictoriaMetrics reads it as a URL, Prometheus
    encodes it itself)."""
    token = directory / "token"
    token.write_text(server.issue_token(None, SERVICE_ACCOUNT))
    ca = directory / "ca.crt"
    ca.write_bytes(server.ca_pem)
    client = {"tls_config": {"ca_file": str(ca)}, "bearer_token_file": str(token)}
    seconds = f"{interval:g}s"
    targets = [{"targets": [f"{server.host}:{server.port}"],
                "labels": {"node": node.name, "instance": f"{node.ip}:{KUBELET_PORT}",
                           "metrics_path": "/metrics/cadvisor",
                           "__metrics_path__": f"/api/v1/nodes/{_path_name(node.name, escape_paths)}/proxy/metrics/cadvisor"}}
               for node in server.cluster.nodes]
    return {
        "job_name": "kubelet",
        "scrape_interval": seconds,
        "scrape_timeout": seconds,
        "honor_labels": True,
        "honor_timestamps": True,
        "scheme": "https",
        **client,
        "static_configs": targets,
    }


def run(server: SimServer, data_dir: Path, engine: str, interval: float, cancel: threading.Event,
        history: float = 0) -> Engine:
    if engine not in ("prometheus", "victoriametrics"):
        raise ValueError(f"unknown engine {engine!r}: prometheus or victoriametrics")
    data_dir.mkdir(parents=True, exist_ok=True)
    config = scrape_config(server, data_dir, interval, escape_paths=engine == "victoriametrics")
    source = data_dir / ("past.om" if engine == "prometheus" else "past.prom")
    generated = None
    announce(server, engine)
    try:
        if history > 0:
            with open(source, "w") as out:
                generated = past.write(server.cluster, out, history, openmetrics=engine == "prometheus")
        if engine == "prometheus":
            started = start_prometheus(data_dir, scrape_config=config, cancel=cancel,
                                       blocks_from=source if generated and generated.samples else None)
        else:
            started = start_victoria_metrics(data_dir, scrape_config=config, cancel=cancel)
            try:
                if generated and generated.samples:
                    started.import_exposition(source)
            except BaseException:
                started.stop()
                raise
    finally:
        source.unlink(missing_ok=True)  # the engine holds it now; the text is many times its size
    for service in _services(engine, started.url):
        server.expose_service(*service)
    started.note = generated.note if generated else ""
    return started


def announce(server: SimServer, engine: str = "prometheus") -> None:
    """The engine's Services, without endpoints while it starts (the API server's proxy answers
    503 for them), as a Prometheus pod's are: a dashboard already looking finds them and tries
    again, instead of finding nothing and not looking again."""
    for service in _services(engine, ""):
        server.expose_service(*service)


def _services(engine: str, url: str) -> list[tuple]:
    """The Services an operator gives the engine, reaching `url` ("": no endpoints yet)."""
    if engine == "prometheus":
        return [("monitoring", "prometheus-k8s", KUBE_PROMETHEUS, 9090, url),
                ("monitoring", "prometheus-operated", OPERATED, 9090, url)]
    return [("monitoring", "vmsingle-k8s", VMSINGLE, 8429, url, "http")]


def _path_name(name: str, escape: bool) -> str:
    return quote(name, safe="") if escape else name
