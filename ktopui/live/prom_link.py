"""A session's Prometheus: opened after the first node list, what the header says of it, its backfill.

Opening it (flags, the config file's `[prometheus]`, else discovery through
the API server's service proxy) waits for the first node list, so the first
screen never waits for Prometheus. Without one the dashboard is what it was:
the header says `prom: off` or `prom: none found`, quietly. A source that
could not be opened for a reason that may pass (down, 5xx, a timeout) is tried
again with a jittered backoff, a refusal rarely (prom_retry), the header saying
its failure meanwhile; discovery that found nothing is not tried again.
"""

from __future__ import annotations

import asyncio
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
from ktopui.live.prom_retry import retry_delay
from ktopui.live.throttling import Throttling
from ktopui.live.window_advice import AdviceFromPrometheus
from ktopui.live.window_reclaim import WindowReclaim
from ktopui.model.history import History
from ktopui.model.snapshot import Snapshot
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
        self.advice: AdviceFromPrometheus | None = None
        self.reclaim: WindowReclaim | None = None
        # For the header: the source (`monitoring/prometheus-k8s`), `off` or `none found` ("": not
        # opened yet); the last failure's word (`unreachable`) and message (one sanitised line).
        self.label = "off" if not settings.enabled else ""
        self.failure = ""
        self.problem = ""
        self.warning = ""  # the last partial answer's warning (Prometheus's own words)

    async def open(self, api: KubeAPI, conn: ClusterConnection, history: History, *,
                   clock: Callable[[], float], resolution: Callable[[], float],
                   told: Callable[[], None], spawn: Callable[[Awaitable], None],
                   snapshot: Callable[[], Snapshot | None]) -> None:
        """Find and open Prometheus as the settings say, trying again while it cannot be opened
        for a reason that may pass; `told` is called when what the header says of it changes (and
        when a backfill added samples). One attempt at a time: this is the only caller."""
        if not self.settings.enabled:
            return
        failures = 0
        while True:
            error = await self._open_once(api, conn, history, clock=clock, resolution=resolution,
                                          told=told, spawn=spawn, snapshot=snapshot)
            told()
            if error is None:
                return
            failures += 1
            delay = retry_delay(error, failures)
            if delay is None:
                return
            log.info("Prometheus: trying to open it again in %.0f s", delay)
            await asyncio.sleep(delay)

    async def _open_once(self, api: KubeAPI, conn: ClusterConnection, history: History, *,
                         clock: Callable[[], float], resolution: Callable[[], float],
                         told: Callable[[], None], spawn: Callable[[Awaitable], None],
                         snapshot: Callable[[], Snapshot | None]) -> PromError | None:
        """One attempt (discovery's requests included): the error if it failed for a reason to say."""
        try:
            opened = await open_prometheus(self.settings, api, conn)
        except PromError as err:
            self._failed(err)
            return err
        self.client = opened.client
        found_but_failed = opened.found.error if opened.found is not None else None
        if found_but_failed is not None:  # (services found that did not answer: said, and tried again)
            self._failed(found_but_failed)
            log.warning("Prometheus not opened: %s", self.problem)
            return found_but_failed
        if self.client is None and not opened.note:
            self.label = "none found"  # (discovery found nothing: quietly, and for the session)
        elif self.client is None:
            # The source named or found could not be opened: its error says why, and when to retry.
            self._failed(opened.error or PromError(opened.note))
            log.warning("Prometheus not opened: %s", self.problem)
            return opened.error
        else:
            self.label = one_line(self.client.source.name)
            self.failure = self.problem = ""
            log.info("Prometheus: %s (%s)", self.client.source.name, self.client.source.flavour)

            def heard(outcome: Outcome) -> None:
                self._heard(outcome)
                told()

            self.backfill = Backfill(self.client, history, clock=clock, resolution=resolution, told=heard,
                                     spawn=spawn)
            self.throttling = Throttling(self.client, clock=clock, told=heard, spawn=spawn)
            self.advice = AdviceFromPrometheus(self.client, api, clock=clock)
            self.reclaim = WindowReclaim(self.advice, snapshot, told=told, spawn=spawn)
        return None

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
        if self.advice is not None:
            await self.advice.close()
        if self.client is not None:
            await self.client.aclose()
