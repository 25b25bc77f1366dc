"""Backfill: history keys filled from a real Prometheus, in batches, merged under live samples;
and what a Prometheus that fails does to them (nothing)."""

from __future__ import annotations

import asyncio
import time

import httpx
import numpy as np
import pytest
from helpers.engines import started
from helpers.hostile_prometheus import Hostile
from helpers.usage_series import STEP, Container, Generated

from ktopui.kube.prometheus import PromClient, PromSource, PromUnavailable, url_client
from ktopui.live.backfill import Backfill, Outcome
from ktopui.live.joiner import new_history
from ktopui.model import history_keys
from ktopui.model.history import CPU, MEMORY

NOW = (time.time() // 3600 - 1) * 3600  # a recent hour: VictoriaMetrics keeps only its retention of now
CONTAINERS = [
    Container("shop", "cart-0", "app", "node-a", 0.25, 100 << 20),
    Container("shop", "cart-0", "proxy", "node-a", 0.125, 20 << 20),
    Container("shop", "cart-1", "app", "node-b", 0.5, 110 << 20),
    Container("web", "front-0", "nginx", "node-b", 0.0625, 30 << 20),
]


@pytest.fixture(scope="module", params=["prometheus", "victoriametrics"])
def filled(request, tmp_path_factory):
    """(engine, generated): an hour of usage up to NOW in each engine."""
    generated = Generated(NOW - 3600, NOW, list(CONTAINERS))
    data_dir = tmp_path_factory.mktemp(request.param)
    if request.param == "prometheus":
        source = data_dir.parent / f"{data_dir.name}.om"
        source.write_text(generated.openmetrics())
        with started("prometheus", data_dir, blocks_from=source) as engine:
            yield engine, generated
    else:
        with started("victoriametrics", data_dir, retention="100y") as engine:
            engine.import_openmetrics(generated.openmetrics())
            engine.flush()
            yield engine, generated


async def backfilled(client: PromClient, keys, *, history=None, members=None, clock=lambda: NOW):
    """The history after a Backfill of `keys` ran to its end, and what it told."""
    history = history if history is not None else new_history()
    told: list[Outcome] = []
    tasks: list[asyncio.Task] = []
    backfill = Backfill(client, history, clock=clock, resolution=lambda: STEP, told=told.append,
                        spawn=lambda work: tasks.append(asyncio.ensure_future(work)))
    backfill.want(keys, members)
    while tasks:  # to its end, or to its first failure (after which it would wait RETRY_AFTER)
        task = tasks.pop()
        while not task.done() and not any(o.error for o in told):
            await asyncio.sleep(0.01)
        task.cancel()
    await client.aclose()
    return history, told, backfill


def grid(generated: Generated, points: int) -> np.ndarray:
    return np.array([NOW - (points - 1 - i) * STEP for i in range(points)])


async def test_backfilled_pods_containers_and_nodes_equal_the_generated_usage(filled):
    engine, generated = filled
    keys = [history_keys.pod("shop", "cart-0"), history_keys.container("shop", "cart-0", "proxy"),
            history_keys.pod("web", "front-0"), history_keys.node("node-b")]
    history, told, backfill = await backfilled(url_client(engine.url), keys)

    assert [o.error for o in told] == [None, None]  # nodes, then one batch for the pods of both namespaces
    pod_times = grid(generated, history.capacity_for(keys[0]))
    for namespace, pod, container, key in (("shop", "cart-0", None, keys[0]), ("shop", "cart-0", "proxy", keys[1]),
                                           ("web", "front-0", None, keys[2])):
        assert history.times(key).tolist() == pod_times.tolist()
        assert history.series(key, CPU) == pytest.approx(generated.cpu_milli(namespace, pod, container))
        assert history.series(key, MEMORY).tolist() == [generated.memory(namespace, pod, t, container)
                                                        for t in pod_times]
    node_times = grid(generated, history.capacity_for(keys[3]))
    assert history.times(keys[3]).tolist() == node_times.tolist()
    assert history.series(keys[3], CPU) == pytest.approx(generated.node_cpu_milli("node-b"))
    assert history.series(keys[3], MEMORY).tolist() == [generated.node_memory("node-b", t) for t in node_times]
    assert backfill.filled == set(keys)


async def test_workloads_namespaces_and_the_cluster_are_their_pods_summed(filled):
    engine, generated = filled
    cart = history_keys.workload("StatefulSet", "shop", "cart")
    keys = [history_keys.CLUSTER, cart, history_keys.namespace("web")]
    history, told, _ = await backfilled(url_client(engine.url), keys, members={cart: ["cart-0", "cart-1"]})

    assert all(o.error is None for o in told)
    cart_cpu = generated.cpu_milli("shop", "cart-0") + generated.cpu_milli("shop", "cart-1")
    assert history.series(cart, CPU) == pytest.approx(cart_cpu)
    t = NOW - 5 * STEP
    at = history.times(cart).tolist().index(t)
    assert history.series(cart, MEMORY)[at] == generated.memory("shop", "cart-0", t) + generated.memory("shop", "cart-1", t)
    assert history.series(history_keys.namespace("web"), CPU) == pytest.approx(generated.cpu_milli("web", "front-0"))
    everything = sum(generated.node_cpu_milli(n) for n in ("node-a", "node-b"))
    assert history.series(history_keys.CLUSTER, CPU) == pytest.approx(everything)


async def test_live_samples_stay_and_backfill_goes_before_them(filled):
    engine, generated = filled
    history = new_history()
    key = history_keys.node("node-a")
    live_at = NOW - 2 * STEP + 3  # a metrics timestamp off the query's grid
    history.record(key, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(live_at)), 777, 12345)
    history, _, _ = await backfilled(url_client(engine.url), [key], history=history)

    times = history.times(key)
    assert times[-1] == live_at and history.series(key, CPU)[-1] == 777  # the live sample, as it was
    # The grid's points after it (NOW - STEP, NOW) are the live sample's to give.
    assert (times[:-1] < live_at).all() and len(times) == history.capacity_for(key) - 2 + 1
    assert history.series(key, CPU)[:-1] == pytest.approx(generated.node_cpu_milli("node-a"))


