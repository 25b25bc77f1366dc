"""Services and the API server's service proxy, for what the simulated cluster exposes (a real
Prometheus or VictoriaMetrics the tests or the demo started, or a hostile server a test wrote).

    services.add(namespace, name, labels, port, target_url, port_name="web", path_prefix="")
    GET /api/v1/services, /api/v1/namespaces/NS/services[/NAME]   (labelSelector, fieldSelector)
    GET|POST /api/v1/namespaces/NS/services/[http:|https:]NAME[:PORT_OR_NAME]/proxy/REST?QUERY
        -> target_url + path_prefix + "/" + REST?QUERY, the request's body and headers forwarded
           (not its credentials), the target's status, headers and body passed back unchanged,
           streamed as they come.

As kube-apiserver: a service with no endpoints (target_url "") or a port it does not have gives
503 `no endpoints available for service "NAME"`; a target that cannot be reached, 503
`error trying to reach service: dial tcp ...` (apimachinery's proxy transport), both as Status.
"""

from __future__ import annotations

import hashlib
import http.client
import socket
import ssl
import threading
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from ktopui.sim import quantities as q
from ktopui.sim import render, status
from ktopui.sim.cluster import SimCluster
from ktopui.sim.selectors import FieldReq, Requirement, fields_match, matches
from ktopui.sim.world import derived_uid

TARGET_TIMEOUT = 300.0  # seconds a target may take to answer or to send the next part
FIELDS = ("metadata.name", "metadata.namespace")
# Not forwarded: hop-by-hop headers, and what identifies the user to the API server.
_REQUEST_DROPPED = {"authorization", "connection", "keep-alive", "proxy-authorization", "proxy-connection", "te",
                    "trailer", "transfer-encoding", "upgrade", "host", "content-length", "impersonate-user",
                    "impersonate-group"}
_RESPONSE_DROPPED = {"connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
                     "content-length", "content-type", "date"}


@dataclass(frozen=True, slots=True)
class Service:
    namespace: str
    name: str
    labels: dict[str, str]
    port: int
    port_name: str
    target_url: str  # "" : no endpoints
    path_prefix: str
    created: float
    rv: int

    @property
    def fields(self) -> dict[str, str]:
        return {"metadata.name": self.name, "metadata.namespace": self.namespace}

    def item(self) -> bytes:
        digest = hashlib.sha256(f"{self.namespace}/{self.name}".encode()).digest()
        cluster_ip = f"10.96.{digest[0]}.{1 + digest[1] % 254}"
        doc = {
            "metadata": {"name": self.name, "namespace": self.namespace,
                         "uid": derived_uid("service", self.namespace, self.name),
                         "resourceVersion": str(self.rv), "creationTimestamp": q.rfc3339(self.created),
                         "labels": self.labels},
            "spec": {"ports": [{"name": self.port_name, "protocol": "TCP", "port": self.port,
                                "targetPort": self.port_name}],
                     "selector": self.labels, "clusterIP": cluster_ip, "clusterIPs": [cluster_ip],
                     "type": "ClusterIP", "sessionAffinity": "None", "ipFamilies": ["IPv4"],
                     "ipFamilyPolicy": "SingleStack", "internalTrafficPolicy": "Cluster"},
            "status": {"loadBalancer": {}},
        }
        return render.encode(doc)


