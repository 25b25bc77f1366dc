"""Reusing what earlier refreshes made (node rows' cache, pod summaries, samples, the pod view) changes nothing but the cost."""

from __future__ import annotations

import ssl

import httpx
import msgspec
import pytest

from ktopui.kube.objects import NodeList, NodeMetricsList, PodList, PodMetricsList, decode
from ktopui.model.nodes import NodeCache, node_rows
from ktopui.model.pod_info import PodChanges, SpecMemo, pod_info
from ktopui.model.pod_view_join import PodViewJoin
from ktopui.model.pods import pod_rows
from ktopui.model.samples import pod_samples, sample_table
from ktopui.model.slots import Slots
from ktopui.model.status import lean_node
from ktopui.sim.cluster import SimOptions
from ktopui.sim.server import SimServer

PATHS = {
    NodeList: "/api/v1/nodes",
    PodList: "/api/v1/pods",
    NodeMetricsList: "/apis/metrics.k8s.io/v1beta1/nodes",
    PodMetricsList: "/apis/metrics.k8s.io/v1beta1/pods",
}


@pytest.fixture
def sim(request):
    start = getattr(request, "param", None)  # default: now
    options = SimOptions(nodes=4, pods_per_node=6, seed=93, frozen=True, churn_per_minute=20, start_time=start)
    with SimServer(options) as server:
        trust = ssl.create_default_context(cafile=str(server.ca_path))
        with httpx.Client(verify=trust, headers={"Authorization": f"Bearer {server.token}"}) as client:

            def read():
                return {k: decode(client.get(server.url + p).content, k).items for k, p in PATHS.items()}

            yield server, read


class Live:
    """What the joiner keeps between refreshes: node rows' cache, pod summaries, samples, the pod view."""

    def __init__(self) -> None:
        self.cache, self.memo, self.view, self.slots = NodeCache(), SpecMemo(), PodViewJoin(), Slots()
        self.infos: dict = {}
        self.samples = None

    def join(self, lists):
        infos = {}
        for pod in lists[PodList]:
            key = (pod.metadata.namespace, pod.metadata.name)
            old = self.infos.get(key)
            same = old is not None and old[0] == pod.metadata.resourceVersion
            infos[key] = old if same else (pod.metadata.resourceVersion, pod_info(pod, self.memo))
        self.infos = infos
        infos = {key: info for key, (_, info) in infos.items()}
        self.samples = sample_table(lists[PodMetricsList], self.samples, self.slots)
        # The watch cache keeps lean nodes: their rows must equal whole nodes' (fresh()).
        nodes = node_rows([lean_node(n) for n in lists[NodeList]], lists[NodeMetricsList], infos, cache=self.cache)
        view = self.view.update(infos, self.samples)
        self.slots.free(key for key, _, _ in self.view.gone)
        return nodes, view


def fresh(lists):
    return (
        node_rows(lists[NodeList], lists[NodeMetricsList], lists[PodList]),
        pod_rows(lists[PodList], lists[PodMetricsList]),
    )


def by_key(rows):
    return sorted(rows, key=lambda r: (r.namespace, r.name))


def test_kept_rows_equal_fresh_rows_through_churn_and_new_metrics(sim):
    server, read = sim
    live = Live()
    for _ in range(6):
        lists = read()
        (nodes, pods), (fresh_nodes, fresh_pods) = live.join(lists), fresh(lists)
        assert nodes == fresh_nodes
        assert by_key(pods) == by_key(fresh_pods)
        # Rows come in the order ties are shown in: name, then namespace.
        assert [(r.name, r.namespace) for r in pods] == sorted((r.name, r.namespace) for r in pods)
        server.cluster.advance(7)  # some nodes scrape again, pods come and go


def test_lean_nodes_give_the_rows_of_whole_nodes_roles_cordons_conditions_and_bad_quantities(sim):
    _, read = sim
    lists = read()
    whole = lists[NodeList]
    first = whole[0]
    meta, status = first.metadata, first.status
    ready = next(c for c in status.conditions if c.type == "Ready")
    odd = [
        # the old role label, beside a node-role one
        msgspec.structs.replace(first, metadata=msgspec.structs.replace(
            meta, name="odd-role", labels={**meta.labels, "kubernetes.io/role": "infra"})),
        msgspec.structs.replace(first, metadata=msgspec.structs.replace(meta, name="odd-cordoned"),
                                spec=msgspec.structs.replace(first.spec, unschedulable=True)),
        # no Ready condition at all: Unknown; two of them: the first counts, as kubectl's
        msgspec.structs.replace(first, metadata=msgspec.structs.replace(meta, name="odd-no-ready"), status=msgspec.structs.replace(
            status, conditions=[c for c in status.conditions if c.type != "Ready"])),
        msgspec.structs.replace(first, metadata=msgspec.structs.replace(meta, name="odd-two-ready"), status=msgspec.structs.replace(
            status, conditions=[msgspec.structs.replace(ready, status="False"), ready])),
        # a bad allocatable quantity is still reported; one of another resource never was
        msgspec.structs.replace(first, metadata=msgspec.structs.replace(meta, name="odd-bad"), status=msgspec.structs.replace(
            status, allocatable={**status.allocatable, "cpu": "12Qi", "pods": "lots"})),
    ]
    nodes = [*whole, *odd]
    statuses = {r.status for r in node_rows(nodes, lists[NodeMetricsList], lists[PodList])}
    assert {"Ready", "NotReady", "Unknown", "Ready,SchedulingDisabled"} <= statuses  # (the cases are there)
    for use_capacity in (False, True):
        lean = [lean_node(n) for n in nodes]
        assert node_rows(lean, lists[NodeMetricsList], lists[PodList], use_capacity=use_capacity) == node_rows(
            nodes, lists[NodeMetricsList], lists[PodList], use_capacity=use_capacity)
    assert all(set(n.status.allocatable) <= {"cpu", "memory", "pods"} for n in lean)  # (pods: the pools view's)
    assert sum(len(n.metadata.labels) for n in lean) < sum(len(n.metadata.labels) for n in nodes) / 5


