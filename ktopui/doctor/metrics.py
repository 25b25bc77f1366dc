"""Is metrics.k8s.io served, and if not, why (SPEC Part B §4); are its numbers fresh?

What a client sees when the metrics API is unavailable: discovery without the
group (not registered, or a stale aggregated-discovery entry), a 404
`404 page not found` (not registered), or a 503 `service unavailable` (the
APIService exists but is not Available). The APIService
`v1beta1.metrics.k8s.io` and the reason of its `Available` condition say why.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime


from ktopui.doctor import advice
from ktopui.doctor.findings import FAIL, OK, SKIP, WARN, Finding
from ktopui.kube import errors
from ktopui.kube.api import KubeAPI, Target
from ktopui.kube.objects import NodeMetrics

APISERVICE_PATH = f"/apis/apiregistration.k8s.io/v1/apiservices/{advice.METRICS_APISERVICE}"
STALE_WINDOWS = 3  # metrics older than this many windows ...
STALE_MIN_SECONDS = 120.0  # ... and than this are stale
DEFAULT_WINDOW = 60.0  # metrics-server's default --metric-resolution, when an item has no window

_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


@dataclass
class MetricsState:
    findings: list[Finding] = field(default_factory=list)
    # What the metric list requests showed, for the permission findings:
    # a count when they worked, the error when they failed, "unknown" when not tried.
    node_read: object = "unknown"
    pod_read: object = "unknown"
    resolution: float | None = None  # seconds between scrapes, as the node metrics' windows say


@dataclass
class APIService:
    found: bool = False
    absent: bool = False  # the server says there is no such APIService
    error: str = ""  # why it could not be read
    service: str = ""  # "kube-system/metrics-server"
    status: str = "Unknown"  # of the Available condition
    reason: str = ""
    message: str = ""

    def summary(self) -> str:
        backing = f"service {self.service}" if self.service else "a local handler"
        state = "Available" if self.status == "True" else f"Available={self.status}"
        why = f" ({self.reason}: {self.message})" if self.reason and self.status != "True" else ""
        return f"APIService {advice.METRICS_APISERVICE} → {backing}, {state}{why}"


def go_duration(text: str) -> float | None:
    """Seconds in a Go duration string ("15.012s", "1m0s", "500ms"); None if it is not one."""
    text = text.strip()
    if text in ("0", "0s"):
        return 0.0
    parts = _DURATION.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * _UNITS[u] for n, u in parts)


def parse_time(text: str | None) -> float | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def age_text(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60}s" if seconds % 60 else f"{seconds // 60}m"
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60}m" if rest // 60 else f"{hours}h"


async def read_apiservice(api: KubeAPI) -> APIService:
    """GET the metrics APIService (`kubectl get apiservice v1beta1.metrics.k8s.io`)."""
    target = Target("get", "apiservices.apiregistration.k8s.io", name=advice.METRICS_APISERVICE)
    try:
        content = await api.fetch("GET", APISERVICE_PATH, target)
    except errors.NotFound as err:
        return APIService(absent=True) if err.object_missing else APIService(error=err.message)
    except errors.Forbidden:
        return APIService(error="reading it is forbidden")
    except errors.KubeError as err:
        return APIService(error=err.message)
    try:
        doc = json.loads(content)
        conditions = (doc.get("status") or {}).get("conditions") or []
    except (ValueError, AttributeError, RecursionError):  # (RecursionError: nested thousands deep)
        return APIService(error="the server sent an unreadable APIService")
    found = APIService(found=True, service=advice.service_name(doc))
    for condition in conditions:
        if isinstance(condition, dict) and condition.get("type") == "Available":
            found.status = str(condition.get("status") or "Unknown")
            found.reason = str(condition.get("reason") or "")
            found.message = str(condition.get("message") or "")
    return found


async def check(api: KubeAPI, *, namespace: str, clock: Callable[[], float],
                node_count: object = None, pod_count: object = None) -> MetricsState:
    """The metrics API, node metrics, pod metrics and freshness findings."""
    state = MetricsState()
    scope = f'namespace "{namespace}"' if namespace else "all namespaces"

    served: bool | None = True
    version = ""
    discovery_error = ""
    try:
        version = await api.metrics_version()
    except errors.MetricsUnavailable:
        served = False
    except errors.KubeError as err:
        served, discovery_error = None, err.message

    node_items: list[NodeMetrics] | None = None
    pod_total: int | None = None
    node_err = pod_err = None
    if served is not False:
        try:
            node_items = (await api.list_node_metrics()).items
            state.node_read = len(node_items)
            windows = [w for w in (go_duration(m.window) for m in node_items[:50] if m.window) if w]
            state.resolution = max(windows, default=None)
        except errors.KubeError as err:
            node_err = state.node_read = err
        try:
            pod_total = len((await api.list_pod_metrics(namespace=namespace)).items)
            state.pod_read = pod_total
        except errors.KubeError as err:
            pod_err = state.pod_read = err
    for err in (node_err, pod_err):
        if isinstance(err, errors.Unauthorized):
            raise err

    apiservice = await read_apiservice(api)
    state.findings.append(_verdict(served, version, discovery_error, node_items, node_err, pod_err, apiservice))
    if node_items is None:
        why = ("not readable: forbidden (see the permissions)" if isinstance(node_err, errors.Forbidden)
               else "the metrics API is not available")
        state.findings.append(Finding("node metrics", SKIP, f"not checked: {why}"))
        state.findings.append(Finding("metrics freshness", SKIP, f"not checked: {why}"))
    else:
        state.findings.append(_node_coverage(node_items, node_count))
        state.findings.append(_freshness(node_items, clock) if node_items
                              else Finding("metrics freshness", SKIP, "not checked: there are no node metrics"))
    state.findings.insert(2, _pod_metrics(pod_total, pod_err, pod_count, scope, served))
    return state


def _first(kind: type, *errs: object) -> object:
    return next((e for e in errs if isinstance(e, kind)), None)


def _verdict(served: bool | None, version: str, discovery_error: str, node_items: list | None,
             node_err: object, pod_err: object, svc: APIService) -> Finding:
    title = "metrics API"
    unavailable = [e for e in (node_err, pod_err) if isinstance(e, errors.MetricsUnavailable)]
    down = next((e for e in unavailable if e.cause == "backend-down"), None)
    missing = served is False or any(e.cause == "not-registered" for e in unavailable)
    body = f' "{down.detail}"' if down is not None and down.detail else ""

    if node_items is not None and down is None and not missing:
        where = f"; {svc.summary()}" if svc.found else ""
        return Finding(title, OK, f"metrics.k8s.io/{version} is served{where}")

    if svc.found and svc.status != "True":
        if missing:
            seen = ("; discovery no longer lists metrics.k8s.io (a stale entry), so `kubectl top` says "
                    "`Metrics API not available`")
        else:
            seen = f"; metrics requests get 503{body}" if down is not None else ""
        return Finding(title, FAIL, f"registered but not available: {svc.summary()}{seen}",
                       advice.apiservice_reason(svc.reason, svc.message, svc.service, status=svc.status))
    if svc.found and down is not None:
        return Finding(title, FAIL, f"the metrics backend is not answering: 503{body}, although "
                       f"{svc.summary()}", advice.apiservice_reason(svc.reason, svc.message, svc.service,
                                                                     status="True"))
    if svc.found and missing:
        return Finding(title, FAIL, f"discovery does not list metrics.k8s.io although {svc.summary()}",
                       "kube-apiserver has not picked up the APIService yet: wait a minute and run `ktopui doctor` "
                       f"again; if it stays like this, check kube-apiserver's log and {advice.CHECK_POD}.")
    if svc.absent:
        return Finding(title, FAIL, "not registered: there is no APIService "
                       f"{advice.METRICS_APISERVICE} and discovery does not list metrics.k8s.io (no metrics "
                       "provider such as metrics-server is installed)", advice.INSTALL_METRICS_SERVER)
    if missing:
        return Finding(title, FAIL, "not available: discovery does not list metrics.k8s.io "
                       f"(the APIService could not be read: {svc.error})",
                       f"{advice.INSTALL_METRICS_SERVER} If it is installed, ask a cluster admin for "
                       f"{advice.INSPECT_APISERVICE}.")
    if down is not None:
        return Finding(title, FAIL, f"registered, but the metrics backend is not answering: 503{body} "
                       f"(the APIService could not be read: {svc.error})",
                       f"Check {advice.CHECK_POD}. {advice.KUBELET_FLAGS} A cluster admin can see why with "
                       f"{advice.INSPECT_APISERVICE}.")
    forbidden = [e for e in (node_err, pod_err) if isinstance(e, errors.Forbidden)]
    if forbidden and served:
        if svc.found:
            return Finding(title, OK, f"metrics.k8s.io/{version} is served; {svc.summary()} "
                           "(reading metrics is forbidden: see the permissions)")
        return Finding(title, WARN, f"metrics.k8s.io/{version} is listed in discovery, but neither metrics nor "
                       f"the APIService could be read to confirm it works (forbidden; APIService: {svc.error})",
                       "See the permission findings.")
    problem = next((e for e in (node_err, pod_err) if isinstance(e, errors.KubeError)), None)
    detail = problem.message if problem is not None else discovery_error or "unknown failure"
    return Finding(title, FAIL, f"metrics requests fail: {detail}",
                   f"Run `kubectl top nodes` to see the same error, and check {advice.CHECK_POD}.")


def _node_coverage(items: list[NodeMetrics], node_count: object) -> Finding:
    title = "node metrics"
    total = node_count if isinstance(node_count, int) else None
    if not items:
        nodes = f" for any of the {total} nodes" if total else ""
        return Finding(title, FAIL, f"metrics-server answers but has no node metrics{nodes} "
                       "(`kubectl top nodes` says `metrics not available yet`)",
                       "It has not scraped any kubelet yet: wait a minute after it starts. If this persists, "
                       f"check {advice.CHECK_POD}. {advice.KUBELET_FLAGS}")
    of = f" of {total}" if total is not None and total >= len(items) else ""
    missing = (f" ({total - len(items)} without: nodes that are not Ready, or whose kubelet metrics-server "
               "cannot scrape, have none)") if of and total > len(items) else ""
    return Finding(title, OK, f"metrics for {len(items)}{of} nodes{missing}")


def _pod_metrics(total: int | None, err: object, pod_count: object, scope: str, served: bool | None) -> Finding:
    title = "pod metrics"
    if isinstance(err, errors.Forbidden):
        return Finding(title, SKIP, "not checked: reading pod metrics is forbidden (see the permissions)")
    if total is None:
        return Finding(title, SKIP, "not checked: the metrics API is not available")
    pods = pod_count if isinstance(pod_count, int) else None
    if total == 0 and pods:
        return Finding(title, WARN, f"no pod metrics in {scope}, which has {pods} pods",
                       "Pods get metrics about a minute after they start running. If none ever do, "
                       f"check {advice.CHECK_POD}. {advice.KUBELET_FLAGS}")
    of = f" ({pods} pods in scope; pods that are not running have none)" if pods is not None else ""
    return Finding(title, OK, f"metrics for {total} pods in {scope}{of}")


def _freshness(items: list[NodeMetrics], clock: Callable[[], float]) -> Finding:
    """How old the newest node sample is, against the server's "now" (metrics-server stamps
    each item's creationTimestamp when it answers), else this machine's clock."""
    title = "metrics freshness"
    samples = [(parse_time(m.timestamp), go_duration(m.window) if m.window else None, m) for m in items]
    stamped = [s for s in samples if s[0] is not None]
    if not stamped:
        return Finding(title, WARN, "the node metrics carry no readable timestamps",
                       f"Check which metrics provider serves metrics.k8s.io ({advice.INSPECT_APISERVICE}).")
    served_at = [t for t in (parse_time(m.metadata.creationTimestamp) for m in items) if t is not None]
    now, by = (max(served_at), "the server's clock") if served_at else (clock(), "this machine's clock")
    newest_time, window, _ = max(stamped, key=lambda s: s[0])
    window = window or DEFAULT_WINDOW
    limit = max(STALE_WINDOWS * window, STALE_MIN_SECONDS)
    age = max(0.0, now - newest_time)
    stale = [m for t, w, m in stamped if now - t > max(STALE_WINDOWS * (w or DEFAULT_WINDOW), STALE_MIN_SECONDS)]
    if age > limit:
        return Finding(title, WARN, f"the newest node metrics are {age_text(age)} old by {by} (window "
                       f"{age_text(window)}, stale after {age_text(limit)}): metrics-server has stopped scraping",
                       f"metrics-server keeps serving its last samples when it can no longer scrape the kubelets. "
                       f"Check {advice.CHECK_POD}. {advice.KUBELET_FLAGS}")
    if stale:
        names = ", ".join(m.metadata.name for m in stale[:5]) + (", ..." if len(stale) > 5 else "")
        return Finding(title, WARN, f"{len(stale)} of {len(stamped)} nodes have metrics older than "
                       f"{age_text(limit)} ({names}); the newest is {age_text(age)} old",
                       f"metrics-server cannot scrape the kubelets of those nodes: check its log "
                       f"({advice.CHECK_POD}) and the nodes' kubelets. {advice.KUBELET_FLAGS}")
    return Finding(title, OK, f"the newest node metrics are {age_text(age)} old (window {age_text(window)}, "
                   f"by {by})")
