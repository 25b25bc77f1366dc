"""Runtime switches that make the simulated cluster misbehave the ways real ones do.

Every switch can be flipped from any thread while requests are being served:

    faults.metrics_absent = True     # APIService not registered: group gone from /apis,
                                     # metrics paths 404 `404 page not found` (text/plain)
    faults.metrics_down = True       # backend down: metrics paths 503 `service unavailable` (text/plain),
                                     # APIService Available=False FailedDiscoveryCheck (connection refused)
    faults.metrics_unavailable("MissingEndpoints")         # registered, not Available for that reason
                                     # (ServiceNotFound, ServicePortError, EndpointsNotFound, ...): 503s as above
    faults.metrics_unavailable("FailedDiscoveryCheck", bad_status=403)  # metrics-server rejects the aggregator
                                     # (aggregation layer / requestheader-client-ca-file not configured)
    faults.metrics_unavailable("Passed")   # still Available, the proxied request fails: 503 with the dial error
    faults.stale_metrics()           # metrics-server stops scraping: timestamps stop advancing from now
    faults.metrics_empty = True      # metrics-server up but nothing scraped yet: empty metrics lists
    faults.unauthorized = True       # every request 401
    faults.forbid("jane", "list", "nodes")                 # 403 for that user/verb/resource[/namespace]
                                     # (SelfSubjectAccessReviews answer allowed: false for it too);
                                     # verb "watch" denies watches only, as RBAC granting list but not watch;
                                     # a subresource with its resource: "nodes/proxy" (cAdvisor), "services/proxy"
                                     # (verb "get" for GET, "create" for POST through the proxy)
    faults.forbid_replicasets()      # the user (default sim-admin) may not list or watch replicasets.apps,
    faults.forbid_jobs()             # jobs.batch,
    faults.forbid_resourcequotas()   # resourcequotas: as RBAC granting pods but not their owners or quotas
    faults.set_latency("/apis/metrics.k8s.io", 2.0)        # added delay per path prefix
    faults.drop_connections(count=1)                       # close without answering
    faults.truncate_bodies(fraction=0.5)                   # full Content-Length, half the body, close
    faults.malformed_json(prefix="/api/v1/nodes")          # 200 with invalid JSON
    faults.too_many_requests(retry_after=2, count=3)       # 429 + Retry-After (any header text: "1e308")
    faults.server_error(502)                               # 500 / 502 / 503 / 504
    faults.expire_watches(prefix="/api/v1/pods")           # every watch: an ERROR event 410 Expired at once
    faults.answer_watches_with_lists()                     # a watch gets the plain list (a buffering proxy)
    faults.silent_watches()                                # a watch gets headers, then nothing, never ending
    faults.endless_watch_lines()                           # a watch sends one event line that never ends
    faults.status_code = 500         # shorthand: every request fails with that code until set to None
    faults.invalid_quantity("nodemetrics", "node-a", value="6GiB")
    faults.hostile_errors(count=2)   # 500s whose Status message carries escape sequences and markup
                                     # (names and other texts: SimOptions(hostile_text=True), hostile.py)
    faults.gzip_bomb(inflated=3 << 30, prefix=...)         # 200, a few MB of gzip that inflate to 3 GiB
    faults.huge_body(size=2 << 30, prefix=...)             # 200 with a 2 GiB body (streamed, never held)
    faults.slow_body(bytes_per_second=1, prefix=...)       # the real answer, trickled a byte at a time
    faults.deep_nesting(depth=100_000, prefix=...)         # an unknown field nested 100,000 arrays deep
    faults.bad_window("1.2.3s", prefix=...)                # every metrics item's window reads so
    faults.redirect("https://sso.example.com/login?next=x", code=302)   # a redirect, as from an auth proxy
    faults.reset()

Request rules fire on paths starting with `prefix`, for `count` requests (None: until
cleared), each with probability `fraction` (None: always), drawn from a seeded RNG. The
watch rules fire on watch requests only (`?watch=1`), so lists of the same path still work.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

from ktopui.sim import discovery
from ktopui.sim.auth import DEFAULT_USER
from ktopui.sim.cluster import SimCluster


@dataclass(slots=True)
class Rule:
    kind: str  # drop | truncate | malformed | status | hostile | redirect | gzip_bomb | huge_body | slow_body |
    #   deep_nesting | bad_window | watch: gone | list | silent | endless
    prefix: str
    remaining: int | None
    fraction: float | None
    code: int = 0
    retry_after: int | str = 1
    # Of the hostile-answer rules below: bytes (gzip_bomb, huge_body, deep_nesting),
    # bytes per second (slow_body), header or field text (bad_window, redirect).
    size: int = 0
    rate: float = 0.0
    text: str = ""


@dataclass(frozen=True, slots=True)
class Denial:
    user: str
    verb: str  # get | list | watch | *
    resource: str  # nodes | pods | namespaces | *
    namespace: str | None  # None: every namespace and cluster scope
    group: str | None  # None: any API group


class Faults:
    def __init__(self, cluster: SimCluster, seed: int = 0) -> None:
        self._cluster = cluster
        self.metrics_absent = False
        self._metrics_down = False
        self.metrics_reason = "FailedDiscoveryCheck"  # the APIService condition while metrics_down
        self.metrics_message: str | None = None  # None: the controller's text for metrics_reason
        self.metrics_down_since: float | None = None  # cluster time metrics_down was switched on
        self.metrics_empty = False
        self.unauthorized = False
        self.status_code: int | None = None
        self.latency: dict[str, float] = {}
        self._rules: list[Rule] = []
        self._denials: list[Denial] = []
        self._rng = random.Random(seed)
        self._lock = threading.Lock()

    # ---- the metrics API ---------------------------------------------------------------

    @property
    def metrics_down(self) -> bool:
        return self._metrics_down

    @metrics_down.setter
    def metrics_down(self, value: bool) -> None:
        if value and not self._metrics_down:
            self.metrics_down_since = self._cluster.now()
        if not value:
            self.metrics_reason, self.metrics_message, self.metrics_down_since = "FailedDiscoveryCheck", None, None
        self._metrics_down = bool(value)

    def metrics_unavailable(self, reason: str = "FailedDiscoveryCheck", *, bad_status: int | None = None,
                            message: str | None = None) -> None:
        """Registered but unavailable, the APIService's Available condition saying why: `reason`
        is one of discovery.APISERVICE_REASONS; FailedDiscoveryCheck is a refused connection unless
        `bad_status` (401/403: metrics-server cannot authenticate the aggregator, the aggregation
        layer is not configured). "Passed" keeps the condition True while requests still fail
        (the backend went away since the last check). `message` overrides the condition text."""
        text = message or discovery.metrics_condition_message(reason, bad_status=bad_status)
        self.metrics_down = True
        self.metrics_reason, self.metrics_message = reason, text

    def stale_metrics(self, since: float | None = None) -> None:
        """metrics-server stops scraping: metrics timestamps stay where they are at cluster time
        `since` (default now) while the cluster moves on."""
        self._cluster.hold_metrics(self._cluster.now() if since is None else since)

    def fresh_metrics(self) -> None:
        self._cluster.hold_metrics(None)

    # ---- authorization ---------------------------------------------------------------

    def forbid(self, user: str, verb: str, resource: str, namespace: str | None = None,
               group: str | None = None) -> None:
        """Deny `user` `verb` on `resource` (in `namespace`, or everywhere), answered with 403."""
        with self._lock:
            self._denials.append(Denial(user, verb, resource, namespace, group))

    def forbid_replicasets(self, user: str = DEFAULT_USER) -> None:
        """Deny `user` listing and watching ReplicaSets: a pod's Deployment can only be inferred
        (from its pod-template-hash label)."""
        self._forbid_reading(user, "replicasets", "apps")

    def forbid_jobs(self, user: str = DEFAULT_USER) -> None:
        """Deny `user` listing and watching Jobs: a pod's CronJob can only be inferred (from its job-name label)."""
        self._forbid_reading(user, "jobs", "batch")

    def forbid_resourcequotas(self, user: str = DEFAULT_USER) -> None:
        """Deny `user` listing and watching ResourceQuotas."""
        self._forbid_reading(user, "resourcequotas", "")

    def _forbid_reading(self, user: str, resource: str, group: str) -> None:
        for verb in ("list", "watch"):
            self.forbid(user, verb, resource, group=group)

    def clear_forbidden(self) -> None:
        with self._lock:
            self._denials.clear()

    def is_forbidden(self, user: str, verb: str, resource: str, group: str, namespace: str) -> bool:
        with self._lock:
            return any(d.user == user and d.verb in ("*", verb) and d.resource in ("*", resource)
                       and (d.namespace is None or d.namespace == namespace)
                       and (d.group is None or d.group == group) for d in self._denials)

    # ---- latency ---------------------------------------------------------------------

    def set_latency(self, prefix: str, seconds: float) -> None:
        """Delay requests under `prefix` by `seconds` (0 removes it); the longest prefix wins."""
        with self._lock:
            if seconds > 0:
                self.latency[prefix] = seconds
            else:
                self.latency.pop(prefix, None)

    def latency_for(self, path: str) -> float:
        with self._lock:
            best = max((p for p in self.latency if path.startswith(p)), key=len, default=None)
            return self.latency[best] if best is not None else 0.0

    # ---- request rules ---------------------------------------------------------------

    def _add(self, rule: Rule) -> None:
        with self._lock:
            self._rules.append(rule)

    def drop_connections(self, *, count: int | None = None, fraction: float | None = None,
                         prefix: str = "/") -> None:
        self._add(Rule("drop", prefix, count, fraction))

    def truncate_bodies(self, *, count: int | None = None, fraction: float | None = None,
                        prefix: str = "/") -> None:
        self._add(Rule("truncate", prefix, count, fraction))

    def malformed_json(self, *, count: int | None = None, fraction: float | None = None,
                       prefix: str = "/") -> None:
        self._add(Rule("malformed", prefix, count, fraction))

    def too_many_requests(self, *, retry_after: int | str = 1, count: int | None = None,
                          fraction: float | None = None, prefix: str = "/") -> None:
        self._add(Rule("status", prefix, count, fraction, 429, retry_after))

    def server_error(self, code: int = 500, *, count: int | None = None, fraction: float | None = None,
                     prefix: str = "/") -> None:
        if code not in (500, 502, 503, 504):
            raise ValueError(f"unsupported server error {code}")
        self._add(Rule("status", prefix, count, fraction, code))

    # ---- hostile answers: memory, time, nesting, odd fields ------------------------

    def gzip_bomb(self, *, inflated: int = 3 << 30, count: int | None = None, fraction: float | None = None,
                  prefix: str = "/") -> None:
        """Answer 200 with a gzip body (sent whether or not the client accepts gzip) that
        inflates to `inflated` bytes: a JSON list opening, then spaces."""
        self._add(Rule("gzip_bomb", prefix, count, fraction, size=inflated))

    def huge_body(self, *, size: int = 2 << 30, count: int | None = None, fraction: float | None = None,
                  prefix: str = "/") -> None:
        """Answer 200 with a `size`-byte JSON body (a list opening, then spaces), written as read."""
        self._add(Rule("huge_body", prefix, count, fraction, size=size))

    def slow_body(self, *, bytes_per_second: float = 1.0, count: int | None = None,
                  fraction: float | None = None, prefix: str = "/") -> None:
        """Send the real answer's headers at once and its body at `bytes_per_second`, a byte
        at a time: every read is quick, the whole never comes."""
        self._add(Rule("slow_body", prefix, count, fraction, rate=bytes_per_second))

    def deep_nesting(self, *, depth: int = 100_000, count: int | None = None, fraction: float | None = None,
                     prefix: str = "/") -> None:
        """Add an unknown field holding `depth` nested arrays to a JSON object answer."""
        self._add(Rule("deep_nesting", prefix, count, fraction, size=depth))

    def bad_window(self, window: str = "1.2.3s", *, count: int | None = None, fraction: float | None = None,
                   prefix: str = "/apis/metrics.k8s.io") -> None:
        """Serve `window` as the window of every metrics item."""
        self._add(Rule("bad_window", prefix, count, fraction, text=window))

    def redirect(self, location: str = "https://sso.example.com/login", *, code: int = 302,
                 count: int | None = None, fraction: float | None = None, prefix: str = "/") -> None:
        """Answer with a redirect to `location`, as an authenticating proxy in front of the API does."""
        if code not in (301, 302, 303, 307, 308):
            raise ValueError(f"not a redirect: {code}")
        self._add(Rule("redirect", prefix, count, fraction, code, text=location))

    # ---- watches ---------------------------------------------------------------------

    def expire_watches(self, *, count: int | None = None, fraction: float | None = None,
                       prefix: str = "/") -> None:
        """A watch ends at once with an ERROR event 410 Expired, whatever resourceVersion it asks for
        (even the one a LIST just gave)."""
        self._add(Rule("watch: gone", prefix, count, fraction))

    def answer_watches_with_lists(self, *, count: int | None = None, fraction: float | None = None,
                                  prefix: str = "/") -> None:
        """A watch gets the plain list as one JSON document (gzipped when large), as from a proxy
        that ignores `watch` or buffers the answer."""
        self._add(Rule("watch: list", prefix, count, fraction))

    def silent_watches(self, *, count: int | None = None, fraction: float | None = None,
                       prefix: str = "/") -> None:
        """A watch gets its headers and then nothing: no event, no bookmark, no end at
        timeoutSeconds, until the client goes away."""
        self._add(Rule("watch: silent", prefix, count, fraction))

    def endless_watch_lines(self, *, count: int | None = None, fraction: float | None = None,
                            prefix: str = "/") -> None:
        """A watch starts an event line and never ends it: 64 KiB chunks until the client goes away."""
        self._add(Rule("watch: endless", prefix, count, fraction))

    def take(self, kind: str, path: str) -> Rule | None:
        """The first live rule of `kind` matching `path` that fires now (consuming one of its count)."""
        with self._lock:
            for rule in self._rules:
                if rule.kind != kind or not path.startswith(rule.prefix):
                    continue
                if rule.fraction is not None and self._rng.random() >= rule.fraction:
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._rules.remove(rule)
                return rule
            return None

    def clear_rules(self) -> None:
        with self._lock:
            self._rules.clear()

    # ---- hostile text -------------------------------------------------------------------

    def hostile_errors(self, *, count: int | None = None, fraction: float | None = None,
                       prefix: str = "/") -> None:
        """Answer with a 500 whose Status message holds terminal escape sequences, CR, a bidi
        override and Textual markup (hostile.STATUS_MESSAGE)."""
        self._add(Rule("hostile", prefix, count, fraction, 500))

    # ---- invalid quantities ------------------------------------------------------------

    def invalid_quantity(self, kind: str, name: str, *, namespace: str = "", resource: str = "memory",
                         value: str = "6GiB") -> None:
        """Serve an invalid quantity (`6GiB`, `1g`) in one object: kind `node` (capacity and
        allocatable), `pod` (first container's requests/limits), `nodemetrics` or `podmetrics`
        (usage; first container for pods)."""
        if kind not in ("node", "pod", "nodemetrics", "podmetrics"):
            raise ValueError(f"unknown object kind {kind!r}")
        self._cluster.set_override(kind, name, namespace, resource, value)

    def clear_invalid_quantities(self) -> None:
        self._cluster.clear_overrides()

    def reset(self) -> None:
        """Everything back to a healthy cluster."""
        self.metrics_absent = self.metrics_down = self.metrics_empty = self.unauthorized = False
        self.status_code = None
        self.fresh_metrics()
        with self._lock:
            self.latency.clear()
            self._denials.clear()
        self.clear_rules()
        self.clear_invalid_quantities()
