"""Pod rows made on demand (PodRowsView) read exactly like the rows pod_rows makes."""

from __future__ import annotations

import ssl

import httpx
import msgspec
import pytest

from ktopui.kube.objects import PodList, PodMetricsList, decode
from ktopui.model.amounts import Usage
from ktopui.model.pod_info import PodChanges, SpecMemo, pod_info
from ktopui.model.pod_view import MADE_LIMIT, PodRowsView
from ktopui.model.pod_view_join import PodViewJoin
from ktopui.model.pods import PODS, filter_text, pod_row, pod_rows
from ktopui.model.samples import PodSample, pod_samples, sample_table
from ktopui.model.slots import Slots
from ktopui.sim.cluster import SimOptions
from ktopui.sim.server import SimServer
from ktopui.ui.columns import pods as pod_columns


@pytest.fixture(params=[False, True], ids=["plain", "quirky"])
def sim(request):
    options = SimOptions(nodes=4, pods_per_node=7, seed=11, frozen=True, churn_per_minute=30, quirky=request.param)
    with SimServer(options) as server:
        trust = ssl.create_default_context(cafile=str(server.ca_path))
        with httpx.Client(verify=trust, headers={"Authorization": f"Bearer {server.token}"}) as client:
            memo = SpecMemo()

            def read():
                pods = decode(client.get(server.url + "/api/v1/pods").content, PodList).items
                metrics = decode(client.get(server.url + "/apis/metrics.k8s.io/v1beta1/pods").content, PodMetricsList)
                return {(p.metadata.namespace, p.metadata.name): pod_info(p, memo) for p in pods}, metrics.items

            yield server, read


def expected_rows(infos, samples):
    return sorted(pod_rows(infos, samples), key=lambda r: (r.name, r.namespace))  # the view's order


def test_the_view_reads_as_the_rows_pod_rows_makes_through_churn_and_new_metrics(sim):
    server, read = sim
    join, samples = PodViewJoin(), None
    for step in range(6):
        infos, metrics = read()
        if step == 3:  # a pod deleted while its metrics are still served: a metrics-only row
            infos.pop(next(iter(infos)))
        samples = pod_samples(metrics, samples)
        view = join.update(infos, samples)
        assert list(view) == expected_rows(infos, samples)
        assert len(view) == len(infos.keys() | samples.keys())
        server.cluster.advance(9)


def test_a_view_over_sample_tables_follows_churn_by_slot_and_frees_the_slots_of_pods_gone(sim):
    server, read = sim
    slots, join = Slots(), PodViewJoin()
    infos, metrics = read()
    samples = sample_table(metrics, None, slots)
    assert list(join.update(infos, samples)) == expected_rows(infos, samples)
    rebuilt = join.rebuilt
    seen_gone = 0
    for step in range(8):
        server.cluster.advance(9)
        new_infos, metrics = read()
        if step == 2:  # deleted while its metrics are still served: a metrics-only row
            new_infos.pop(next(iter(new_infos)))
        touched = {k for k in infos.keys() | new_infos.keys() if infos.get(k) != new_infos.get(k)}
        if step % 3 == 1:  # the pods changed, the metrics did not
            view = join.update(new_infos, samples, changes=PodChanges(infos, new_infos, touched))
        else:
            samples = sample_table(metrics, samples, slots)
            view = join.update(new_infos, samples, changes=PodChanges(infos, new_infos, touched))
        infos = new_infos
        assert list(view) == expected_rows(infos, samples), step
        seen_gone += len(join.gone)
        slots.free(key for key, _, _ in join.gone)  # as the joiner does, history first
        # Every pod with a slot is in the view, and every measured pod has one.
        assert set(slots.index) <= set(view.keys)
        assert set(samples) <= set(slots.index)
    assert seen_gone, "churn deleted pods: their slots were freed"
    assert len(slots) < len(slots.index) + seen_gone  # and handed out again
    assert join.rebuilt == rebuilt, "the changes and a new table need no rebuild"
    # A pod dropped from the view whose slot is kept (as out of scope) and is then
    # measured again is not among the slots handed out: the view notices, and rebuilds.
    samples = sample_table(metrics, samples, slots)  # (the last step may have kept older metrics)
    view = join.update(infos, samples)
    kept = next(key for key in view.keys if key in samples)
    without = {k: v for k, v in infos.items() if k != kept}
    unmeasured = sample_table([m for m in metrics if (m.metadata.namespace, m.metadata.name) != kept], samples, slots)
    join.update(without, unmeasured)
    assert kept not in join.view.keys and kept in slots.index
    samples = sample_table(metrics, unmeasured, slots)
    rebuilt = join.rebuilt
    back = join.update(without, samples)
    assert list(back) == expected_rows(without, samples) and join.rebuilt == rebuilt + 1


def test_every_pod_value_reads_the_same_from_the_view_as_from_its_rows(sim):
    _, read = sim
    infos, metrics = read()
    samples = dict(pod_samples(metrics))
    infos.pop(next(iter(infos)))  # one pod known only from its metrics
    extra = next(iter(infos))
    samples.pop(extra)  # and one listed without metrics
    view = PodViewJoin().update(infos, samples)
    rows = list(view)
    for name, value in PODS.values.items():
        assert view.values(name) == [value(r) for r in rows], name
    # and every pod column sorts by one of them
    assert {c.sort for c in [*pod_columns.COLUMNS, *pod_columns.RESERVED]} <= PODS.values.keys()
    with pytest.raises(KeyError):
        view.values("no such value")
    assert view.texts(filter_text) == [filter_text(r) for r in rows]


