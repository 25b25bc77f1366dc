"""Two clusters in one process: each ClusterSession keeps to its own (no shared mutable state)."""

from __future__ import annotations

import asyncio
import gc

from ktopui.kube.connection import load_connection
from ktopui.live.session import ClusterSession
from ktopui.model import history_keys
from ktopui.model.history import CPU, epoch


def session_on(server, tmp_path, name: str) -> ClusterSession:
    kubeconfig = server.write_kubeconfig(tmp_path / name, context=name)
    return ClusterSession(load_connection(kubeconfig=str(kubeconfig)))


def assert_shows(session: ClusterSession, server) -> None:
    """The session's snapshot is its own cluster's, and its history has its own nodes only."""
    snapshot = session.snapshot
    cluster = server.cluster
    assert sorted(r.name for r in snapshot.nodes) == sorted(n.name for n in cluster.nodes)
    assert sorted(r.key for r in snapshot.pods) == sorted(p.key for p in cluster.pods)
    measured = [r for r in snapshot.nodes if r.has_metrics]
    assert len(measured) >= len(snapshot.nodes) - 1  # (the sim may keep a node from reporting)
    for row in measured:
        key = history_keys.node(row.name)
        assert session.history.series(key, CPU)[-1] == row.usage.cpu_milli
        assert abs(session.history.times(key)[-1] - epoch(row.timestamp)) < 1e-3
    assert snapshot.totals.cpu_milli == sum(r.usage.cpu_milli for r in measured)


async def test_two_sessions_on_two_clusters_in_one_process_each_stay_correct(make_sim_server, tmp_path):
    # Different sizes, seeds and clocks: nothing of one may show in the other.
    small = make_sim_server(nodes=3, pods_per_node=4, seed=1, churn_per_minute=0)
    big = make_sim_server(nodes=7, pods_per_node=6, seed=2, churn_per_minute=0, start_time=1_767_300_000.0)
    first, second = session_on(small, tmp_path, "small"), session_on(big, tmp_path, "big")
    collecting = gc.isenabled()
    try:
        for _ in range(5):
            small.cluster.advance(15)
            big.cluster.advance(15)
            # Both refreshes at once: their joins run side by side in worker threads.
            await asyncio.gather(first.refresh(), second.refresh())
            await asyncio.gather(first.refresh(), second.refresh())  # (the watches' changes are in by now)
            assert_shows(first, small)
            assert_shows(second, big)
            assert gc.isenabled() == collecting  # the process's collector, back as it was after both joins
        assert first.snapshot.nodes[0].name not in {n.name for n in big.cluster.nodes}
        assert first.history is not second.history and first.feed.memo is not second.feed.memo
        assert first.place.context == "small" and second.place.context == "big"

        # One changes scope; the other does not notice.
        namespace = next(iter({p.key[0] for p in big.cluster.pods}))
        second.set_namespace(namespace)
        await asyncio.gather(first.refresh(), second.refresh())
        await asyncio.gather(first.refresh(), second.refresh())
        assert {r.namespace for r in second.snapshot.pods} == {namespace}
        assert sorted(r.key for r in first.snapshot.pods) == sorted(p.key for p in small.cluster.pods)
        assert first.scope.namespace == ""
    finally:
        await asyncio.gather(first.close(), second.close())
