"""`ktopui top nodes|pods`: one fetch, one table, kubectl's output.

The control flow follows kubectl's top_node.go / top_pod.go (SPEC Part B
§2.1) so that the same cluster state gives the same bytes, the same errors on
stderr and the same exit codes. Importing this module must stay cheap: no
Textual, no `kubernetes` client.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass
from datetime import datetime, timezone

import msgspec

from ktopui.batch.tables import node_table, pod_usage_table
from ktopui.kube import errors
from ktopui.kube.api import KubeAPI
from ktopui.kube.objects import PodMetricsList, PodUsageList
from ktopui.model.amounts import Usage
from ktopui.model.nodes import NodeRow, node_rows
from ktopui.model.pods import PodRow, pod_rows
from ktopui.model.top_lines import pod_usage_lines
from ktopui.model.usage import usage_of
from ktopui.safe_text import escape_controls, escape_controls_in_json

NODE_WORDS = ("nodes", "node", "no")
POD_WORDS = ("pods", "pod", "po")


class UsageError(Exception):
    """Bad flags: printed as `error: ...`, like kubectl's plain errors."""


class TopError(Exception):
    """kubectl's plain (non-API) errors, e.g. `metrics not available yet`."""


@dataclass(repr=False)
class Result:
    stdout: str = ""
    stderr: str = ""
    code: int = 0

    def __repr__(self) -> str:
        # Short on purpose: asyncio.run() reprs the finished task, result and
        # all, when it restores the SIGINT handler; a 16 MB table took 0.15 s.
        return f"Result(stdout=<{len(self.stdout)} chars>, stderr=<{len(self.stderr)} chars>, code={self.code})"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("resource", choices=NODE_WORDS + POD_WORDS, metavar="nodes|pods")
    parser.add_argument("name", nargs="?", default="", metavar="NAME")
    parser.add_argument("-l", "--selector", default="", help="label selector (e.g. app=web)")
    parser.add_argument("--field-selector", default="", help="pods: field selector (e.g. spec.nodeName=node-1)")
    parser.add_argument("-A", "--all-namespaces", action="store_true", help="pods: all namespaces")
    parser.add_argument("--containers", action="store_true", help="pods: one row per container")
    parser.add_argument("--sort-by", default="", help="cpu or memory")
    parser.add_argument("--no-headers", action="store_true")
    parser.add_argument("--sum", action="store_true", help="pods: print the total under the table")
    parser.add_argument("--show-capacity", action="store_true", help="nodes: percent of capacity, not allocatable")
    parser.add_argument("-o", "--output", choices=("table", "json"), default="table")


def validate(args: argparse.Namespace) -> None:
    if args.sort_by not in ("", "cpu", "memory"):
        raise UsageError("--sort-by accepts only cpu or memory")
    if args.resource in NODE_WORDS:
        if args.name and args.selector:
            raise UsageError("only one of NAME or --selector can be provided")
    elif args.name and (args.selector or args.field_selector):
        raise UsageError("only one of NAME or selector can be provided")


async def top_nodes(api: KubeAPI, args: argparse.Namespace) -> Result:
    await api.metrics_version()
    if args.name:
        metrics = [await api.get_node_metrics(args.name)]
    else:
        metrics = (await api.list_node_metrics(label_selector=args.selector)).items
    if not metrics:
        raise TopError("metrics not available yet")
    if args.name:
        nodes = [await api.get_node(args.name)]
    else:
        nodes = (await api.list_nodes(label_selector=args.selector)).items
    rows = node_rows(nodes, metrics, use_capacity=args.show_capacity)
    if args.output == "json":
        return Result(stdout=nodes_json(rows))
    return Result(stdout=node_table(rows, sort_by=args.sort_by, no_headers=args.no_headers))


async def top_pods(api: KubeAPI, args: argparse.Namespace, namespace: str) -> Result:
    await api.metrics_version()
    scope = "" if args.all_namespaces else namespace
    table = args.output != "json"
    if args.name:
        metrics = [await api.get_pod_metrics(scope, args.name)]
    else:
        # A table needs only names and usage: decode just those.
        shape = PodUsageList if table else PodMetricsList
        metrics = (
            await api.list_pod_metrics(namespace=scope, label_selector=args.selector, shape=shape)
        ).items
    if metrics and args.field_selector:
        # The metrics API only knows metadata.name/namespace field selectors;
        # like kubectl after 1.36, select the pods in the core API instead.
        pods = await api.list_pods(
            namespace=scope, label_selector=args.selector, field_selector=args.field_selector
        )
        wanted = {(p.metadata.namespace, p.metadata.name) for p in pods.items}
        metrics = [m for m in metrics if (m.metadata.namespace, m.metadata.name) in wanted]
    if not metrics:
        return await _explain_empty_pod_metrics(api, args, namespace)
    total = None
    if args.sum:
        problems: dict[str, str] = {}
        total = (usage_of([c.usage for m in metrics for c in m.containers], problems), problems)
    if not table:
        return Result(stdout=pods_json(pod_rows(None, metrics), total=total))
    lines = pod_usage_lines(metrics, containers=args.containers)
    del metrics  # freed here: the lines keep only what the table prints
    text = pod_usage_table(
        lines,
        all_namespaces=args.all_namespaces,
        containers=args.containers,
        sort_by=args.sort_by,
        no_headers=args.no_headers,
        total=total,
    )
    return Result(stdout=text)