async def test_each_key_is_asked_for_once(filled):
    engine, _ = filled
    client = url_client(engine.url)
    key = history_keys.node("node-a")
    history = new_history()
    tasks: list[asyncio.Task] = []
    backfill = Backfill(client, history, clock=lambda: NOW, resolution=lambda: STEP, told=lambda o: None,
                        spawn=lambda work: tasks.append(asyncio.ensure_future(work)))
    backfill.want([key])
    await tasks.pop()
    asked = client.stats.queries
    backfill.want([key])
    assert not tasks and client.stats.queries == asked == 2  # CPU and memory, once
    await client.aclose()


# -- a Prometheus that fails ------------------------------------------------------


def live_history():
    history = new_history()
    history.record(history_keys.node("node-a"), "2026-01-01T00:00:00Z", 500, 1 << 30)
    return history


async def test_a_failing_prometheus_leaves_the_live_history_as_it_was_and_says_so_once():
    history = live_history()
    before = (history.times(history_keys.node("node-a")).tolist(), history.generation)
    hostile = Hostile(503, b"upstream connect error\x1b[31m")
    async with hostile as url:
        clock = [NOW]
        client = url_client(url)
        told: list[Outcome] = []
        tasks: list[asyncio.Task] = []
        backfill = Backfill(client, history, clock=lambda: clock[0], resolution=lambda: STEP, told=told.append,
                            spawn=lambda work: tasks.append(asyncio.ensure_future(work)))
        backfill.want([history_keys.node("node-a"), history_keys.node("node-b")])
        await asyncio.sleep(0.3)
        assert len(told) == 1 and isinstance(told[0].error, PromUnavailable)
        assert "\x1b" not in told[0].error.message
        assert backfill.error is told[0].error and not backfill.filled
        asked = hostile.requests
        backfill.want([history_keys.node("node-a")])  # scrolled: still nothing asked until the pause is over
        await asyncio.sleep(0.3)
        assert hostile.requests == asked == 2 and len(told) == 1
        for task in tasks:
            task.cancel()
        await client.aclose()
    assert (history.times(history_keys.node("node-a")).tolist(), history.generation) == before


async def test_partial_answers_fill_and_pass_their_warning_on():
    body = (b'{"status":"success","warnings":["store eu-1 unreachable"],"data":{"resultType":"matrix","result":'
            b'[{"metric":{"node":"node-a"},"values":[[%d,"250"],[%d,"NaN"],[%d,"+Inf"]]}]}}'
            % (NOW - 2 * STEP, NOW - STEP, NOW))
    async with Hostile(200, body) as url:
        history, told, _ = await backfilled(url_client(url), [history_keys.node("node-a")])
    assert told[0].warnings == ("store eu-1 unreachable",)
    assert history.times(history_keys.node("node-a")).tolist() == [NOW - 2 * STEP]  # gaps left out
    assert history.series(history_keys.node("node-a"), CPU).tolist() == [250.0]


async def test_a_slow_prometheus_times_out_without_holding_anything_up():
    async with Hostile(200, b"{}", delay=5) as url:
        source = PromSource(base=url, via="url", name=url, flavour="url")
        client = PromClient(source, httpx.AsyncClient(), owns_http=True, deadline=0.2)
        began = time.monotonic()
        history, told, _ = await backfilled(client, [history_keys.node("node-a")], history=live_history())
    assert time.monotonic() - began < 2
    assert told[0].error is not None and "within" in told[0].error.message
    assert history.series(history_keys.node("node-a"), CPU).tolist() == [500.0]
