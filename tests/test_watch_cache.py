"""The watch cache stays equal to a fresh LIST through churn, a dropped watch, and a 410 re-list."""

from __future__ import annotations

import asyncio

import pytest
from helpers.watches import equals_fresh_list, state

import ktopui.sim.cluster as sim_cluster
from ktopui.kube.api import KubeAPI
from ktopui.kube.connection import load_connection, make_http_client
from ktopui.kube.watch import WatchCache, WatchSettings
from ktopui.sim.cluster import SimOptions
from ktopui.sim.server import SimServer


@pytest.fixture
def sim(tmp_path):
    server = SimServer(SimOptions(nodes=4, pods_per_node=6, seed=91, frozen=True, churn_per_minute=30)).start()
    yield server, load_connection(kubeconfig=str(server.write_kubeconfig(tmp_path / "config")))
    server.stop()


async def churn(server, steps: int) -> None:
    for _ in range(steps):
        server.cluster.advance(15)
        await asyncio.sleep(0.02)


@pytest.mark.parametrize("resource", ["pods", "nodes"])
async def test_cache_follows_churn(sim, resource):
    server, conn = sim
    async with make_http_client(conn) as http:
        api = KubeAPI(http, conn.server)
        cache = WatchCache(api, resource)
        task = asyncio.create_task(cache.run())
        try:
            await asyncio.wait_for(cache.synced.wait(), 10)
            before = state(cache.values())
            await churn(server, 20)
            await equals_fresh_list(cache, api)
            if resource == "pods":
                assert state(cache.values()) != before  # pods really came and went
            assert cache.lists == 1  # one LIST; everything else came from the watch
        finally:
            task.cancel()


async def test_cache_recovers_from_dropped_watches(sim):
    server, conn = sim
    async with make_http_client(conn) as http:
        api = KubeAPI(http, conn.server)
        cache = WatchCache(api, "pods", settings=WatchSettings(watch_seconds=1, retry_interval=0.05))
        task = asyncio.create_task(cache.run())
        try:
            await asyncio.wait_for(cache.synced.wait(), 10)
            server.faults.drop_connections(count=4, prefix="/api/v1/pods")
            await churn(server, 10)
            await asyncio.sleep(1.5)  # the watch ends; reconnects are dropped, then succeed
            await equals_fresh_list(cache, api)
            for _ in range(100):  # and it is watching again, not just lucky
                if cache.error is None:
                    break
                await asyncio.sleep(0.05)
            assert cache.error is None
        finally:
            task.cancel()


async def test_cache_lists_again_after_410_gone(monkeypatch, tmp_path):
    monkeypatch.setattr(sim_cluster, "EVENT_HISTORY", 15)  # the server forgets old versions quickly
    server = SimServer(SimOptions(nodes=4, pods_per_node=6, seed=92, frozen=True, churn_per_minute=30)).start()
    conn = load_connection(kubeconfig=str(server.write_kubeconfig(tmp_path / "config")))
    try:
        async with make_http_client(conn) as http:
            api = KubeAPI(http, conn.server)
            cache = WatchCache(api, "pods", settings=WatchSettings(retry_interval=0.05))
            task = asyncio.create_task(cache.run())
            await asyncio.wait_for(cache.synced.wait(), 10)
            task.cancel()  # away for a while (a laptop asleep, a network outage)...
            await churn(server, 40)  # ...while far more changes happen than the server keeps
            task = asyncio.create_task(cache.run())  # resumes from the old resourceVersion: 410
            try:
                await equals_fresh_list(cache, api, within=15)
                assert cache.lists == 2  # it had to list again
            finally:
                task.cancel()
    finally:
        server.stop()


async def test_list_is_paged_and_an_expired_continue_token_means_one_whole_list(sim, monkeypatch):
    server, conn = sim
    monkeypatch.setattr(sim_cluster, "EVENT_HISTORY", 5)  # the sim forgets old versions quickly
    server.stop()
    server = SimServer(SimOptions(nodes=4, pods_per_node=6, seed=91, frozen=True, churn_per_minute=30)).start()
    conn = load_connection(kubeconfig=str(server.write_kubeconfig(server.ca_path.with_name("kc"))))
    try:
        async with make_http_client(conn) as http:
            api = KubeAPI(http, conn.server)
            pages = []
            list_pods = api.list_pods

            async def list_and_churn(**kwargs):
                pages.append(kwargs)
                found = await list_pods(**kwargs)
                if len(pages) == 1:
                    server.cluster.advance(60)  # compaction between two pages
                return found

            monkeypatch.setattr(api, "list_pods", list_and_churn)
            cache = WatchCache(api, "pods", settings=WatchSettings(page_size=5))
            task = asyncio.create_task(cache.run())
            try:
                await asyncio.wait_for(cache.synced.wait(), 10)
                assert [(p["limit"], bool(p["continue_"])) for p in pages] == [(5, False), (5, True), (0, False)]
                await equals_fresh_list(cache, api)
            finally:
                task.cancel()
    finally:
        server.stop()


async def test_changes_name_every_key_that_differs_and_a_list_names_none(sim):
    server, conn = sim
    async with make_http_client(conn) as http:
        api = KubeAPI(http, conn.server)
        cache = WatchCache(api, "pods")
        task = asyncio.create_task(cache.run())
        try:
            await asyncio.wait_for(cache.synced.wait(), 10)
            assert cache.take_changes() is None  # a LIST came: anything may differ
            before = dict(cache.items)
            await churn(server, 20)
            await equals_fresh_list(cache, api)
            touched = cache.take_changes()
            after = dict(cache.items)
            differs = {k for k in before.keys() | after.keys() if before.get(k) is not after.get(k)}
            assert differs and differs <= touched
            assert cache.take_changes() == set()
        finally:
            task.cancel()
