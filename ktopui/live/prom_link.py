"""A session's Prometheus: opened after the first node list, what the header says of it, its backfill.

Opening it (flags, the config file's `[prometheus]`, else discovery through
the API server's service proxy) waits for the first node list, so the first
screen never waits for Prometheus. Without one the dashboard is what it was:
the header says `prom: off` or `prom: none found`, quietly.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from ktopui.kube.api import KubeAPI
from ktopui.kube.connection import ClusterConnection
from ktopui.kube.prometheus import (
    PromBadQuery,
    PromClient,
    PromError,
    PromRefused,
    PromTimeout,
    PromTooLarge,
    PromUnavailable,
    PromUnreachable,
)
from ktopui.kube.prometheus_settings import PromSettings, open_prometheus
from ktopui.live.backfill import Backfill, Outcome
from ktopui.live.throttling import Throttling
from ktopui.model.history import History
from ktopui.safe_text import escape_controls

log = logging.getLogger("ktopui.live")

# The short word the header gives each failure (its message goes on the status line).
WORDS = (
    (PromUnreachable, "unreachable"),
    (PromRefused, "refused"),
    (PromTimeout, "timed out"),
    (PromUnavailable, "unavailable"),
    (PromTooLarge, "too large"),
    (PromBadQuery, "bad query"),
)


def word_for(error: PromError) -> str:
    return next((word for kind, word in WORDS if isinstance(error, kind)), "error")


def one_line(text: str) -> str:
    """Text from Prometheus or about it, safe for the terminal, on one line."""
    return escape_controls(" ".join(text.split()))


class PromLink:
    """Where history beyond the session comes from, and how that is going."""

    def __init__(self, settings: PromSettings) -> None:
        self.settings = settings
        self.client: PromClient | None = None
        self.backfill: Backfill | None = None
        self.throttling: Throttling | None = None
        # For the header: the source (`monitoring/prometheus-k8s`), `off` or `none found` ("": not
        # opened yet); the last failure's word (`unreachable`) and message (one sanitised line).
        self.label = "off" if not settings.enabled else ""
        self.failure = ""
        self.problem = ""
        self.warning = ""  # the last partial answer's warning (Prometheus's own words)

    async def open(self, api: KubeAPI, conn: ClusterConnection, history: History, *,
                   clock: Callable[[], float], resolution: Callable[[], float],
                   told: Callable[[], None], spawn: Callable[[Awaitable], None]) -> None:
        """Find and open Prometheus as the settings say; `told` is called when what the
        header says of it changes (and when a backfill added samples)."""
        if not self.settings.enabled:
            return
        try:
            opened = await open_prometheus(self.settings, api, conn)
        except PromError as err:
            self._failed(err)
            told()
            return
        self.client = opened.client
        if self.client is None and not opened.note:
            self.label = "none found"  # (discovery found nothing: quietly)
        elif self.client is None:
            # The source named or found could not be opened: the note says why (it carries no kind).
            self.failure, self.problem = "failed", one_line(opened.note)
            log.warning("Prometheus not opened: %s", self.problem)
        else:
            self.label = one_line(self.client.source.name)
            log.info("Prometheus: %s (%s)", self.client.source.name, self.client.source.flavour)

            def heard(outcome: Outcome) -> None:
                self._heard(outcome)
                told()

            self.backfill = Backfill(self.client, history, clock=clock, resolution=resolution, told=heard,
                                     spawn=spawn)
            self.throttling = Throttling(self.client, clock=clock, told=heard, spawn=spawn)
        told()

    def _failed(self, error: PromError) -> None:
        self.failure = word_for(error)
        self.problem = one_line(error.message)

    def _heard(self, outcome: Outcome) -> None:
        if outcome.error is not None:
            self._failed(outcome.error)
            return
        self.failure = self.problem = ""
        self.warning = one_line(outcome.warnings[0]) if outcome.warnings else ""

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