def test_a_node_whose_inputs_did_not_change_keeps_its_row_and_still_reports_a_bad_quantity(sim):
    _, read = sim
    live = Live()
    lists = read()
    metrics = lists[NodeMetricsList]
    bad = msgspec.structs.replace(metrics[0], usage={**metrics[0].usage, "memory": "12Qi"})
    same = msgspec.structs.replace(metrics[1], usage=dict(metrics[2].usage))  # another node's texts
    lists[NodeMetricsList] = [bad, same, *metrics[2:]]
    kept = None
    for _ in range(2):
        nodes, _ = live.join(lists)
        assert nodes == fresh(lists)[0]
        row = next(r for r in nodes if r.name == bad.metadata.name)
        assert "memory" in row.problems and row.usage.mem_bytes is None
        assert kept is None or row is kept
        kept = row
    # New texts for that node (decoded anew, equal): still kept; other texts: a new row.
    lists[NodeMetricsList] = [msgspec.json.decode(msgspec.json.encode(bad), type=type(bad)), same, *metrics[2:]]
    assert next(r for r in live.join(lists)[0] if r.name == bad.metadata.name) is kept
    lists[NodeMetricsList] = [metrics[0], same, *metrics[2:]]
    row = next(r for r in live.join(lists)[0] if r.name == bad.metadata.name)
    assert row is not kept and not row.problems and row.usage.mem_bytes is not None


def test_unchanged_pods_keep_their_row_objects(sim):
    server, read = sim
    live = Live()
    _, first = live.join(read())
    first = list(first)
    _, again = live.join(read())  # a new response, same state
    assert all(a is b for a, b in zip(first, again))


# Fixed starts, so that 7 s later some nodes have scraped again and some have not
# (from a start of "now" every node scraped again in a quarter of the runs).
@pytest.mark.parametrize("sim", [1767227191.0, 1767230000.0], indirect=True)
def test_a_node_not_scraped_again_keeps_its_row_object_and_one_scraped_gets_a_new_one(sim):
    server, read = sim
    live = Live()
    first, _ = live.join(read())
    again, _ = live.join(read())  # a new response, the same state
    assert all(a is b for a, b in zip(first, again, strict=True))
    server.cluster.advance(7)  # some nodes scrape again (and pods come and go)
    later, _ = live.join(read())
    old = {r.name: r for r in again}
    for row in later:
        before = old.get(row.name)
        assert (row is before) == (before is not None and row.timestamp == before.timestamp
                                   and row.pods == before.pods and row.requests == before.requests)
    assert any(row is old.get(row.name) for row in later) and any(row is not old.get(row.name) for row in later)
    assert later == fresh(read())[0]


def test_new_metrics_or_a_new_pod_version_give_a_new_row(sim):
    server, read = sim
    live = Live()
    lists = read()
    _, first = live.join(lists)
    first = list(first)
    target = lists[PodMetricsList][0]
    key = (target.metadata.namespace, target.metadata.name)
    changed = msgspec.structs.replace(
        target,
        containers=[msgspec.structs.replace(c, usage={**c.usage, "cpu": "123m"}) for c in target.containers],
    )  # same timestamp: the usage itself is compared, not only the timestamp
    lists[PodMetricsList] = [changed, *lists[PodMetricsList][1:]]
    pod = lists[PodList][1]
    lists[PodList][1] = msgspec.structs.replace(pod, metadata=msgspec.structs.replace(pod.metadata, resourceVersion="999999"))
    _, second = live.join(lists)
    row = next(r for r in second if (r.namespace, r.name) == key)
    assert row.usage.cpu_milli == 123 * len(target.containers)
    old = next(r for r in first if (r.namespace, r.name) == key)
    assert row is not old
    renewed = (pod.metadata.namespace, pod.metadata.name)
    assert next(r for r in second if r.key == renewed) is not next(r for r in first if r.key == renewed)


