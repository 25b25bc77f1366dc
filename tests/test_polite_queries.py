"""How many queries the dashboard sends Prometheus, and how many series come back: a page of
pods across namespaces and a big DaemonSet's workload row, against real engines holding
generated usage (the issue's "one query per metric per namespace or per visible page")."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest
from helpers.engines import holding
from helpers.usage_series import STEP, Container, Generated

from ktopui.kube.prometheus import PromClient, url_client
from ktopui.live.backfill import MOST_PODS_NAMED, Backfill, Outcome
from ktopui.live.joiner import new_history
from ktopui.live.throttling import Throttling
from ktopui.model import history_keys, promql
from ktopui.model.history import CPU, MEMORY
from ktopui.model.pod_owners import owner_prefix

NOW = (time.time() // 3600 - 1) * 3600  # a recent hour: VictoriaMetrics keeps only its retention of now
ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # generateName's suffixes (apimachinery util/rand)
AGENTS = ["agent-" + "".join(s) for s in itertools.islice(itertools.product(ALPHABET, repeat=5), 1000)]
AGENT = history_keys.workload("DaemonSet", "kube-system", "agent")
NAMESPACES = [f"team-{i:02}" for i in range(20)]
# The CPU points compared: those whose rate() window lies within the generated ten minutes
# (an engine extrapolates a rate over a window that starts before the series).
WHOLE_WINDOWS = 30


def crowd() -> list[Container]:
    """A 1,000-pod DaemonSet, two pods beside it named like its pods, and two pods in each of 20
    namespaces, named alike across them."""
    containers = [Container("kube-system", pod, "agent", f"node-{i}", 0.0078125 * (1 + i % 4),
                            (10 + i % 5) << 20, throttled=0.0625 * (i % 7)) for i, pod in enumerate(AGENTS)]
    containers += [Container("kube-system", "agent-zzzzz", "oops", "node-0", 0.5, 1 << 20, throttled=0.875),
                   Container("kube-system", "agent-extra", "other", "node-0", 0.25, 2 << 20, throttled=0.9375)]
    for i, namespace in enumerate(NAMESPACES):
        for j in range(2):
            containers.append(Container(namespace, f"api-{j}", "app", f"node-{i}", 0.015625 * (i + 1 + j),
                                        (i + 1) << 20, throttled=0.03125 * ((i + j) % 4)))
    return containers


@pytest.fixture(scope="module", params=["prometheus", "victoriametrics"])
def filled(request, tmp_path_factory):
    """(engine, generated): ten minutes of the crowd's usage up to NOW in each engine."""
    generated = Generated(NOW - 600, NOW, crowd())
    with holding(request.param, tmp_path_factory.mktemp(request.param), generated.openmetrics()) as engine:
        engine.flush()
        yield engine, generated


class Counting:
    """The client's answers, kept to count their series."""

    def __init__(self, client: PromClient) -> None:
        self.answers: list = []
        ask_range, ask = client.query_range, client.query

        async def query_range(expr, start, end, step):
            self.answers.append(await ask_range(expr, start, end, step))
            return self.answers[-1]

        async def query(expr, at=None):
            self.answers.append(await ask(expr, at))
            return self.answers[-1]

        client.query_range, client.query = query_range, query


async def backfilled(client: PromClient, keys, members=None):
    history = new_history()
    told: list[Outcome] = []
    tasks: list[asyncio.Task] = []
    backfill = Backfill(client, history, clock=lambda: NOW, resolution=lambda: STEP, told=told.append,
                        spawn=lambda work: tasks.append(asyncio.ensure_future(work)))
    backfill.want(keys, members)
    await asyncio.gather(*tasks)
    return history, told


async def test_a_page_of_pods_in_20_namespaces_is_two_range_queries(filled):
    engine, generated = filled
    client = url_client(engine.url)
    page = [(namespace, f"api-{i % 2}") for i, namespace in enumerate(NAMESPACES)]
    keys = [history_keys.pod(*pod) for pod in page]
    history, told = await backfilled(client, keys)
    await client.aclose()

    assert client.stats.queries == 2 and [o.error for o in told] == [None]
    for namespace, pod in page:
        key = history_keys.pod(namespace, pod)
        assert len(history.times(key)) > WHOLE_WINDOWS
        assert history.series(key, CPU)[-WHOLE_WINDOWS:] == pytest.approx(generated.cpu_milli(namespace, pod))
        assert history.series(key, MEMORY).tolist() == [generated.memory(namespace, pod, t)
                                                        for t in history.times(key)]
    # The matchers cross namespaces (team-00's api-1 matches too): only the pods asked for are filled.
    others = [history_keys.pod(namespace, f"api-{1 - i % 2}") for i, namespace in enumerate(NAMESPACES)]
    assert not any(len(history.times(key)) for key in others)


