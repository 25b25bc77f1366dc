"""Pod metrics summed a batch at a time, and rows built from columns, equal the one-by-one reference.

pod_samples reads metrics-server's spellings with numpy and sends every other
spelling to the exact parser; _rows_of builds rows with C calls over lists.
Both are checked here against the plain per-pod code they replace
(exact_usage_of: Quantity parsing and Go's Add; pod_row: one row at a time).
"""

from __future__ import annotations

import ssl

import httpx
import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ktopui.kube.objects import (
    ContainerMetrics,
    MetricsMeta,
    ObjectMeta,
    PodList,
    PodMetrics,
    PodMetricsList,
    PodSampleMetrics,
    SampleContainer,
    RawList,
    SampleUsage,
    decode,
    decoded_batches,
)
from ktopui.kube.errors import MalformedResponse
from ktopui.model.pod_info import WHOLE_POD, SpecMemo, pod_info
from ktopui.model.pods import pod_row, pod_rows
from ktopui.model.samples import BATCH, NewSamples, container_usage, pod_samples, sample_table
from ktopui.model.slots import Slots
from ktopui.model.usage import exact_usage_of
from ktopui.sim.cluster import SimOptions
from ktopui.sim.server import SimServer

# What real clusters send, and the odd spellings a Quantity may have.
QUANTITIES = st.one_of(
    st.integers(0, 10**18).map(lambda n: f"{n}n"),
    st.integers(0, 10**13).map(lambda n: f"{n}Ki"),
    st.sampled_from(["0", "1", "250m", "1.5", "15e-1", "2Gi", "1.5Gi", "100M", "1n", "999999999999999999Ki",
                     "9223372036854775807n", "12345678901234567890n", "0.1n", "abc", "", "Ki", "1Kii", "٣n", "-5n"]),
)


def metrics_of(pods: list[list[tuple[str, str | None, str | None]]], lean: bool) -> list:
    """PodMetrics (usage dicts) or the lean PodSampleMetrics, for lists of (container, cpu, memory)."""
    out = []
    for i, containers in enumerate(pods):
        if lean:
            out.append(PodSampleMetrics(
                MetricsMeta(f"p{i}", "ns"), "2026-11-29T10:00:00Z", "15s",
                [SampleContainer(name, SampleUsage(cpu, mem)) for name, cpu, mem in containers],
            ))
        else:
            out.append(PodMetrics(
                ObjectMeta(name=f"p{i}", namespace="ns"), "2026-11-29T10:00:00Z", "15s",
                [ContainerMetrics(name, {k: v for k, v in (("cpu", cpu), ("memory", mem)) if v is not None})
                 for name, cpu, mem in containers],
            ))
    return out


CONTAINER = st.tuples(st.sampled_from(["app", "istio-proxy", "log"]), QUANTITIES | st.none(), QUANTITIES | st.none())


@settings(max_examples=300, deadline=None)
@given(pods=st.lists(st.lists(CONTAINER, max_size=4, unique_by=lambda c: c[0]), min_size=1, max_size=12),
       lean=st.booleans())
def test_sums_equal_the_exact_path_for_any_spelling(pods, lean):
    samples = pod_samples(metrics_of(pods, lean))
    assert len(samples) == len(pods)
    for i, containers in enumerate(pods):
        sample = samples["ns", f"p{i}"]
        lists = [{k: v for k, v in (("cpu", cpu), ("memory", mem)) if v is not None} for _, cpu, mem in containers]
        problems: dict[str, str] = {}
        assert sample.usage == exact_usage_of(lists, problems)
        assert set(sample.problems) == set(problems)
        assert [e[0] for e in sample.entries()] == [name for name, _, _ in containers]
        for entry, rl in zip(sample.entries(), lists):
            assert container_usage(entry)[0] == exact_usage_of([rl], {})
        if sample.names:  # simple spellings: no entries kept, several containers' numbers packed
            assert sample.containers == () and len(sample.packed) == (16 * len(containers) if len(containers) > 1 else 0)
        assert sample.measured == len(containers)


def test_batches_and_the_previous_samples_change_nothing_but_identity():
    pods = [[("app", f"{n * 7919}n", f"{n * 13}Ki")] for n in range(BATCH * 2 + 5)]
    first = pod_samples(metrics_of(pods, lean=True))
    again = pod_samples(metrics_of(pods, lean=True), first)
    assert again == first and all(again[k] is first[k] for k in first)
    pods[3] = [("app", "1n", "1Ki")]
    changed = pod_samples(metrics_of(pods, lean=True), first)
    assert changed["ns", "p3"] is not first["ns", "p3"] and changed["ns", "p4"] is first["ns", "p4"]
    assert changed["ns", "p3"].usage.cpu_milli == 1


