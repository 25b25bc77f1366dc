"""A real HTTPS Kubernetes API server for a simulated cluster.

Interface:

    from ktopui.sim.server import SimServer
    from ktopui.sim.cluster import SimCluster, SimOptions

    opts = SimOptions(nodes=3, pods_per_node=4, seed=1, metric_resolution=15.0, quirky=False,
                      start_time=None, churn_per_minute=None, frozen=False)
    with SimServer(opts) as server:            # or SimServer(cluster=SimCluster(opts)).start() ... .stop()
        server.url                             # "https://127.0.0.1:PORT"
        server.ca_pem, server.ca_path          # CA (PEM bytes, file in a temp dir removed by stop())
        server.token                           # bearer token of user "sim-admin", never expires
        server.issue_token(ttl=5.0, user="jane")   # 401 after ttl real seconds; ttl None = forever
        server.revoke_token(token)
        server.issue_client_cert("jane", groups=("dev",))  # (cert PEM, key PEM) for TLS client auth
        server.write_kubeconfig(path, context="sim", namespace=None, token=None, embed_ca=True,
                                client_cert=None)          # complete kubeconfig; default token = server.token
        server.cluster                         # SimCluster: .clock, .freeze(at=None), .advance(s), .resume(),
                                               # .nodes, .pods, .resource_version, .roll_out(ns, name)
                                               # (thread-safe)
        server.faults                          # Faults switches, see faults.py
        server.requests                        # [RequestRecord(method, path, query, user, status, bytes_sent)],
                                               # newest last, recorded before the answer is sent; past
                                               # 100,000 the oldest are dropped; .clear() it freely
        server.on_request = fn                 # fn(method, path, query) as each request arrives, before
                                               # any fault (a watch is logged only when its stream ends)
        server.expose_service("monitoring", "prometheus-k8s", {"app": "x"}, 9090, "http://127.0.0.1:9090",
                              port_name="web", path_prefix="")   # a Service and its proxy (services.py)
        server.run_prometheus(data_dir, engine="prometheus", scrape_interval=15, history=0)
                                               # a real engine scraping the kubelets' cAdvisor
                                               # (prometheus.py), holding `history` s of the past (past.py)

Serves (JSON only; kubectl's protobuf Accept header is answered with JSON, which
client-go accepts by Content-Type): /version, legacy discovery (/api, /api/v1, /apis,
/apis/{group}[/{version}]), core nodes/pods/namespaces/replicationcontrollers/resourcequotas,
apps deployments/replicasets/statefulsets/daemonsets, batch jobs/cronjobs and the Argo
Rollouts CRD's rollouts (get, list with label/field selectors and limit/continue, watch
for all but namespaces; metadata only, as PartialObjectMetadata[List], when the Accept
header asks for it), metrics.k8s.io/v1beta1 exactly as metrics-server, each kubelet's cAdvisor
metrics through the node proxy (cadvisor.py), Services and the service proxy (services.py), the
apiregistration APIService objects, and the review endpoints `kubectl auth whoami` and
`kubectl auth can-i` use (POST selfsubjectreviews, selfsubjectaccessreviews). Answers
over 128 KiB are gzipped for clients that accept it, as the API server does.

One thread per connection (HTTP/1.1 keep-alive); TLS is negotiated in that thread so a
stalled client cannot block the accept loop.
"""

from __future__ import annotations

import functools
import html
import json
import re
import select
import shutil
import socket
import ssl
import struct
import tempfile
import threading
import traceback
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

from ktopui.sim import discovery, hostile, kubeconfig, prometheus, status
from ktopui.sim.api import JSON, PLAIN, Api, Response
from ktopui.sim.auth import DEFAULT_USER, TokenStore, User, cert_user
from ktopui.sim.certs import Authority
from ktopui.sim.cluster import SimCluster, SimOptions
from ktopui.sim.engines import Engine, EngineError
from ktopui.sim.faults import Faults

