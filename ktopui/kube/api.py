"""Async reads from the Kubernetes API, decoded into typed objects.

Every failure leaves here as a KubeError subclass with a message for a
person; nothing above this module sees httpx exceptions or raw bodies.
"""

from __future__ import annotations

import asyncio
import math
import ssl
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import TypeVar
from urllib.parse import quote, urljoin, urlsplit

import httpx

from ktopui.kube import backoff, errors, inflate
from ktopui.kube.limits import ERROR_BODY, Budget, ResponseLimits, raise_hint, size_text
from ktopui.kube.watch_lines import EventLines
from ktopui.kube.objects import (
    APIGroupList,
    NamespaceList,
    Node,
    NodeList,
    NodeMetrics,
    NodeMetricsList,
    PartialObjectMetadataList,
    PodList,
    PodMetrics,
    PodMetricsList,
    ResourceQuotaList,
    Status,
    VersionInfo,
    decode,
)

T = TypeVar("T")

# The deadline of the request this task is making, with its length: started
# again when the request is sent, once its credentials are ready (a person
# logging in through an exec plugin is not the server being slow).
_deadline: ContextVar[tuple[asyncio.Timeout, float] | None] = ContextVar("ktopui_deadline", default=None)


async def _restart_deadline(request: httpx.Request) -> None:
    if (current := _deadline.get()) is not None:
        timeout, seconds = current
        timeout.reschedule(asyncio.get_running_loop().time() + seconds)


METRICS_GROUP = "metrics.k8s.io"
# In preference order; kubectl after 1.36 takes the server's order among these.
METRICS_VERSIONS = ("v1", "v1beta1")
# The Date header has whole seconds: clocks closer than this are taken to agree.
CLOCK_SKEW_NOTICED = 2.0
# Where each resource read is served (its group and version).
API_PATHS = {
    "nodes": "/api/v1",
    "pods": "/api/v1",
    "resourcequotas": "/api/v1",
    "replicasets": "/apis/apps/v1",
    "jobs": "/apis/batch/v1",
}
# Metadata only (no spec, no status), as client-go's metadata client asks for it
# (its protobuf choice left out: ktopui reads JSON); plain JSON last, so a server
# that cannot transform sends whole objects, which decode to the same metadata.
METADATA_LIST_ACCEPT = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json"
METADATA_WATCH_ACCEPT = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json"


@dataclass(frozen=True, slots=True)
class Target:
    """What a request reads, for error messages: verb, resource, namespace, name."""

    verb: str
    resource: str  # "nodes", "pods", "nodes.metrics.k8s.io", ...
    namespace: str = ""
    name: str = ""

    @property
    def group(self) -> str:
        return self.resource.partition(".")[2]

    @property
    def is_metrics(self) -> bool:
        return self.group == METRICS_GROUP

    def describe(self) -> str:
        where = f" in namespace {self.namespace!r}" if self.namespace else ""
        what = f"{self.resource} {self.name!r}" if self.name else self.resource
        return f"{self.verb} {what}{where}"


