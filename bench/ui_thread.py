"""The UI thread's own work at 5,000 nodes / 150,000 pods, apart from the refresh's join.

    python bench/ui_thread.py [--nodes 5000] [--pods-per-node 30] [--refreshes 12] [--reps 3]

Starts `ktopui sim` (clock running: usage moves every 15 s, pods churn) in a
subprocess and the dashboard headless in this process, all namespaces, 160x45.
Two measures, both informational (bench/dashboard.py measures the whole app):

  1. showing a refresh: the wall time of the app's handling of each new
     snapshot (every table and the header take it), with the pods view on
     screen, sorted by CPU, the cursor a few lines down (so the table must
     find the cursor's pod among the new rows); refreshes that brought a new
     pod metrics list apart from the others;
  2. key presses with refreshes paused: the time from a key to the screen
     showing its effect (as bench/dashboard.py measures it) when no join runs
     in the worker thread, i.e. what the UI itself costs per key.

With PYTHONPATH pointing at a `git worktree` of another commit, compares versions.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time

from dashboard import next_refresh, press
from top_vs_kubectl import on_live_sim

# (group, keys pressed in turn); the pods view is on screen before and after each.
KEYS = [
    ("switch view", ("1", "2")),
    ("sort", ("c", "m", "c")),
    ("drill into a pod and back", ("enter", "escape")),
    ("filter: /, then letters", ("slash", "t", "e", "a", "m", "-", "3")),
    ("filter: clear", ("escape", "escape")),
]


async def run(kubeconfig: str, refreshes: int, reps: int) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    from ktopui.live.session import ClusterSession
    from ktopui.ui.app import KtopApp

    session = ClusterSession.from_kubeconfig(kubeconfig=kubeconfig, interval=2.0)
    app = KtopApp(session)
    showing: dict[str, list[float]] = {"new pod metrics list": [], "steady": []}
    keys: dict[str, list[float]] = {}
    async with app.run_test(size=(160, 45)) as pilot:
        deadline = time.monotonic() + 300
        while not ((s := session.snapshot) and len(s.pods) >= 0.9 * s.coverage.pods_running
                   and s.coverage.pods_measured and not s.loading):
            if time.monotonic() > deadline:
                raise SystemExit("the pods did not arrive")
            await asyncio.sleep(0.5)
        for key in ("2", "c", "down", "down", "down"):
            await press(pilot, key)
        for _ in range(refreshes):
            fetches = session.feed.pod_metrics_fetches
            if not await next_refresh(app, time.monotonic() + 60):
                break
            kind = "new pod metrics list" if session.feed.pod_metrics_fetches > fetches else "steady"
            showing[kind].append(app.show_seconds * 1000)
        app.action_pause()
        await asyncio.sleep(1)
        for _ in range(reps):
            for group, sequence in KEYS:
                for key in sequence:
                    keys.setdefault(f"{group}: {key}", []).append(await press(pilot, key))
                    await asyncio.sleep(0.2)
    return showing, keys


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--pods-per-node", type=int, default=30)
    parser.add_argument("--refreshes", type=int, default=12)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    showing, keys = on_live_sim(
        args.nodes, args.pods_per_node, lambda kubeconfig: asyncio.run(run(kubeconfig, args.refreshes, args.reps))
    )
    print("\n1. showing each refresh's snapshot (ms; median, max, all)")
    for kind, values in showing.items():
        if values:
            print(f"  {kind:<22} {statistics.median(values):6.1f} {max(values):6.1f}   {[round(v) for v in values]}")
    print(f"\n2. key to screen with refreshes paused (ms; median of {args.reps}, all)")
    for name, values in keys.items():
        print(f"  {name:<40} {statistics.median(values):6.1f}   {[round(v) for v in values]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
