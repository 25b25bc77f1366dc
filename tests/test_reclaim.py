"""Reclaimable CPU and memory on workload and namespace rows (model/reclaim.py), joined from
hand-made pods and metrics lists: the suggestion per workload container, the positive gaps
summed over the pods, a namespace the sum of its workloads, made again once a minute."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import msgspec
import numpy as np
from test_rollups import controller, inputs, pod

from ktopui.live.joiner import Joiner, new_history
from ktopui.model.suggestions import MEBIBYTE

MI = MEBIBYTE
START = 1_795_000_000


def stamp(step: int) -> str:
    return datetime.fromtimestamp(START + 15 * step, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sample(namespace: str, name: str, step: int, **usage: tuple[int, int]) -> msgspec.Raw:
    """A pod's metrics at `step` (15 s apart): container=(millicores, MiB)."""
    containers = [{"name": c, "usage": {"cpu": f"{m}m", "memory": f"{mi}Mi"}} for c, (m, mi) in usage.items()]
    return msgspec.Raw(json.dumps({"metadata": {"namespace": namespace, "name": name}, "timestamp": stamp(step),
                                   "window": "15s", "containers": containers}).encode())


def resources(cpu: str | None, mem: str | None) -> dict:
    requests = {k: v for k, v in (("cpu", cpu), ("memory", mem)) if v is not None}
    return {"requests": requests}


DB = [{"name": "db", "resources": resources("1", "2Gi")}, {"name": "exporter", "resources": resources(None, None)}]
AGENT = [{"name": "agent", "resources": resources("200m", "256Mi")}]
PODS = [
    pod("shop", "db-0", owners=controller("StatefulSet", "db"), containers=DB),
    pod("shop", "db-1", owners=controller("StatefulSet", "db"), containers=DB),
    pod("shop", "agent-a", owners=controller("DaemonSet", "agent"), containers=AGENT),
    pod("shop", "agent-b", owners=controller("DaemonSet", "agent"), containers=AGENT),
    pod("ops", "agent-c", owners=controller("DaemonSet", "agent"), containers=AGENT),
]


def db_usage(i: int, step: int) -> dict:
    return {"db": (100 + 10 * step + 300 * i, 500 + 20 * i), "exporter": (5, 20)}


def samples(step: int) -> list:
    return [
        sample("shop", "db-0", step, **db_usage(0, step)),
        sample("shop", "db-1", step, **db_usage(1, step)),
        sample("shop", "agent-a", step, agent=(40 + step, 100 + step)),
        # agent-b has no metrics at all: its requests count, its samples do not.
        sample("ops", "agent-c", step, agent=(10, 50)),
    ]


def steps(joiner: Joiner, first: int, last: int):
    base = inputs(PODS, [])
    snapshot = None
    for step in range(first, last + 1):
        snapshot = joiner.step(replace(base, pod_metrics=inputs(PODS, samples(step)).pod_metrics))
    return snapshot


def expected_db(last: int) -> tuple[int, int]:
    """db's reclaimable CPU and memory after steps 0..last, counted the plain way."""
    cpu = max(np.percentile([db_usage(i, s)["db"][0] for s in range(last + 1)], 95) for i in (0, 1))
    mem = max(db_usage(i, 0)["db"][1] for i in (0, 1)) * MI
    cpu_suggested = int(np.ceil(cpu))
    mem_suggested = int(np.ceil(mem * 1.15 / MI)) * MI
    # Both pods ask for 1 CPU and 2Gi for db; the exporter asks for nothing (no gap).
    return 2 * max(1000 - cpu_suggested, 0), 2 * max(2048 * MI - mem_suggested, 0)


def test_a_workloads_reclaimable_is_the_positive_gaps_of_its_pods_and_a_namespace_sums_its_workloads():
    snapshot = steps(Joiner(new_history()), 0, 3)  # four samples: the first figures
    rows = {(w.namespace, w.name): w for w in snapshot.workloads}
    db = rows[("shop", "db")]
    assert (db.reclaim_cpu_milli, db.reclaim_mem_bytes) == expected_db(3)
    # agent in shop: agent-a's samples decide (p95 of 40..43 -> 43m, 103Mi * 1.15 -> 119Mi);
    # agent-b, without metrics, asks for the same and frees as much.
    agent = rows[("shop", "agent")]
    assert agent.reclaim_cpu_milli == 2 * (200 - 43)
    assert agent.reclaim_mem_bytes == 2 * (256 - 119) * MI
    spaces = {n.namespace: n for n in snapshot.namespaces}
    assert spaces["shop"].reclaim_cpu_milli == db.reclaim_cpu_milli + agent.reclaim_cpu_milli
    assert spaces["shop"].reclaim_mem_bytes == db.reclaim_mem_bytes + agent.reclaim_mem_bytes
    assert spaces["ops"].reclaim_cpu_milli == 200 - 10 == rows[("ops", "agent")].reclaim_cpu_milli


def test_no_figures_before_enough_history_and_the_rows_keep_them_for_a_minute():
    joiner = Joiner(new_history())
    early = steps(joiner, 0, 2)
    assert all(w.reclaim_cpu_milli is None and w.reclaim_mem_bytes is None for w in early.workloads)
    first = steps(joiner, 3, 3)
    db = next(w for w in first.workloads if w.name == "db")
    assert db.reclaim_cpu_milli == expected_db(3)[0]
    # Usage keeps climbing, but the figures stay until a minute of samples has passed...
    kept = steps(joiner, 4, 6)
    assert next(w for w in kept.workloads if w.name == "db").reclaim_cpu_milli == expected_db(3)[0]
    # ... and are made again then.
    later = steps(joiner, 7, 7)
    assert next(w for w in later.workloads if w.name == "db").reclaim_cpu_milli == expected_db(7)[0]
    # The rows shown before were not changed under the screens that hold them.
    assert next(w for w in kept.workloads if w.name == "db").reclaim_cpu_milli == expected_db(3)[0]


def test_a_workload_whose_containers_set_no_requests_has_nothing_to_reclaim():
    bare = [pod("lab", "toy", containers=[{"name": "toy", "resources": {}}])]
    joiner = Joiner(new_history())
    base = inputs(bare, [])
    for step in range(5):
        snapshot = joiner.step(replace(base, pod_metrics=inputs(bare, [sample("lab", "toy", step, toy=(5, 5))]).pod_metrics))
    (row,) = snapshot.workloads
    assert (row.reclaim_cpu_milli, row.reclaim_mem_bytes) == (None, None)
    assert snapshot.namespaces[0].reclaim_cpu_milli is None


def test_figures_that_took_long_to_make_are_made_again_less_often():
    from ktopui.model.reclaim import COST_SHARE, RECLAIM_EVERY, Figures, Reclaim

    joiner = Joiner(new_history())
    steps(joiner, 0, 3)  # (history enough for the first figures)
    figures = Figures({}, {}, {}, {})
    cheap, costly = Reclaim(), Reclaim()
    cheap.update(figures, stamp(0), 0.001)
    costly.update(figures, stamp(0), 0.5)  # half a second: due again after 0.5 / COST_SHARE seconds
    assert 0.5 / COST_SHARE > RECLAIM_EVERY
    minute = int(RECLAIM_EVERY // 15)
    assert cheap.due(joiner.history, stamp(minute)) and not costly.due(joiner.history, stamp(minute))
    assert costly.due(joiner.history, stamp(int(0.5 / COST_SHARE // 15)))
