"""The dashboard with a real Prometheus at 5,000 nodes x 30 pods: trends on the first screen,
refresh CPU beside the same dashboard without Prometheus, and the load one minute of use puts
on Prometheus.

    python bench/prometheus_load.py [--nodes 5000] [--pods-per-node 30] [--ticks 20]
                                    [--minute 60] [--size 160x45] [--phase-limit 180]

The parent builds the simulated cluster with a frozen clock, writes the history a Prometheus
would hold for it, starts a real `prometheus` on those blocks and exposes it as kube-prometheus
does (monitoring/prometheus-k8s, found by discovery through the API server's service proxy, as
a user's dashboard finds it). A child process runs the dashboard headless through Textual's
test driver and reports JSON lines (as bench/dashboard.py does, whose helpers it uses):

  a. from the node LIST to the visible nodes' sparklines backfilled (target <= 3 s; the
     header's cluster trend, a sum over every node, reported beside it), and how many points
     each holds; then the pods view's visible rows, from the key press;
  b. CPU per refresh tick at the 2 s interval once the backfill is done, and the same in a
     second child with --no-prometheus against the same cluster (the ratio);
  c. a scripted minute of use (sort, page, switch views, pick a namespace and back, drill
     into a pod and a workload with the range keys 1h, 24h and 7d, and the pods view long
     enough for THROTTLE% to be asked again): the client's stats (queries, samples, bytes,
     cache hits), the most queries in flight at once (the client allows 4), per query kind.

The history: a Prometheus scraping 150,000 pods' cAdvisor through the Python simulator for
half an hour would need half an hour and both cores, so the parent writes what such a
Prometheus would hold instead, as OpenMetrics turned into TSDB blocks by `promtool tsdb
create-blocks-from openmetrics`: for every running container of every pod (not only those
that will be on screen: the engine's index and the all-namespace sums are as large as the
cluster's) and every node's root cgroup, over the sparklines' span (120 samples at the 15 s
resolution) and a little before, a sample every 30 s (kube-prometheus's cAdvisor interval).
Values are each container's baseline from the simulator (the level its live samples wander
around) with numpy noise, not the simulator's per-scrape usage function: that hashes in
Python per container and scrape, tens of millions of calls, minutes on 2 cores. The series
carry the labels the queries select on (container, image, namespace, pod, node; id="/" for
nodes); the pod cgroup and pause rows cAdvisor also has are left out, so the engine's
matching is somewhat lighter than a real cluster's. The history ends at the cluster's time
when the engine starts; the parent then moves the cluster's clock to real time (the
dashboard's), so the newest minutes of a sparkline are the live samples'.

Each phase stops at --phase-limit seconds and reports what it measured: a phase cut short
shows n/a, or fewer ticks or keys than asked for.
Exits 0 unless the app crashed or did not finish; the figures are informational.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from dashboard import (
    INTERVAL,
    Pacer,
    cpu_per_tick,
    emit,
    list_arrived,
    parse_size,
    rows_shown,
    settle,
)

SCRAPE = 30.0  # seconds between the generated samples (kube-prometheus scrapes cAdvisor every 30 s)
SPAN = 35 * 60.0  # seconds of generated history: the 30-minute sparklines and the rate window before
# Seconds of samples after the cluster's time at generation: the engine starts minutes later
# (promtool), and the run lasts minutes more. A query sees a sample only once its time has
# come, as if it had just been scraped, so THROTTLE%'s last 5 minutes and the newest points
# of a sparkline have data all through the run.
AHEAD = 30 * 60.0
TARGETS = {"trends_s": 3.0, "in_flight": 4}
POLL = 0.01
NAMESPACE = "kube-system"  # picked in the minute: the largest (a few daemon pods per node)
KUBE_PROMETHEUS = {"app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": "k8s",
                   "app.kubernetes.io/part-of": "kube-prometheus"}


# -- child: the dashboard ------------------------------------------------------------


class Recorder:
    """What the client sends, by kind, and the most requests open at once. The client keeps
    totals (PromStats); kinds and the peak in flight are this benchmark's own, so it wraps the
    two methods of PromClient every query passes: _answer (one per query sent, with its
    decoded result) and _read (one HTTP request, inside the client's in-flight limit)."""

    def __init__(self) -> None:
        self.in_flight = self.peak = 0
        self.kinds: dict[str, Counter] = defaultdict(Counter)

    def install(self) -> None:
        from ktopui.kube.prometheus import PromClient

        answer, read = PromClient._answer, PromClient._read
        recorder = self

        async def counted_answer(client, path, form):
            result = await answer(client, path, form)
            kind = recorder.kinds[query_kind(path, form.get("query", ""))]
            kind["queries"] += 1
            kind["samples"] += sum(len(s.values) for s in result.series)
            kind["series"] += len(result.series)
            return result

        async def counted_read(client, method, path, form, what):
            recorder.in_flight += 1
            recorder.peak = max(recorder.peak, recorder.in_flight)
            try:
                body = await read(client, method, path, form, what)
            finally:
                recorder.in_flight -= 1
            recorder.kinds[query_kind(path, form.get("query", ""))]["bytes"] += len(body)
            return body

        PromClient._answer, PromClient._read = counted_answer, counted_read

    def take(self) -> tuple[dict, int]:
        """The kinds and peak since the last take, and start counting afresh."""
        kinds, peak = {k: dict(v) for k, v in sorted(self.kinds.items())}, self.peak
        self.kinds, self.peak = defaultdict(Counter), self.in_flight
        return kinds, peak


def query_kind(path: str, expr: str) -> str:
    """A name for what a query is for, from its expression (model/promql.py's shapes)."""
    ranged = "range" if path.endswith("query_range") else "instant"
    if "cfs" in expr:
        what = "throttling"
    elif 'id="/"' in expr:
        what = "cluster" if expr.startswith("sum(") else "nodes"
    elif expr.startswith("sum by (namespace) ("):
        what = "namespaces"
    elif expr.startswith(("sum by (namespace, pod) (", "sum by (namespace, owner) (")):
        what = "workloads"
    elif "container_" in expr:
        what = "pods"
    else:
        what = "other"  # the recording rules' probe
    return f"{ranged} {what}"


def visible_keys(app) -> list:
    """The history keys the active table's visible rows draw (as DashboardScreen.want_history asks)."""
    screen = app.screen
    table = getattr(screen, "active_table", lambda: None)()
    if table is None:
        return []
    key_fns = list(dict.fromkeys(c.history_key for c in table.columns if c.history_key is not None))
    return list(dict.fromkeys(key_of(row) for row in table.shown_rows() for key_of in key_fns))


def points(app, keys: list) -> list[int]:
    return [len(app.session.history.times(key)) for key in keys]


async def until_filled(app, started: float, deadline: float) -> dict:
    """Seconds from `started` until the visible rows' keys are all filled from Prometheus (None at
    the deadline), and their points then."""
    while time.monotonic() < deadline:
        prom = app.session.prom
        keys = visible_keys(app)
        if prom is not None and prom.backfill is not None and keys and set(keys) <= prom.backfill.filled:
            counts = points(app, keys)
            return {"filled_s": round(time.perf_counter() - started, 3), "rows": len(keys),
                    "points_min": min(counts), "points_median": statistics.median(counts),
                    "without_points": counts.count(0)}  # (pods not running: no history anywhere)
        await asyncio.sleep(POLL)
    return {"filled_s": None, "rows": len(visible_keys(app)), "failure": app.session.prom.problem
            if app.session.prom else ""}


async def first_trends(app, pilot, deadline: float) -> None:
    """(a): the node LIST, the nodes table, its rows' sparklines filled, the header's trend."""
    from ktopui.model import history_keys

    began = time.perf_counter()
    marks: dict[str, float] = {}
    while "nodes_rows" not in marks and time.monotonic() < deadline:
        if list_arrived(app, "nodes"):
            marks.setdefault("nodes_list", round(time.perf_counter() - began, 3))
        if rows_shown(app, "nodes"):
            await pilot.pause(0)
            marks["nodes_rows"] = round(time.perf_counter() - began, 3)
        await asyncio.sleep(POLL)
    emit("first_screen", **marks)  # the parent starts the cluster clock now
    filled = await until_filled(app, began, deadline)
    while time.monotonic() < deadline:
        backfill = app.session.prom.backfill if app.session.prom else None
        if backfill is not None and history_keys.CLUSTER in backfill.filled:
            filled["cluster_s"] = round(time.perf_counter() - began, 3)
            filled["cluster_points"] = len(app.session.history.times(history_keys.CLUSTER))
            break
        await asyncio.sleep(POLL)
    emit("trends", **marks, **filled)


async def pods_trends(app, pilot, deadline: float) -> None:
    """(a, then): from pressing 2 to the pods table showing rows (the pod LIST, 150,000 pods, may
    still be on its way) and to their sparklines filled."""
    began = time.perf_counter()
    await press(app, pilot, "2")
    while not rows_shown(app, "pods") and time.monotonic() < deadline:
        await asyncio.sleep(POLL)
    rows = round(time.perf_counter() - began, 3)
    filled = await until_filled(app, began, deadline)
    emit("pods_trends", rows_s=rows, **filled)


async def press(app, pilot, key: str) -> None:
    """`key` into the app's queue and handled (Pilot.press would also wait for an idle CPU,
    which never comes while Prometheus's answers are sorted into history in a worker thread)."""
    from textual import events

    name = {"-": "minus"}.get(key, key)
    event = events.Key(name, {"enter": "\r", "escape": "\x1b"}.get(key, key if len(key) == 1 else None))
    event.set_sender(app)
    app.post_message(event)
    await settle(pilot)


async def backfill_idle(app, deadline: float) -> None:
    backfill = app.session.prom.backfill if app.session.prom else None
    while backfill is not None and backfill.busy and time.monotonic() < deadline:
        await asyncio.sleep(0.1)


def script(minute: float) -> list[tuple[str, float]]:
    """(key, seconds to stay after it): a minute of use, ending on the pods view long enough
    after its first visit for THROTTLE% to be asked again (at most once a minute). Another
    `minute` scales the stays (a smoke run's few seconds)."""
    keys = [
        ("2", 3), ("c", 2), ("pagedown", 2), ("pagedown", 2), ("m", 2),  # pods: sort, page
        ("1", 2), ("c", 1), ("pagedown", 2),  # nodes
        ("3", 3), ("pagedown", 2),  # workloads
        ("4", 3),  # namespaces
        ("2", 1), ("s", 0.5), *((c, 0) for c in NAMESPACE), ("enter", 3),  # a namespace typed and picked
        ("c", 1), ("enter", 1), ("6", 2), ("8", 2), ("9", 2), ("escape", 1),  # the busiest pod: 1h, 24h, 7d
        ("3", 2), ("enter", 1), ("6", 2), ("escape", 1),  # a workload: 1h
        ("s", 1), ("up", 0.5), ("enter", 2),  # all namespaces again
        ("2", 0),  # pods: THROTTLE% asked again once a minute has passed since the first
    ]
    scale = minute / 60
    keys = [(key, wait * scale) for key, wait in keys]
    return keys[:-1] + [(keys[-1][0], max(0.0, minute - sum(wait for _, wait in keys)))]


async def scripted_minute(app, pilot, minute: float, recorder: Recorder, deadline: float) -> None:
    """(c): the keys of script(), then the client's counts over the minute and per kind."""
    client = app.session.prom.client
    before = dict(vars(client.stats))
    recorder.take()
    began = time.perf_counter()
    pressed = 0
    for key, wait in script(minute):
        if time.monotonic() > deadline:
            break
        await press(app, pilot, key)
        pressed += 1
        await asyncio.sleep(wait)
    await backfill_idle(app, deadline)  # what the minute asked for, answered
    while recorder.in_flight and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    seconds = time.perf_counter() - began
    after = vars(client.stats)
    kinds, peak = recorder.take()
    totals = {name: after[name] - before[name] for name in after}
    emit("minute", seconds=round(seconds, 1), keys=pressed, wanted=len(script(minute)), peak_in_flight=peak,
         **totals, per_minute={name: round(value * 60 / seconds, 1) for name, value in totals.items()},
         kinds=kinds, failure=app.session.prom.problem, warning=app.session.prom.warning)


async def run_child(args: argparse.Namespace) -> None:
    from ktopui.kube.prometheus_settings import PromSettings
    from ktopui.live.session import ClusterSession
    from ktopui.ui.app import KtopApp

    recorder = Recorder()
    recorder.install()
    with_prometheus = args.child_mode == "prometheus"
    app = KtopApp(ClusterSession.from_kubeconfig(kubeconfig=args.child, interval=INTERVAL,
                                                 prometheus=PromSettings(enabled=with_prometheus)))
    limit = args.phase_limit
    async with app.run_test(size=args.size) as pilot:
        if with_prometheus:
            await first_trends(app, pilot, time.monotonic() + limit)
            await pods_trends(app, pilot, time.monotonic() + limit)
            await press(app, pilot, "1")
            await backfill_idle(app, time.monotonic() + limit)
        else:
            await plain_first(app)
        await cpu_per_tick(app, args.ticks, time.monotonic() + limit)
        if with_prometheus:
            await scripted_minute(app, pilot, args.minute, recorder, time.monotonic() + limit + args.minute)
        prom = app.session.prom
        emit("done", refreshes=app.refresh_count, running=app.is_running,
             source=prom.label if prom else "", stats=vars(prom.client.stats) if prom and prom.client else {},
             errors=sorted(app.session.snapshot.errors) if app.session.snapshot else [])


async def plain_first(app) -> None:
    while not rows_shown(app, "nodes"):
        await asyncio.sleep(POLL)
    emit("first_screen")


# -- parent: the cluster, its history, Prometheus ---------------------------------------------


def write_history(cluster, path: Path, end: float, seed: int) -> tuple[int, int]:
    """OpenMetrics for every running container and node from SPAN before `end` to AHEAD after it:
    (series, samples).
    Containers with a CPU limit get CFS counters throttled as the simulator throttles their baseline."""
    from ktopui.sim.cadvisor import PERIODS_PER_SECOND, throttled_periods

    rng = np.random.default_rng(seed)
    times = np.arange(end - SPAN, end + AHEAD + 1, SCRAPE) // SCRAPE * SCRAPE
    stamps = [f" {t:.0f}\n" for t in times]
    n = len(times)
    series = 0
    node_cpu: dict[str, float] = {}
    node_mem: dict[str, float] = {}
    for node in cluster.nodes:
        node_cpu[node.name], node_mem[node.name] = node.sys_cpu, node.sys_mem
    containers = []  # (labels, nanocores, bytes, periods throttled a second or None: no CPU limit)
    for pod in cluster.pods:
        if pod.phase != "Running" or pod.node is None:
            continue
        node = pod.node.name
        for spec, cpu, mem in zip(pod.running_specs, pod.cpu_base, pod.mem_base, strict=False):
            labels = (f'container="{spec.name}",image="{spec.image}",namespace="{pod.namespace}",'
                      f'node="{node}",pod="{pod.name}"')
            throttled = None if spec.cpu_lim is None else throttled_periods(round(cpu), spec.cpu_lim, 1000) / 1000
            containers.append((labels, cpu, mem, throttled))
            node_cpu[node] += cpu
            node_mem[node] += mem
    roots = [(f'id="/",node="{name}"', node_cpu[name], node_mem[name], None) for name in sorted(node_cpu)]

    def counter(nanocores: float) -> np.ndarray:
        rates = nanocores / 1e9 * rng.uniform(0.8, 1.2, n)
        return np.cumsum(rates * SCRAPE) + nanocores / 1e9 * 3600  # began an hour before

    with open(path, "w") as out:
        out.write("# TYPE container_cpu_usage_seconds counter\n")
        for labels, cpu, _, _ in (*containers, *roots):
            head = f"container_cpu_usage_seconds_total{{{labels}}} "
            out.write("".join(f"{head}{v:.6f}{s}" for v, s in zip(counter(cpu).tolist(), stamps, strict=True)))
            series += 1
        out.write("# TYPE container_memory_working_set_bytes gauge\n")
        for labels, _, mem, _ in (*containers, *roots):
            head = f"container_memory_working_set_bytes{{{labels}}} "
            values = (mem * rng.uniform(0.95, 1.05, n)).astype(np.int64) & ~4095
            out.write("".join(f"{head}{v}{s}" for v, s in zip(values.tolist(), stamps, strict=True)))
            series += 1
        for family, of_throttled in (("container_cpu_cfs_periods", False), ("container_cpu_cfs_throttled_periods", True)):
            out.write(f"# TYPE {family} counter\n")
            for labels, _, _, throttled in containers:
                if throttled is None:
                    continue
                head = f"{family}_total{{{labels}}} "
                per_second = PERIODS_PER_SECOND * (throttled if of_throttled else 1.0)
                values = np.arange(n) * round(per_second * SCRAPE) + round(per_second * 3600)
                out.write("".join(f"{head}{v}{s}" for v, s in zip(values.tolist(), stamps, strict=True)))
                series += 1
        out.write("# EOF\n")
    return series, series * n


def summary(r: dict) -> None:
    def v(value, unit: str = "") -> str:
        return "n/a" if value is None else f"{value}{unit}"

    trends, pods, ticks, plain = r.get("trends", {}), r.get("pods_trends", {}), r.get("ticks", {}), r.get("plain", {})
    minute = r.get("minute", {})
    after = (round(trends["filled_s"] - trends["nodes_list"], 2)
             if trends.get("filled_s") is not None and "nodes_list" in trends else None)
    print(f"\n{'what':<56}{'measured':>16}   target")

    def row(what: str, measured: str, target: float | None = None, value: float | None = None) -> None:
        line = f"{what:<56}{measured:>16}"
        if target is not None:
            line += f"   <= {target:g}: " + ("n/a" if value is None else "ok" if value <= target else "MISSED")
        print(line)

    row("a. node LIST arrived (after app start)", v(trends.get("nodes_list"), " s"))
    row("a. visible nodes' sparklines filled after the LIST", v(after, " s"), TARGETS["trends_s"], after)
    print(f"   ({trends.get('rows')} visible nodes, points per sparkline: min {trends.get('points_min')}, "
          f"median {trends.get('points_median')}; the header's cluster trend filled "
          f"{v(trends.get('cluster_s'), ' s')} after app start with {trends.get('cluster_points')} points)")
    pods_after = (round(pods["filled_s"] - pods["rows_s"], 2)
                  if pods.get("filled_s") is not None and pods.get("rows_s") is not None else None)
    row("a. pods view: pods table shows rows after pressing 2", v(pods.get("rows_s"), " s"))
    row("a. pods view: visible pods filled after their rows", v(pods_after, " s"), TARGETS["trends_s"], pods_after)
    print(f"   ({pods.get('rows')} visible pods, points per sparkline: min {pods.get('points_min')}, "
          f"median {pods.get('points_median')}; {pods.get('without_points')} without any: not running)")
    ratio = (round(ticks["mean_ms"] / plain["mean_ms"], 2)
             if ticks.get("mean_ms") and plain.get("mean_ms") else None)
    row("b. CPU per refresh tick with Prometheus, mean", v(ticks.get("mean_ms"), " ms"))
    row("b. CPU per refresh tick with --no-prometheus, mean", v(plain.get("mean_ms"), " ms"))
    row("b. ratio with / without", v(ratio))
    print(f"   (medians {v(ticks.get('median_ms'), ' ms')} / {v(plain.get('median_ms'), ' ms')}; "
          f"{ticks.get('ticks')} and {plain.get('ticks')} ticks of {ticks.get('wanted')})")
    per = minute.get("per_minute", {})
    row("c. queries per minute of use", v(per.get("queries")))
    row("c. samples returned per minute", v(per.get("samples")))
    row("c. bytes read per minute (inflated)", v(per.get("bytes")))
    row("c. cache hits per minute", v(per.get("cache_hits")))
    row("c. most queries in flight at once", v(minute.get("peak_in_flight")), TARGETS["in_flight"],
        minute.get("peak_in_flight"))
    print(f"   ({minute.get('keys')} of {minute.get('wanted')} keys in {minute.get('seconds')} s; "
          f"failure: {minute.get('failure') or 'none'}; warning: {minute.get('warning') or 'none'})")
    print(f"   {'kind':<22}{'queries':>8}{'series':>9}{'samples':>11}{'bytes':>13}")
    for kind, counts in minute.get("kinds", {}).items():
        print(f"   {kind:<22}{counts.get('queries', 0):>8}{counts.get('series', 0):>9}"
              f"{counts.get('samples', 0):>11}{counts.get('bytes', 0):>13}")


def run_child_process(args, kubeconfig: str, mode: str, server, pacer: Pacer, results: dict) -> int:
    child = subprocess.Popen(
        [sys.executable, __file__, "--child", kubeconfig, "--child-mode", mode, "--ticks", str(args.ticks),
         "--minute", str(args.minute), "--size", f"{args.size[0]}x{args.size[1]}",
         "--phase-limit", str(args.phase_limit)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True,
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
                pacer.start()
            name = {"ticks": "plain", "done": "plain_done"}.get(event, event) if mode == "off" else event
            results[name] = message
            print(f"  {mode} {event}: {json.dumps(message)}", flush=True)
    finally:
        code = child.wait()
    return code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--pods-per-node", type=int, default=30)
    parser.add_argument("--ticks", type=int, default=20, help="refresh ticks in each CPU window (default 20)")
    parser.add_argument("--minute", type=float, default=60, help="seconds of scripted use (default 60)")
    parser.add_argument("--size", type=parse_size, default=(160, 45), help="terminal WIDTHxHEIGHT (default 160x45)")
    parser.add_argument("--phase-limit", type=float, default=180, help="seconds per phase at most (default 180)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", metavar="KUBECONFIG", help=argparse.SUPPRESS)
    parser.add_argument("--child-mode", choices=("prometheus", "off"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        asyncio.run(run_child(args))
        return 0

    from ktopui.sim.cluster import SimOptions
    from ktopui.sim.engines import have_prometheus, start_prometheus
    from ktopui.sim.server import SimServer

    if why := have_prometheus():
        print(f"prometheus_load: {why}", file=sys.stderr)
        return 1
    began = time.monotonic()
    opts = SimOptions(nodes=args.nodes, pods_per_node=args.pods_per_node, seed=args.seed, frozen=True,
                      churn_per_minute=None)
    results: dict[str, dict] = {}
    codes = []
    with SimServer(opts) as server, tempfile.TemporaryDirectory(prefix="prometheus-load-") as tmp:
        kubeconfig = str(server.write_kubeconfig(Path(tmp) / "kubeconfig"))
        print(f"prometheus_load: {args.nodes} nodes x {args.pods_per_node} pods, all namespaces, "
              f"{args.size[0]}x{args.size[1]}, interval {INTERVAL:.0f} s; sim ready in {time.monotonic() - began:.1f} s",
              flush=True)
        step = time.monotonic()
        history = Path(tmp) / "history.om"
        series, samples = write_history(server.cluster, history, server.cluster.now(), args.seed)
        print(f"  history: {series} series, {samples} samples, {history.stat().st_size / 2**20:.0f} MiB of "
              f"OpenMetrics in {time.monotonic() - step:.0f} s", flush=True)
        step = time.monotonic()
        with start_prometheus(Path(tmp) / "prometheus", blocks_from=history) as engine:
            history.unlink()
            print(f"  prometheus: blocks made and ready in {time.monotonic() - step:.0f} s", flush=True)
            server.expose_service("monitoring", "prometheus-k8s", KUBE_PROMETHEUS, 9090, engine.url)
            server.cluster.advance(max(0.0, time.time() - server.cluster.now()))  # to the dashboard's clock
            for mode in ("prometheus", "off"):
                pacer = Pacer(server.cluster, INTERVAL)
                try:
                    codes.append(run_child_process(args, kubeconfig, mode, server, pacer, results))
                finally:
                    pacer.stop()
                server.cluster.advance(max(0.0, time.time() - server.cluster.now()))
    done, plain_done = results.get("done", {}), results.get("plain_done", {})
    if any(codes) or not done.get("running") or not plain_done.get("running"):
        print(f"prometheus_load: an app did not finish (exit codes {codes})", file=sys.stderr)
        return 1
    summary(results)
    print(f"\nprometheus_load: finished in {time.monotonic() - began:.0f} s; source {done['source']}; "
          f"client totals {done['stats']}; errors at the end: {done['errors'] or 'none'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
