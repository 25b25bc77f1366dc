"""Soak: the dashboard, headless, for thousands of refreshes against a churning cluster with faults.

    python bench/soak.py [--ticks 2000] [--nodes 40] [--pods-per-node 20]

The parent process runs the simulated cluster, moves its clock forward (so
metrics, history and pod churn keep moving) and switches random faults on
and off; a child process runs the dashboard through Textual's headless test
driver, refreshing back to back, and reports its resident memory every 100
ticks. Prints RSS after warm-up and at the end; the app must still be
running and must have recovered from every fault.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

FAULTS = (
    lambda f: f.server_error(500, count=3),
    lambda f: f.drop_connections(count=3),
    lambda f: f.truncate_bodies(count=2, prefix="/api/v1/pods"),
    lambda f: f.malformed_json(count=2, prefix="/apis/metrics.k8s.io"),
    lambda f: f.too_many_requests(retry_after=0, count=2),
    lambda f: setattr(f, "metrics_down", True),
    lambda f: setattr(f, "metrics_absent", True),
    lambda f: f.set_latency("/api/v1/nodes", 0.3),
)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run_child(kubeconfig: str, ticks: int) -> None:
    from ktopui.live.session import ClusterSession
    from ktopui.ui.app import KtopApp

    app = KtopApp(ClusterSession.from_kubeconfig(kubeconfig=kubeconfig, interval=3600, request_timeout=2.0))
    started = time.perf_counter()
    async with app.run_test(size=(160, 45)) as pilot:
        keys = ["c", "m", "2", "1", "down", "r", "n", "down", "up"]
        while app.refresh_count < ticks:
            count = app.refresh_count
            app.session.wake()
            while app.refresh_count == count:
                await pilot.pause(0.005)
            if count % 25 == 0:
                await pilot.press(keys[(count // 25) % len(keys)])
            if count % 100 == 0:
                print(json.dumps({"tick": count, "rss_mb": round(rss_mb(), 1),
                                  "history_entities": len(app.session.history),
                                  "errors": sorted(app.session.snapshot.errors) if app.session.snapshot else []}),
                      flush=True)
        print(json.dumps({"tick": app.refresh_count, "rss_mb": round(rss_mb(), 1), "done": True,
                          "running": app.is_running, "seconds": round(time.perf_counter() - started, 1),
                          "errors": sorted(app.session.snapshot.errors)}), flush=True)


def chaos(server, stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    while not stop.is_set():
        server.cluster.advance(15)  # one metrics resolution: new samples, churn
        if rng.random() < 0.3:
            rng.choice(FAULTS)(server.faults)
        elif rng.random() < 0.5:
            server.faults.reset()
        stop.wait(0.25)
    server.faults.reset()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ticks", type=int, default=2000)
    parser.add_argument("--nodes", type=int, default=40)
    parser.add_argument("--pods-per-node", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", metavar="KUBECONFIG", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(run_child(args.child, args.ticks))
        return 0

    from ktopui.sim.cluster import SimOptions
    from ktopui.sim.server import SimServer

    opts = SimOptions(nodes=args.nodes, pods_per_node=args.pods_per_node, seed=args.seed, frozen=True,
                      churn_per_minute=args.nodes * args.pods_per_node * 0.02)
    with SimServer(opts) as server, tempfile.TemporaryDirectory() as tmp:
        kubeconfig = str(server.write_kubeconfig(Path(tmp) / "kubeconfig"))
        stop = threading.Event()
        thread = threading.Thread(target=chaos, args=(server, stop, args.seed), daemon=True)
        thread.start()
        child = subprocess.Popen(
            [sys.executable, __file__, "--child", kubeconfig, "--ticks", str(args.ticks)],
            stdout=subprocess.PIPE, text=True,
        )
        reports = []
        for line in child.stdout:
            reports.append(json.loads(line))
            print(line.rstrip(), flush=True)
        stop.set()
        thread.join()
        code = child.wait()
    if code != 0 or not reports or not reports[-1].get("done"):
        print("soak: the dashboard did not finish", file=sys.stderr)
        return 1
    warm = next((r for r in reports if r["tick"] >= min(200, args.ticks // 4)), reports[0])
    end = reports[-1]
    growth = end["rss_mb"] - warm["rss_mb"]
    print(f"soak: {end['tick']} ticks in {end['seconds']} s; RSS {warm['rss_mb']} MB after warm-up "
          f"(tick {warm['tick']}), {end['rss_mb']} MB at the end ({growth:+.1f} MB); "
          f"still running: {end['running']}")
    return 0 if end["running"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
