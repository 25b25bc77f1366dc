"""`ktopui` with no subcommand: open the dashboard."""

from __future__ import annotations

import argparse
import os
import sys

from ktopui import config
from ktopui.kube.connection import load_connection
from ktopui.kube.errors import KubeError
from ktopui.logs import log_session


def dashboard_scope(args: argparse.Namespace, context_namespace: str, namespace_source: str) -> str:
    """Which namespace to show; "" is all namespaces.

    `-n` wins, `-A` means all; otherwise the context's namespace when the
    context names one, and all namespaces when it does not.
    """
    if args.all_namespaces:
        return ""
    if args.namespace:
        return args.namespace
    return context_namespace if namespace_source == "context" else ""


def run(args: argparse.Namespace) -> int:
    from ktopui.ui.settings import vocabulary

    try:
        settings = config.load(args.config, vocabulary())
    except config.ConfigFileError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    try:
        conn = load_connection(kubeconfig=args.kubeconfig, context=args.context, namespace=args.namespace)
    except KubeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    for warning in conn.warnings:
        print(f"Warning: {warning}", file=sys.stderr)
    log_session(args.log, conn)

    from ktopui.ui import remembered_theme
    from ktopui.ui.app import KtopApp

    state = remembered_theme.state_path(os.environ)
    app = KtopApp(
        conn,
        namespace=dashboard_scope(args, conn.namespace, conn.namespace_source),
        label_selector=args.selector,
        interval=settings.interval if args.interval is None else args.interval,  # the flag wins
        settings=settings,
        theme=remembered_theme.recall(state, settings.theme, vocabulary().themes),
        remember_theme=lambda theme: remembered_theme.remember(state, theme, settings.theme),
    )
    app.run()
    return app.return_code or 0
