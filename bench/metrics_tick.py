"""The join of a refresh that takes a new pod metrics list, timed on the same data every run.

    python bench/metrics_tick.py [--nodes 5000] [--pods-per-node 30] [--reps 5]

Starts `ktopui sim` (clock running), takes the pod list and two pod metrics
lists 16 s apart (one metrics resolution), stops the sim, and then times, --reps
times over, a Joiner's step of the second list after the first, both handed
to it as Inputs (a replay): summing the pod metrics (decoding included),
joining the pod rows, recording history (Joiner.times). With the data fixed,
two versions of the code can be compared (run it with PYTHONPATH pointing at
a `git worktree` of the other). Prints medians in ms.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
from types import MappingProxyType

import msgspec
from top_vs_kubectl import on_live_sim

from ktopui.kube.connection import load_connection, make_http_client
from ktopui.kube.objects import PodList, RawList, decode
from ktopui.live.feed import Inputs, Scope, Undecoded
from ktopui.live.joiner import Joiner, new_history
from ktopui.model.pod_info import SpecMemo, pod_info
from ktopui.model.snapshot import SOURCES, SourceHealth

METRICS = "/apis/metrics.k8s.io/v1beta1/pods"


async def capture(kubeconfig: str) -> tuple[bytes, list[bytes]]:
    conn = load_connection(kubeconfig=kubeconfig)
    async with make_http_client(conn, timeout=120) as http:
        pods = (await http.get(conn.server + "/api/v1/pods")).content
        bodies = [(await http.get(conn.server + METRICS)).content]
        await asyncio.sleep(16)
        bodies.append((await http.get(conn.server + METRICS)).content)
    return pods, bodies


def measure(pods: bytes, bodies: list[bytes], reps: int) -> dict[str, list[float]]:
    memo = SpecMemo()
    # Keyed as the watch cache keys them (interned strings), so lookups compare as in the app.
    infos = {info.key: info for info in (pod_info(p, memo) for p in decode(pods, PodList).items)}
    raws = [msgspec.json.decode(body, type=RawList).items for body in bodies]
    health = MappingProxyType({source: SourceHealth() for source in SOURCES})

    def inputs(items: list) -> Inputs:
        return Inputs(scope=Scope(), nodes=None, pods=infos, pod_changes=None, node_metrics=None,
                      pod_metrics=Undecoded(list(items)), pod_metrics_kept=True, health=health, loading=())

    found: dict[str, list[float]] = {}
    for _ in range(reps):
        joiner = Joiner(new_history())  # (no UI: no disposer; what a snapshot held dies where it is let go)
        joiner.step(inputs(raws[0]))  # the first list fills the caches, as the app's first refresh does
        snapshot = joiner.step(inputs(raws[1]))
        times = joiner.times
        for name, seconds in (("summing pod metrics", times.summing), ("pod rows", times.pods),
                              ("history", times.history), ("all three", times.summing + times.pods + times.history),
                              ("step (all)", times.total)):
            found.setdefault(name, []).append(seconds)
        del joiner, snapshot
        gc.collect()
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--pods-per-node", type=int, default=30)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    pods, bodies = on_live_sim(args.nodes, args.pods_per_node, lambda kubeconfig: asyncio.run(capture(kubeconfig)))
    found = measure(pods, bodies, args.reps)
    print(f"\nnew pod metrics list joined after another, {args.reps} runs (median ms; all runs)")
    for name, values in found.items():
        print(f"  {name:<20} {statistics.median(values) * 1000:6.0f}   {[round(v * 1000) for v in values]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
