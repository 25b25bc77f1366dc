"""The dashboard in headless mode at 5,000 nodes x 30 pods, all namespaces.

    python bench/dashboard.py [--nodes 5000] [--pods-per-node 30] [--ticks 30] [--presses 20]
                              [--history-ticks 60] [--size 160x45] [--phase-limit 180]

The parent process runs the simulated cluster with a frozen clock and moves the
clock itself; a child process runs the dashboard through Textual's headless
test driver (as bench/soak.py does) and reports JSON lines on its stdout. The
two switch phases over those lines and the child's stdin:

  a. first usable screen: from app start (run_test entered) to the nodes table
     showing rows, and when the node LIST arrived (target <= 3 s after it);
  b. CPU per refresh tick at the 2 s interval, the parent moving cluster time
     2 s per 2 real seconds (target <= 250 ms);
  c. key-press-to-screen latency while those refreshes run (target p95 <= 100 ms);
  d. resident memory after 15 minutes of simulated history: the parent moves
     cluster time 15 s (one metrics resolution) per refresh, 60 refreshes,
     the child refreshing back to back (target <= 600 MB).

Each phase stops at --phase-limit seconds and then reports what it measured
so far, marked "partial". Exits 0 unless the app crashed or did not finish;
the figures are informational.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import math
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

INTERVAL = 2.0  # the dashboard's default refresh interval
LANDING_GRACE = 60.0  # at most this long past the phase limit for a refresh in flight to land
RESOLUTION = 15.0  # the sim's metrics resolution: one new sample per node and pod
POLL = 0.02  # how often the child looks at refresh_count while waiting
# A wakeup of the child's event loop costs about 0.2 ms CPU on the 2-core test VM: looking
# every 20 ms would add 20 ms to each 2 s tick of (b). Looking every 0.25 s adds under 2 ms;
# a tick's end is then seen up to 0.25 s late, in the idle time after the refresh.
CPU_POLL = 0.25
WARMUP_TICKS = 2  # refreshes after both lists arrived, before the CPU window opens
KEY_GAP = 0.1  # between presses (a fast typist), so presses spread over many refresh cycles
KEY_GROUPS = {"sort": ("c", "m"), "scroll": ("down", "pagedown"), "view": None, "drill": ("enter", "escape")}
# view -> (its key, switch away and back)
VIEW_KEYS = {"nodes": ("1", ("2", "1")), "pods": ("2", ("1", "2")), "workloads": ("3", ("1", "3")),
             "namespaces": ("4", ("1", "4"))}
KEY_CHARS = {"enter": "\r", "escape": "\x1b"}
# cpu_pct: the issue's own restatement of 250 ms at 2 s. The app's interval is the
# pause after a refresh, so its ticks come further apart than 2 s and each costs
# more: bench/refresh_cpu.py --interval measures a shorter pause too.
TARGETS = {"after_lists_s": 3.0, "cpu_ms": 250.0, "cpu_pct": 12.5, "key_p95_ms": 100.0, "rss_mb": 600.0}


# -- child: the dashboard ------------------------------------------------------------


def emit(event: str, **fields) -> None:
    # sys.__stdout__: the pipe to the parent, whatever Textual does with sys.stdout.
    sys.__stdout__.write(json.dumps({"event": event, **fields}) + "\n")
    sys.__stdout__.flush()


async def from_parent() -> str:
    # A blocking read in a worker thread: the event loop keeps running the app meanwhile.
    return (await asyncio.to_thread(sys.stdin.readline)).strip()


def proc_status_mb(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def percentile(values: list[float], q: float) -> float:
    """Nearest rank: a value that was really measured (p95 of 20 is the 19th)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def list_arrived(app, source: str) -> bool:
    """The first LIST of nodes or pods is in."""
    feed = app.session.feed
    return feed is not None and feed.listed(source)