class Services:
    def __init__(self, cluster: SimCluster, stopping: threading.Event) -> None:
        self.cluster = cluster
        self.stopping = stopping
        self._by_key: dict[tuple[str, str], Service] = {}
        self._lock = threading.Lock()

    def add(self, namespace: str, name: str, labels: dict[str, str], port: int, target_url: str,
            port_name: str = "web", path_prefix: str = "") -> Service:
        """Create (or replace) a Service whose proxy path reaches `target_url`."""
        service = Service(namespace, name, dict(labels), port, port_name, target_url.rstrip("/"),
                          path_prefix.rstrip("/"), self.cluster.now(), self.cluster.bump_resource_version())
        with self._lock:
            self._by_key[(namespace, name)] = service
        return service

    def get(self, namespace: str, name: str) -> Service | None:
        with self._lock:
            return self._by_key.get((namespace, name))

    def list_doc(self, namespace: str | None, labels: list[Requirement], fields: list[FieldReq]) -> bytes:
        with self._lock:
            chosen = [s for key, s in sorted(self._by_key.items())
                      if (namespace is None or key[0] == namespace) and (not labels or matches(labels, s.labels))
                      and (not fields or fields_match(fields, s.fields))]
        meta = {"resourceVersion": str(self.cluster.resource_version)}
        return render.list_doc("ServiceList", "v1", meta, [s.item() for s in chosen])

    def proxy(self, method: str, namespace: str, name_part: str, rest: str, raw_query: str,
              headers: Mapping[str, str], body: bytes):
        """The service proxy's answer: (status, content type, headers, body stream), or an
        error (status, Status body) when the target cannot be reached."""
        scheme, name, port = split_scheme_name_port(name_part)
        service = self.get(namespace, name)
        if service is None:
            return 404, status.not_found("services", name)
        if not service.target_url or port not in ("", str(service.port), service.port_name):
            return 503, status.status(503, "ServiceUnavailable", f'no endpoints available for service "{name}"')
        target = urlsplit(service.target_url)
        host, target_port = target.hostname or "127.0.0.1", target.port or (443 if target.scheme == "https" else 80)
        path = f"{target.path}{service.path_prefix}/{rest}" + (f"?{raw_query}" if raw_query else "")
        use_tls = (scheme or target.scheme) == "https"
        if use_tls:  # the API server does not verify a service's certificate
            context = ssl._create_unverified_context()
            conn: http.client.HTTPConnection = http.client.HTTPSConnection(host, target_port, timeout=TARGET_TIMEOUT,
                                                                           context=context)
        else:
            conn = http.client.HTTPConnection(host, target_port, timeout=TARGET_TIMEOUT)
        forwarded = {k: v for k, v in headers.items() if k.lower() not in _REQUEST_DROPPED}
        try:
            conn.request(method, path, body=body if method != "GET" or body else None, headers=forwarded)
            answer = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            conn.close()
            return 503, status.status(503, "ServiceUnavailable",
                                      f"error trying to reach service: {_dial_error(host, target_port, exc)}")
        passed = [(k, v) for k, v in answer.getheaders() if k.lower() not in _RESPONSE_DROPPED]
        return answer.status, answer.getheader("Content-Type", ""), passed, self._relay(conn, answer)

    def _relay(self, conn: http.client.HTTPConnection,
               answer: http.client.HTTPResponse) -> Generator[bytes, None, None]:
        try:
            while not self.stopping.is_set():
                chunk = answer.read1(1 << 16)
                if not chunk:
                    if answer.length:  # fewer bytes than its Content-Length said
                        raise http.client.IncompleteRead(b"", answer.length)
                    return
                yield chunk
        except (OSError, http.client.HTTPException) as exc:
            # The target broke off: so does the answer, without its last chunk, as Go's reverse
            # proxy aborts the handler; the client sees a broken answer, not a short one.
            raise ConnectionAbortedError(f"the target broke off: {exc!r}") from exc
        finally:
            conn.close()


def split_scheme_name_port(text: str) -> tuple[str, str, str]:
    """apimachinery's SplitSchemeNamePort: NAME, NAME:PORT or SCHEME:NAME:PORT."""
    parts = text.split(":")
    if len(parts) == 3 and parts[0] in ("http", "https"):
        return parts[0], parts[1], parts[2]
    if len(parts) == 2:
        return "", parts[0], parts[1]
    return "", text, ""


def _dial_error(host: str, port: int, exc: BaseException) -> str:
    """Go's net error text for what went wrong reaching the target."""
    if isinstance(exc, ConnectionRefusedError):
        return f"dial tcp {host}:{port}: connect: connection refused"
    if isinstance(exc, socket.timeout | TimeoutError):
        return f"dial tcp {host}:{port}: i/o timeout"
    if isinstance(exc, ConnectionResetError):
        return f"read tcp {host}:{port}: read: connection reset by peer"
    return f"{host}:{port}: {exc}"
