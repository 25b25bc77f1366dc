"""Request routing: which endpoint a path names, who may call it, and what it answers.

Transport-free (server.py owns HTTP, TLS and the transport-level faults) so the
apiserver's semantics live in one place: authorization before routing, metrics paths
shaped by the aggregator's failure modes, list/get/watch per resource, and the
representation the Accept header asks for (the object, or its metadata alone as
PartialObjectMetadata[List], as client-go's metadata informers ask).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass, field

from ktopui.sim import cadvisor, discovery, hostile, protobuf, render, render_controllers, status
from ktopui.sim.auth import User
from ktopui.sim.cluster import BadContinue, Event, Expired, SimCluster
from ktopui.sim.faults import Faults
from ktopui.sim.selectors import FieldReq, Requirement, SelectorError, fields_match, matches, parse_fields, \
    parse_labels
from ktopui.sim.services import FIELDS, Services, split_scheme_name_port

JSON = "application/json"
PLAIN = "text/plain; charset=utf-8"
BOOKMARK_EVERY = 60.0  # seconds; the watch cache's bookmark frequency

_POD_FIELDS = ("metadata.name", "metadata.namespace", "spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
               "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP", "status.podIPs",
               "status.nominatedNodeName")
_META_FIELDS = ("metadata.name", "metadata.namespace")


@dataclass(frozen=True, slots=True)
class Served:
    """A resource the simulator serves: its kind, scope, field selectors and whether it can be watched."""
    kind: str
    namespaced: bool
    fields: tuple[str, ...]
    watch: bool = True


# (group, version, resource) -> how it is served
SERVED = {
    ("", "v1", "nodes"): Served("Node", False, ("metadata.name", "spec.unschedulable")),
    ("", "v1", "namespaces"): Served("Namespace", False, ("metadata.name", "status.phase"), watch=False),
    ("", "v1", "pods"): Served("Pod", True, _POD_FIELDS),
    ("", "v1", "replicationcontrollers"): Served("ReplicationController", True, (*_META_FIELDS, "status.replicas")),
    ("", "v1", "resourcequotas"): Served("ResourceQuota", True, _META_FIELDS),
    ("apps", "v1", "deployments"): Served("Deployment", True, _META_FIELDS),
    ("apps", "v1", "replicasets"): Served("ReplicaSet", True, (*_META_FIELDS, "status.replicas")),
    ("apps", "v1", "statefulsets"): Served("StatefulSet", True, _META_FIELDS),
    ("apps", "v1", "daemonsets"): Served("DaemonSet", True, _META_FIELDS),
    ("batch", "v1", "jobs"): Served("Job", True, (*_META_FIELDS, "status.successful")),
    ("batch", "v1", "cronjobs"): Served("CronJob", True, _META_FIELDS),
    (discovery.ROLLOUTS_GROUP, "v1alpha1", "rollouts"): Served("Rollout", True, _META_FIELDS),
}
_KINDS = {resource: served.kind for (_, _, resource), served in SERVED.items()}
_CORE_BOOKMARK = {
    "pods": b'{"kind":"Pod","apiVersion":"v1","metadata":{"resourceVersion":"%d","creationTimestamp":null},'
            b'"spec":{"containers":null},"status":{}}',
    "nodes": b'{"kind":"Node","apiVersion":"v1","metadata":{"resourceVersion":"%d","creationTimestamp":null},'
             b'"spec":{},"status":{"daemonEndpoints":{"kubeletEndpoint":{"Port":0}},"nodeInfo":{"machineID":"",'
             b'"systemUUID":"","bootID":"","kernelVersion":"","osImage":"","containerRuntimeVersion":"",'
             b'"kubeletVersion":"","kubeProxyVersion":"","operatingSystem":"","architecture":""}}}',
}
# What negotiation offers when nothing in Accept can be served (negotiation.NewNotAcceptableError).
_ACCEPTED = "application/json, application/yaml, application/vnd.kubernetes.protobuf"
_SERVABLE = ("application/json", "application/*", "*/*", "application/vnd.kubernetes.protobuf")  # (JSON is sent)


def _go_type(group: str, kind: str) -> str:
    """The Go type the apiserver holds an object of `kind` in, as %T prints it: the internal
    version's (*apps.ReplicaSet, *core.Pod), unstructured for a custom resource."""
    if group == discovery.ROLLOUTS_GROUP:
        return "*unstructured.Unstructured"
    return f"*{group or 'core'}.{kind}"


