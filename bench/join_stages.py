"""Where a refresh's CPU goes, without the UI: LiveCluster against a live simulated cluster.

    python bench/join_stages.py [--nodes 5000] [--pods-per-node 30] [--ticks 24]

Starts `ktopui sim` (clock running: usage moves every 15 s, pods churn) in a
subprocess, lets a LiveCluster list everything, then refreshes every 2 s for
--ticks ticks. For each tick: the process's CPU time (all threads) and the wall
time of the join's stages in its worker thread. Prints medians for ticks that
took a new pod metrics list and for those that did not. Informational; the
dashboard benchmark (bench/dashboard.py) measures the whole app.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections import defaultdict

from top_vs_kubectl import on_live_sim

import ktopui.live.state as state
from ktopui.kube.api import KubeAPI
from ktopui.kube.connection import load_connection, make_http_client

STAGES: dict[str, float] = {}


def timed(name: str, function):
    def wrapper(*args, **kwargs):
        began = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            STAGES[name] = STAGES.get(name, 0.0) + time.perf_counter() - began
    return wrapper


def instrument() -> None:
    for name in ("sample_table_of_batches", "node_rows"):
        setattr(state, name, timed(name, getattr(state, name)))
    state.PodViewJoin.update = timed("pod rows (view)", state.PodViewJoin.update)
    state.LiveCluster._record = timed("history", state.LiveCluster._record)
    state.LiveCluster._snapshot = timed("join (all)", state.LiveCluster._snapshot)


async def measure(kubeconfig: str, ticks: int) -> dict[str, dict[str, list[float]]]:
    conn = load_connection(kubeconfig=kubeconfig)
    found: dict[str, dict[str, list[float]]] = {"pod metrics": defaultdict(list), "steady": defaultdict(list)}
    async with make_http_client(conn, timeout=60) as http:
        live = state.LiveCluster(KubeAPI(http, conn.server))
        try:
            while (await live.refresh()).loading:
                pass
            for _ in range(ticks):
                STAGES.clear()
                fetches, cpu = live.pod_metrics_fetches, time.process_time()
                await live.refresh()
                kind = "pod metrics" if live.pod_metrics_fetches > fetches else "steady"
                found[kind]["CPU (process)"].append(time.process_time() - cpu)
                for name, seconds in STAGES.items():
                    found[kind][name].append(seconds)
                await asyncio.sleep(2.0)
        finally:
            await live.close()
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--pods-per-node", type=int, default=30)
    parser.add_argument("--ticks", type=int, default=24)
    args = parser.parse_args()
    instrument()
    found = on_live_sim(args.nodes, args.pods_per_node, lambda kubeconfig: asyncio.run(measure(kubeconfig, args.ticks)))
    for kind, stages in found.items():
        n = len(stages.get("CPU (process)", []))
        print(f"\n{kind} ticks: {n} (median ms)")
        for name, values in stages.items():
            print(f"  {name:<16} {statistics.median(values) * 1000:8.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