# The API server compresses a response larger than 128 KiB, at gzip's fastest
# level, for a client that accepts gzip (as client-go's does): a 150,000-pod
# metrics list goes out as about a tenth of its 53 MB. Watch streams are not
# compressed. (apiserver responsewriters: defaultGzipThresholdBytes, defaultGzipContentEncodingLevel.)
GZIP_THRESHOLD = 128 * 1024
GZIP_LEVEL = 1
PUBLIC_PATHS = ("/version", "/healthz", "/livez", "/readyz")  # readable without credentials
REQUEST_LOG_LIMIT = 50_000
_FLOWSCHEMA = str(uuid.UUID(int=0x5157, version=4))
_PRIORITY = str(uuid.UUID(int=0x9E1, version=4))
_BAD_GATEWAY = (b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway"
                b"</h1></center>\r\n</body>\r\n</html>\r\n")


@dataclass(frozen=True, slots=True)
class RequestRecord:
    method: str
    path: str
    query: str
    user: str | None
    status: int  # 0: connection dropped without an answer
    bytes_sent: int


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 300  # idle keep-alive connections are closed after this
    server: _HTTPServer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the stdlib's name
        pass  # requests are recorded in SimServer.requests instead

    def send_response(self, code: int, message: str | None = None) -> None:
        self.send_response_only(code, message)
        # The server's clock is the cluster's (frozen in tests, as the metrics' timestamps are).
        self.send_header("Date", self.date_time_string(self.server.sim.cluster.clock.now()))

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_PUT(self) -> None:
        self._serve("PUT")

    def do_PATCH(self) -> None:
        self._serve("PATCH")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _authenticate(self) -> User | None:
        user = cert_user(self.connection.getpeercert())
        if user is not None:
            return user
        header = self.headers.get("Authorization", "")
        if header[:7].lower() == "bearer ":
            return self.server.sim.tokens.lookup(header[7:].strip())
        return None

    def _serve(self, method: str) -> None:
        sim = self.server.sim
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        path = unquote(url.path).rstrip("/") or "/"  # as the API server, names are read percent-decoded
        faults = sim.faults
        if sim.on_request is not None:
            sim.on_request(method, path, url.query)
        user = self._authenticate()

        def record(code: int, sent: int) -> None:
            sim._record(RequestRecord(method, path, url.query, user.name if user else None, code, sent))

        if faults.take("drop", path):
            self.close_connection = True
            record(0, 0)
            return
        delay = faults.latency_for(path)
        if delay:
            sim._stopping.wait(delay)
        if faults.unauthorized or (user is None and path not in PUBLIC_PATHS):
            response = Response(401, status.unauthorized())
        elif faults.status_code is not None:
            response = _injected(faults.status_code, 1)
        elif (rule := faults.take("status", path)) is not None:
            response = _injected(rule.code, rule.retry_after)
        elif faults.take("hostile", path) is not None:
            response = Response(500, status.internal_error(hostile.STATUS_MESSAGE))
        elif (rule := faults.take("redirect", path)) is not None:
            response = _redirect(rule.code, rule.text)
        elif path == "/version":
            response = Response(200, sim.version_body)
        elif path in ("/healthz", "/livez", "/readyz"):
            response = Response(200, b"ok", PLAIN)
        else:
            try:
                response = sim.api.handle(method, path, parse_qs(url.query, keep_blank_values=True),
                                          user or User("system:anonymous", ("system:unauthenticated",)), body,
                                          self.headers.get("Accept", ""), url.query, self.headers)
            except Exception as exc:  # a simulator bug: answer like the apiserver's panic handler, loudly
                traceback.print_exc()
                response = Response(500, status.internal_error(repr(exc)))
        if response.stream is not None:
            record(response.status, self._stream(response))
            return
        body = response.body
        if response.status == 200 and response.content_type == JSON:
            if self._hostile(faults, path, record):
                return
            body = _rewritten(body, faults, path)
        if response.status == 200 and response.content_type == JSON and faults.take("malformed", path):
            body = body[: len(body) // 2] + b"\x00<not json>"
        gzipped = len(body) > GZIP_THRESHOLD and _accepts_gzip(self.headers.get("Accept-Encoding", ""))
        if gzipped:
            body = _gzip(body)
        truncate = faults.take("truncate", path) is not None
        sent = len(body) // 2 if truncate else len(body)
        slow = faults.take("slow_body", path) if response.status == 200 else None
        record(response.status, sent)  # before answering, so a client that got the answer sees the record
        self.send_response(response.status)
        self._headers(response)
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Vary", "Accept-Encoding")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if slow is not None:
            self._trickle(memoryview(body)[:sent], slow.rate)
        else:
            self.wfile.write(memoryview(body)[:sent])
        if truncate:
            self.close_connection = True

    def _hostile(self, faults: Faults, path: str, record) -> bool:
        """Answer with a gzip bomb or a huge body if a rule says so; True if it did."""
        rule = faults.take("gzip_bomb", path) or faults.take("huge_body", path)
        if rule is None:
            return False
        bomb = rule.kind == "gzip_bomb"
        body = _bomb(rule.size) if bomb else None
        length = len(body) if body is not None else rule.size
        record(200, length)
        self.send_response(200)
        self._headers(Response(200))
        if bomb:
            self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(length))
        self.end_headers()
        if body is not None:
            self.wfile.write(body)
            return True
        # Written as the client reads, never held: the client hangs up long before the end.
        self.wfile.write(_LIST_OPENING)
        block = b" " * (1 << 20)
        left = length - len(_LIST_OPENING)
        while left > 0 and not self.server.sim._stopping.is_set():
            self.wfile.write(block[: min(left, len(block))])
            left -= len(block)
        return True

    def _trickle(self, body: memoryview, rate: float) -> None:
        """Write `body` a byte every 1/rate seconds (until the client or the server gives up)."""
        stopping = self.server.sim._stopping
        for i in range(len(body)):
            self.wfile.write(body[i : i + 1])
            self.wfile.flush()
            if stopping.wait(1 / rate):
                return

    def _headers(self, response: Response) -> None:
        self.send_header("Audit-Id", str(uuid.uuid4()))
        self.send_header("Cache-Control", "no-cache, private")
        if response.content_type:  # a proxied answer may have none
            self.send_header("Content-Type", response.content_type)
        for name, value in response.headers:
            self.send_header(name, value)
        if response.content_type == JSON:
            self.send_header("X-Kubernetes-Pf-Flowschema-Uid", _FLOWSCHEMA)
            self.send_header("X-Kubernetes-Pf-Prioritylevel-Uid", _PRIORITY)

    def _stream(self, response: Response) -> int:
        """Write a watch as chunked transfer encoding until it ends or the client goes away."""
        self.send_response(response.status)
        self._headers(response)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()
        sent = 0
        assert response.stream is not None
        try:
            for chunk in response.stream:
                if not chunk:  # nothing to send yet: stop if the client has gone away
                    if _client_gone(self.connection):
                        self.close_connection = True
                        return sent
                    continue
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                sent += len(chunk)
            self.wfile.write(b"0\r\n\r\n")
        except OSError:
            self.close_connection = True
        finally:
            response.stream.close()
        return sent


