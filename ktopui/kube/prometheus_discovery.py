"""Finding a Prometheus-compatible engine in the cluster, reached through the API server's service proxy.

As krr and Lens do: list Services cluster-wide by the labels the common
installations give them (kube-prometheus-stack, prometheus-operator, the
community chart, Thanos Query, VictoriaMetrics), pick the port that serves the
HTTP API, and confirm with one cheap query through the proxy before saying it
is there. The label selectors are merged with `in`, so discovery costs three
lists and a confirmation or two. Nothing found is not an error: `Found.reason`
says why, for the doctor and the log.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from urllib.parse import quote

import msgspec

from ktopui.kube import errors
from ktopui.kube.api import KubeAPI, Target
from ktopui.kube.objects import ObjectMeta, decode
from ktopui.kube.prometheus import PromError, PromRefused, PromSource, proxy_client
from ktopui.safe_text import escape_controls

# One list per selector. Which flavour a Service is, and in what order they are preferred, is
# told from its labels (_flavour): the engines that hold the long-term store (Thanos Query,
# VictoriaMetrics) before the Prometheus they front, named services before the operator's
# headless `prometheus-operated`.
SELECTORS = (
    "app in (kube-prometheus-stack-prometheus, prometheus)",
    "app.kubernetes.io/name in (prometheus, thanos-query, thanos-querier, vmselect, vmsingle, victoria-metrics-single)",
    "operated-prometheus=true",
)
PREFERENCE = ("thanos", "victoriametrics", "kube-prometheus-stack", "prometheus-operator", "prometheus")
# Ports by name, then by number, in preference order.
PORT_NAMES = ("web", "http-web", "http", "http-query", "https")
PORT_NUMBERS = (9090, 10902, 8481, 8428, 8429)
VMSELECT_PREFIX = "/select/0/prometheus"
# At most this many candidates are confirmed, each within this many seconds (a Service whose pods
# are gone can keep the API server's proxy dialling): the rest are left unasked.
MAX_CONFIRMED = 3
CONFIRM_DEADLINE = 10.0


class ServicePort(msgspec.Struct):
    port: int = 0
    name: str = ""
    appProtocol: str = ""


class ServiceSpec(msgspec.Struct):
    ports: list[ServicePort] = []


class Service(msgspec.Struct):
    metadata: ObjectMeta = msgspec.field(default_factory=ObjectMeta)
    spec: ServiceSpec = msgspec.field(default_factory=ServiceSpec)


class ServiceList(msgspec.Struct):
    items: list[Service] = []


@dataclass
class Found:
    source: PromSource | None
    tried: list[str] = field(default_factory=list)  # what was asked, for the doctor and --log
    reason: str = ""  # why nothing was found (empty when found)
    hint: str = ""  # what to ask for, when something was refused


async def find_prometheus(api: KubeAPI) -> Found:
    """The first candidate Service that answers a query through the proxy, or why there is none."""
    tried: list[str] = []
    answers = await asyncio.gather(*(_list(api, selector) for selector in SELECTORS), return_exceptions=True)
    services: dict[tuple[str, str], Service] = {}
    for selector, answer in zip(SELECTORS, answers, strict=True):
        tried.append(f"list services -l {selector!r}")
        if isinstance(answer, errors.Forbidden):
            return Found(None, tried, f"not allowed to list services cluster-wide: {answer.message}",
                         hint="Ask a cluster admin for RBAC permission to list services (cluster-wide), "
                         "or pass --prometheus URL.")
        if isinstance(answer, errors.KubeError):
            return Found(None, tried, f"could not list services: {answer.message}")
        if isinstance(answer, BaseException):
            raise answer
        for service in answer.items:
            services.setdefault((service.metadata.namespace, service.metadata.name), service)
    candidates = sorted((c for c in (_candidate(s, api.server) for s in services.values()) if c is not None),
                        key=lambda c: (PREFERENCE.index(c[0]), c[1]))
    if not candidates:
        return Found(None, tried, "no Prometheus, Thanos or VictoriaMetrics service found by its labels")
    refusals: list[PromError] = []
    for _, _, source in candidates[:MAX_CONFIRMED]:
        tried.append(f"query 1 through {source.name}'s service proxy")
        client = proxy_client(api, source, deadline=CONFIRM_DEADLINE)
        try:
            await client.query("1")
        except PromError as err:
            refusals.append(err)
            continue
        finally:
            await client.aclose()
        return Found(source, tried)
    first = refusals[0]
    refused = next((r for r in refusals if isinstance(r, PromRefused)), None)
    return Found(None, tried, f"found but not answering through the service proxy: {first.message}",
                 hint=(refused or first).hint)


async def _list(api: KubeAPI, selector: str) -> ServiceList:
    body = await api.fetch("GET", "/api/v1/services", Target("list", "services"), params={"labelSelector": selector})
    return decode(body, ServiceList, what="list services")


def _flavour(labels: dict[str, str]) -> str | None:
    app, name = labels.get("app", ""), labels.get("app.kubernetes.io/name", "")
    if name in ("thanos-query", "thanos-querier"):
        return "thanos"
    if name in ("vmselect", "vmsingle", "victoria-metrics-single"):
        return "victoriametrics"
    if app == "kube-prometheus-stack-prometheus":
        return "kube-prometheus-stack"
    if labels.get("operated-prometheus") == "true" or labels.get("app.kubernetes.io/part-of") == "kube-prometheus":
        return "prometheus-operator"
    if app == "prometheus" and labels.get("component") == "server":
        return "prometheus"
    if name == "prometheus" and labels.get("app.kubernetes.io/component", "server") in ("server", "prometheus"):
        return "prometheus"
    return None


def _candidate(service: Service, server: str) -> tuple[str, int, PromSource] | None:
    """(flavour, order among its flavour, source) for a Service that looks like an engine's API."""
    flavour = _flavour(service.metadata.labels)
    port = _port(service.spec.ports)
    if flavour is None or port is None:
        return None
    meta = service.metadata
    scheme = "https:" if "https" in (port.name, port.appProtocol) or port.port in (443, 8443) else ""
    base = (f"{server}/api/v1/namespaces/{_segment(meta.namespace)}/services/"
            f"{scheme}{_segment(meta.name)}:{_segment(port.name or str(port.port))}/proxy")
    if meta.labels.get("app.kubernetes.io/name") == "vmselect":
        base += VMSELECT_PREFIX
    # The operator's headless service after any named one (the same Prometheus behind both).
    order = 1 if meta.labels.get("operated-prometheus") == "true" else 0
    name = escape_controls(f"{meta.namespace}/{meta.name}")
    return flavour, order, PromSource(base=base, via="proxy", name=name, flavour=flavour)


def _port(ports: list[ServicePort]) -> ServicePort | None:
    for wanted in PORT_NAMES:
        if found := next((p for p in ports if p.name == wanted), None):
            return found
    for wanted in PORT_NUMBERS:
        if found := next((p for p in ports if p.port == wanted), None):
            return found
    return ports[0] if len(ports) == 1 else None


def _segment(text: str) -> str:
    return quote(text, safe="")