def test_deleted_pods_leave_the_view_and_it_says_which(sim):
    server, read = sim
    live = Live()
    lists = read()
    _, rows = live.join(lists)
    assert len(rows) == len(lists[PodList]) and live.view.gone == []
    lists = read()
    gone = lists[PodList][0]
    lists[PodList] = lists[PodList][1:]
    lists[PodMetricsList] = [m for m in lists[PodMetricsList] if m.metadata.name != gone.metadata.name]
    _, rows = live.join(lists)
    assert len(rows) == len(lists[PodList])
    assert [key for key, _, _ in live.view.gone] == [(gone.metadata.namespace, gone.metadata.name)]


# 1767226636: a pod that was the only one with a CPU limit on its node is
# deleted: the node's limits must lose CPU (None), not keep a CPU limit of 0.
@pytest.mark.parametrize("sim", [None, 1767226636.0, 1767227191.0], indirect=True)
def test_rows_updated_from_changes_equal_a_fresh_join(sim):
    """The live path: pod summaries by key (a watch cache's copy), metrics summed less often."""
    server, read = sim
    cache, memo, view = NodeCache(), SpecMemo(), PodViewJoin()
    infos: dict = {}
    versions: dict = {}
    samples = None
    for i in range(9):
        lists = read()
        new = {}
        for pod in lists[PodList]:
            key = (pod.metadata.namespace, pod.metadata.name)
            old = infos.get(key)
            same = old is not None and versions[key] == pod.metadata.resourceVersion
            new[key] = old if same else pod_info(pod, memo)
            versions[key] = pod.metadata.resourceVersion
        # As the watch cache says it: every key that differs, and some that do not.
        touched = {k for k in infos.keys() | new.keys() if infos.get(k) is not new.get(k)} | set(list(new)[:3])
        changes = PodChanges(infos, new, touched)
        infos = new
        if i % 3 == 0:  # pod metrics are fetched once per resolution; pods change in between
            samples = pod_samples(lists[PodMetricsList], samples)
        nodes = node_rows(lists[NodeList], lists[NodeMetricsList], infos, cache=cache, changes=changes)
        pods = view.update(infos, samples, changes=changes)
        assert nodes == node_rows(lists[NodeList], lists[NodeMetricsList], list(infos.values()))
        assert by_key(pods) == by_key(pod_rows(list(infos.values()), samples))
        assert [(r.name, r.namespace) for r in pods] == sorted((r.name, r.namespace) for r in pods)
        server.cluster.advance(5)


def test_new_metrics_of_a_pod_no_longer_listed_still_give_its_row(sim):
    """A pod deleted after the metrics were scraped: the live path (summaries by key, the view)."""
    server, read = sim
    memo, view = SpecMemo(), PodViewJoin()
    lists = read()
    infos = {(p.metadata.namespace, p.metadata.name): pod_info(p, memo) for p in lists[PodList]}
    samples = pod_samples(lists[PodMetricsList], None)
    view.update(infos, samples)
    server.cluster.advance(15)
    samples = pod_samples(read()[PodMetricsList], samples)
    gone = next(k for k in infos if k in samples)
    listed = {k: v for k, v in infos.items() if k != gone}
    rows = view.update(listed, samples)
    row = next(r for r in rows if (r.namespace, r.name) == gone)
    assert row.has_metrics and not row.in_pod_list
    assert by_key(rows) == by_key(pod_rows(listed, samples))


def test_the_same_node_objects_reuse_their_statics_and_a_changed_one_is_read_again(sim):
    """The watch cache hands the same node objects refresh after refresh: they are not read
    again, but a replaced object (a new resourceVersion) and a switch to capacity are."""
    _, read = sim
    lists = read()
    nodes = [lean_node(n) for n in lists[NodeList]]
    cache = NodeCache()
    first = node_rows(nodes, lists[NodeMetricsList], lists[PodList], cache=cache)
    again = node_rows(list(nodes), lists[NodeMetricsList], lists[PodList], cache=cache)
    assert all(a is b for a, b in zip(first, again, strict=True))
    whole = lists[NodeList][0]
    cordoned = msgspec.structs.replace(
        whole, metadata=msgspec.structs.replace(whole.metadata, resourceVersion=whole.metadata.resourceVersion + "1"),
        spec=msgspec.structs.replace(whole.spec, unschedulable=True))
    changed = [lean_node(cordoned), *nodes[1:]]
    rows = node_rows(changed, lists[NodeMetricsList], lists[PodList], cache=cache)
    assert rows[0].status.endswith("SchedulingDisabled") and rows[1] is first[1]
    assert rows == node_rows([cordoned, *lists[NodeList][1:]], lists[NodeMetricsList], lists[PodList])
    capacity = node_rows(changed, lists[NodeMetricsList], lists[PodList], use_capacity=True, cache=cache)
    assert capacity == node_rows([cordoned, *lists[NodeList][1:]], lists[NodeMetricsList], lists[PodList],
                                 use_capacity=True)
