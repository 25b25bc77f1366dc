"""Load on the API server over N minutes of dashboard use, against `watch -n 2 kubectl top pods -A`.

    python bench/api_load.py [--minutes 10] [--nodes 5000] [--pods-per-node 30] [--kubectl PATH]

One simulated cluster, in this process, with its clock running in real time
(metrics move, pods churn). Phase A runs the dashboard (headless, in a child
process, 2 s interval) for N minutes; phase B runs `kubectl top pods -A` again
2 s after each run ends, as `watch -n 2` does, for N minutes, with the same
kubeconfig. For each phase: requests and bytes per minute by kind, from the
sim's request log, and the ratio ktopui/kubectl.

Bytes are response bodies as the sim counts them (no HTTP headers, no TLS).
The sim logs a watch only when its stream ends (the dashboard's watches last
5 minutes, so one still open when a phase ends would be missing altogether):
watches are counted here instead, as they open and as their chunks go out,
by a wrapper around the sim's request handler.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import parse_qs

from top_vs_kubectl import find_kubectl  # bench/ is on sys.path when run as a script

KINDS = ("pod list", "pod watch", "node list/watch", "node metrics", "pod metrics", "owner metadata",
         "resource quotas", "discovery/other")
INTERVAL = 2.0  # the dashboard's refresh interval, and watch's -n
GRACE = 2.0  # after a phase, for requests whose answer was still being computed (logged just before sending)


def kind(path: str, watching: bool) -> str:
    segs = path.strip("/").split("/")
    if segs[:2] == ["apis", "metrics.k8s.io"] and len(segs) > 3:
        return "pod metrics" if "pods" in segs[3:] else "node metrics"
    if segs[:2] == ["api", "v1"] and len(segs) > 2:
        if "pods" in segs[2:]:
            return "pod watch" if watching else "pod list"
        if segs[2] == "nodes":
            return "node list/watch"
        if "resourcequotas" in segs[2:]:
            return "resource quotas"
    if segs[:1] == ["apis"] and ("replicasets" in segs or "jobs" in segs):
        return "owner metadata"
    return "discovery/other"


def is_watch(query: dict[str, list[str]]) -> bool:
    return query.get("watch", [""])[0] in ("1", "true")


class WatchMeter:
    """Watch streams per (phase, kind): opened, and bytes sent while their phase lasts."""

    def __init__(self, server) -> None:
        self.phase: str | None = None
        self.opened: Counter = Counter()
        self.sent: Counter = Counter()
        self._lock = threading.Lock()
        handle = server.api.handle

        def counted(method, path, *rest, **named):
            response = handle(method, path, *rest, **named)
            if response.stream is not None:
                response.stream = self._count(kind(path, True), response.stream)
            return response

        server.api.handle = counted  # an instance attribute: this server only

    def _count(self, what: str, stream):
        phase = self.phase
        with self._lock:
            self.opened[phase, what] += 1
        try:
            for chunk in stream:
                if self.phase == phase:  # a dead client's stream can linger into the next phase
                    with self._lock:
                        self.sent[phase, what] += len(chunk)
                yield chunk
        finally:
            stream.close()


def tally(server, meter: WatchMeter, phase: str) -> tuple[Counter, Counter]:
    """(requests, bytes) by kind: the request log for everything but watches, the meter for watches."""
    requests, sent = Counter(), Counter()
    for r in list(server.requests):
        query = parse_qs(r.query)
        if not is_watch(query):
            requests[kind(r.path, False)] += 1
            sent[kind(r.path, False)] += r.bytes_sent
    with meter._lock:
        for (p, what), n in meter.opened.items():
            if p == phase:
                requests[what] += n
                sent[what] += meter.sent[p, what]
    return requests, sent


# -- phase A: the dashboard, in a child process ------------------------------------------


async def run_child(kubeconfig: str, seconds: float) -> None:
    from ktopui.live.session import ClusterSession
    from ktopui.ui.app import KtopApp

    app = KtopApp(ClusterSession.from_kubeconfig(kubeconfig=kubeconfig, interval=INTERVAL))
    async with app.run_test(size=(160, 45)):
        await asyncio.sleep(seconds)
        sys.__stdout__.write(json.dumps({"refreshes": app.refresh_count, "running": app.is_running,
                                         "errors": sorted(app.session.snapshot.errors) if app.session.snapshot else []}) + "\n")


def dashboard_phase(kubeconfig: str, seconds: float) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", kubeconfig, "--seconds", str(seconds)],
                          stdout=subprocess.PIPE, text=True, check=False)
    if proc.returncode != 0 or not proc.stdout.strip():
        raise SystemExit(f"api_load: the dashboard exited {proc.returncode} without finishing")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# -- phase B: watch -n 2 kubectl top pods -A ---------------------------------------------------


def kubectl_phase(kubectl: str, kubeconfig: str, seconds: float, home: str) -> dict:
    # As in top_vs_kubectl.py: no KUBECONFIG, kubectl's discovery cache in a temporary HOME
    # (kept across runs, as a user's ~/.kube/cache would be).
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG"}
    env["HOME"] = home
    began, runs, failed, last_error = time.monotonic(), 0, 0, ""
    while time.monotonic() - began < seconds:
        proc = subprocess.run([kubectl, "--kubeconfig", kubeconfig, "top", "pods", "-A"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, check=False)
        runs += 1
        if proc.returncode != 0:
            failed, last_error = failed + 1, proc.stderr.strip()[-300:]
        time.sleep(INTERVAL)  # watch -n 2: two seconds after the command ends
    return {"runs": runs, "failed": failed, "last_error": last_error}


# -- the report --------------------------------------------------------------------------------


def human(n: float) -> str:
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return f"{n / size:.2f} {unit}"
    return f"{n:.0f} B"


def ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}x" if theirs else "-"


def report(phases: dict[str, dict]) -> None:
    per_min = {name: (60 / p["seconds"]) for name, p in phases.items()}
    print(f"\n{'kind':<18}{'ktopui req/min':>15}{'kubectl req/min':>16}{'ratio':>8}"
          f"{'ktopui bytes/min':>18}{'kubectl bytes/min':>19}{'ratio':>8}")
    for what in (*KINDS, "total"):
        req = {n: (sum(p["requests"].values()) if what == "total" else p["requests"][what]) * per_min[n]
               for n, p in phases.items()}
        sent = {n: (sum(p["bytes"].values()) if what == "total" else p["bytes"][what]) * per_min[n]
                for n, p in phases.items()}
        print(f"{what:<18}{req['ktopui']:>15.1f}{req['kubectl']:>16.1f}{ratio(req['ktopui'], req['kubectl']):>8}"
              f"{human(sent['ktopui']):>18}{human(sent['kubectl']):>19}{ratio(sent['ktopui'], sent['kubectl']):>8}")
    total = {n: (sum(p["requests"].values()) * per_min[n], sum(p["bytes"].values()) * per_min[n])
             for n, p in phases.items()}
    print(f"\nwatch streams ({sum(phases['ktopui']['watches'].values())} opened in phase A) are counted when they open, and their "
          f"bytes as they are sent; everything else from the sim's request log")
    print(f"requests per minute ratio ktopui/kubectl: {ratio(total['ktopui'][0], total['kubectl'][0])}")
    print(f"bytes per minute ratio ktopui/kubectl: {ratio(total['ktopui'][1], total['kubectl'][1])}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of each phase (default 10)")
    parser.add_argument("--nodes", type=int, default=5000)
    parser.add_argument("--pods-per-node", type=int, default=30)
    parser.add_argument("--kubectl", default=find_kubectl(), help="kubectl binary (default: kubectl.1.33)")
    parser.add_argument("--child", metavar="KUBECONFIG", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        asyncio.run(run_child(args.child, args.seconds))
        return 0
    if not args.kubectl:
        print("kubectl.1.33 not found beside the kubectl dispatcher (set KUBECTL=... or --kubectl)", file=sys.stderr)
        return 2

    from ktopui.sim.cluster import SimOptions
    from ktopui.sim.server import SimServer

    seconds = args.minutes * 60
    opts = SimOptions(nodes=args.nodes, pods_per_node=args.pods_per_node, seed=1, frozen=False)
    phases: dict[str, dict] = {}
    with SimServer(opts) as server, tempfile.TemporaryDirectory(prefix="ktopui-bench-") as tmp:
        kubeconfig = str(server.write_kubeconfig(Path(tmp) / "kubeconfig"))
        meter = WatchMeter(server)
        print(f"api_load: {args.nodes} nodes x {args.pods_per_node} pods, clock running, "
              f"{args.minutes:g} minutes per phase; kubectl: {args.kubectl}", flush=True)
        for name, run in (("ktopui", lambda: dashboard_phase(kubeconfig, seconds)),
                          ("kubectl", lambda: kubectl_phase(args.kubectl, kubeconfig, seconds, tmp))):
            server.requests.clear()
            meter.phase = name
            began = time.monotonic()
            info = run()
            elapsed = time.monotonic() - began
            time.sleep(GRACE)
            requests, sent = tally(server, meter, name)
            meter.phase = None
            phases[name] = {"seconds": elapsed, "requests": requests, "bytes": sent,
                            "watches": Counter({k: n for (p, k), n in meter.opened.items() if p == name})}
            print(f"phase {'A' if name == 'ktopui' else 'B'} ({name}): {elapsed:.1f} s, {json.dumps(info)}, "
                  f"{sum(requests.values())} requests, {human(sum(sent.values()))}", flush=True)
    report(phases)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
