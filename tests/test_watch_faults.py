"""When WATCH does not work: the cache falls back to periodic LISTs at a polite rate, says
why, converges to what a fresh LIST holds, and tries the watch again now and then."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace

import pytest
from helpers.watches import equals_fresh_list, requests_of, running, until

from ktopui.kube.api import KubeAPI
from ktopui.kube.connection import load_connection, make_http_client
from ktopui.kube.watch import Backoff, WatchCache, WatchSettings
from ktopui.sim.cluster import SimOptions
from ktopui.sim.server import SimServer

PODS = "/api/v1/pods"
# Every time shrunk, so that each case takes seconds: watches time out after 1 s, the
# backoff goes 0.05 s to 0.4 s, and a LIST comes every 0.5 s while the watch cannot work.
FAST = WatchSettings(watch_seconds=1, silence_slack=0.5, retry_interval=0.05, retry_cap=0.4, min_relist=0.5,
                     watch_retry=3600.0, max_event_bytes=1 << 20)


@pytest.fixture
def sim(tmp_path):
    server = SimServer(SimOptions(nodes=4, pods_per_node=6, seed=91, frozen=True, churn_per_minute=30)).start()
    yield server, load_connection(kubeconfig=str(server.write_kubeconfig(tmp_path / "config")))
    server.stop()


async def churn(server, steps: int) -> None:
    for _ in range(steps):
        server.cluster.advance(15)
        await asyncio.sleep(0.02)


def cache_lists(server) -> int:
    """LISTs of pods the cache made (paged: with a limit; the tests' own fresh LISTs have none)."""
    return sum(1 for r in requests_of(server, PODS, watch=False) if "limit=" in r.query)


FALLBACKS = {
    "watch forbidden": (lambda f: f.forbid("sim-admin", "watch", "pods"), "watch not allowed"),
    "410 on every watch": (lambda f: f.expire_watches(prefix=PODS), "every watch expires at once"),
    "a list answered to a watch": (lambda f: f.answer_watches_with_lists(prefix=PODS),
                                   "the watch stream is unreadable"),
    "a silent watch": (lambda f: f.silent_watches(prefix=PODS), "the watch went silent"),
    "an endless event line": (lambda f: f.endless_watch_lines(prefix=PODS), "a watch event over 1 MiB"),
}


@pytest.mark.parametrize("fault", sorted(FALLBACKS))
async def test_a_watch_that_cannot_work_falls_back_to_periodic_lists_that_keep_up(sim, fault):
    server, conn = sim
    inject, reason = FALLBACKS[fault]
    inject(server.faults)
    async with make_http_client(conn) as http:
        api = KubeAPI(http, conn.server)
        began = time.monotonic()
        async with running(WatchCache(api, "pods", settings=FAST)) as cache:
            await until(lambda: cache.relisting, within=10, what="the fallback to lists")
            assert cache.relisting.startswith(reason)
            assert cache.error is None  # a state, not an error over good data
            await churn(server, 10)  # pods come and go on the server...
            await equals_fresh_list(cache, api, within=5)  # ...and the next LIST shows it
            await asyncio.sleep(1.0)
            lists, elapsed = cache_lists(server), time.monotonic() - began
    # The stated rate: the first LIST, the few before the watch is given up (each after
    # a backoff), then one per relist interval.
    assert lists <= 2 + FAST.quick_failures + elapsed / FAST.min_relist, (lists, elapsed)
    assert lists >= 2  # it did list again


async def test_every_list_after_a_failed_watch_waits_a_backoff_that_grows(sim, monkeypatch):
    server, conn = sim
    server.faults.expire_watches(prefix=PODS)
    settings = replace(FAST, retry_interval=0.2, retry_cap=5.0, quick_failures=4)
    async with make_http_client(conn) as http:
        api = KubeAPI(http, conn.server)
        listed: list[float] = []
        list_pods = api.list_pods

        async def timed(**kwargs):
            listed.append(time.monotonic())
            return await list_pods(**kwargs)

        monkeypatch.setattr(api, "list_pods", timed)
        async with running(WatchCache(api, "pods", settings=settings)) as cache:
            await until(lambda: cache.relisting, within=10, what="the fallback to lists")
    gaps = [b - a for a, b in zip(listed, listed[1:4])]
    # 0.2-0.4 s, then 0.4-0.8 s, then 0.8-1.6 s (plus the LIST and the watch themselves)
    assert [gap >= 0.2 * 2 ** i for i, gap in enumerate(gaps)] == [True] * 3, gaps


async def test_the_watch_is_tried_again_and_taken_back_once_it_works(sim):
    server, conn = sim
    server.faults.forbid("sim-admin", "watch", "pods")
    async with make_http_client(conn) as http:
        api = KubeAPI(http, conn.server)
        async with running(WatchCache(api, "pods", settings=replace(FAST, watch_retry=1.0))) as cache:
            await until(lambda: cache.relisting, within=10, what="the fallback to lists")
            server.faults.clear_forbidden()
            await until(lambda: not cache.relisting, within=5, what="the watch taken back")
            lists = cache_lists(server)
            await churn(server, 10)
            await equals_fresh_list(cache, api, within=5)
            await asyncio.sleep(1.0)
            assert cache_lists(server) == lists  # the changes came by the watch


async def test_a_silent_watch_is_given_up_soon_after_its_own_timeout(sim):
    server, conn = sim
    server.faults.silent_watches(prefix=PODS)
    async with make_http_client(conn) as http:
        api = KubeAPI(http, conn.server)
        async with running(WatchCache(api, "pods", settings=FAST)) as cache:
            await until(lambda: cache.synced.is_set(), within=10, what="the first LIST")
            watching = time.monotonic()
            await until(lambda: cache.relisting, within=10, what="the fallback to lists")
    # Asked for 1 s (at most 1.5 at random, as whole seconds: 1), given 0.5 s of slack; before,
    # a silent watch went unnoticed for its timeout plus a minute.
    assert time.monotonic() - watching < 1.5 + 2.0


async def test_an_endless_line_is_not_read_past_the_event_limit(sim):
    server, conn = sim
    server.faults.endless_watch_lines(prefix=PODS)
    async with make_http_client(conn) as http:
        api = KubeAPI(http, conn.server)
        async with running(WatchCache(api, "pods", settings=FAST)) as cache:
            await until(lambda: cache.relisting, within=10, what="the fallback to lists")
            await until(lambda: requests_of(server, PODS, watch=True), within=5, what="the end of the watch")
    (watch,) = requests_of(server, PODS, watch=True)
    # The client stopped reading at 1 MiB and closed; what the server could write past
    # that went into socket buffers.
    assert watch.bytes_sent < 16 << 20, watch.bytes_sent


async def test_the_backoff_doubles_and_starts_over_after_a_quiet_spell():
    backoff = Backoff(0.1, 0.5, reset_after=0.3)
    delays = [backoff.next() for _ in range(4)]
    ranges = [(0.1, 0.2), (0.2, 0.4), (0.25, 0.5), (0.25, 0.5)]  # half to all of 0.2, 0.4, then the cap
    assert all(low <= d <= high for d, (low, high) in zip(delays, ranges)), delays
    await asyncio.sleep(0.35)
    assert 0.1 <= backoff.next() <= 0.2
