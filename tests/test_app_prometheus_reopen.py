"""Prometheus that could not be opened at start is tried again: with a jittered backoff while it
is down (the header saying so), rarely when it refuses, and its source and trends back once it
answers; the live view going on meanwhile."""

from __future__ import annotations

import asyncio
import random
from urllib.parse import urlsplit

import pytest
from helpers.app import make_app, refreshed, table
from helpers.hostile_prometheus import Hostile
from test_app_prometheus import NOW, SIZE, T0, app_on, header_text, until, world  # noqa: F401 (world: its engine)

from ktopui.kube.prometheus import (
    PromBadQuery,
    PromError,
    PromMalformed,
    PromRefused,
    PromTimeout,
    PromUnavailable,
    PromUnreachable,
)
from ktopui.kube.prometheus_discovery import SELECTORS
from ktopui.kube.prometheus_settings import PromSettings
from ktopui.live import prom_retry
from ktopui.live.prom_retry import Reopening, retry_delay
from ktopui.model import history_keys
from ktopui.sim.cluster import SimOptions
from ktopui.sim.server import SimServer

DOWN = b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 19\r\n" \
       b"Connection: close\r\n\r\nno healthy upstream"


class Gate:
    """A loopback port in front of a real engine: 503 to every request while closed, the engine's
    own answers (bytes piped both ways) once opened."""

    def __init__(self, target: str) -> None:
        parts = urlsplit(target)
        self.target = (parts.hostname, parts.port)
        self.open = False
        self.refused = 0  # requests answered 503
        self.refused_at: list[float] = []  # when (the loop's clock)
        self._piped: set[asyncio.StreamWriter] = set()

    def shut(self) -> None:
        """Closed from now on, the connections kept open to the engine cut."""
        self.open = False
        for writer in self._piped:
            writer.close()

    async def __aenter__(self) -> str:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *exc) -> None:
        self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if not self.open:
                await reader.readuntil(b"\r\n\r\n")
                self.refused += 1
                self.refused_at.append(asyncio.get_running_loop().time())
                writer.write(DOWN)
                await writer.drain()
                return
            up_reader, up_writer = await asyncio.open_connection(*self.target)
            self._piped.add(writer)
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._piped.discard(writer)
            writer.close()

    @staticmethod
    async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while chunk := await source.read(65536):
                sink.write(chunk)
                await sink.drain()
        finally:
            sink.close()


def test_reopening_backs_off_from_10_s_doubling_to_5_min_jittered():
    rng = random.Random(7)
    for failures, ceiling in [(1, 10), (2, 20), (3, 40), (4, 80), (5, 160), (6, 300), (40, 300)]:
        for error in (PromUnreachable("x"), PromUnavailable("x"), PromTimeout("x"), PromMalformed("x")):
            delays = [retry_delay(error, failures, rng) for _ in range(200)]
            assert ceiling / 2 <= min(delays) and max(delays) <= ceiling, (failures, type(error))
            assert len(set(delays)) > 100  # jittered: dashboards that failed together spread out


def test_a_refusal_is_tried_again_after_about_10_min_and_a_setting_to_fix_never():
    delays = [retry_delay(PromRefused("x"), n) for n in (1, 2, 9)]
    assert all(540 <= d <= 600 for d in delays)
    assert retry_delay(PromBadQuery("x"), 1) is None
    assert retry_delay(PromError("password file: no such file"), 1) is None


@pytest.fixture
def quick(monkeypatch):
    """The backoff scripted short: 0.4 s doubling to 1.6 s (a refusal: 60 s)."""
    monkeypatch.setattr(prom_retry, "REOPENING", Reopening(first=0.4, most=1.6, refused=60.0))


async def test_prometheus_down_at_start_is_tried_again_with_backoff_and_its_trends_come_back(world, quick):  # noqa: F811
    _, _, engine, _ = world
    gate = Gate(engine.url)
    async with gate as url:
        app = app_on(world, PromSettings(url=url))
        async with app.run_test(size=SIZE) as pilot:
            await refreshed(app, pilot)
            prom = app.session.prom
            await until(pilot, lambda: prom.failure, "the failure said")
            assert "prom: unavailable" in header_text(app)
            assert table(app, "nodes").rows  # the live view, as it was
            loop = asyncio.get_running_loop()
            began, first = loop.time(), gate.refused
            await pilot.pause(3.2)
            tried = gate.refused - first
            # Waits of at least 0.2, 0.4, 0.8, 0.8... s: at most 6 more attempts in 3.2 s; of at
            # most 0.4, 0.8, 1.6 s: at least 2 (on a loaded machine).
            assert 2 <= tried <= 6, tried
            assert loop.time() - began >= 3.2
            assert prom.client is None and prom.backfill is None
            gate.open = True
            await until(pilot, lambda: prom.backfill is not None, "Prometheus opened", seconds=10)
            await until(pilot, lambda: f"prom: {url}" in header_text(app), "the source in the header")
            assert "unavailable" not in header_text(app)
            nodes = {history_keys.node(r.name) for r in table(app, "nodes").shown_rows()}
            await until(pilot, lambda: {history_keys.CLUSTER, *nodes} <= prom.backfill.filled,
                        "the visible trends backfilled")
            assert len(app.session.history.times(history_keys.CLUSTER)) > 100