def test_a_row_is_made_once_while_its_pod_and_metrics_stay_the_same_objects(sim):
    server, read = sim
    infos, metrics = read()
    join = PodViewJoin()
    samples = pod_samples(metrics)
    first = join.update(infos, samples)
    row = first[5]
    assert first[5] is row
    # The next refresh: same pods, the same metrics served again (kept as the same samples).
    second = join.update(dict(infos), pod_samples(read()[1], samples))
    assert second[5] is row
    # New metrics: a new row for it.
    server.cluster.advance(60)
    third = join.update(dict(infos), pod_samples(read()[1], samples))
    assert third[5] is not row and third[5] == pod_row(third.keys[5], third.infos[5], third.samples[5])
    assert first[5] == row  # the view before keeps reading as it was


def test_changes_patch_only_the_touched_pods_and_say_what_went(sim):
    _, read = sim
    infos, metrics = read()
    keys = list(infos)
    deleted, replaced = keys[0], keys[1]
    samples = dict(pod_samples(metrics))
    samples.pop(deleted, None)  # listed without metrics: deleting it leaves nothing of it
    join = PodViewJoin()
    before = join.update(infos, samples)
    changed = dict(infos)
    changed.pop(deleted)
    changed[replaced] = msgspec.structs.replace(infos[replaced], status="Terminating")
    newcomer = ("zzz", "a-new-pod")
    changed[newcomer] = msgspec.structs.replace(infos[keys[2]], namespace="zzz", name="a-new-pod")

    after = join.update(changed, samples, changes=PodChanges(infos, changed, {deleted, replaced, newcomer}))
    assert join.rebuilt == 1, "with the same metrics and the changes, only the touched keys are looked at"
    assert list(after) == expected_rows(changed, samples)
    assert [key for key, _, _ in join.gone] == [deleted]
    assert list(before) == expected_rows(infos, samples)  # the view before is untouched


def test_new_metrics_for_the_same_pods_move_only_the_samples_and_keep_what_changes_patched(sim):
    server, read = sim
    infos, metrics = read()
    keys = list(infos)
    join = PodViewJoin()
    samples = dict(pod_samples(metrics))
    victim = next(key for key in keys if key in samples)
    first = join.update(infos, samples)
    # The watch deletes one pod and adds another; the metrics stay as they were.
    changed = dict(infos)
    changed.pop(victim)
    newcomer = ("zzz", "a-new-pod")
    changed[newcomer] = msgspec.structs.replace(infos[keys[2]], namespace="zzz", name="a-new-pod")
    patched = join.update(changed, samples, changes=PodChanges(infos, changed, {victim, newcomer}))
    assert list(patched) == expected_rows(changed, samples)  # the victim stays: its metrics are still served
    # A new metrics list for the same pods: the keys and infos are the lists the view had.
    # (Of the pods churn made or deleted meanwhile, the view is not told: pods are the same.)
    server.cluster.advance(60)
    before, new = samples, pod_samples(read()[1])
    samples = {key: new.get(key, sample) for key, sample in before.items()}
    assert any(samples[key] is not before[key] for key in samples)
    moved = join.update(changed, samples)
    assert moved.keys is patched.keys and moved.infos is patched.infos
    assert list(moved) == expected_rows(changed, samples)
    # A list that no longer has the deleted pod's metrics drops its row, and says so.
    gone_too = {k: v for k, v in samples.items() if k != victim}
    dropped = join.update(changed, gone_too)
    assert list(dropped) == expected_rows(changed, gone_too)
    assert [key for key, _, _ in join.gone] == [victim]
    # Metrics of a pod no one listed bring its row back.
    back = join.update(changed, samples)
    assert list(back) == expected_rows(changed, samples)
    # The usual refresh on a busy cluster: the watch changed pods and a new metrics list came.
    rebuilt = join.rebuilt
    again = dict(changed)
    again.pop(keys[3])
    newest = {**{k: v for k, v in samples.items() if k != keys[4]}, ("zzz", "only-metrics"): samples[keys[5]]}
    both = join.update(again, newest, changes=PodChanges(changed, again, {keys[3]}))
    assert join.rebuilt == rebuilt, "the changes and a few unlisted pods' metrics need no rebuild"
    assert list(both) == expected_rows(again, newest)
    assert list(first) == expected_rows(infos, pod_samples(metrics))  # the first view is untouched


def test_lookups_without_making_every_row(sim):
    _, read = sim
    infos, metrics = read()
    view = PodViewJoin().update(infos, pod_samples(metrics))
    rows = list(view)
    some = rows[len(rows) // 2]
    assert view.pod(some.namespace, some.name) is view[len(rows) // 2]
    assert view.pod("no-such", "pod") is None
    assert list(view.on_node(some.node)) == [r for r in rows if r.node == some.node]
    assert list(view.in_namespace(some.namespace)) == [r for r in rows if r.namespace == some.namespace]
    assert view.coverage() == (sum(r.has_metrics for r in rows), sum(r.status == "Running" for r in rows))
    assert view[1:3] == rows[1:3]


def test_the_store_of_made_rows_stays_bounded():
    keys = [("ns", f"pod-{i:06d}") for i in range(MADE_LIMIT + 10)]
    sample = PodSample("2026-11-29T12:00:00Z", "15s", Usage(1, 2, 2000), {}, ())
    view = PodRowsView(keys, [None] * len(keys), [sample] * len(keys))
    for row in view:
        assert row.name
    assert len(view.made) <= MADE_LIMIT