class KubeAPI:
    """The reads ktopui needs, over one shared httpx client.

    Each read has a budget (limits.py): a body it may not outgrow and a
    deadline for the whole request. The budgets of lists grow with the
    objects the cluster was last seen to have, which this counts.
    """

    def __init__(self, http: httpx.AsyncClient, server: str, *, limits: ResponseLimits | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.http = http
        self.server = server.rstrip("/")
        self._metrics_version: str | None = None
        self.clock = clock
        # The server's clock less ours, from the Date header of the last answer:
        # how old the data is must be told by the clock that stamped it.
        self.clock_offset = 0.0
        if limits is None:
            # The deadline is never shorter than two reads' timeouts.
            read = http.timeout.read
            limits = ResponseLimits.from_environment(min_deadline=30.0 if read is None else 2 * read)
        self.limits = limits
        if _restart_deadline not in http.event_hooks["request"]:
            http.event_hooks = {**http.event_hooks,
                                "request": [*http.event_hooks["request"], _restart_deadline]}
        # Objects in the last complete list of nodes and of pods (in its scope),
        # and so far in the one being paged through.
        self.seen: dict[str, int] = {}
        self._paging: dict[str, int] = {}

    # -- discovery --------------------------------------------------------

    async def version(self) -> VersionInfo:
        return await self._get("/version", VersionInfo, Target("get", "version"))

    async def metrics_version(self, *, refresh: bool = False) -> str:
        """The metrics.k8s.io version to use; MetricsUnavailable if none is served."""
        if self._metrics_version is None or refresh:
            groups = await self._get("/apis", APIGroupList, Target("get", "apigroups"))
            group = next((g for g in groups.groups if g.name == METRICS_GROUP), None)
            served = [v.version for v in group.versions] if group else []
            chosen = next((v for v in served if v in METRICS_VERSIONS), None)
            if chosen is None:
                raise errors.MetricsUnavailable(
                    "Metrics API not available: the server does not serve metrics.k8s.io",
                    cause="not-registered",
                    hint="Install metrics-server (or another metrics.k8s.io provider) and check "
                    "`kubectl get apiservice v1beta1.metrics.k8s.io`.",
                )
            self._metrics_version = chosen
        return self._metrics_version

    # -- core objects -----------------------------------------------------

    async def list_nodes(self, *, label_selector: str = "", limit: int = 0, continue_: str = "") -> NodeList:
        """The node list; with `limit`, one page of it (its metadata.continue_ asks for the next)."""
        page = await self._get(
            "/api/v1/nodes", NodeList, Target("list", "nodes"), items=limit or self.seen.get("nodes"),
            labelSelector=label_selector, limit=str(limit) if limit else "", **{"continue": continue_},
        )
        self._count("nodes", page, continued=bool(continue_))
        return page

    async def get_node(self, name: str) -> Node:
        return await self._get(f"/api/v1/nodes/{_segment(name)}", Node, Target("get", "nodes", name=name))

    async def list_pods(
        self, *, namespace: str = "", label_selector: str = "", field_selector: str = "",
        limit: int = 0, continue_: str = "",
    ) -> PodList:
        """The pod list; with `limit`, one page of it (its metadata.continue_ asks for the next)."""
        path = f"/api/v1/namespaces/{_segment(namespace)}/pods" if namespace else "/api/v1/pods"
        page = await self._get(
            path,
            PodList,
            Target("list", "pods", namespace),
            items=limit or self.seen.get("pods"),
            labelSelector=label_selector,
            fieldSelector=field_selector,
            limit=str(limit) if limit else "",
            **{"continue": continue_},
        )
        if not field_selector:
            self._count("pods", page, continued=bool(continue_))
        return page

    async def list_metadata(self, resource: str, *, namespace: str = "", label_selector: str = "", limit: int = 0,
                            continue_: str = "") -> PartialObjectMetadataList:
        """The metadata of every object of `resource` (replicasets, jobs): a page of it with `limit`."""
        return await self._get(
            _collection(resource, namespace), PartialObjectMetadataList, Target("list", qualified(resource), namespace),
            accept=METADATA_LIST_ACCEPT, labelSelector=label_selector, limit=str(limit) if limit else "",
            **{"continue": continue_},
        )

    async def list_resource_quotas(self, *, namespace: str = "") -> ResourceQuotaList:
        return await self._get(_collection("resourcequotas", namespace), ResourceQuotaList,
                               Target("list", "resourcequotas", namespace))

    def _count(self, resource: str, page: NodeList | PodList, *, continued: bool) -> None:
        total = len(page.items) + (self._paging.get(resource, 0) if continued else 0)
        if page.metadata.continue_:
            self._paging[resource] = total
        else:
            self.seen[resource] = total

    @asynccontextmanager
    async def watch(self, resource: str, *, namespace: str = "", label_selector: str = "", resource_version: str,
                    seconds: int, silence: float, max_event_bytes: int) -> AsyncIterator[WatchStream]:
        """A WATCH of nodes, pods (or the metadata of replicasets or jobs) from `resource_version`,
        asked to end after `seconds`.

        The answer is checked, not raised: a watch that is refused (403, 410...)
        is for the caller to judge. Its events are bounded (an event longer than
        `max_event_bytes` raises watch_lines.EventTooLarge); no byte for `silence`
        seconds raises StreamSilent; a broken connection its TransportError.
        """
        target = Target("watch", qualified(resource), namespace)
        path = _collection(resource, namespace)
        accept = "application/json" if resource in ("nodes", "pods") else METADATA_WATCH_ACCEPT
        params = {"watch": "1", "resourceVersion": resource_version, "allowWatchBookmarks": "true",
                  "timeoutSeconds": str(seconds)}
        if label_selector:
            params["labelSelector"] = label_selector
        # Idle watches are normal, but only up to their own timeout: no byte for
        # longer than that means the stream is broken, whatever the server says.
        timeout = httpx.Timeout(30.0, read=silence)
        try:
            async with self.http.stream(
                "GET", self.server + path, params=params,
                # (aiter_raw and EventLines decode it: every decompressed byte counts towards the limit)
                headers={"Accept": accept, "Accept-Encoding": inflate.ACCEPT_ENCODING}, timeout=timeout,
            ) as response:
                refused = None
                if response.status_code >= 300:  # (a redirect is not followed: it is named)
                    refused = status_error(response, target, await error_body(response, target.describe()))
                yield WatchStream(response, refused, max_event_bytes)
        except httpx.ReadTimeout:
            raise errors.StreamSilent(
                f"no byte of the {resource} watch for {silence:g}s, past its timeout") from None
        except httpx.HTTPError as err:
            raise transport_error(err, self.server, target) from None

    async def list_namespaces(self) -> list[str]:
        found = await self._get("/api/v1/namespaces", NamespaceList, Target("list", "namespaces"))
        return sorted(ns.metadata.name for ns in found.items)

    # -- metrics.k8s.io ---------------------------------------------------

    async def list_node_metrics(self, *, label_selector: str = "", shape: type = NodeMetricsList) -> NodeMetricsList:
        """The node metrics list; `shape` may name a leaner one to decode (e.g. NodeSampleMetricsList)."""
        base = await self._metrics_base()
        return await self._get(
            f"{base}/nodes",
            shape,
            Target("list", "nodes.metrics.k8s.io"),
            items=self.seen.get("nodes"),
            labelSelector=label_selector,
        )

    async def get_node_metrics(self, name: str) -> NodeMetrics:
        base = await self._metrics_base()
        return await self._get(
            f"{base}/nodes/{_segment(name)}", NodeMetrics, Target("get", "nodes.metrics.k8s.io", name=name)
        )

    async def list_pod_metrics(
        self, *, namespace: str = "", label_selector: str = "", shape: type = PodMetricsList
    ) -> PodMetricsList:
        """The pod metrics list; `shape` may name a leaner one to decode (e.g. PodUsageList)."""
        base = await self._metrics_base()
        path = f"{base}/namespaces/{_segment(namespace)}/pods" if namespace else f"{base}/pods"
        return await self._get(
            path,
            shape,
            Target("list", "pods.metrics.k8s.io", namespace),
            items=self.seen.get("pods"),
            labelSelector=label_selector,
        )

    async def get_pod_metrics(self, namespace: str, name: str) -> PodMetrics:
        base = await self._metrics_base()
        return await self._get(
            f"{base}/namespaces/{_segment(namespace)}/pods/{_segment(name)}",
            PodMetrics,
            Target("get", "pods.metrics.k8s.io", namespace, name),
        )

    async def _metrics_base(self) -> str:
        return f"/apis/{METRICS_GROUP}/{await self.metrics_version()}"

    # -- transport --------------------------------------------------------

    async def _get(self, path: str, shape: type[T], target: Target, *, items: int | None = None,
                   accept: str = "application/json", **params: str) -> T:
        """GET `path` decoded as `shape`; `items`: how many objects the answer can hold (None: unknown)."""
        query = {k: v for k, v in params.items() if v}
        # A single object is budgeted like any small answer, whatever its kind.
        body = await self.fetch("GET", path, target, params=query, headers={"Accept": accept},
                                budget=self.limits.budget(target.resource if not target.name else "", items))
        return decode(body, shape, what=target.describe())

    async def fetch(self, method: str, path: str, target: Target, *, budget: Budget | None = None,
                    **request: object) -> bytearray:
        """The body of a successful answer to any request, within `budget` (default: a small
        answer's); raises the KubeError of any other answer, or of one too big or too slow.
        `request` goes to httpx as it is (params, json, auth)."""
        budget = budget or self.limits.budget("", None)
        try:
            async with asyncio.timeout(budget.deadline) as timeout:
                token = _deadline.set((timeout, budget.deadline))
                try:
                    return await self._read(method, path, target, budget.max_bytes, request)
                finally:
                    _deadline.reset(token)
        except TimeoutError:
            raise errors.RequestTimeout(
                f"no complete answer from {_host_port(self.server)} within {budget.deadline:.0f}s "
                f"({target.describe()}): the server is sending too slowly",
                hint="The API server may be overloaded, or the network path to it very slow.",
            ) from None
        except errors.MetricsUnavailable:
            self._metrics_version = None  # rediscover: it may come back
            raise

    async def _read(self, method: str, path: str, target: Target, max_bytes: int, request: dict) -> bytearray:
        """The body of a successful answer; raises the KubeError of any other."""
        error: errors.KubeError | None = None
        # The body is read into one buffer owned here (not httpx's list of
        # chunks joined into a second copy), and freed as soon as it is
        # decoded: a 150,000-pod list is 53 MB. Counted as it is inflated, a
        # chunk at a time: a gzip bomb stops at the limit, not in memory.
        body = bytearray()
        request.setdefault("headers", {"Accept": "application/json"})
        try:
            async with self.http.stream(method, self.server + path, **request) as response:
                self._note_date(response)
                if response.status_code >= 300:
                    error = status_error(response, target, await error_body(response, target.describe()))
                else:
                    async for chunk in inflate.pieces(response, target.describe()):
                        body += chunk
                        if len(body) > max_bytes:
                            error = too_large(target, max_bytes)
                            break
        except httpx.HTTPError as err:
            raise transport_error(err, self.server, target) from None
        if error is not None:
            raise error
        return body

    def _note_date(self, response: httpx.Response) -> None:
        try:
            date = parsedate_to_datetime(response.headers["date"]).timestamp()
        except (KeyError, TypeError, ValueError):
            return
        offset = date - self.clock()
        self.clock_offset = offset if abs(offset) >= CLOCK_SKEW_NOTICED else 0.0


class WatchStream:
    """An open WATCH: `refused` is the KubeError of an answer that is not 2xx (an APIError:
    its status says why); otherwise `lines()` gives its events as they come."""

    def __init__(self, response: httpx.Response, refused: errors.KubeError | None, max_event_bytes: int) -> None:
        self._response = response
        self.refused = refused
        self._max_event_bytes = max_event_bytes

    async def lines(self) -> AsyncIterator[bytes]:
        lines = EventLines(self._response.headers.get("content-encoding", ""), self._max_event_bytes)
        async for chunk in self._response.aiter_raw():
            for line in lines.feed(chunk):
                yield line
        for line in lines.end():
            yield line


async def error_body(response: httpx.Response, what: str) -> bytes:
    """The start of an error answer, enough for its message (the rest is left unread)."""
    body = bytearray()
    async for chunk in inflate.pieces(response, what):
        body += chunk
        if len(body) >= ERROR_BODY:
            break
    return bytes(body[:ERROR_BODY])


def too_large(target: Target, max_bytes: int) -> errors.ResponseTooLarge:
    return errors.ResponseTooLarge(
        f"the answer to {target.describe()} is larger than {size_text(max_bytes)}, more than it can "
        "legitimately be: ktopui stopped reading it",
        hint=raise_hint(max_bytes),
    )


def _segment(name: str) -> str:
    """A name as one path segment: `/`, `?`, `#` or `..` in it cannot reach another path."""
    return quote(name, safe="") if name not in (".", "..") else name.replace(".", "%2E")


def _collection(resource: str, namespace: str) -> str:
    base = API_PATHS[resource]
    return f"{base}/namespaces/{_segment(namespace)}/{resource}" if namespace else f"{base}/{resource}"


def qualified(resource: str) -> str:
    """A resource as kubectl names it in messages (`replicasets.apps`)."""
    group = API_PATHS[resource].split("/")[2] if API_PATHS[resource].startswith("/apis/") else ""
    return f"{resource}.{group}" if group else resource


def _host_port(server: str) -> str:
    parts = urlsplit(server)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname}:{port}"