async def test_prometheus_refusing_at_start_is_not_asked_again_soon(world, quick):  # noqa: F811
    hostile = Hostile(403, b"Forbidden (user=system:anonymous)")
    async with hostile as url:
        app = app_on(world, PromSettings(url=url))
        async with app.run_test(size=SIZE) as pilot:
            await refreshed(app, pilot)
            await until(pilot, lambda: app.session.prom.failure, "the failure said")
            assert "prom: refused" in header_text(app)
            await pilot.pause(2.0)  # several of the passing failures' waits
            assert hostile.requests == 1


@pytest.fixture
def bare(tmp_path):
    """(sim, kubeconfig): a cluster of its own, with no Prometheus service (yet)."""
    server = SimServer(SimOptions(nodes=3, pods_per_node=4, seed=5, start_time=T0, frozen=True,
                                  churn_per_minute=0)).start()
    try:
        yield server, server.write_kubeconfig(tmp_path / "kubeconfig")
    finally:
        server.stop()


def service_lists(server: SimServer) -> int:
    return sum(1 for r in list(server.requests) if r.path == "/api/v1/services")


async def test_discovery_that_found_nothing_is_not_tried_again(bare, quick):
    server, kubeconfig = bare
    app = make_app(kubeconfig, clock=lambda: NOW, prometheus=PromSettings())
    async with app.run_test(size=SIZE) as pilot:
        await refreshed(app, pilot)
        await until(pilot, lambda: app.session.prom.label, "discovery done")
        await pilot.pause(2.0)  # several of the scripted waits
        assert "prom: none found" in header_text(app)
        assert service_lists(server) == len(SELECTORS)  # one discovery, quietly


async def test_a_discovered_prometheus_not_answering_is_tried_again_one_discovery_a_step(world, bare, quick):  # noqa: F811
    _, _, engine, _ = world
    server, kubeconfig = bare
    gate = Gate(engine.url)
    async with gate as url:
        server.expose_service("monitoring", "prometheus-k8s", {"app.kubernetes.io/name": "prometheus"}, 9090, url)
        app = make_app(kubeconfig, clock=lambda: NOW, prometheus=PromSettings())
        async with app.run_test(size=SIZE) as pilot:
            await refreshed(app, pilot)
            prom = app.session.prom
            await until(pilot, lambda: prom.failure, "the failure said")
            assert "prom: unavailable" in header_text(app)
            await pilot.pause(3.2)
            attempts = gate.refused
            assert 3 <= attempts <= 7, attempts  # the first, and 2 to 6 more (see the test above)
            assert service_lists(server) == attempts * len(SELECTORS)  # one discovery per attempt
            gate.open = True
            await until(pilot, lambda: prom.backfill is not None, "Prometheus opened", seconds=10)
            await until(pilot, lambda: "prom: monitoring/prometheus-k8s" in header_text(app), "its name in the header")
            assert "unavailable" not in header_text(app)


async def test_prometheus_failing_mid_session_keeps_what_is_shown_and_is_asked_again_with_backoff(world, quick):  # noqa: F811
    _, _, engine, _ = world
    gate = Gate(engine.url)
    gate.open = True
    async with gate as url:
        app = app_on(world, PromSettings(url=url))
        async with app.run_test(size=SIZE) as pilot:
            await refreshed(app, pilot)
            await until(pilot, lambda: app.session.prom.backfill is not None, "Prometheus opened")
            backfill, history = app.session.prom.backfill, app.session.history
            nodes = [history_keys.node(r.name) for r in table(app, "nodes").shown_rows()]
            await until(pilot, lambda: set(nodes) <= backfill.filled, "the nodes filled")
            held = {key: len(history.times(key)) for key in nodes}
            gate.shut()
            await pilot.press("2")
            await until(pilot, lambda: app.session.prom.failure, "the failure said")
            assert "unavailable" in header_text(app)
            assert {key: len(history.times(key)) for key in nodes} == held  # nothing shown is lost
            await pilot.pause(1.5)
            # Rounds of queries (the backfill's batches, throttling's) at the backoff's steps, not a
            # stream: at least 0.2, 0.4, 0.8 s apart, so at most 4 rounds each in 1.5 s.
            times = gate.refused_at
            rounds = 1 + sum(1 for a, b in zip(times, times[1:]) if b - a > 0.1)
            assert 2 <= rounds <= 8, times
            gate.open = True
            pods = [history_keys.pod(r.namespace, r.name) for r in table(app, "pods").shown_rows()]
            await until(pilot, lambda: set(pods) <= backfill.filled, "the pods filled once it answers", seconds=10)
            await until(pilot, lambda: not app.session.prom.failure, "the failure gone from the header")
