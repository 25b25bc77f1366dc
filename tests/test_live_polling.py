"""What a cluster session asks the API server for on each refresh, and what it keeps."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest

from ktopui.kube.connection import load_connection
from ktopui.kube.objects import Pod
from ktopui.live.feed import window_seconds
from ktopui.live.session import ClusterSession
from ktopui.model import history_keys
from ktopui.model.history import CPU, MEMORY, epoch
from ktopui.model.history_keys import pod as pod_key
from ktopui.model.pod_info import pod_info
from ktopui.model.pod_view_join import PodViewJoin
from ktopui.sim.auth import DEFAULT_USER
from ktopui.sim.cluster import SimOptions
from ktopui.sim.server import SimServer


@pytest.fixture
def sim(tmp_path):
    server = SimServer(SimOptions(nodes=4, pods_per_node=5, seed=95, frozen=True, churn_per_minute=0)).start()
    yield server, load_connection(kubeconfig=str(server.write_kubeconfig(tmp_path / "config")))
    server.stop()


def requests_to(server, path: str) -> int:
    return sum(1 for r in server.requests if r.path == path)


async def test_pods_are_listed_once_and_pod_metrics_fetched_once_per_resolution(sim):
    server, conn = sim
    session = ClusterSession(conn)
    try:
        for _ in range(4):  # four 2 s ticks within one 15 s metrics window
            snapshot = await session.refresh()
        assert len(snapshot.pods) == 20 and any(p.has_metrics for p in snapshot.pods)
        assert session.feed.pod_metrics_fetches == 1
        server.cluster.advance(15)  # the nodes scraped again
        await session.refresh()
        assert session.feed.pod_metrics_fetches == 2
        assert requests_to(server, "/apis/metrics.k8s.io/v1beta1/nodes") == 5  # node metrics every tick
        assert requests_to(server, "/api/v1/pods") <= 2  # one LIST, then the watch
    finally:
        await session.close()


async def test_a_failed_pod_metrics_fetch_is_retried_on_the_next_tick(sim):
    server, conn = sim
    session = ClusterSession(conn)
    try:
        await session.refresh()
        server.cluster.advance(15)
        server.faults.server_error(500, count=1, prefix="/apis/metrics.k8s.io/v1beta1/pods")
        snapshot = await session.refresh()
        assert snapshot.health["pod metrics"].error is not None
        snapshot = await session.refresh()  # no need to wait for the next window
        assert snapshot.health["pod metrics"].error is None
    finally:
        await session.close()


def test_go_durations_read_as_seconds():
    assert window_seconds("15.032s") == 15.032
    assert window_seconds("1m0.5s") == 60.5
    assert window_seconds("2h0m0s") == 7200
    assert window_seconds("") is None and window_seconds("soon") is None


async def test_first_screen_shows_nodes_while_a_slow_pod_list_arrives(sim):
    server, conn = sim
    server.faults.set_latency("/api/v1/pods", 2.0)  # a huge first pod LIST
    session = ClusterSession(conn)
    try:
        first = await session.refresh()
        assert len(first.nodes) == 4 and all(n.has_metrics for n in first.nodes)
        assert first.loading == ("pods", "pod metrics")
        assert session.feed.pod_metrics_fetches == 0  # the big list waits for the pods
        server.faults.set_latency("/api/v1/pods", 0)
        for _ in range(40):
            snapshot = await session.refresh()
            if not snapshot.loading:
                break
        assert not snapshot.loading
        assert len(snapshot.pods) == 20 and all(p.has_metrics for p in snapshot.pods if p.status == "Running")
    finally:
        await session.close()


async def test_pod_metrics_are_fetched_when_the_pod_list_is_forbidden(sim):
    server, conn = sim
    server.faults.forbid(DEFAULT_USER, "list", "pods", group="")  # the pods, not their metrics
    session = ClusterSession(conn)
    try:
        for _ in range(20):  # the watch reports the 403 within a few ticks
            snapshot = await session.refresh()
            if snapshot.health["pods"].error is not None and session.feed.pod_metrics_fetches:
                break
        assert snapshot.health["pods"].error is not None
        assert session.feed.pod_metrics_fetches >= 1
        assert snapshot.pods and not any(p.in_pod_list for p in snapshot.pods)  # rows from metrics alone
    finally:
        await session.close()


def test_pods_on_a_node_keep_the_snapshot_order_and_come_back_as_the_same_list():
    from ktopui.model.snapshot import Snapshot

    def info(namespace, name, node=""):
        return pod_info(msgspec.convert({"metadata": {"name": name, "namespace": namespace},
                                         "spec": {"nodeName": node}}, Pod))

    infos = [info("b", "x", "n1"), info("a", "y", "n2"), info("a", "z", "n1"), info("c", "w")]
    snapshot = Snapshot(nodes=[], pods=PodViewJoin().update({i.key: i for i in infos}, None), health={})
    on_n1 = snapshot.pods_on("n1")
    assert [r.key for r in on_n1] == [("b", "x"), ("a", "z")]
    assert snapshot.pods_on("n1") is on_n1  # a table shown again sees the same rows: nothing to re-sort
    assert [r.key for r in snapshot.pods_on("n2")] == [("a", "y")]
    assert list(snapshot.pods_on("gone")) == []


@pytest.mark.parametrize("quirky", [False, True], ids=["metrics-server", "quirky"])
async def test_pod_history_follows_each_pod_through_churn_and_survives_a_scope_switch(tmp_path, quirky):
    # (quirky: odd quantity spellings send some pods' samples the exact way)
    options = SimOptions(nodes=3, pods_per_node=12, seed=97, frozen=True, churn_per_minute=40, quirky=quirky)
    with SimServer(options) as server:
        conn = load_connection(kubeconfig=str(server.write_kubeconfig(tmp_path / "config")))
        session = ClusterSession(conn)
        first_seen: dict[tuple, float] = {}  # the first metrics time of each pod
        seen: dict[tuple, list[float]] = {}  # every metrics time the pod's rows showed
        deleted = multi = 0
        try:
            keys_before: set = set()
            for _ in range(12):  # churn deletes pods; their slots (history rows) go to newcomers
                server.cluster.advance(15)
                for _ in range(3):
                    snapshot = await session.refresh()
                keys = {p.key for p in snapshot.pods}
                deleted += len(keys_before - keys)
                keys_before = keys
                for row in snapshot.pods:
                    if row.has_metrics:
                        when = epoch(row.timestamp)
                        first_seen.setdefault(row.key, when)
                        if when not in seen.setdefault(row.key, []):
                            seen[row.key].append(when)
                for row in snapshot.pods:
                    times = session.history.times(pod_key(*row.key)).tolist()
                    if not row.has_metrics:
                        continue
                    # Its own samples only: none from before it was first measured (a
                    # reused row's last pod), and the newest is the one on screen.
                    assert times and min(times) >= first_seen[row.key] - 1e-3, row.key
                    assert abs(times[-1] - epoch(row.timestamp)) < 1e-3
                    assert session.history.series(pod_key(*row.key), CPU)[-1] == row.usage.cpu_milli
                    assert len(times) == len(seen[row.key])
                    for container in row.containers if row.sample.measured > 1 else ():
                        key = history_keys.of_container(*row.key, container.name, row.sample.container_names())
                        assert key[0] == "container"
                        assert np.array_equal(session.history.times(key), session.history.times(pod_key(*row.key)))
                        assert session.history.series(key, CPU)[-1] == container.usage.cpu_milli
                        assert session.history.series(key, MEMORY)[-1] == container.usage.mem_bytes
                        multi += 1
            assert deleted >= 3, "churn deleted pods"
            assert multi, "pods with several containers were checked"
            slots = session.joiner.slots
            assert len(slots) < len(slots.index) + deleted  # their slots were reused
            # Another namespace and back: the pods out of scope meanwhile keep their history.
            some = next(p for p in snapshot.pods if p.has_metrics)
            other = next(p.namespace for p in snapshot.pods if p.namespace != some.namespace)
            before = session.history.series(pod_key(*some.key), CPU).tolist()
            session.set_namespace(other)
            for _ in range(3):
                snapshot = await session.refresh()
            assert snapshot.pods and {p.namespace for p in snapshot.pods} == {other}
            assert session.history.series(pod_key(*some.key), CPU).tolist() == before
            session.set_namespace("")
            for _ in range(3):
                snapshot = await session.refresh()
            assert session.history.series(pod_key(*some.key), CPU).tolist()[: len(before)] == before
        finally:
            await session.close()


async def test_node_and_cluster_history_take_each_scrape_once_while_unchanged_rows_are_kept(tmp_path):
    """History is written only from node rows that are new objects: a scrape between
    two refreshes must still land, once, with the numbers the row shows."""
    from ktopui.model.history_keys import CLUSTER as CLUSTER_KEY
    from ktopui.model.history_keys import node as node_key

    options = SimOptions(nodes=4, pods_per_node=3, seed=11, frozen=True, churn_per_minute=0, start_time=1767230000.0)
    with SimServer(options) as server:
        conn = load_connection(kubeconfig=str(server.write_kubeconfig(tmp_path / "config")))
        session = ClusterSession(conn)
        try:
            seen: dict[str, list[float]] = {}
            kept = 0
            before: dict = {}
            for _ in range(12):
                server.cluster.advance(4)  # some nodes scrape again in 4 s, others not
                snapshot = await session.refresh()
                for row in snapshot.nodes:
                    kept += row is before.get(row.name)
                    times = seen.setdefault(row.name, [])
                    if epoch(row.timestamp) not in times:
                        times.append(epoch(row.timestamp))
                before = {row.name: row for row in snapshot.nodes}
                for row in snapshot.nodes:
                    assert session.history.times(node_key(row.name)).tolist() == pytest.approx(seen[row.name])
                    assert session.history.series(node_key(row.name), CPU)[-1] == row.usage.cpu_milli
                    assert session.history.series(node_key(row.name), MEMORY)[-1] == row.usage.mem_bytes
                assert session.history.series(CLUSTER_KEY, CPU)[-1] == snapshot.totals.cpu_milli
                assert snapshot.totals.cpu_milli == sum(r.usage.cpu_milli for r in snapshot.nodes)
                assert snapshot.totals.mem_allocatable_bytes == sum(r.available.mem_bytes for r in snapshot.nodes)
            assert kept and all(len(times) > 2 for times in seen.values())
        finally:
            await session.close()