def _bookmark(resource: str, rv: int, partial: str | None) -> bytes:
    if partial is not None:
        return b'{"kind":"PartialObjectMetadata","apiVersion":"%s","metadata":{"resourceVersion":"%d",' \
               b'"creationTimestamp":null}}' % (partial.encode(), rv)
    if resource in _CORE_BOOKMARK:
        return _CORE_BOOKMARK[resource] % rv
    return render_controllers.bookmark(resource, rv)


@dataclass(frozen=True, slots=True)
class Representation:
    """What an Accept header asks for: the object itself (`as_` None), or PartialObjectMetadata[List]
    of `api_version`."""
    as_: str | None = None
    api_version: str = ""


def negotiate(accept: str) -> Representation | None:
    """The first media range of `accept` (by q, then order) the server can produce; None: none can.
    As a server without Table support, it passes over `as=Table` ranges."""
    if not accept.strip():
        return Representation()
    ranges = []
    for i, text in enumerate(accept.split(",")):
        media, *params = (part.strip() for part in text.split(";"))
        options = dict(param.partition("=")[::2] for param in params)
        try:
            weight = float(options.pop("q", "1"))
        except ValueError:
            weight = 1.0
        ranges.append((-weight, i, media.lower(), options))
    for weight, _, media, options in sorted(ranges):
        if weight == 0 or media not in _SERVABLE:
            continue
        as_ = options.get("as")
        if as_ is None:
            return Representation()
        if as_ in ("PartialObjectMetadata", "PartialObjectMetadataList") and options.get("g") == "meta.k8s.io" \
                and options.get("v") in ("v1", "v1beta1"):
            return Representation(as_, f"meta.k8s.io/{options['v']}")
    return None


def _not_acceptable(message: str) -> Response:
    return Response(406, status.status(406, "NotAcceptable", message))


@dataclass
class Response:
    status: int
    body: bytes = b""
    content_type: str = JSON
    headers: list[tuple[str, str]] = field(default_factory=list)
    # A watch: chunks written as they come; an empty one means nothing yet (the server then
    # checks that the client is still there).
    stream: Generator[bytes, None, None] | None = None


def plain_not_found() -> Response:
    """Go's http.NotFound, what a path without any handler gets."""
    return Response(404, b"404 page not found\n", PLAIN, [("X-Content-Type-Options", "nosniff")])


@dataclass(frozen=True, slots=True)
class Target:
    """The RequestInfo of a resource request."""
    group: str
    version: str
    namespace: str
    resource: str
    name: str
    extra: tuple[str, ...]  # path segments past the name (subresources): not served


def parse_target(parts: list[str]) -> Target | None:
    """/api/v1/... or /apis/G/V/... -> Target; None for discovery paths."""
    if parts[0] == "api":
        group, version, rest = "", parts[1] if len(parts) > 1 else "", parts[2:]
    else:
        group, version, rest = parts[1] if len(parts) > 1 else "", parts[2] if len(parts) > 2 else "", parts[3:]
    if not rest:
        return None
    namespace = ""
    if rest[0] == "namespaces" and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    elif rest[0] == "namespaces" and len(rest) == 2:
        return Target(group, version, "", "namespaces", rest[1], ())
    return Target(group, version, namespace, rest[0], rest[1] if len(rest) > 1 else "", tuple(rest[2:]))


def _first(query: dict[str, list[str]], key: str) -> str:
    values = query.get(key)
    return values[0] if values else ""


def _flag(value: str) -> bool:
    return value in ("1", "t", "T", "true", "TRUE", "True")  # Go strconv.ParseBool


