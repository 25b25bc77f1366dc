"""The app's CPU per refresh over a window of real time, split by thread: for A/B runs.

    python bench/refresh_cpu.py [--nodes 5000] [--pods-per-node 30] [--seconds 90] [--interval 2] [--pairs 0]

Starts `ktopui sim` (clock running), runs the dashboard headless at the 2 s
interval on the nodes view, lets it settle, and then divides the process's CPU
time (all threads) over --seconds by the refreshes that finished in them. It
also says how much of that was the join's thread, the collector after joins,
the main (event loop and UI) thread, and garbage collections by generation
(wall time, any thread). No keys are pressed.

Shorter and steadier than `dashboard.py` phase (b), so two versions can be
run alternately on a machine whose speed drifts: with --pairs N it runs N
pairs itself, this checkout's code and then the code at $BASELINE_PYTHONPATH
(a `git worktree` of the other version, or a `git archive` of its ktopui
and bench), each in a child process, each measured by its own copy of this
script when it has one.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

from top_vs_kubectl import on_live_sim


async def measure(kubeconfig: str, seconds: float, interval: float = 2.0) -> dict:
    from ktopui.live.memory import MEMORY
    from ktopui.live.session import ClusterSession
    from ktopui.ui.app import KtopApp

    spent: dict[str, float] = defaultdict(float)
    # Every collection, by generation, whichever thread ran it (the collector's
    # own after joins included): a collection stops every thread.
    began_gc: dict[int, float] = {}

    def on_gc(phase: str, info: dict) -> None:
        ident = threading.get_ident()
        if phase == "start":
            began_gc[ident] = time.perf_counter()
        elif ident in began_gc:
            spent[f"gc gen{info['generation']}"] += time.perf_counter() - began_gc.pop(ident)

    gc.callbacks.append(on_gc)
    session = ClusterSession.from_kubeconfig(kubeconfig=kubeconfig, interval=interval)
    app = KtopApp(session)
    async with app.run_test(size=(160, 45)):
        while not (session.snapshot and not session.snapshot.loading and session.snapshot.coverage.pods_measured):
            await asyncio.sleep(0.5)
        await asyncio.sleep(5)
        spent.clear()
        joined = session.joiner.thread_seconds
        collector = MEMORY.collector
        collecting, freezing = collector.collecting, collector.freezing
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu, main, count = time.process_time(), time.thread_time(), app.refresh_count
        fetches, began = session.feed.pod_metrics_fetches, time.monotonic()
        await asyncio.sleep(seconds)
        joined = session.joiner.thread_seconds - joined
        refreshes = app.refresh_count - count
        elapsed, cpu, main = time.monotonic() - began, time.process_time() - cpu, time.thread_time() - main
        after = resource.getrusage(resource.RUSAGE_SELF)
        # The join thread's CPU includes what the collector did after each join.
        full, frozen = collector.collecting - collecting, collector.freezing - freezing
        spent["join thread"] = joined - full - frozen
        spent["full collections"] = full
        spent["freezes after joins"] = frozen
        out = {
            "refreshes": refreshes,
            "seconds": round(elapsed, 1),
            # The interval is the pause after a refresh: ticks come further apart than it.
            "period_s": round(elapsed / refreshes, 2),
            "core_pct": round(cpu * 100 / elapsed, 1),
            "pod_metrics_fetches": session.feed.pod_metrics_fetches - fetches,
            "process_ms": round(cpu * 1000 / refreshes, 1),
            "main_thread_ms": round(main * 1000 / refreshes, 1),
            # Kernel time is mostly page faults: memory given back after a join is faulted in again.
            "kernel_ms": round((after.ru_stime - usage.ru_stime) * 1000 / refreshes, 1),
            "page_faults": round((after.ru_minflt - usage.ru_minflt) / refreshes),
        }
    gc.callbacks.remove(on_gc)
    out.update({f"{k}_ms": round(v * 1000 / refreshes, 1) for k, v in sorted(spent.items())})
    return out


def script_of(checkout: str, script: str = __file__) -> str:
    """A bench script as the checkout at `checkout` has it, if it has one (each version is
    measured by its own)."""
    theirs = Path(checkout) / "bench" / Path(script).name
    return str(theirs) if theirs.exists() else script


def child(args: argparse.Namespace) -> int:
    found = on_live_sim(args.nodes, args.pods_per_node, lambda kc: asyncio.run(measure(kc, args.seconds, args.interval)))
    print(json.dumps(found), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--pods-per-node", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=90.0, help="the measured window (default 90)")
    parser.add_argument("--interval", type=float, default=2.0,
                        help="the app's refresh interval, the pause after each refresh (default 2)")
    parser.add_argument("--pairs", type=int, default=0,
                        help="run this many pairs: this code, then $BASELINE_PYTHONPATH's (default: this code once)")
    args = parser.parse_args(argv)
    if not args.pairs:
        return child(args)
    baseline = os.environ.get("BASELINE_PYTHONPATH")
    if not baseline:
        print("--pairs needs BASELINE_PYTHONPATH (a checkout of the other version)", file=sys.stderr)
        return 2
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    options = ["--nodes", str(args.nodes), "--pods-per-node", str(args.pods_per_node),
               "--seconds", str(args.seconds), "--interval", str(args.interval)]
    results: dict[str, list[float]] = {"this": [], "baseline": []}
    for pair in range(1, args.pairs + 1):
        for name, path in (("this", here), ("baseline", baseline)):
            env = {**os.environ, "PYTHONPATH": path}
            command = [sys.executable, script_of(path), *options]
            out = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
            found = json.loads(out.strip().splitlines()[-1])
            results[name].append(found["process_ms"])
            print(f"pair {pair} {name:8s} {json.dumps(found)}", flush=True)
    for name, values in results.items():
        print(f"{name:8s} process CPU per refresh (ms): {', '.join(f'{v:.0f}' for v in values)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