async def test_a_1000_pod_daemonsets_row_is_one_series_per_metric_summing_its_pods(filled):
    engine, generated = filled
    client = url_client(engine.url)
    counting = Counting(client)
    assert len(AGENTS) > MOST_PODS_NAMED
    history, told = await backfilled(client, [AGENT], {AGENT: AGENTS})
    await client.aclose()

    assert client.stats.queries == 2 and [o.error for o in told] == [None]
    assert [len(answer.series) for answer in counting.answers] == [1, 1]
    times = history.times(AGENT)
    assert len(times) > WHOLE_WINDOWS
    # Its pods summed, and the bare pod named like one of its pods (the documented misattribution);
    # not the pod whose suffix no generateName makes.
    counted = [*AGENTS, "agent-zzzzz"]
    assert history.series(AGENT, CPU)[-WHOLE_WINDOWS:] == pytest.approx(sum(generated.cpu_milli("kube-system", p) for p in counted))
    assert history.series(AGENT, MEMORY).tolist() == [sum(generated.memory("kube-system", p, t) for p in counted)
                                                      for t in times]


async def test_workloads_of_20_namespaces_beside_a_big_daemonset_are_two_range_queries(filled):
    engine, generated = filled
    client = url_client(engine.url)
    apis = {history_keys.workload("StatefulSet", namespace, "api"): ["api-0", "api-1"] for namespace in NAMESPACES}
    history, told = await backfilled(client, [AGENT, *apis], {AGENT: AGENTS, **apis})
    await client.aclose()

    assert client.stats.queries == 2 and [o.error for o in told] == [None]
    for key, pods in apis.items():  # (owner "api" in every namespace: each keeps its own)
        namespace = key[2]
        assert history.series(key, CPU)[-WHOLE_WINDOWS:] == pytest.approx(
            sum(generated.cpu_milli(namespace, pod) for pod in pods))
        assert history.series(key, MEMORY).tolist() == [sum(generated.memory(namespace, pod, t) for pod in pods)
                                                        for t in history.times(key)]


async def test_throttling_asks_once_for_a_page_across_namespaces_and_once_for_a_namespaces_workloads(filled):
    engine, generated = filled
    client = url_client(engine.url)
    counting = Counting(client)
    page = [(namespace, f"api-{i % 2}") for i, namespace in enumerate(NAMESPACES)]
    tasks: list[asyncio.Task] = []
    told: list[Outcome] = []
    throttling = Throttling(client, clock=lambda: NOW, told=told.append,
                            spawn=lambda work: tasks.append(asyncio.ensure_future(work)))
    throttling.want(page, {AGENT: AGENTS})
    while not told:
        await asyncio.sleep(0.01)
    for task in tasks:
        task.cancel()
    await client.aclose()

    assert client.stats.queries == 2 and told[0].error is None
    by_owner = [answer for answer in counting.answers if any("owner" in s.labels for s in answer.series)]
    assert [len(answer.series) for answer in by_owner] == [1]  # the DaemonSet's 1,000 pods: one series
    for namespace, pod in page:
        worst = max(c.throttled for c in generated.containers if (c.namespace, c.pod) == (namespace, pod))
        expected = pytest.approx(worst) if worst else None  # (never throttled: 0 of its periods)
        assert throttling.shares.get(history_keys.pod(namespace, pod)) == expected
    # The highest of its pods', and the bare pod named like one of them (documented) is one of them.
    assert throttling.shares[AGENT] == pytest.approx(0.875)


def test_owner_prefixes_are_what_controllers_name_pods_after():
    assert owner_prefix("agent-x2x4z") == "agent"  # DaemonSet, Job
    assert owner_prefix("web-7d4f8b9c6d-x2x4z") == "web-7d4f8b9c6d"  # a Deployment's ReplicaSet
    assert owner_prefix("db-12") == "db"  # StatefulSet ordinal
    assert owner_prefix("agent-extra") == "agent-extra"  # vowels: no generateName suffix
    assert owner_prefix("standalone") == "standalone"


def test_a_page_is_split_only_where_its_matchers_pass_the_url_budget():
    pods = [(f"ns-{i % 30}", f"pod-{i}") for i in range(600)]
    whole = list(promql.page_batches(pods))
    split = list(promql.page_batches(pods, max_chars=1000))
    assert len(whole) == 2 and len(split) > 2
    for batches in (whole, split):
        covered = {(ns, pod) for namespaces, names in batches for ns in namespaces for pod in names}
        assert set(pods) <= covered
    for namespaces, names in split:
        assert len(promql.quote(promql.regex_alternation(namespaces))) + \
            len(promql.quote(promql.regex_alternation(names))) <= 1000


def test_owner_names_cannot_change_the_querys_meaning():
    expr = promql.pod_cpu("ns", None, "1m", owners=['a.b|c"d'])
    assert r'pod=~"(?:a\\.b\\|c\"d)(?:-' in expr