def cause_of(err: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The first exception of `kind` in err's cause chain (httpx wraps the OS errors)."""
    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, kind):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def transport_error(err: httpx.HTTPError, server: str, target: Target) -> errors.KubeError:
    """Turn an httpx failure into a KubeError that says what to check."""
    host = _host_port(server)
    if isinstance(err, httpx.TimeoutException):
        return errors.RequestTimeout(
            f"timed out waiting for the server at {host} ({target.describe()})",
            hint="The API server may be overloaded or unreachable; check the network path to it.",
        )
    tls = cause_of(err, ssl.SSLError)
    if tls is not None or "CERTIFICATE_VERIFY_FAILED" in str(err):
        detail = getattr(tls, "verify_message", None) or getattr(tls, "reason", None) or str(err)
        return errors.TLSError(
            f"TLS handshake with {host} failed: {detail}",
            hint="Check certificate-authority(-data) and tls-server-name for this cluster "
            "in your kubeconfig.",
        )
    if isinstance(err, httpx.ConnectError):
        text = str(err)
        if cause_of(err, ConnectionRefusedError) is not None or "refused" in text.lower():
            return errors.Unreachable(
                f"The connection to the server {host} was refused - "
                "did you specify the right host or port?"
            )
        return errors.Unreachable(f"Unable to connect to the server {host}: {text or type(err).__name__}")
    if isinstance(err, httpx.LocalProtocolError):
        # Its text quotes the offending header, which may be a credential: never shown.
        return errors.TransportError(
            f"ktopui could not send the request to {host} ({target.describe()}): a request header "
            "is not valid HTTP",
            hint="Check the credentials and impersonation settings of this user in your kubeconfig "
            "for line breaks or other control characters.",
        )
    if isinstance(err, (httpx.RemoteProtocolError, httpx.ReadError)):
        return errors.TransportError(
            f"the connection to {host} broke before the response was complete "
            f"({target.describe()}): {err or type(err).__name__}"
        )
    return errors.TransportError(f"request to {host} failed ({target.describe()}): {err}")


