"""`ktopui sim`: run the simulated cluster in the foreground until Ctrl-C or SIGTERM; with
`--prometheus`, a real engine beside it holding the cluster's past (stopped with it)."""

from __future__ import annotations

import argparse
import gc
import signal
import sys
import threading
import time
from pathlib import Path

from ktopui.model.promql import format_duration, parse_duration
from ktopui.sim.cluster import SimOptions
from ktopui.sim.server import SimServer


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ktopui sim", description="Serve a simulated Kubernetes cluster with a "
                                "metrics API on 127.0.0.1, for ktopui and kubectl top.")
    p.add_argument("--nodes", type=int, default=20, help="number of nodes (default 20)")
    p.add_argument("--pods-per-node", type=int, default=15, help="pods per node (default 15)")
    p.add_argument("--port", type=int, default=0, help="port to listen on (default: any free port)")
    p.add_argument("--kubeconfig", type=Path, help="where to write the kubeconfig (default: a temporary file)")
    p.add_argument("--seed", type=int, default=1, help="random seed of the cluster (default 1)")
    p.add_argument("--quirky", action="store_true", help="spell quantities in odd but valid ways")
    p.add_argument("--resolution", type=float, default=15.0, help="metrics resolution in seconds (default 15)")
    p.add_argument("--churn", type=float, help="pod replacements per minute (default: 0.4%% of pods)")
    p.add_argument("--frozen", action="store_true",
                   help="stop the cluster clock at start: no churn, no usage changes (identical answers)")
    p.add_argument("--prometheus", nargs="?", const="prometheus", choices=("prometheus", "victoriametrics"),
                   help="also run a real engine (default prometheus) scraping the kubelets' cAdvisor, exposed "
                        "as kube-prometheus exposes it")
    p.add_argument("--history", default="6h",
                   help="with --prometheus: the cluster's past the engine holds from the start (default 6h; 0: none)")
    return p


def _start_engine(server: SimServer, kind: str, history: float) -> bool:
    """Start the engine beside the cluster and say where it is; False (and why) when it cannot run."""
    from ktopui.sim.engines import EngineError, have_prometheus, have_victoria_metrics

    why = have_prometheus() if kind == "prometheus" else have_victoria_metrics()
    if why:
        print(f"ktopui sim: cannot run {kind}: {why}", file=sys.stderr)
        return False
    began = time.perf_counter()
    try:
        engine = server.run_prometheus(server.ca_path.with_name(kind), engine=kind, history=history)
    except EngineError as err:
        print(f"ktopui sim: {kind} did not start: {err}", file=sys.stderr)
        return False
    service = ("monitoring/prometheus-k8s (port web)" if kind == "prometheus" else "monitoring/vmsingle-k8s (port http)")
    past = f" holding {format_duration(history)} of the past" if history else ""
    print(f"{kind} (pid {engine.process.pid}) at {engine.url}{past}, ready in {time.perf_counter() - began:.1f}s; "
          f"in the cluster as {service}")
    if engine.note:
        print(f"ktopui sim: {engine.note}", file=sys.stderr)
    return True


def run(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.nodes < 1 or args.pods_per_node < 0 or args.resolution <= 0:
        print("ktopui sim: --nodes must be >= 1, --pods-per-node >= 0, --resolution > 0", file=sys.stderr)
        return 2
    try:
        history = 0.0 if args.history.strip() == "0" else parse_duration(args.history)
    except ValueError as err:
        print(f"ktopui sim: --history: {err}", file=sys.stderr)
        return 2
    began = time.perf_counter()
    options = SimOptions(nodes=args.nodes, pods_per_node=args.pods_per_node, seed=args.seed,
                         metric_resolution=args.resolution, quirky=args.quirky, churn_per_minute=args.churn,
                         frozen=args.frozen)
    try:
        server = SimServer(options, port=args.port)
    except OSError as exc:
        print(f"ktopui sim: cannot listen on port {args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    gc.freeze()  # the cluster lives as long as the process: keep it out of every GC pass
    server.start()
    path = server.write_kubeconfig(args.kubeconfig or server.ca_path.with_name("kubeconfig"))
    took = time.perf_counter() - began
    pods = len(server.cluster.pods)
    print(f"ktopui sim: {args.nodes} nodes, {pods} pods at {server.url} (ready in {took:.1f}s)")
    print(f"kubeconfig: {path}")
    print(f"  kubectl --kubeconfig {path} top nodes")
    print(f"  KUBECONFIG={path} ktopui")
    stop = threading.Event()
    # SIGHUP too (the terminal gone): its default action would leave the engine running
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGTERM, signal.SIGHUP)}
    try:
        if args.prometheus:
            if not _start_engine(server, args.prometheus, history):
                return 1
            print(f"  KUBECONFIG={path} ktopui history pods -A --since 1h")
        print("Ctrl-C to stop.", flush=True)
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(run())