class Api:
    def __init__(self, cluster: SimCluster, faults: Faults, server_address: str, stopping: threading.Event):
        self.cluster = cluster
        self.faults = faults
        self.server_address = server_address
        self.stopping = stopping
        self.services = Services(cluster, stopping)

    def handle(self, method: str, path: str, query: dict[str, list[str]], user: User,
               body: bytes = b"", accept: str = "", raw_query: str = "",
               headers: Mapping[str, str] | None = None) -> Response:
        """`raw_query` and `headers`: the request's own, for what the service proxy forwards."""
        parts = [p for p in path.split("/") if p]
        if not parts or parts[0] not in ("api", "apis"):
            return plain_not_found()
        target = parse_target(parts)
        if target is not None:
            watching = _flag(_first(query, "watch"))
            verb = "watch" if watching else ("get" if target.name else "list")
            if method != "GET":
                verb = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(method, verb)
            # RBAC names a subresource with its resource (nodes/proxy, services/proxy).
            subresource = target.extra[0] if target.name and target.extra else ""
            rbac = f"{target.resource}/{subresource}" if subresource else target.resource
            if self.faults.is_forbidden(user.name, verb, rbac, target.group, target.namespace):
                name = split_scheme_name_port(target.name)[1] if subresource == "proxy" else target.name
                return Response(403, status.forbidden(user.name, verb, target.resource, target.group,
                                                      target.namespace, name, subresource))
            if (target.group, target.version) == ("", "v1") and target.extra[:1] == ("proxy",):
                return self._proxy(method, target, raw_query, headers or {}, body)
            if (target.group, target.version, target.resource) == ("", "v1", "services"):
                return self._services(method, target, query)
        metrics = parts[0] == "apis" and len(parts) > 1 and parts[1] == discovery.METRICS_GROUP
        if metrics:
            if self.faults.metrics_absent:
                return plain_not_found()
            if self.faults.metrics_down and len(parts) > 2:  # the aggregator serves the group doc itself
                # Not Available: "service unavailable"; still Available but the backend gone: the dial error.
                text = (discovery.METRICS_PROXY_ERROR if self.faults.metrics_reason == "Passed"
                        else "service unavailable")
                return Response(503, text.encode() + b"\n", PLAIN, [("X-Content-Type-Options", "nosniff")])
        if target is None:
            return self._discovery(parts)
        review = _REVIEWS.get((target.group, target.version, target.resource))
        if review is not None and not target.namespace:
            if method != "POST" or target.name or target.extra:
                return Response(405, status.method_not_allowed())  # create-only resources
            return review(self, body, user)
        if method != "GET":
            return Response(405, status.method_not_allowed())
        if target.extra:
            return Response(404, status.no_such_route())
        try:
            served = SERVED.get((target.group, target.version, target.resource))
            if served is not None and (served.namespaced or not target.namespace):
                return self._resource(path, target, served, query, accept)
            if metrics and target.version == "v1beta1":
                return self._metrics(target, query)
            if target.group == "apiregistration.k8s.io" and target.version == "v1":
                return self._apiservices(target)
        except (SelectorError, BadContinue) as exc:
            return Response(400, status.bad_request(str(exc)))
        except Expired as exc:
            return Response(410, status.expired(str(exc), exc.continue_token))
        return Response(404, status.no_such_route())

    # ---- discovery -----------------------------------------------------------------

    def _discovery(self, parts: list[str]) -> Response:
        with_metrics = not self.faults.metrics_absent
        if parts == ["api"]:
            return Response(200, discovery.api_versions(self.server_address))
        if parts == ["api", "v1"]:
            return Response(200, discovery.resource_list("v1", discovery.CORE_RESOURCES))
        if parts == ["apis"]:
            return Response(200, discovery.group_list(with_metrics))
        group = discovery.GROUPS.get(parts[1])
        if group is None:
            return plain_not_found()
        if len(parts) == 2:
            return Response(200, discovery.group(parts[1]))
        if parts[2] == group[0]:
            return Response(200, discovery.resource_list(f"{parts[1]}/{group[0]}", group[1]))
        return plain_not_found()

    # ---- core/v1 -------------------------------------------------------------------

    def _selectors(self, query: dict[str, list[str]], allowed: tuple[str, ...],
                   unknown=lambda f: f"field label not supported: {f}") -> tuple[list[Requirement], list[FieldReq]]:
        return (parse_labels(_first(query, "labelSelector")),
                parse_fields(_first(query, "fieldSelector"), allowed, unknown))

    def _resource(self, path: str, t: Target, served: Served, query: dict[str, list[str]], accept: str) -> Response:
        """get, list or watch of a served resource, in the representation Accept asks for."""
        c = self.cluster
        wanted = negotiate(accept)
        if wanted is None:
            return _not_acceptable(f"only the following media types are accepted: {_ACCEPTED}")
        watching = _flag(_first(query, "watch"))
        # What the apiserver's transform refuses; a watch with the list form gets whole objects.
        if wanted.as_ == "PartialObjectMetadata" and not t.name and not watching:
            return _not_acceptable("you requested PartialObjectMetadata, but the requested object is a list "
                                   f"({_go_type(t.group, served.kind)}List)")
        if wanted.as_ == "PartialObjectMetadataList" and t.name:
            return _not_acceptable("you requested PartialObjectMetadataList, but the requested object is not a "
                                   f"list ({_go_type(t.group, served.kind)})")
        partial = wanted.api_version if wanted.as_ is not None else None
        if t.name:
            if served.namespaced and not t.namespace:
                return Response(404, status.no_such_route())
            body = c.get_object(t.resource, t.namespace, t.name, partial)
            return Response(200, body) if body else Response(404, status.not_found(t.resource, t.name, t.group))
        labels, fields = self._selectors(query, served.fields)
        if watching:
            if not served.watch:
                return Response(405, status.method_not_allowed())
            if wanted.as_ == "PartialObjectMetadataList":
                partial = None
            return self._watch(path, t.resource, t.namespace or None, labels, fields, query, partial)
        limit_text = _first(query, "limit")
        limit = int(limit_text) if limit_text.isdigit() else 0
        return Response(200, c.list_objects(t.resource, t.namespace or None, labels, fields, limit,
                                            _first(query, "continue") or None, partial))

    # ---- services and the proxies ----------------------------------------------------

    def _services(self, method: str, t: Target, query: dict[str, list[str]]) -> Response:
        if method != "GET" or t.extra or _flag(_first(query, "watch")):
            return Response(405, status.method_not_allowed())
        if t.name:
            if not t.namespace:
                return Response(404, status.no_such_route())
            service = self.services.get(t.namespace, t.name)
            if service is None:
                return Response(404, status.not_found("services", t.name))
            return Response(200, render.with_kind(service.item(), "Service"))
        try:
            labels, fields = self._selectors(query, FIELDS)
        except SelectorError as exc:
            return Response(400, status.bad_request(str(exc)))
        return Response(200, self.services.list_doc(t.namespace or None, labels, fields))

    def _proxy(self, method: str, t: Target, raw_query: str, headers: Mapping[str, str], body: bytes) -> Response:
        """The node proxy (the kubelet's cAdvisor metrics) and the service proxy."""
        rest = "/".join(t.extra[1:])
        if t.resource == "services" and t.namespace:
            if method not in ("GET", "POST"):
                return Response(405, status.method_not_allowed())
            answer = self.services.proxy(method, t.namespace, t.name, rest, raw_query, headers, body)
            if len(answer) == 2:
                return Response(answer[0], answer[1])
            code, content_type, passed, stream = answer
            return Response(code, content_type=content_type, headers=passed, stream=stream)
        if t.resource == "nodes" and not t.namespace:
            name = split_scheme_name_port(t.name)[1]
            node = self.cluster.node_named(name)
            if node is None:
                return Response(404, status.not_found("nodes", name))
            if not node.ready:  # its kubelet is not answering
                return Response(503, status.status(503, "ServiceUnavailable", "error trying to reach service: "
                                                   f"dial tcp {node.ip}:10250: connect: connection refused"))
            if method != "GET" or rest != "metrics/cadvisor":
                return plain_not_found()  # the kubelet's own answer for what it does not serve here
            text = cadvisor.exposition(self.cluster, name)
            if text is None:
                return Response(404, status.not_found("nodes", name))
            return Response(200, text, cadvisor.CONTENT_TYPE)
        return Response(404, status.no_such_route())

    # ---- metrics.k8s.io/v1beta1 ----------------------------------------------------

    def _metrics(self, t: Target, query: dict[str, list[str]]) -> Response:
        c = self.cluster
        if _flag(_first(query, "watch")):
            return Response(405, status.method_not_allowed())  # metrics-server implements get and list only
        if t.resource == "nodes" and not t.namespace:
            if t.name:
                body = c.node_metrics(t.name)
                if body:
                    return Response(200, body)
                if c.get_object("nodes", "", t.name) is None:  # unknown to metrics-server's informer
                    return Response(404, status.not_found("node", t.name))
                return Response(404, status.not_found("nodemetrics", t.name, discovery.METRICS_GROUP))
            labels, fields = self._selectors(query, _META_FIELDS, _metrics_field_error)
            if self.faults.metrics_empty:
                return Response(200, _EMPTY_NODE_METRICS)
            return Response(200, c.node_metrics_list(labels, fields))
        if t.resource == "pods":
            if t.name:
                if not t.namespace:
                    return Response(404, status.no_such_route())
                body = c.pod_metrics(t.namespace, t.name)
                if body:
                    return Response(200, body)
                if c.get_object("pods", t.namespace, t.name) is None:
                    return Response(404, status.not_found("pods", t.name))
                return Response(404, status.not_found("podmetrics", f"{t.namespace}/{t.name}",
                                                      discovery.METRICS_GROUP))
            labels, fields = self._selectors(query, _META_FIELDS, _metrics_field_error)
            if self.faults.metrics_empty:
                return Response(200, _EMPTY_POD_METRICS)
            return Response(200, c.pod_metrics_list(t.namespace or None, labels, fields))
        return Response(404, status.no_such_route())

    # ---- apiregistration.k8s.io/v1 -----------------------------------------------------

    def _apiservices(self, t: Target) -> Response:
        if t.resource != "apiservices" or t.namespace:
            return Response(404, status.no_such_route())
        faults = self.faults
        present = not faults.metrics_absent
        born = self.cluster.now() - 40 * 86400
        names = discovery.apiservice_names(present)
        down = faults.metrics_down
        docs = {n: discovery.apiservice(n, born, 40 + i, available=not down,
                                        reason=faults.metrics_reason if down else None,
                                        message=faults.metrics_message if down else None,
                                        since=faults.metrics_down_since if down else None)
                for i, n in enumerate(names)}
        if t.name:
            if t.name not in docs:
                return Response(404, status.not_found("apiservices", t.name, "apiregistration.k8s.io"))
            return Response(200, discovery.encode({"kind": "APIService", "apiVersion": "apiregistration.k8s.io/v1",
                                                   **docs[t.name]}))
        return Response(200, discovery.encode({"kind": "APIServiceList", "apiVersion": "apiregistration.k8s.io/v1",
                                               "metadata": {"resourceVersion": str(self.cluster.resource_version)},
                                               "items": list(docs.values())}))

    # ---- authentication.k8s.io / authorization.k8s.io reviews ------------------------

    def _self_subject_review(self, body: bytes, user: User) -> Response:
        """`kubectl auth whoami`: who the request authenticated as."""
        _, error = _review_body(body, "SelfSubjectReview", "authentication.k8s.io/v1")
        if error is not None:
            return error
        info = {"username": user.name, "groups": list(user.groups)}
        return Response(201, discovery.encode({"kind": "SelfSubjectReview", "apiVersion": "authentication.k8s.io/v1",
                                               "metadata": {"creationTimestamp": None},
                                               "status": {"userInfo": info}}))

    def _self_subject_access_review(self, body: bytes, user: User) -> Response:
        """`kubectl auth can-i`: answered from the same denials that make requests 403. Like the
        RBAC authorizer, a denial is "no opinion": allowed false, no `denied`, no reason."""
        doc, error = _review_body(body, "SelfSubjectAccessReview", "authorization.k8s.io/v1")
        if error is not None:
            return error
        spec = doc.get("spec") if isinstance(doc.get("spec"), dict) else {}
        attrs, non_resource = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
        if (attrs is None) == (non_resource is None) or not isinstance(attrs or non_resource, dict):
            field_name = "spec.resourceAttributes"
            why = 'Invalid value: "null": exactly one of nonResourceAttributes or resourceAttributes must be specified'
            if attrs is not None and non_resource is not None:
                why = ('Invalid value: "{...}": cannot be specified in combination with resourceAttributes')
                field_name = "spec.nonResourceAttributes"
            return Response(422, status.invalid("SelfSubjectAccessReview", "authorization.k8s.io", "", field_name,
                                                why))
        if attrs is not None:
            verb, resource = str(attrs.get("verb") or ""), str(attrs.get("resource") or "")
            group, namespace = str(attrs.get("group") or ""), str(attrs.get("namespace") or "")
            allowed = not self.faults.is_forbidden(user.name, verb, resource, group, namespace)
        else:
            allowed = True
        result: dict = {"allowed": allowed}
        if allowed:
            result["reason"] = (f'RBAC: allowed by ClusterRoleBinding "{user.name}" of ClusterRole "cluster-admin" '
                                f'to User "{user.name}"')
        elif self.cluster.options.hostile_text:  # as a webhook authorizer may say why
            result["reason"] = hostile.STATUS_MESSAGE
        answer = {"kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
                  "metadata": {"creationTimestamp": None}, "spec": spec, "status": result}
        return Response(201, discovery.encode(answer))

    # ---- watch ---------------------------------------------------------------------

    def _watch(self, path: str, resource: str, namespace: str | None, labels: list[Requirement],
               fields: list[FieldReq], query: dict[str, list[str]], partial: str | None) -> Response:
        """A watch; `partial`: its objects as PartialObjectMetadata of that apiVersion."""
        broken = self._broken_watch(path, resource, namespace, labels, fields)
        if broken is not None:
            return broken
        rv_text = _first(query, "resourceVersion")
        since = int(rv_text) if rv_text.isdigit() else None
        timeout_text = _first(query, "timeoutSeconds")
        timeout = float(timeout_text) if timeout_text.isdigit() else 1800.0  # the apiserver's minimum default
        bookmarks = _flag(_first(query, "allowWatchBookmarks"))

        def selected(e: Event) -> bool:
            return ((namespace is None or e.namespace == namespace) and (not labels or matches(labels, e.labels))
                    and (not fields or fields_match(fields, e.fields)))

        def lines(events: list[Event]) -> list[bytes]:
            if partial is not None:
                return [e.partial_line(partial) for e in events if selected(e)]
            return [e.line for e in events if selected(e)]

        def stream() -> Generator[bytes, None, None]:
            try:
                events, cursor = self.cluster.watch_start(resource, since)
            except Expired as exc:
                yield b'{"type":"ERROR","object":%s}\n' % status.status(410, "Expired", str(exc))
                return
            batch = lines(events)
            for i in range(0, len(batch), 500):  # a large initial state goes out progressively
                yield b"".join(batch[i:i + 500])
            start = time.monotonic()
            deadline = start + timeout
            # The watch cache sends a bookmark about 2 s before a timed watch ends, else every minute.
            next_bookmark = min(start + BOOKMARK_EVERY, deadline - 2)
            while not self.stopping.is_set():
                now = time.monotonic()
                if now >= deadline:
                    return
                self.cluster.wait_for_change(cursor, min(deadline, next_bookmark if bookmarks else deadline,
                                                         now + 1.0) - now)
                events, cursor = self.cluster.events_after(resource, cursor)
                batch = lines(events)
                if batch:
                    yield b"".join(batch)
                if bookmarks and time.monotonic() >= next_bookmark:
                    yield b'{"type":"BOOKMARK","object":%s}\n' % _bookmark(resource, cursor, partial)
                    next_bookmark = time.monotonic() + BOOKMARK_EVERY

        return Response(200, stream=stream())

    def _broken_watch(self, path: str, resource: str, namespace: str | None, labels: list[Requirement],
                      fields: list[FieldReq]) -> Response | None:
        """The answer of a watch fault switched on for `path` (see faults.py), or None."""
        faults, stopping = self.faults, self.stopping
        if faults.take("watch: list", path):
            return Response(200, self.cluster.list_objects(resource, namespace, labels, fields))
        if faults.take("watch: gone", path):
            message = f"too old resource version: 1 ({self.cluster.resource_version})"

            def gone() -> Generator[bytes, None, None]:
                yield b'{"type":"ERROR","object":%s}\n' % status.status(410, "Expired", message)

            return Response(200, stream=gone())
        if faults.take("watch: silent", path):
            def silent() -> Generator[bytes, None, None]:
                while not stopping.wait(0.2):
                    yield b""  # nothing to send: the server checks the client is still there

            return Response(200, stream=silent())
        if faults.take("watch: endless", path):
            def endless() -> Generator[bytes, None, None]:
                yield b'{"type":"ADDED","object":{"kind":"%s","apiVersion":"v1","metadata":{"name":"' % (
                    _KINDS[resource].encode())
                filler = b"x" * 65536
                while not stopping.is_set():
                    yield filler

            return Response(200, stream=endless())
        return None