def test_new_samples_name_exactly_the_pods_whose_samples_are_new():
    """What history records: the pods whose metrics changed, across batches, none twice."""
    pods = [[("app", f"{n * 7919}n", f"{n * 13}Ki")] for n in range(BATCH * 2 + 5)]
    slots, new = Slots(), NewSamples()
    first = sample_table(metrics_of(pods, lean=True), None, slots, new=new)
    keys = [slots.keys[slot] for slot in new.slots]
    assert keys == list(first) and all(s is first[k] for k, s in zip(keys, new.samples))
    for n in (3, BATCH + 1, 2 * BATCH + 4):  # one pod in each batch changes
        pods[n] = [("app", "1n", "1Ki")]
    new = NewSamples()
    changed = sample_table(metrics_of(pods, lean=True), first, slots, new=new)
    keys = [slots.keys[slot] for slot in new.slots]
    assert keys == [("ns", "p3"), ("ns", f"p{BATCH + 1}"), ("ns", f"p{2 * BATCH + 4}")]
    assert all(s is changed[k] and s is not first[k] for k, s in zip(keys, new.samples))
    assert all(changed[k] is first[k] for k in first if k not in keys)


@pytest.fixture(scope="module", params=[False, True], ids=["metrics-server", "quirky"])
def cluster(request):
    """Every pod shape the simulator makes (sidecars, init containers, partial limits), in
    metrics-server's spellings and in odd ones (which take the exact path)."""
    with SimServer(SimOptions(nodes=6, pods_per_node=25, seed=7, frozen=True, quirky=request.param)) as server:
        trust = ssl.create_default_context(cafile=str(server.ca_path))
        with httpx.Client(verify=trust, headers={"Authorization": f"Bearer {server.token}"}) as client:
            pods = decode(client.get(server.url + "/api/v1/pods").content, PodList).items
            metrics = decode(client.get(server.url + "/apis/metrics.k8s.io/v1beta1/pods").content, PodMetricsList).items
    memo = SpecMemo()
    infos = {(p.metadata.namespace, p.metadata.name): pod_info(p, memo) for p in pods}
    return infos, metrics, request.param


def test_limit_shares_add_the_limited_containers_each_rounded(cluster):
    """%CPU/L and %MEM/L: usage of the containers that set a limit, each rounded up, over their limits."""
    infos, metrics, quirky = cluster
    rows = {(r.namespace, r.name): r for r in pod_rows(infos, metrics)}
    checked = differs = 0
    for m in metrics:
        key = (m.metadata.namespace, m.metadata.name)
        info = infos.get(key)
        if info is None:
            continue
        for resource, bounded, share in (
            ("cpu", info.spec.cpu_bounded, rows[key].cpu_limit_share),
            ("mem", info.spec.mem_bounded, rows[key].mem_limit_share),
        ):
            if not bounded:
                assert share.used_milli is None
                continue
            if bounded == WHOLE_POD:  # a pod-level limit: the pod's usage, rounded once as its CPU column
                whole = exact_usage_of([c.usage for c in m.containers], {})
                assert share.used_milli == (whole.cpu_milli if resource == "cpu" else whole.mem_milli), key
                continue
            each = [exact_usage_of([c.usage], {}) for c in m.containers if c.name in bounded]
            # None: no container with a limit measured (no data, not 0)
            expected = sum((u.cpu_milli if resource == "cpu" else u.mem_milli) or 0 for u in each) if each else None
            assert share.used_milli == expected, (key, resource)
            checked += 1
            whole = exact_usage_of([c.usage for c in m.containers if c.name in bounded], {})
            differs += len(each) > 1 and expected != (whole.cpu_milli if resource == "cpu" else whole.mem_milli)
    assert checked > 50
    if not quirky:
        # Containers rounded one by one sum to more than their total rounded once: the case that tells.
        assert differs > 0


def test_pod_rows_equal_rows_built_one_by_one(cluster):
    infos, metrics, _ = cluster
    samples = pod_samples(metrics)
    rows = pod_rows(infos, metrics)
    assert rows == [pod_row(k, infos.get(k), samples.get(k)) for k in [*infos, *(k for k in samples if k not in infos)]]


def test_decoding_item_by_item_reads_odd_shapes_and_reports_broken_ones_as_a_whole_batch_would():
    good = b'{"metadata":{"name":"a","namespace":"n"},"timestamp":"t","window":"15s","containers":[{"name":"c","usage":{"cpu":"5n","memory":"1Ki"}}]}'
    bare = b'{"metadata":{"name":"b","namespace":"n"},"timestamp":"t","window":"15s","containers":[{"name":"c","usage":{"cpu":0.5,"memory":1024}}]}'
    raws = msgspec.json.decode(b'{"items":[' + b",".join([good, bare, good]) + b"]}", type=RawList).items
    batches = list(decoded_batches(raws, PodSampleMetrics, batch=2))
    assert [[i.metadata.name for i in batch] for batch in batches] == [["a", "b"], ["a"]]
    items = [item for batch in batches for item in batch]
    assert items[1].containers[0].usage.cpu == "0.5" and items[1].containers[0].usage.memory == "1024"
    broken = msgspec.json.decode(b'{"items":[' + good + b',{"metadata":{"name":[]}}]}', type=RawList).items
    with pytest.raises(MalformedResponse, match="pod metrics"):
        list(decoded_batches(broken, PodSampleMetrics, what="pod metrics"))