def rows_shown(app, table_id: str) -> int:
    from textual.css.query import NoMatches

    try:
        return len(app.screen.query_one(f"#{table_id}").rows)
    except NoMatches:  # the MainScreen is not up yet
        return 0


async def next_refresh(app, deadline: float, poll: float = POLL) -> bool:
    """Wait for the next finished refresh; False at the deadline."""
    count = app.refresh_count
    while app.refresh_count == count:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(poll)
    return True


async def settle(pilot) -> None:
    """Until everything a key set off is handled (its binding's action, the messages
    that posts, a pushed or popped screen mounting) and the screen is repainted.

    Pilot.press() and Pilot.pause() without a delay also wait for "CPU idle"
    (textual._wait.wait_for_idle compares process_time with wall time), which
    never comes while a refresh joins rows in a worker thread: they would add up
    to 1 s per call that is the pilot's, not the app's. pause(0) only waits for
    the messages queued so far, then paints what is dirty at once (as the 60 Hz
    update timer would, up to 16 ms later; headless, the frame is built but not
    written). Repeat until no queue has anything left and the screen stayed put.
    """
    app = pilot.app
    for _ in range(100):  # bound: something posting forever must not hang the benchmark
        screen = app.screen
        await pilot.pause(0)
        pumps = (app, *app.screen.walk_children(with_self=True))
        if app.screen is screen and not any(p.message_queue_size for p in pumps):
            return


class GCTimer:
    """Time the cyclic garbage collector spends, per generation (all threads)."""

    def __init__(self) -> None:
        self.ms = [0.0, 0.0, 0.0]
        self._began = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.ms[info["generation"]] += (time.perf_counter() - self._began) * 1000


GC = GCTimer()


async def press(pilot, key: str) -> float:
    """Milliseconds from sending `key` (as Pilot.press does) to the screen showing its effect."""
    from textual import events

    event = events.Key(key, KEY_CHARS.get(key, key if len(key) == 1 else None))
    event.set_sender(pilot.app)
    began = time.perf_counter()
    pilot.app.post_message(event)  # into the app's queue now (the driver would schedule it for later)
    await settle(pilot)
    return (time.perf_counter() - began) * 1000


async def first_screen(app, pilot, started: float, deadline: float) -> None:
    marks: dict[str, float] = {}

    def mark(name: str) -> None:
        marks.setdefault(name, round(time.perf_counter() - started, 3))

    while "pods_rows" not in marks and time.monotonic() < deadline:
        for source in ("nodes", "pods"):
            if list_arrived(app, source):
                mark(f"{source}_list")
            if f"{source}_rows" not in marks and rows_shown(app, source):
                await pilot.pause(0)  # and painted
                mark(f"{source}_rows")
                if source == "nodes":
                    emit("first_screen", **marks)  # the parent starts the cluster clock now
        await asyncio.sleep(0.01)
    if "nodes_rows" not in marks:
        emit("first_screen", **marks)
    emit("pods_screen", **marks)


async def cpu_per_tick(app, ticks: int, deadline: float) -> None:
    # Steady state: both lists in, then a couple of refreshes.
    while (app.session.snapshot is None or app.session.snapshot.loading) and await next_refresh(app, deadline):
        pass
    for _ in range(WARMUP_TICKS):
        await next_refresh(app, deadline)
    fetches = app.session.feed.pod_metrics_fetches
    cpu, wall = [time.process_time()], [time.perf_counter()]  # process_time: all threads of the process
    while len(cpu) <= ticks and await next_refresh(app, deadline, CPU_POLL):
        cpu.append(time.process_time())
        wall.append(time.perf_counter())
    deltas = [(b - a) * 1000 for a, b in itertools.pairwise(cpu)]
    n = len(deltas)
    emit("ticks", ticks=n, wanted=ticks,
         mean_ms=round((cpu[-1] - cpu[0]) * 1000 / n, 1) if n else None,
         median_ms=round(statistics.median(deltas), 1) if n else None,
         max_ms=round(max(deltas), 1) if n else None,
         period_s=round((wall[-1] - wall[0]) / n, 2) if n else None,
         core_pct=round((cpu[-1] - cpu[0]) * 100 / (wall[-1] - wall[0]), 1) if n else None,
         pod_metrics_fetches=app.session.feed.pod_metrics_fetches - fetches)


