"""`ktopui top nodes|pods|workloads|namespaces`: one fetch, one table, kubectl's output.

The control flow follows kubectl's top_node.go / top_pod.go (SPEC Part B
§2.1) so that the same cluster state gives the same bytes, the same errors on
stderr and the same exit codes; each command is a module of its own
(batch/nodes.py, batch/pods.py; workloads and namespaces, which kubectl
does not have, in its table style: batch/workloads.py, batch/namespaces.py).

Importing this module must stay cheap: the command line imports it to build
its parser. The HTTP client, the kubeconfig loader and the command's module
are imported when it runs, and each command imports only what it uses: `top
nodes` loads no numpy, and neither loads Textual or the `kubernetes` client.
"""

from __future__ import annotations

import argparse
import sys

from ktopui.batch.output import Result, TopError
from ktopui.kube import errors
from ktopui.safe_text import escape_controls

NODE_WORDS = ("nodes", "node", "no")
POD_WORDS = ("pods", "pod", "po")
WORKLOAD_WORDS = ("workloads", "workload", "wl")
NAMESPACE_WORDS = ("namespaces", "namespace", "ns")


class UsageError(Exception):
    """Bad flags: printed as `error: ...`, like kubectl's plain errors."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("resource", choices=NODE_WORDS + POD_WORDS + WORKLOAD_WORDS + NAMESPACE_WORDS,
                        metavar="nodes|pods|workloads|namespaces")
    parser.add_argument("name", nargs="?", default="", metavar="NAME")
    parser.add_argument("-l", "--selector", default="", help="label selector (e.g. app=web)")
    parser.add_argument("--field-selector", default="", help="pods: field selector (e.g. spec.nodeName=node-1)")
    parser.add_argument("-A", "--all-namespaces", action="store_true", help="pods, workloads: all namespaces")
    parser.add_argument("--containers", action="store_true", help="pods: one row per container")
    parser.add_argument("--sort-by", default="", help="cpu or memory")
    parser.add_argument("--no-headers", action="store_true")
    parser.add_argument("--sum", action="store_true", help="pods: print the total under the table")
    parser.add_argument("--show-capacity", action="store_true", help="nodes: percent of capacity, not allocatable")
    parser.add_argument("-o", "--output", choices=("table", "json"), default="table")


def validate(args: argparse.Namespace) -> None:
    if args.sort_by not in ("", "cpu", "memory"):
        raise UsageError("--sort-by accepts only cpu or memory")
    if args.resource in WORKLOAD_WORDS + NAMESPACE_WORDS:
        what = "workloads" if args.resource in WORKLOAD_WORDS else "namespaces"
        extra = [flag for flag, given in (("NAME", args.name), ("--field-selector", args.field_selector),
                                          ("--containers", args.containers), ("--sum", args.sum),
                                          ("--show-capacity", args.show_capacity),
                                          ("-A", what == "namespaces" and args.all_namespaces)) if given]
        if extra:
            raise UsageError(f"top {what} does not take {', '.join(extra)}")
    elif args.resource in NODE_WORDS:
        if args.name and args.selector:
            raise UsageError("only one of NAME or --selector can be provided")
    elif args.name and (args.selector or args.field_selector):
        raise UsageError("only one of NAME or selector can be provided")


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
    import asyncio

    from ktopui.kube.api import KubeAPI
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
                from ktopui.batch.nodes import top_nodes

                return await top_nodes(api, args)
            if args.resource in WORKLOAD_WORDS:
                from ktopui.batch.workloads import top_workloads

                return await top_workloads(api, args, conn.namespace)
            if args.resource in NAMESPACE_WORDS:
                from ktopui.batch.namespaces import top_namespaces

                return await top_namespaces(api, args)
            from ktopui.batch.pods import top_pods

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