def _client_gone(conn: socket.socket) -> bool:
    """Whether a client waiting for the rest of a response has closed its end: an HTTP/1.1
    client sends nothing while its response is in flight, so anything readable is its EOF."""
    try:
        return bool(select.select([conn], [], [], 0)[0])
    except (OSError, ValueError):
        return True


def _accepts_gzip(accept_encoding: str) -> bool:
    return any(part.split(";")[0].strip().lower() == "gzip" for part in accept_encoding.split(","))


def _gzip(body: bytes) -> bytes:
    # zlib releases the GIL while it compresses: other connections keep being served.
    compressor = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)  # 31: gzip framing
    return compressor.compress(body) + compressor.flush()


_LIST_OPENING = b'{"kind":"List","apiVersion":"v1","metadata":{},"items":['


_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"  # no name, no mtime, best compression
_FINAL_BLOCK = b"\x03\x00"  # an empty last deflate block


def _deflated(data: bytes) -> bytes:
    """Raw deflate of `data` ending in a full flush: byte-aligned, referring to nothing before
    it, so such pieces can be laid end to end (and repeated) as one deflate stream."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush(zlib.Z_FULL_FLUSH)


@functools.lru_cache(maxsize=4)
def _bomb(inflated: int) -> bytes:
    """gzip of a list opening and then spaces, `inflated` bytes in all (about a thousandth on the wire).

    One MiB of spaces is compressed once and its piece repeated: compressing gigabytes would
    hold up the first answer for seconds, longer than the clients under test wait for it."""
    block = b" " * (1 << 20)
    whole, rest = divmod(max(0, inflated - len(_LIST_OPENING)), len(block))
    crc = zlib.crc32(_LIST_OPENING)
    for _ in range(whole):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(block[:rest], crc)
    trailer = struct.pack("<II", crc, (len(_LIST_OPENING) + whole * len(block) + rest) & 0xFFFFFFFF)
    return b"".join((_GZIP_HEADER, _deflated(_LIST_OPENING), _deflated(block) * whole, _deflated(block[:rest]),
                     _FINAL_BLOCK, trailer))


def _rewritten(body: bytes, faults: Faults, path: str) -> bytes:
    """A JSON answer as the deep_nesting and bad_window rules change it."""
    if body.startswith(b"{") and (rule := faults.take("deep_nesting", path)) is not None:
        body = b'{"x-nested":' + b"[" * rule.size + b"]" * rule.size + b"," + body[1:]
    if (rule := faults.take("bad_window", path)) is not None:
        window = json.dumps(rule.text).encode()
        body = re.sub(rb'"window":"[^"]*"', lambda _: b'"window":' + window, body)
    return body


def _redirect(code: int, location: str) -> Response:
    # What Go's http.Redirect writes for a GET.
    text = f'<a href="{html.escape(location)}">{HTTPStatus(code).phrase}</a>.\n\n'.encode()
    return Response(code, text, "text/html; charset=utf-8", headers=[("Location", location)])


def _injected(code: int, retry_after: int | str) -> Response:
    if code == 429:
        seconds = retry_after if isinstance(retry_after, int) else 0  # the body's field is an integer
        return Response(429, status.too_many_requests(seconds), headers=[("Retry-After", str(retry_after))])
    if code == 502:  # from a load balancer in front of the apiserver, not the apiserver itself
        return Response(502, _BAD_GATEWAY, "text/html")
    if code == 503:
        return Response(503, status.status(503, "ServiceUnavailable",
                                           "the server is currently unable to handle the request", {}))
    if code == 504:
        return Response(504, status.gateway_timeout())
    return Response(500, status.internal_error("etcdserver: request timed out"))


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], sim: SimServer) -> None:
        self.sim = sim
        super().__init__(address, _Handler)

    def finish_request(self, request: socket.socket, client_address: tuple[str, int]) -> None:
        request.settimeout(30)  # bounds the handshake; the handler sets its own timeout after
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # headers and body go out as sent
        try:
            conn = self.sim._ssl.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            request.close()
            return
        self.sim._connections.add(conn)
        try:
            self.RequestHandlerClass(conn, client_address, self)
        except (OSError, ssl.SSLError):
            pass  # the client went away mid-request
        finally:
            self.sim._connections.discard(conn)
            conn.close()

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # connection-level errors are the client's business


class SimServer:
    """The simulated cluster behind a TLS API endpoint on 127.0.0.1."""

    def __init__(self, options: SimOptions | None = None, *, cluster: SimCluster | None = None,
                 port: int = 0, host: str = "127.0.0.1") -> None:
        self.cluster = cluster if cluster is not None else SimCluster(options or SimOptions())
        self.faults = Faults(self.cluster, self.cluster.options.seed)
        self.tokens = TokenStore()
        hostile_text = self.cluster.options.hostile_text
        self.token = self.tokens.issue(None, hostile.USER if hostile_text else DEFAULT_USER)
        self.requests: list[RequestRecord] = []
        self.on_request: Callable[[str, str, str], None] | None = None
        self._records_lock = threading.Lock()
        self._dir = Path(tempfile.mkdtemp(prefix="ktopui-sim-"))
        ca = Authority("ktopui-sim-ca")
        self._client_ca = Authority("ktopui-sim-client-ca")
        self.ca_pem: bytes = ca.cert_pem
        self.ca_path = self._dir / "ca.crt"
        self.ca_path.write_bytes(ca.cert_pem)
        cert, key = ca.issue("kube-apiserver", server=True)
        (self._dir / "server.crt").write_bytes(cert)
        (self._dir / "server.key").write_bytes(key)
        self._ssl = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._ssl.load_cert_chain(self._dir / "server.crt", self._dir / "server.key")
        self._ssl.load_verify_locations(cadata=self._client_ca.cert_pem.decode())
        self._ssl.verify_mode = ssl.CERT_OPTIONAL
        self._ssl.set_alpn_protocols(["http/1.1"])
        self._stopping = threading.Event()
        self._connections: set[ssl.SSLSocket] = set()
        self._httpd = _HTTPServer((host, port), self)
        self.host, self.port = self._httpd.server_address[:2]
        self.api = Api(self.cluster, self.faults, f"{self.host}:{self.port}", self._stopping)
        self.version_body = discovery.version(hostile.VERSION if hostile_text else None)
        self._thread: threading.Thread | None = None
        self._engines: list[Engine] = []
        self._engines_lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"https://{self.host}:{self.port}"

    def start(self) -> SimServer:
        """Serve in a background thread; returns self."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                            name=f"ktopui-sim:{self.port}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, close open connections (ending watches) and remove the temp dir."""
        self._stopping.set()
        with self.cluster.changed:
            self.cluster.changed.notify_all()
        if self._thread is not None:
            self._httpd.shutdown()
        self._httpd.server_close()
        for conn in list(self._connections):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        with self._engines_lock:
            engines, self._engines = self._engines, []
        for engine in engines:
            engine.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> SimServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- credentials -----------------------------------------------------------------

    def issue_token(self, ttl: float | None, user: str = DEFAULT_USER) -> str:
        """A new bearer token for `user`, answered with 401 once `ttl` real seconds have passed."""
        return self.tokens.issue(ttl, user)

    def revoke_token(self, token: str) -> None:
        self.tokens.revoke(token)

    def issue_client_cert(self, user: str, groups: tuple[str, ...] = ()) -> tuple[bytes, bytes]:
        """(cert PEM, key PEM) signed by the client CA; the server authenticates it as `user`."""
        return self._client_ca.issue(user, organizations=groups)

    def write_kubeconfig(self, path: str | Path, *, context: str = "sim", namespace: str | None = None,
                         token: str | None = None, embed_ca: bool = True,
                         client_cert: tuple[bytes, bytes] | None = None) -> Path:
        """Write a complete kubeconfig (cluster, user, context, current-context). The user
        authenticates with `client_cert` if given, else with `token` (default: server.token)."""
        if client_cert is None:
            token = token or self.token
            found = self.tokens.lookup(token)
            user = found.name if found else f"{context}-user"
        else:
            user = f"{context}-cert-user"
        text = kubeconfig.render(self.url, user=user, context=context, namespace=namespace, token=token,
                                 client_cert=client_cert, ca_pem=self.ca_pem if embed_ca else None,
                                 ca_path=None if embed_ca else self.ca_path)
        return kubeconfig.write(path, text)

    # ---- services ----------------------------------------------------------------------

    def expose_service(self, namespace: str, name: str, labels: dict[str, str], port: int, target_url: str,
                       port_name: str = "web", path_prefix: str = "") -> None:
        """A Service `namespace/name` whose proxy path forwards to `target_url` + `path_prefix`
        (`target_url` "": a Service without endpoints). See services.py."""
        self.api.services.add(namespace, name, labels, port, target_url, port_name, path_prefix)

    def run_prometheus(self, data_dir: str | Path, engine: str = "prometheus", scrape_interval: float = 15,
                       history: float = 0) -> Engine:
        """A real engine ("prometheus" or "victoriametrics") scraping every node's cAdvisor through
        this API server's node proxy, exposed as kube-prometheus exposes it (see prometheus.py);
        stopped by stop() if not before. A `scrape_interval` of half the metric resolution or less
        scrapes every one of the kubelets' collections (at the resolution, jitter may skip one
        now and then, as a real Prometheus does). `history` seconds: the engine first holds the
        cluster's past that long (past.py; shortened for a huge cluster, `Engine.note` says so).
        Blocks until the engine answers; a stop() from another thread meanwhile ends it and raises
        EngineError."""
        started = prometheus.run(self, Path(data_dir), engine, scrape_interval, self._stopping, history)
        with self._engines_lock:  # a stop() from another thread meanwhile: this one stops it
            if self._stopping.is_set():
                started.stop()
                raise EngineError(f"{engine} started as the simulated cluster stopped")
            self._engines.append(started)
        return started

    # ---- request log -----------------------------------------------------------------

    def _record(self, record: RequestRecord) -> None:
        with self._records_lock:
            self.requests.append(record)
            if len(self.requests) > REQUEST_LOG_LIMIT * 2:
                del self.requests[:-REQUEST_LOG_LIMIT]


__all__ = ["RequestRecord", "SimServer", "SimCluster", "SimOptions"]
