"""The dashboard against a misbehaving API server: the load it puts on the server, its memory and CPU.

    python bench/hostile.py [--nodes 500] [--pods-per-node 30] [--seconds 150] [--runs 3]

One simulated cluster, in this process, its clock running in real time (metrics
move, pods churn). For each scenario, a child process runs the dashboard
headless (2 s interval, default settings) for --seconds against it: first a
polite server (no faults), then each fault the sim can switch on. Every
scenario runs --runs times, the scenarios taking turns, and the table gives
medians: requests per minute the server received, by kind (counted as each
request arrives, whatever is then answered), the child's peak resident memory
(VmHWM), and its CPU as a share of one core once its first screen is up.
"fell back" is what the dashboard said it did instead of watching, if anything.

With BASELINE_PYTHONPATH set to a checkout of another version, the dashboard
runs from there (the simulated cluster and its faults stay this checkout's).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs

from refresh_cpu import script_of

INTERVAL = 2.0  # the dashboard's default refresh interval
SETTLE = 2.0  # after a child exits, for its connections to close before the next scenario
KINDS = ("LIST nodes", "LIST pods", "WATCH", "metrics", "other")
ALL_WATCHES = "/api/v1/"  # (the watch faults fire on watch requests only: lists of these paths still work)
METRICS = "/apis/metrics.k8s.io/"
NODE_METRICS, POD_METRICS = METRICS + "v1beta1/nodes", METRICS + "v1beta1/pods"


def forbid_watch(faults) -> None:
    for resource in ("nodes", "pods"):
        faults.forbid("sim-admin", "watch", resource)


# Each scenario: how the server misbehaves, switched on before the dashboard starts.
SCENARIOS = {
    "polite (no faults)": lambda faults: None,
    "watch forbidden": forbid_watch,
    "410 on every watch": lambda faults: faults.expire_watches(prefix=ALL_WATCHES),
    "a list answered to a watch": lambda faults: faults.answer_watches_with_lists(prefix=ALL_WATCHES),
    "silent watch": lambda faults: faults.silent_watches(prefix=ALL_WATCHES),
    "endless watch line": lambda faults: faults.endless_watch_lines(prefix=ALL_WATCHES),
    # Answers that try the client's memory, time and backoff (every one of these requests).
    "gzip bomb: node metrics": lambda faults: faults.gzip_bomb(inflated=3 << 30, prefix=NODE_METRICS),
    "2 GiB body: pod metrics": lambda faults: faults.huge_body(size=2 << 30, prefix=POD_METRICS),
    "1 B/s: node metrics": lambda faults: faults.slow_body(bytes_per_second=1, prefix=NODE_METRICS),
    "deep nesting: node metrics": lambda faults: faults.deep_nesting(depth=100_000, prefix=NODE_METRICS),
    "429 Retry-After: 1e308": lambda faults: faults.too_many_requests(retry_after="1e308", prefix=METRICS),
}


def kind(path: str, query: str) -> str:
    segs = path.strip("/").split("/")
    if segs[:2] == ["apis", "metrics.k8s.io"]:
        return "metrics"
    if segs[:2] == ["api", "v1"] and segs[-1] in ("nodes", "pods"):
        return "WATCH" if parse_qs(query).get("watch", [""])[0] in ("1", "true") else f"LIST {segs[-1]}"
    return "other"


class Arrivals:
    """Requests by kind as they arrive at the sim, while a scenario runs."""

    def __init__(self, server) -> None:
        self.counts: Counter = Counter()
        self.counting = False
        self._lock = threading.Lock()
        server.on_request = self._arrived

    def _arrived(self, method: str, path: str, query: str) -> None:
        if self.counting:
            with self._lock:
                self.counts[kind(path, query)] += 1

    def start(self) -> None:
        with self._lock:
            self.counts.clear()
        self.counting = True

    def stop(self) -> Counter:
        self.counting = False
        with self._lock:
            return Counter(self.counts)


# -- the child: the dashboard ------------------------------------------------------------


def vm_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


async def run_child(kubeconfig: str, seconds: float) -> None:
    from ktopui.live.session import ClusterSession
    from ktopui.ui.app import KtopApp

    began = time.monotonic()
    app = KtopApp(ClusterSession.from_kubeconfig(kubeconfig=kubeconfig, interval=INTERVAL))
    async with app.run_test(size=(160, 45)):
        while app.refresh_count == 0 and time.monotonic() - began < seconds:
            await asyncio.sleep(0.05)
        cpu, wall = time.process_time(), time.monotonic()  # (process_time: every thread of the process)
        await asyncio.sleep(max(0.0, seconds - (wall - began)))
        cpu, wall = time.process_time() - cpu, time.monotonic() - wall
        snapshot = app.session.snapshot
        health = snapshot.health.values() if snapshot else ()
        sys.__stdout__.write(json.dumps({
            "refreshes": app.refresh_count, "running": app.is_running,
            "cpu_share": cpu / wall if wall > 0 else None, "peak_rss_mb": vm_kib("VmHWM") / 1024,
            "fell_back": sorted({h.relisting for h in health} - {""}),
            "errors": sorted(snapshot.errors) if snapshot else [],
        }) + "\n")


def scenario_run(kubeconfig: str, seconds: float) -> dict:
    baseline = os.environ.get("BASELINE_PYTHONPATH")
    env = {**os.environ, "PYTHONPATH": baseline} if baseline else None
    script = script_of(baseline, __file__) if baseline else __file__  # (each version measured by its own copy)
    proc = subprocess.run([sys.executable, script, "--child", kubeconfig, "--seconds", str(seconds)],
                          stdout=subprocess.PIPE, text=True, check=False, env=env)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise SystemExit(f"hostile: the dashboard exited {proc.returncode} without finishing")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- the report ------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def report(results: dict[str, list[dict]]) -> None:
    head = (f"{'scenario':<28}{'LIST nodes':>11}{'LIST pods':>10}{'WATCH':>8}{'metrics':>9}{'other':>7}"
            f"{'peak RSS':>10}{'CPU':>7}  fell back")
    print(f"\nrequests per minute the server received (medians of {len(next(iter(results.values())))} runs)")
    print(head)
    for name, runs in results.items():
        rates = {k: median([r["per_minute"][k] for r in runs]) for k in KINDS}
        rss = median([r["peak_rss_mb"] for r in runs])
        cpu = median([r["cpu_share"] * 100 for r in runs if r["cpu_share"] is not None])
        fell_back = "; ".join(sorted({reason for r in runs for reason in r["fell_back"]})) or "-"
        print(f"{name:<28}" + "".join(f"{rates[k]:>{w}.1f}" for k, w in zip(KINDS, (11, 10, 8, 9, 7)))
              + f"{rss:>7.0f} MB{cpu:>6.1f}%  {fell_back}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=500)
    parser.add_argument("--pods-per-node", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=150.0, help="how long each scenario runs (default 150)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each scenario, for medians (default 3)")
    parser.add_argument("--only", metavar="TEXT", action="append",
                        help="run only the scenarios whose name contains TEXT (repeatable; the polite one always runs)")
    parser.add_argument("--child", metavar="KUBECONFIG", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        asyncio.run(run_child(args.child, args.seconds))
        return 0

    from ktopui.sim.cluster import SimOptions
    from ktopui.sim.server import SimServer

    opts = SimOptions(nodes=args.nodes, pods_per_node=args.pods_per_node, seed=1, frozen=False)
    chosen = {name: inject for name, inject in SCENARIOS.items()
              if name.startswith("polite") or not args.only or any(text in name for text in args.only)}
    results: dict[str, list[dict]] = {name: [] for name in chosen}
    with SimServer(opts) as server, tempfile.TemporaryDirectory(prefix="ktopui-bench-") as tmp:
        kubeconfig = str(server.write_kubeconfig(Path(tmp) / "kubeconfig"))
        arrivals = Arrivals(server)
        client = os.environ.get("BASELINE_PYTHONPATH") or "this checkout"
        print(f"hostile: {args.nodes} nodes x {args.pods_per_node} pods, clock running, {args.seconds:g} s per "
              f"scenario, {args.runs} runs; the dashboard from {client}", flush=True)
        for run in range(1, args.runs + 1):
            for name, inject in chosen.items():
                server.faults.reset()
                inject(server.faults)
                arrivals.start()
                began = time.monotonic()
                info = scenario_run(kubeconfig, args.seconds)
                elapsed = time.monotonic() - began
                counts = arrivals.stop()
                server.faults.reset()
                time.sleep(SETTLE)
                info["per_minute"] = {k: counts[k] * 60 / elapsed for k in KINDS}
                results[name].append(info)
                print(f"run {run} {name}: {elapsed:.0f} s, {dict(counts)}, peak RSS {info['peak_rss_mb']:.0f} MB, "
                      f"CPU {100 * (info['cpu_share'] or 0):.1f}%, fell back: {info['fell_back'] or '-'}, "
                      f"errors: {info['errors'] or '-'}", flush=True)
    report(results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