async def _explain_empty_pod_metrics(api: KubeAPI, args: argparse.Namespace, namespace: str) -> Result:
    """kubectl's verifyEmptyMetrics: tell "no pods" from "no metrics yet"."""
    # kubectl looks in the context namespace even with -A; so do we.
    pods = (
        await api.list_pods(
            namespace=namespace, label_selector=args.selector, field_selector=args.field_selector
        )
    ).items
    if not pods:
        where = "" if args.all_namespaces else f" in {namespace} namespace."
        return Result(stderr=f"No resources found{where}\n")
    now = datetime.now(timezone.utc)
    for pod in pods:
        created = parse_time(pod.metadata.creationTimestamp)
        if created is not None and (now - created).total_seconds() > 120:
            age = go_duration((now - created).total_seconds())
            raise TopError(
                f"Metrics not available for pod {pod.metadata.namespace}/{pod.metadata.name}, age: {age}"
            )
    raise TopError("metrics not available yet")


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def go_duration(seconds: float) -> str:
    """Go's time.Duration.String() for durations of a second or more."""
    nanos = round(seconds * 1e9)
    hours, rest = divmod(nanos, 3600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    whole, frac = divmod(rest, 10**9)
    secs = f"{whole}.{frac:09d}".rstrip("0").rstrip(".") if frac else str(whole)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


# -- -o json ----------------------------------------------------------------


class _NodeOut(msgspec.Struct):
    name: str
    cpuMillicores: int | None
    cpuPercent: int | None
    memoryBytes: int | None
    memoryPercent: int | None
    timestamp: str
    window: str
    problems: dict[str, str]


class _ContainerOut(msgspec.Struct):
    name: str
    cpuMillicores: int | None
    memoryBytes: int | None


class _PodOut(msgspec.Struct):
    namespace: str
    name: str
    cpuMillicores: int | None
    memoryBytes: int | None
    timestamp: str
    window: str
    containers: list[_ContainerOut]
    problems: dict[str, str]


def nodes_json(rows: list[NodeRow]) -> str:
    items = [
        _NodeOut(
            r.name,
            r.usage.cpu_milli,
            r.cpu_pct,
            r.usage.mem_bytes,
            r.mem_pct,
            r.timestamp,
            r.window,
            r.problems,
        )
        for r in sorted(rows, key=lambda r: r.name)
    ]
    return _json_list("NodeUsageList", items)


class _TotalOut(msgspec.Struct):
    cpuMillicores: int | None
    memoryBytes: int | None
    problems: dict[str, str]


def pods_json(rows: list[PodRow], *, total: tuple[Usage, dict[str, str]] | None = None) -> str:
    """The pods as a PodUsageList; with --sum, `total` is their summed usage (a field beside `items`)."""
    items = [
        _PodOut(
            r.namespace,
            r.name,
            r.usage.cpu_milli,
            r.usage.mem_bytes,
            r.timestamp,
            r.window,
            [_ContainerOut(c.name, c.usage.cpu_milli, c.usage.mem_bytes) for c in sorted(r.containers, key=lambda c: c.name)],
            dict(r.problems),
        )
        for r in sorted(rows, key=lambda r: (r.namespace, r.name))
    ]
    if total is None:
        return _json_list("PodUsageList", items)
    usage, problems = total
    return _json_list("PodUsageList", items, total=_TotalOut(usage.cpu_milli, usage.mem_bytes, problems))


def _json_list(kind: str, items: list, **extra: msgspec.Struct) -> str:
    doc = {"apiVersion": "ktopui/v1", "kind": kind, "items": items, **extra}
    # Names stay exact for scripts; what could drive a terminal is written as JSON escapes.
    return escape_controls_in_json(msgspec.json.format(msgspec.json.encode(doc), indent=2).decode()) + "\n"


# -- entry point --------------------------------------------------------------


def describe_error(err: BaseException) -> str:
    """One message for stderr, worded like kubectl's where kubectl has one."""
    if isinstance(err, (UsageError, TopError)):
        return f"error: {escape_controls(str(err))}"  # (they may name a pod)
    if isinstance(err, errors.MetricsUnavailable):
        text = f"error: {err.message}"
    elif isinstance(err, errors.Unauthorized):
        text = f"error: {err.message}"
    elif isinstance(err, errors.APIError):
        text = f"Error from server ({err.reason or err.status}): {err.message}"
    elif isinstance(err, errors.KubeError):
        text = f"error: {err.message}"
    else:
        text = f"error: {escape_controls(str(err))}"
    hint = getattr(err, "hint", "")
    return f"{text}\n{hint}" if hint else text


def run(args: argparse.Namespace) -> int:
    from ktopui.kube.connection import load_connection, make_http_client
    from ktopui.live.memory import MEMORY
    from ktopui.logs import log_session

    try:
        validate(args)
        conn = load_connection(kubeconfig=args.kubeconfig, context=args.context, namespace=args.namespace)
    except (UsageError, errors.KubeError) as err:
        print(describe_error(err), file=sys.stderr)
        return 1
    for warning in conn.warnings:
        print(f"Warning: {warning}", file=sys.stderr)
    logger = log_session(args.log, conn)

    async def fetch() -> Result:
        async with make_http_client(conn) as http:
            api = KubeAPI(http, conn.server)
            if args.resource in NODE_WORDS:
                return await top_nodes(api, args)
            return await top_pods(api, args, conn.namespace)

    # One short-lived pass over up to 150,000 pods: a join, for the process's
    # memory policy (the cyclic collector would walk every live object again
    # and again while they are built, and find nothing to free).
    try:
        with MEMORY.join():
            result = asyncio.run(fetch())
    except (TopError, errors.KubeError) as err:
        logger.error("top %s failed: %s", args.resource, describe_error(err))
        print(describe_error(err), file=sys.stderr)
        return 1
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    return result.code
