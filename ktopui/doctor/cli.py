"""`ktopui doctor`: run every check once, print the findings, exit 0 only when nothing failed."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import shutil
import sys

from ktopui.kube import prometheus_settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: `ktopui -A doctor` keeps the top-level -A.
    parser.add_argument("-A", "--all-namespaces", action="store_true", default=argparse.SUPPRESS,
                        help="check pod access in all namespaces")
    parser.add_argument("-o", "--output", choices=("text", "json"), default="text",
                        help="text (default) or json")
    prometheus_settings.add_arguments(parser)


def scope(args: argparse.Namespace, context_namespace: str, namespace_source: str) -> str:
    """The namespace the dashboard would show ("" = all), as `ktopui` picks it."""
    if getattr(args, "all_namespaces", False):
        return ""
    if args.namespace:
        return args.namespace
    return context_namespace if namespace_source == "context" else ""


def run(args: argparse.Namespace) -> int:
    from ktopui import config
    from ktopui.doctor import checks, report
    from ktopui.doctor.findings import exit_code
    from ktopui.kube.connection import load_connection
    from ktopui.kube.errors import KubeError
    from ktopui.logs import LOGGER, log_session

    context: dict[str, str] = {}
    logger = logging.getLogger(LOGGER)
    try:
        prometheus = prometheus_settings.settings_from(args, config.load_prometheus(getattr(args, "config", None)))
    except config.ConfigFileError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    try:
        conn = load_connection(kubeconfig=args.kubeconfig, context=args.context, namespace=args.namespace)
    except KubeError as err:
        findings = checks.config_error(err)
    else:
        logger = log_session(getattr(args, "log", None), conn)
        namespace = scope(args, conn.namespace, conn.namespace_source)
        context = {"context": conn.context, "namespace": namespace}
        findings = asyncio.run(checks.diagnose(conn, namespace=namespace, prometheus=prometheus))
    for f in findings:
        logger.info("doctor %s %s: %s%s", f.status, f.check, f.detail, f" (next: {f.next_step})" if f.next_step else "")

    if args.output == "json":
        sys.stdout.write(report.render_json(findings, **context))
    else:
        tty = sys.stdout.isatty()
        width = shutil.get_terminal_size().columns if tty else None
        colour = tty and not os.environ.get("NO_COLOR")
        sys.stdout.write(report.render_text(findings, width=width, colour=colour))
    return exit_code(findings)