async def key_latency(app, pilot, presses: int, deadline: float) -> None:
    samples: dict[str, list[float]] = {}
    during_refresh = wanted = 0
    in_gc: list[float] = []  # of each press, the garbage collector's share
    priority = app.session.priority  # the join steps aside for input
    phase = (time.perf_counter(), app.refresh_count, priority.waited)
    for view, (home, switch) in VIEW_KEYS.items():
        await press(pilot, home)  # unmeasured: onto this view
        plan = [(group, key) for group, keys in KEY_GROUPS.items() for key in (keys or switch)]
        wanted += presses * len(plan)
        for _ in range(presses):
            for group, key in plan:
                if time.monotonic() > deadline:
                    break
                await asyncio.sleep(KEY_GAP)
                await settle(pilot)  # unmeasured: a refresh's repaint pending since
                count, collected = app.refresh_count, sum(GC.ms)
                samples.setdefault(f"{view} {group}", []).append(await press(pilot, key))
                during_refresh += app.refresh_count != count
                in_gc.append(sum(GC.ms) - collected)
    await press(pilot, "1")
    groups = {name: {"n": len(v), "p50": round(percentile(v, 50), 1), "p95": round(percentile(v, 95), 1),
                     "max": round(max(v), 1)} for name, v in samples.items()}
    every = [ms for v in samples.values() for ms in v]
    emit("keys", groups=groups, n=len(every), wanted=wanted, refreshes_landed=during_refresh,
         p95=round(percentile(every, 95), 1) if every else None,
         gc_p95=round(percentile(in_gc, 95), 1) if in_gc else None, gc_max=round(max(in_gc, default=0), 1),
         phase_s=round(time.perf_counter() - phase[0], 1), phase_refreshes=app.refresh_count - phase[1],
         join_waited_s=round(priority.waited - phase[2], 1))


async def memory_after_history(app, steps: int, deadline: float) -> None:
    emit("history_start")
    await from_parent()  # the parent has stopped moving the clock in real time
    # Only wake() refreshes from here: the timer's next refresh (at most one
    # interval away) is the last one; then each refresh starts after an advance.
    app.interval = 3600
    await next_refresh(app, deadline)
    done = 0
    trajectory = [proc_status_mb("VmRSS")]  # every 10 refreshes: a plateau, or growth?
    while done < steps and time.monotonic() < deadline:
        emit("advance", seconds=RESOLUTION)
        await from_parent()
        app.session.wake()
        if not await next_refresh(app, deadline):
            # The phase limit came mid-refresh: measured once it has landed, as
            # every other figure here is, not with the join's lists half made.
            await next_refresh(app, time.monotonic() + LANDING_GRACE)
            break
        done += 1
        if done % 10 == 0:
            trajectory.append(proc_status_mb("VmRSS"))
    emit("memory", steps=done, wanted=steps, minutes=round(done * RESOLUTION / 60, 2),
         rss_mb=proc_status_mb("VmRSS"), hwm_mb=proc_status_mb("VmHWM"),
         history_entities=len(app.session.history), trajectory=trajectory)


async def run_child(args: argparse.Namespace) -> None:
    from ktopui.live.session import ClusterSession
    from ktopui.ui.app import KtopApp

    app = KtopApp(ClusterSession.from_kubeconfig(kubeconfig=args.child, interval=INTERVAL))
    limit = args.phase_limit
    started = time.perf_counter()
    async with app.run_test(size=args.size) as pilot:
        await first_screen(app, pilot, started, time.monotonic() + limit)
        await cpu_per_tick(app, args.ticks, time.monotonic() + limit)
        await key_latency(app, pilot, args.presses, time.monotonic() + limit)
        await memory_after_history(app, args.history_ticks, time.monotonic() + limit)
        emit("done", refreshes=app.refresh_count, running=app.is_running,
             errors=sorted(app.session.snapshot.errors) if app.session.snapshot else [])