_EMPTY_NODE_METRICS = b'{"kind":"NodeMetricsList","apiVersion":"metrics.k8s.io/v1beta1","metadata":{},"items":[]}'
_EMPTY_POD_METRICS = b'{"kind":"PodMetricsList","apiVersion":"metrics.k8s.io/v1beta1","metadata":{},"items":[]}'

# (group, version, resource) -> handler of a POSTed review (create-only, answered, never stored).
_REVIEWS = {
    ("authentication.k8s.io", "v1", "selfsubjectreviews"): Api._self_subject_review,
    ("authorization.k8s.io", "v1", "selfsubjectaccessreviews"): Api._self_subject_access_review,
}


def _review_body(body: bytes, kind: str, api_version: str) -> tuple[dict, Response | None]:
    """The decoded request object (JSON, or protobuf as kubectl sends), or the apiserver's 400
    for a body it cannot decode."""
    try:
        doc = protobuf.decode_review(body) if body.startswith(protobuf.MAGIC) else json.loads(body or b"null")
    except protobuf.ProtobufError as exc:
        return {}, Response(400, status.bad_request(f"failed to decode protobuf: {exc}"))
    except ValueError as exc:
        return {}, Response(400, status.bad_request(f"couldn't get version/kind; json parse error: {exc}"))
    if not isinstance(doc, dict):
        return {}, Response(400, status.bad_request("couldn't get version/kind; json parse error: "
                                                    "expected a JSON object"))
    sent_kind, sent_version = doc.get("kind", kind), doc.get("apiVersion", api_version)
    if sent_kind != kind or sent_version != api_version:
        return {}, Response(400, status.bad_request(
            f"the API version in the data ({sent_version}) does not match the expected API version ({api_version})"
            if sent_version != api_version else f"{sent_kind} is not suitable for converting to \"{api_version}\""))
    return doc, None


def _metrics_field_error(field_name: str) -> str:
    """runtime.DefaultMetaV1FieldSelectorConversion's error, surfaced as a 400 by the apiserver."""
    return f'"{field_name}" is not a known field selector: only "metadata.name", "metadata.namespace"'
