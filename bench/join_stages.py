"""Where a refresh's CPU goes, without the UI: a ClusterSession against a live simulated cluster.

    python bench/join_stages.py [--nodes 5000] [--pods-per-node 30] [--ticks 24]

Starts `ktopui sim` (clock running: usage moves every 15 s, pods churn) in a
subprocess, lets a session list everything, then refreshes every 2 s for
--ticks ticks. For each tick: the process's CPU time (all threads) and the wall
time of the join's stages in its worker thread (Joiner.times). Prints medians
for ticks that took a new pod metrics list and for those that did not.
Informational; the dashboard benchmark (bench/dashboard.py) measures the whole app.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections import defaultdict

from top_vs_kubectl import on_live_sim

from ktopui.live.session import ClusterSession

STAGES = {"summing": "summing pod metrics", "nodes": "node rows", "pods": "pod rows (view)",
          "history": "history", "rollups": "workloads, namespaces", "reclaim": "reclaimable on rows",
          "reclaim_made": "reclaimable made",
          "total": "join (all)"}


async def measure(kubeconfig: str, ticks: int) -> dict[str, dict[str, list[float]]]:
    found: dict[str, dict[str, list[float]]] = {"pod metrics": defaultdict(list), "steady": defaultdict(list)}
    session = ClusterSession.from_kubeconfig(kubeconfig=kubeconfig, request_timeout=60)
    try:
        while (await session.refresh()).loading:
            pass
        for _ in range(ticks):
            fetches, cpu = session.feed.pod_metrics_fetches, time.process_time()
            await session.refresh()
            kind = "pod metrics" if session.feed.pod_metrics_fetches > fetches else "steady"
            found[kind]["CPU (process)"].append(time.process_time() - cpu)
            for field, name in STAGES.items():
                found[kind][name].append(getattr(session.joiner.times, field))
            await asyncio.sleep(2.0)
    finally:
        await session.close()
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--pods-per-node", type=int, default=30)
    parser.add_argument("--ticks", type=int, default=24)
    args = parser.parse_args()
    found = on_live_sim(args.nodes, args.pods_per_node, lambda kubeconfig: asyncio.run(measure(kubeconfig, args.ticks)))
    for kind, stages in found.items():
        n = len(stages.get("CPU (process)", []))
        print(f"\n{kind} ticks: {n} (median ms)")
        for name, values in stages.items():
            print(f"  {name:<20} {statistics.median(values) * 1000:8.0f}")
    # Made about once a minute: its median is 0; what it costs is each time, and spread over every tick.
    made = [t for stages in found.values() for t in stages[STAGES["reclaim_made"]] if t > 0]
    ticks = sum(len(stages[STAGES["reclaim_made"]]) for stages in found.values())
    if made:
        print(f"\nreclaimable: made {len(made)} times, {statistics.median(made) * 1000:.0f} ms each (median), "
              f"{sum(made) / ticks * 1000:.1f} ms per tick amortised over {ticks} ticks")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