# -- parent: the cluster and its clock ---------------------------------------------------


class Pacer:
    """Moves the frozen cluster clock `step` seconds every `step` real seconds: a live
    cluster, whose time the parent can take back for the history phase."""

    def __init__(self, cluster, step: float) -> None:
        self.cluster, self.step = cluster, step
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        if not self._thread.is_alive():
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    def _run(self) -> None:
        due = time.monotonic() + self.step
        while not self._stop.wait(max(0.0, due - time.monotonic())):
            self.cluster.advance(self.step)
            due += self.step


def verdict(value: float | None, target: float) -> str:
    return "n/a" if value is None else "ok" if value <= target else "MISSED"


def summary(r: dict) -> None:
    def v(value, unit: str) -> str:
        return "n/a" if value is None else f"{value} {unit}"

    def row(what: str, measured: str, target: float | None = None, value: float | None = None,
            unit: str = "", phase: dict | None = None, done: str = "") -> None:
        line = f"{what:<48}{measured:>18}"
        if target is not None:
            line += f"   <= {target:g} {unit}: {verdict(value, target)}"
        if phase is not None and phase.get(done) != phase.get("wanted"):
            line += f"  (partial: {phase.get(done)} of {phase.get('wanted')})"
        print(line)

    first, pods = r.get("first_screen", {}), r.get("pods_screen", {})
    ticks, keys, mem = r.get("ticks", {}), r.get("keys", {}), r.get("memory", {})
    after = (round(first["nodes_rows"] - first["nodes_list"], 2)
             if "nodes_rows" in first and "nodes_list" in first else None)
    print(f"\n{'what':<48}{'measured':>18}   target")
    row("a. node LIST arrived (after app start)", v(first.get("nodes_list"), "s"))
    row("a. nodes table shows rows (after app start)", v(first.get("nodes_rows"), "s"))
    row("a. first usable screen after the lists arrive", v(after, "s"), TARGETS["after_lists_s"], after, "s")
    row("   pod LIST arrived / pods table shows rows",
        f"{v(pods.get('pods_list'), 's')} / {v(pods.get('pods_rows'), 's')}")
    row("b. CPU per refresh tick, mean over the window", v(ticks.get("mean_ms"), "ms"), TARGETS["cpu_ms"],
        ticks.get("mean_ms"), "ms", ticks, "ticks")
    row("b. CPU share of one core over the window", v(ticks.get("core_pct"), "%"), TARGETS["cpu_pct"],
        ticks.get("core_pct"), "%")
    row("   per tick: median / max", f"{v(ticks.get('median_ms'), 'ms')} / {v(ticks.get('max_ms'), 'ms')}")
    print(f"   ({ticks.get('ticks')} ticks, one every {v(ticks.get('period_s'), 's')}; the full pod metrics list was "
          f"fetched {ticks.get('pod_metrics_fetches')} times in the window, once per {RESOLUTION:g} s of cluster "
          f"time, so the mean over the whole window is the honest figure, not the median)")
    row("c. key to screen, p95 of all presses", v(keys.get("p95"), "ms"), TARGETS["key_p95_ms"], keys.get("p95"),
        "ms", keys, "n")
    for name, g in keys.get("groups", {}).items():
        print(f"   {name:<14} n={g['n']:<4} p50 {g['p50']:>7} ms   p95 {g['p95']:>7} ms   max {g['max']:>7} ms")
    print(f"   (a refresh finished during {keys.get('refreshes_landed')} of {keys.get('n')} presses; "
          f"{keys.get('phase_refreshes')} refreshes in the {keys.get('phase_s')} s of this phase, their joins "
          f"waiting {keys.get('join_waited_s')} s in all for input; garbage collection per press: "
          f"p95 {keys.get('gc_p95')} ms, max {keys.get('gc_max')} ms)")
    row("d. resident memory (VmRSS) after history", v(mem.get("rss_mb"), "MB"), TARGETS["rss_mb"], mem.get("rss_mb"),
        "MB", mem, "steps")
    print(f"   ({mem.get('minutes')} minutes of simulated history in {mem.get('steps')} refreshes; "
          f"peak VmHWM {v(mem.get('hwm_mb'), 'MB')}; {mem.get('history_entities')} entities with history)")
    if mem.get("trajectory"):
        print(f"   (VmRSS at the start of this phase, then every 10 refreshes: {', '.join(map(str, mem['trajectory']))} MB)")


