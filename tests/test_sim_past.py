"""A simulated cluster's generated past is what its kubelets' cAdvisor serves at the same
collections, and the live endpoint goes on from it without a seam."""

from __future__ import annotations

import io
import itertools
import random

import numpy as np
import pytest

from ktopui.sim import cadvisor, past, usage, usage_arrays
from ktopui.sim.cluster import SimCluster, SimOptions

START = 1_780_000_000.0
HISTORY = 600.0  # 40 collections at 15 s
AFTER = 6  # collections served live after the past was generated


def _options(**extra) -> SimOptions:
    return SimOptions(nodes=5, pods_per_node=5, seed=11, start_time=START, frozen=True, churn_per_minute=0, **extra)


def _generated(cluster: SimCluster, history: float) -> tuple[past.Past, set[str]]:
    out = io.StringIO()
    generated = past.write(cluster, out, history, openmetrics=False)
    return generated, set(out.getvalue().splitlines())


def _served(cluster: SimCluster) -> set[str]:
    """Every node's live /metrics/cadvisor samples, as lines of the engine's series (the `kubelet`
    job's labels added, as past.write writes them)."""
    lines = set()
    for node in cluster.nodes:
        text = cadvisor.exposition(cluster, node.name)
        if not node.ready:
            continue
        extra = (f'instance="{node.ip}:10250",job="kubelet",metrics_path="/metrics/cadvisor",'
                 f'node="{node.name}"}}')
        for line in text.decode().splitlines():
            if not line.startswith("#"):
                series, rest = line.split("} ", 1)
                lines.add(f"{series},{extra} {rest}")
    return lines


def test_the_vectorised_usage_is_usage_pys_to_the_nanocore_and_the_byte():
    rng = random.Random(4)
    for _ in range(40):
        salt, cpu, memory = rng.getrandbits(51), rng.uniform(1e5, 8e9), rng.uniform(1e6, 6e10)
        ks = rng.randrange(10**8, 2 * 10**8) + np.arange(400, dtype=np.int64)
        assert usage_arrays.cpu_nanocores(cpu, salt, ks).tolist() == [usage.cpu_nanocores(cpu, salt, k) for k in ks.tolist()]
        assert usage_arrays.memory_bytes(memory, salt, ks).tolist() == [usage.memory_bytes(memory, salt, k)
                                                                         for k in ks.tolist()]


def test_the_vectorised_tuple_hash_is_cpythons():
    values = [0, 1, 7, 2**31, 2**48 + 5, 2**61 - 2, 2**61 - 1, 2**61, 2**62 + 3, 2**63 - 1]
    for a in values:
        for b in (0, 1, 6):
            got = usage_arrays.tuple_hash(a, b, np.array(values, dtype=np.int64)).tolist()
            assert got == [hash((a, b, c)) & 0xFFFFFFFFFFFFFFFF for c in values]


