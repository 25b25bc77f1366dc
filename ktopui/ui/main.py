"""`ktopui` with no subcommand: open the dashboard."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ktopui import config
from ktopui.kube.connection import ClusterConnection, load_connection
from ktopui.kube.errors import KubeError
from ktopui.logs import log_session

if TYPE_CHECKING:
    from ktopui.ui.app import KtopApp


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
    app = build_app(args, conn, settings, os.environ)
    app.run()
    return app.return_code or 0


def build_app(args: argparse.Namespace, conn: ClusterConnection, settings: config.Settings,
              environ: Mapping[str, str]) -> KtopApp:
    """The dashboard for these flags and config-file settings (a flag wins over the file)."""
    from ktopui.kube.prometheus_settings import settings_from
    from ktopui.live.session import ClusterSession
    from ktopui.ui import remembered_theme
    from ktopui.ui.app import KtopApp
    from ktopui.ui.settings import vocabulary

    state = remembered_theme.state_path(environ)
    session = ClusterSession(
        conn,
        namespace=dashboard_scope(args, conn.namespace, conn.namespace_source),
        label_selector=args.selector,
        interval=settings.interval if args.interval is None else args.interval,
        pool_labels=settings.nodes.pool_labels,
        prometheus=settings_from(args, settings.prometheus),
    )
    return KtopApp(
        session,
        settings=settings,
        theme=remembered_theme.recall(state, settings.theme, vocabulary().themes),
        remember_theme=lambda theme: remembered_theme.remember(state, theme, settings.theme),
    )
