"""What `ktopui history` and `ktopui rightsize` share: the cluster and Prometheus opened, the
pods and workloads in scope read, and the ending (text on stdout, warnings and errors on stderr).

Importing this module stays cheap (the command line imports the commands to build its
parser): the HTTP client, the kubeconfig loader and numpy are imported when a command runs.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ktopui.batch.pod_workloads import PodWorkloads
    from ktopui.kube.api import KubeAPI
    from ktopui.kube.prometheus import PromClient


class CommandError(Exception):
    """A command that cannot give an answer: one line on stderr, exit code 1."""


@dataclass
class Output:
    text: str  # for stdout
    warnings: list[str] = field(default_factory=list)  # each a line on stderr, after `Warning: `


@dataclass
class WorkloadScope:
    """The pods in scope and what they tell of workloads: the workloads of every pod of the
    namespaces (to attribute history to), the selected pods, and a query per namespace."""

    selected: list  # the pods -l selects (all of them without -l)
    workloads: PodWorkloads
    selection: dict  # usage_history.Selection: namespace -> None (every pod's history)
    series: dict  # namespace -> the container series its history may hold (usage_history.pod_usage)
    notes: list[str]  # what could not be read, for stderr
    selector: str

    def keep(self, name: str = "") -> Callable:
        """Which workloads to show: named `name`, or those of the selected pods (with -l), or all."""
        from ktopui.batch.pod_workloads import workload_key

        if self.selector:
            chosen = {workload_key(self.workloads.of(p.metadata.namespace, p.metadata.name)) for p in self.selected}
            return lambda workload: workload_key(workload) in chosen
        if name:
            return lambda workload: workload.name == name
        return lambda workload: True


@dataclass
class Session:
    """One command's cluster API, Prometheus client and namespace ("" with -A)."""

    api: KubeAPI
    client: PromClient
    namespace: str

    async def node_names(self, selector: str) -> list[str] | None:
        """The nodes a label selector picks (None: no selector, every node)."""
        if not selector:
            return None
        names = [n.metadata.name for n in (await self.api.list_nodes(label_selector=selector)).items]
        if not names:
            raise CommandError(f"no nodes match {selector!r}")
        return names

    async def namespaces(self) -> dict:
        """A query per namespace in scope: the one given, or every namespace listed."""
        from ktopui.kube.errors import APIError

        if self.namespace:
            return {self.namespace: None}
        try:
            return {ns: None for ns in await self.api.list_namespaces()}
        except APIError as err:
            if err.status != 403:
                raise
            return {None: None}  # (namespaces may not be listed: one query across all of them)

    async def pod_selection(self, name: str, selector: str) -> dict:
        """The pods to read: NAME (listed or gone), the pods -l selects, or every pod of the namespaces."""
        if name:
            return {self.namespace or None: [name]}
        if not selector:
            return await self.namespaces()
        selection: dict = {}
        for pod in (await self.api.list_pods(namespace=self.namespace, label_selector=selector)).items:
            selection.setdefault(pod.metadata.namespace, []).append(pod.metadata.name)
        if not selection:
            raise CommandError(f"no pods match {selector!r}{self.where()}")
        return selection

    async def workload_scope(self, selector: str) -> WorkloadScope:
        import asyncio

        from ktopui.batch.pod_workloads import PodWorkloads, owners_of_pods
        from ktopui.batch.workloads import owner_map
        from ktopui.kube.watch import METADATA_ONLY

        refused: list[str] = []
        pods, selected, namespaces, *maps = await asyncio.gather(
            self.api.list_pods(namespace=self.namespace),
            self.api.list_pods(namespace=self.namespace, label_selector=selector) if selector else _none(),
            self.namespaces(),
            *(owner_map(self.api, resource, self.namespace, refused) for resource in METADATA_ONLY),
        )
        chosen = selected.items if selector else pods.items
        if selector and not chosen:
            raise CommandError(f"no pods match {selector!r}{self.where()}")
        workloads = PodWorkloads(owners_of_pods(pods.items), dict(zip(METADATA_ONLY, maps)))
        # The listed pods' containers, twice: as many again may be gone (a rollout) with history.
        series: dict = {}
        for pod in pods.items:
            containers = len(pod.spec.containers) + len(pod.spec.initContainers)
            series[pod.metadata.namespace] = series.get(pod.metadata.namespace, 0) + 2 * containers
        if None in namespaces:
            series[None] = sum(series.values())
        return WorkloadScope(chosen, workloads, namespaces, series, refused, selector)

    def where(self) -> str:
        return f" in namespace {self.namespace}" if self.namespace else ""


async def _none() -> None:
    return None


def no_prometheus(opened) -> str:
    """Why there is no history to read, from open_prometheus's answer, with what to do."""
    if opened.found is not None:
        why = opened.found.reason or "no Prometheus service found"
        hint = f"{opened.found.hint}\n" if opened.found.hint else ""
        return f"no Prometheus in the cluster: {why}\n{hint}Name one with --prometheus URL."
    if opened.note == "Prometheus: off":
        return "history comes from Prometheus, and --no-prometheus turned it off"
    return opened.note


def describe_error(err: BaseException) -> str:
    from ktopui.batch.top import describe_error as kube_error
    from ktopui.kube.prometheus import PromError
    from ktopui.safe_text import escape_controls

    if isinstance(err, PromError):
        return f"error: {err.message}" + (f"\n{err.hint}" if err.hint else "")
    if isinstance(err, CommandError):  # (its own lines; what came from the cluster escaped)
        return "error: " + "\n".join(escape_controls(line) for line in str(err).split("\n"))
    return kube_error(err)


def run(args: argparse.Namespace, body: Callable[[Session], Awaitable[Output]]) -> int:
    """Open the cluster and Prometheus, run `body`, print what it gives; the exit code."""
    import asyncio

    from ktopui import config
    from ktopui.batch.top import UsageError
    from ktopui.kube import errors
    from ktopui.kube.api import KubeAPI
    from ktopui.kube.connection import load_connection, make_http_client
    from ktopui.kube.prometheus import PromError
    from ktopui.kube.prometheus_settings import open_prometheus, settings_from
    from ktopui.logs import log_session

    try:
        settings = settings_from(args, config.load_prometheus(getattr(args, "config", None)))
        conn = load_connection(kubeconfig=args.kubeconfig, context=args.context, namespace=args.namespace)
    except config.ConfigFileError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except errors.KubeError as err:
        print(describe_error(err), file=sys.stderr)
        return 1
    for warning in conn.warnings:
        print(f"Warning: {warning}", file=sys.stderr)
    logger = log_session(args.log, conn)

    async def main() -> Output:
        async with make_http_client(conn) as http:
            api = KubeAPI(http, conn.server)
            opened = await open_prometheus(settings, api, conn)
            if opened.client is None:
                raise CommandError(no_prometheus(opened))
            try:
                return await body(Session(api, opened.client, "" if args.all_namespaces else conn.namespace))
            finally:
                await opened.client.aclose()

    try:
        out = asyncio.run(main())
    except (CommandError, UsageError, PromError, errors.KubeError) as err:
        logger.error("%s failed: %s", args.command, describe_error(err))
        print(describe_error(err), file=sys.stderr)
        return 1
    sys.stdout.write(out.text)
    for warning in out.warnings:
        print(f"Warning: {warning}", file=sys.stderr)
    return 0