def test_vectorised_throttling_is_cadvisors():
    nanocores = np.array([0, 1, 599_999_999, 600_000_000, 600_000_001, 800_000_000, 999_999_999,
                          1_000_000_000, 1_500_000_000, 2_000_000_000, 9_000_000_000, 123_456_789_012], dtype=np.int64)
    for limit in (1, 250, 1000, 3000):
        for periods in (150, 20, 7):
            assert past.throttled_periods(nanocores * limit // 1000, limit, periods).tolist() == [
                cadvisor.throttled_periods(int(n), limit, periods) for n in (nanocores * limit // 1000).tolist()]


def test_the_generated_past_is_what_the_live_endpoint_serves_at_the_same_collections():
    """One cluster serves live after its past was generated (which ends a collection before
    now); a twin moved on one collection further has its past generated over the same
    collections and those served live: every sample is the same."""
    live = SimCluster(_options())
    generated, before = _generated(live, HISTORY)
    assert generated.note == "" and generated.samples == len(before) > 1000
    served = _served(live)
    for _ in range(AFTER - 1):
        live.advance(live.resolution)
        served |= _served(live)
    twin = SimCluster(_options())
    twin.advance(AFTER * twin.resolution)
    _, after = _generated(twin, HISTORY + AFTER * twin.resolution)
    assert before <= after
    assert served <= after
    families = {line.split("{", 1)[0] for line in served}
    assert families == {past.CPU, past.MEMORY, past.PERIODS, past.THROTTLED}
    assert len(served) == len(after) - len(before)


def test_the_live_endpoint_counts_the_same_past_without_the_generated_totals():
    """The live endpoint's own counting from the past's start (a loop over every collection) gives
    the numbers the generated past ends on: one definition of the counters, two computations."""
    cluster = SimCluster(_options())
    _generated(cluster, HISTORY)
    for node in cluster.nodes:
        node.cadvisor = None
        for pod in node.pods.values():
            pod.cadvisor = None
    served = _served(cluster)
    twin = SimCluster(_options())
    twin.advance(twin.resolution)
    _, lines = _generated(twin, HISTORY + twin.resolution)
    assert served and served <= lines
    assert len({line.rsplit(" ", 1)[1] for line in served}) == sum(n.ready for n in cluster.nodes)


def test_counters_start_at_the_past_and_estimate_only_before_it():
    cluster = SimCluster(_options())
    generated, lines = _generated(cluster, HISTORY)
    assert cluster.counters_from == generated.start == START - cluster.resolution - HISTORY
    node = next(n for n in cluster.nodes if n.ready)
    root = sorted((line for line in lines if line.startswith(past.CPU + '{container="",id="/",')
                   and f'node="{node.name}"' in line), key=lambda line: int(line.rsplit(" ", 1)[1]))
    assert len(root) == HISTORY / cluster.resolution
    values = [int(line.split(" ")[-2].replace(".", "")) for line in root]
    assert all(b > a for a, b in itertools.pairwise(values))  # no reset
    first = cluster.kubelet_scrape(node, generated.start)
    k, total = cadvisor.root_counter_start(cluster, node, first)
    assert k == first and values[0] == total + round(cluster.node_usage(node, k + 1)[0] * cluster.resolution)


def test_a_past_asked_for_after_cadvisor_was_scraped_is_shortened_to_where_counters_are_exact():
    cluster = SimCluster(_options())
    _served(cluster)  # counting began at the cluster's creation
    cluster.advance(120 + cluster.resolution)
    generated, _ = _generated(cluster, HISTORY)
    assert generated.start == START
    assert generated.note == "the past is 2m, not 10m: cAdvisor was scraped before it was generated"


def test_a_huge_clusters_past_is_bounded_and_says_so(monkeypatch):
    monkeypatch.setattr(past, "MAX_SAMPLES", 20_000)
    cluster = SimCluster(_options())
    generated, lines = _generated(cluster, 6 * 3600)
    assert 10_000 < generated.samples == len(lines) <= 20_000
    assert generated.note.startswith("the past is ") and ", not 6h: " in generated.note
    assert f"{generated.series} series" in generated.note


def test_a_cluster_too_big_for_a_short_past_gets_none_and_says_so(monkeypatch):
    monkeypatch.setattr(past, "MAX_SAMPLES", 2_000)
    cluster = SimCluster(_options())
    generated, lines = _generated(cluster, 6 * 3600)
    assert generated.samples == len(lines) == 0
    assert generated.note.startswith("the past is left out, not 6h: ")


@pytest.mark.parametrize("openmetrics", [True, False])
def test_timestamps_are_the_kubelets_collections_in_either_format(openmetrics):
    cluster = SimCluster(_options())
    out = io.StringIO()
    past.write(cluster, out, 60, openmetrics=openmetrics)
    text = out.getvalue()
    assert text.endswith("# EOF\n") == openmetrics
    node = next(n for n in cluster.nodes if n.ready)
    k = cluster.kubelet_scrape(node, START) - 1  # the past ends a collection before now
    ms = round(cluster.scrape_time(node, k) * 1000)
    stamp = f"{ms // 1000}.{ms % 1000:03d}" if openmetrics else str(ms)
    assert any(line.endswith(f" {stamp}") and f'node="{node.name}"' in line for line in text.splitlines())