def _status_of(response: httpx.Response, body: bytes) -> Status | None:
    if "json" not in response.headers.get("content-type", ""):
        return None
    try:
        status = decode(body, Status)
    except errors.MalformedResponse:
        return None
    return status if status.kind == "Status" else None


def _retry_after(response: httpx.Response) -> float | None:
    """Retry-After in seconds, at most the backoff's cap: a server cannot stop ktopui for an hour."""
    value = response.headers.get("retry-after", "")
    try:
        seconds = float(value)
    except ValueError:
        return None
    return min(max(0.0, seconds), backoff.CAP) if not math.isnan(seconds) else None


def _redirect_error(response: httpx.Response, target: Target) -> errors.Redirected:
    code = response.status_code
    location = response.headers.get("location", "")
    # Only where to: the rest of the address (a path, a query) may carry tokens.
    where = urlsplit(urljoin(str(response.url), location)).hostname if location else None
    return errors.Redirected(
        f"the server answered {code} {response.reason_phrase} to {target.describe()}: a redirect"
        + (f" to {where}" if where else "") + "; ktopui does not follow redirects",
        status=code,
        reason="Redirect",
        hint="Something in front of the API server (a proxy or a login page) is redirecting requests: "
        "check the cluster's server URL in your kubeconfig, or whether that proxy needs you to log in.",
    )


