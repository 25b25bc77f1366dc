"""Pod metrics summed a batch at a time by numpy give exactly what the pod-by-pod path gives."""

from __future__ import annotations

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from ktopui.kube.objects import PodMetrics, PodSampleMetrics
from ktopui.model.join import _exact_samples, pod_samples
from ktopui.model.usage_batch import usage_batch

NANOCORES = st.integers(0, 10**18 - 1).map(lambda n: f"{n}n")
KIBIBYTES = st.integers(0, 10**18 - 1).map(lambda n: f"{n}Ki")
# What metrics-server really sends, up to a few hundred cores and a few TiB:
# Go's Quantity writes each number in its biggest exact unit.
REAL_NANOCORES = st.one_of(st.just("0"), st.integers(0, 500 * 10**9).map(lambda n: f"{n}n"),
                           st.integers(1, 500 * 10**6).map(lambda n: f"{n}u"),
                           st.integers(1, 500 * 10**3).map(lambda n: f"{n}m"), st.integers(1, 500).map(str))
REAL_KIBIBYTES = st.one_of(st.just("0"), st.integers(0, 4 * 2**30).map(lambda n: f"{n}Ki"),
                           st.integers(1, 4 * 2**20).map(lambda n: f"{n}Mi"),
                           st.integers(1, 4 * 2**10).map(lambda n: f"{n}Gi"), st.integers(1, 4).map(lambda n: f"{n}Ti"),
                           st.integers(1, 2**40).map(str))
ODD = st.sampled_from(["0", "1", "250m", "1.5Gi", "15e-1", "125u", "8e9", "1Mi", "12345", "", "abc", "١٢n", "9" * 19 + "n",
                       "99999999999999999999Ki", "-5n", "+5n", " 5n", "5 n", "1e3n"])


def containers(cpu, mem):
    return st.lists(st.fixed_dictionaries({"name": st.sampled_from(["app", "sidecar", "proxy"]),
                                           "usage": st.fixed_dictionaries({"cpu": cpu, "memory": mem})}),
                    min_size=0, max_size=3)


def pods(cpu, mem):
    return st.lists(st.builds(lambda i, cs: {"metadata": {"namespace": "ns", "name": f"p{i}"},
                                             "timestamp": "2026-01-01T00:00:00Z", "window": "15.05s",
                                             "containers": cs},
                              st.integers(0, 10**6), containers(cpu, mem)),
                    max_size=12, unique_by=lambda p: p["metadata"]["name"])


def decoded(items: list[dict], kind=PodSampleMetrics) -> list:
    return msgspec.json.decode(msgspec.json.encode(items), type=list[kind])


def exact(items: list) -> dict:
    out: dict = {}
    _exact_samples(items, {}, out, {})
    return out


@settings(max_examples=300, deadline=None)
@given(pods(REAL_NANOCORES, REAL_KIBIBYTES))
def test_metrics_server_spellings_are_summed_by_numpy_like_the_exact_path(items):
    batch = decoded(items)
    assert pod_samples(batch) == exact(batch)
    if batch and all(p["containers"] for p in items):
        assert usage_batch(batch) is not None


@settings(max_examples=300, deadline=None)
@given(pods(NANOCORES, KIBIBYTES))
def test_huge_numbers_sum_like_the_exact_path(items):
    batch = decoded(items)
    assert pod_samples(batch) == exact(batch)


@settings(max_examples=300, deadline=None)
@given(pods(st.one_of(NANOCORES, ODD), st.one_of(KIBIBYTES, ODD)))
def test_any_spelling_gives_what_the_exact_path_gives(items):
    batch = decoded(items)
    assert pod_samples(batch) == exact(batch)


def test_a_batch_with_an_odd_spelling_is_left_to_the_exact_path():
    pod = {"metadata": {"namespace": "ns", "name": "p"}, "timestamp": "t", "window": "w",
           "containers": [{"name": "a", "usage": {"cpu": "0.25", "memory": "1Ki"}}]}
    assert usage_batch(decoded([pod])) is None
    plain = {**pod, "containers": [{"name": "a", "usage": {"cpu": "250001u", "memory": "0"}},
                                   {"name": "b", "usage": {"cpu": "1", "memory": "3Mi"}}]}
    summed = usage_batch(decoded([plain]))
    assert summed is not None and (summed.cpu_milli, summed.mem_bytes) == ([1251], [3 * 2**20])


def test_full_pod_metrics_take_the_exact_path_and_agree():
    pod = {"metadata": {"namespace": "ns", "name": "p"}, "timestamp": "t", "window": "w",
           "containers": [{"name": "a", "usage": {"cpu": "1n", "memory": "1Ki"}}]}
    full = decoded([pod], PodMetrics)
    assert usage_batch(full) is None
    assert pod_samples(full)[("ns", "p")].usage == pod_samples(decoded([pod]))[("ns", "p")].usage