def parse_size(text: str) -> tuple[int, int]:
    width, height = text.lower().split("x")
    return int(width), int(height)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--pods-per-node", type=int, default=30)
    parser.add_argument("--ticks", type=int, default=30, help="refresh ticks in the CPU window (default 30)")
    parser.add_argument("--presses", type=int, default=20, help="presses of each key on each view (default 20)")
    parser.add_argument("--history-ticks", type=int, default=60, help="refreshes 15 s apart (default 60 = 15 min)")
    parser.add_argument("--size", type=parse_size, default=(160, 45), help="terminal WIDTHxHEIGHT (default 160x45)")
    parser.add_argument("--phase-limit", type=float, default=180, help="seconds per phase at most (default 180)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", metavar="KUBECONFIG", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(run_child(args))
        return 0

    from ktopui.sim.cluster import SimOptions
    from ktopui.sim.server import SimServer

    began = time.monotonic()
    opts = SimOptions(nodes=args.nodes, pods_per_node=args.pods_per_node, seed=args.seed, frozen=True,
                      churn_per_minute=None)
    results: dict[str, dict] = {}
    with SimServer(opts) as server, tempfile.TemporaryDirectory() as tmp:
        kubeconfig = str(server.write_kubeconfig(Path(tmp) / "kubeconfig"))
        print(f"dashboard: {args.nodes} nodes x {args.pods_per_node} pods ({args.nodes * args.pods_per_node} pods), "
              f"all namespaces, {args.size[0]}x{args.size[1]}, interval {INTERVAL:.0f} s; "
              f"sim ready in {time.monotonic() - began:.1f} s", flush=True)
        pacer = Pacer(server.cluster, INTERVAL)
        child = subprocess.Popen(
            [sys.executable, __file__, "--child", kubeconfig, "--ticks", str(args.ticks),
             "--presses", str(args.presses), "--history-ticks", str(args.history_ticks),
             "--size", f"{args.size[0]}x{args.size[1]}", "--phase-limit", str(args.phase_limit)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        try:
            for line in child.stdout:
                try:
                    message = json.loads(line)
                except ValueError:
                    print(line.rstrip(), flush=True)  # not ours: pass it on
                    continue
                event = message.pop("event")
                if event == "first_screen":
                    pacer.start()  # (b) and (c): cluster time moves at real-time pace
                elif event == "history_start":
                    pacer.stop()  # (d): the parent moves it, one resolution per refresh
                elif event == "advance":
                    server.cluster.advance(message["seconds"])
                if event in ("history_start", "advance"):
                    child.stdin.write("ok\n")
                    child.stdin.flush()
                    continue
                results[event] = message
                print(f"  {event}: {json.dumps(message)}", flush=True)
        finally:
            pacer.stop()
            code = child.wait()
    done = results.get("done", {})
    if code != 0 or not done.get("running"):
        print(f"dashboard: the app did not finish (exit code {code})", file=sys.stderr)
        return 1
    summary(results)
    print(f"\ndashboard: finished in {time.monotonic() - began:.0f} s; {done['refreshes']} refreshes; "
          f"errors at the end: {done['errors'] or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