def status_error(response: httpx.Response, target: Target, body: bytes | None = None) -> errors.KubeError:
    """Turn an HTTP error (or redirect) response into the matching KubeError; `body`: its start,
    when the response was not read whole."""
    code = response.status_code
    if 300 <= code < 400:
        return _redirect_error(response, target)
    body = response.content if body is None else body
    status = _status_of(response, body)
    body_text = "" if status else body.decode("utf-8", "replace").strip()[:200]
    message = status.message if status and status.message else ""
    reason = status.reason if status else ""
    op = f"{target.verb} {target.resource}"

    if target.is_metrics and status is None and code == 404:
        return errors.MetricsUnavailable(
            f"Metrics API not available: the server does not serve {target.resource} "
            f"(404 {body_text or 'page not found'})",
            cause="not-registered",
            hint="Install metrics-server (or another metrics.k8s.io provider) and check "
            "`kubectl get apiservice v1beta1.metrics.k8s.io`.",
        )
    if target.is_metrics and code == 503:
        return errors.MetricsUnavailable(
            "Metrics API unavailable: the metrics backend is not answering "
            f"({code} {body_text or message or 'service unavailable'})",
            cause="backend-down",
            detail=body_text or message,
            hint="Check the metrics-server pod (`kubectl -n kube-system get pods "
            "-l k8s-app=metrics-server`) and `kubectl get apiservice v1beta1.metrics.k8s.io`.",
        )
    if code == 401:
        return errors.Unauthorized(
            f"You must be logged in to the server (Unauthorized: {message or 'the server rejected the credentials'})",
            status=code,
            reason=reason or "Unauthorized",
            hint="Your token or certificate may have expired: log in again, "
            "or check the user of this context in your kubeconfig.",
        )
    if code == 403:
        return errors.Forbidden(
            message or f"forbidden: cannot {target.describe()}",
            verb=target.verb,
            resource=target.resource,
            status=code,
            reason=reason or "Forbidden",
            hint=f"Ask a cluster admin for RBAC permission to {op}"
            + (f" in namespace {target.namespace!r}." if target.namespace else " (cluster-wide)."),
        )
    if code == 404:
        return errors.NotFound(
            message or f"the server could not find the requested resource ({op})",
            status=code,
            reason=reason or "NotFound",
            object_missing=status is not None,
        )
    if code == 429:
        return errors.TooManyRequests(
            message or f"the server is rate-limiting requests ({op})",
            status=code,
            reason=reason or "TooManyRequests",
            retry_after=_retry_after(response),
        )
    detail = message or body_text or response.reason_phrase
    cls = errors.ServerError if code >= 500 else errors.APIError
    return cls(
        f"the server answered {code} {response.reason_phrase} to {target.describe()}: {detail}",
        status=code,
        reason=reason,
        retry_after=_retry_after(response),
    )
