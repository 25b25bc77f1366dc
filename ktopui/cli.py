"""Command line: `ktopui` (dashboard), `ktopui top nodes|pods|workloads|namespaces`, `ktopui history`,
`ktopui rightsize`, `ktopui doctor`, `ktopui config`, `ktopui sim`;
also `kubectl ktopui`.

Heavy imports (Textual, the simulated cluster) happen only in the branch
that needs them, so `ktopui top` starts as fast as kubectl.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
from collections.abc import Iterator

from ktopui import __version__

DEMO_NODES = 12
DEMO_PODS_PER_NODE = 9
# The past the demo's Prometheus holds: 6 h are made in a few seconds in the background (a
# day would take about 25 s and 2 GB while promtool builds its blocks).
DEMO_HISTORY = 6 * 3600
DEMO_PAST_DELAY = 5.0  # seconds at most the past waits for the dashboard's first screen


def _connection_flags() -> argparse.ArgumentParser:
    # SUPPRESS defaults let these flags go before or after the subcommand.
    flags = argparse.ArgumentParser(add_help=False, argument_default=argparse.SUPPRESS)
    flags.add_argument("--kubeconfig", help="path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    flags.add_argument("--context", help="kubeconfig context to use")
    flags.add_argument("-n", "--namespace", help="namespace (default: the context's)")
    flags.add_argument("--log", metavar="FILE", help="record what happens to FILE (secrets redacted)")
    flags.add_argument(
        "--demo",
        action="store_true",
        help="start a simulated cluster in the background and use it (no real cluster needed)",
    )
    return flags


def interval_seconds(text: str) -> float:
    """--interval: a number of seconds, at least 1 (a faster poll only loads the API server)."""
    from ktopui.config import MIN_INTERVAL

    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds")
    if seconds < MIN_INTERVAL:
        raise argparse.ArgumentTypeError(f"{text} is too short: at least {MIN_INTERVAL:g} second")
    return seconds


def build_parser() -> argparse.ArgumentParser:
    flags = _connection_flags()
    parser = argparse.ArgumentParser(
        prog="ktopui",
        parents=[flags],
        description="Live, exact Kubernetes resource usage: kubectl top, made live.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-A", "--all-namespaces", action="store_true", help="show all namespaces")
    parser.add_argument("-l", "--selector", default="", help="label selector for pods (e.g. app=web)")
    parser.add_argument(
        "--interval",
        type=interval_seconds,
        help="seconds between refreshes (default 2, or the config file's; minimum 1)",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="the config file (default: $XDG_CONFIG_HOME/ktopui/config.toml, if it exists)",
    )
    from ktopui.kube import prometheus_settings

    prometheus_settings.add_arguments(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    from ktopui.batch import top

    top_parser = sub.add_parser(
        "top",
        parents=[flags],
        help="print node, pod, workload or namespace usage once, like kubectl top",
        description="Print node or pod usage once, byte-identical to kubectl top; or usage summed per "
        "workload or namespace, in its table style.",
    )
    top.add_arguments(top_parser)
    from ktopui.batch import history, rightsize

    history_parser = sub.add_parser(
        "history",
        parents=[flags],
        help="write node, pod or workload usage over a past window from Prometheus, as CSV or JSON",
        description="Write usage series from Prometheus: one row per container (pods), node or workload per "
        f"step. {history.ROUNDING_HELP}.",
    )
    history.add_arguments(history_parser)
    rightsize_parser = sub.add_parser(
        "rightsize",
        parents=[flags],
        help="suggest requests per workload container from days of Prometheus history",
        description="Per workload and container: today's requests and limits, the suggestion (CPU: the 95th "
        "percentile of each pod's usage; memory: its peak + 15 %; the largest across pods) over --since, the "
        "change, and the history it rests on.",
    )
    rightsize.add_arguments(rightsize_parser)
    from ktopui.doctor import cli as doctor

    doctor_parser = sub.add_parser(
        "doctor",
        parents=[flags],
        help="check kubeconfig, connection, credentials, permissions and the metrics API; say what to fix",
        description="Check everything ktopui needs and print the next step for each problem. "
        "Exit code 0 only when nothing failed.",
    )
    doctor.add_arguments(doctor_parser)
    config_parser = sub.add_parser(
        "config",
        help="where the config file is read from; --print-default prints a commented default",
        description="Without options: the config file the dashboard reads, and whether it is valid.",
    )
    config_parser.add_argument("--config", metavar="FILE", default=argparse.SUPPRESS, help="the config file to check")
    config_parser.add_argument(
        "--print-default", action="store_true", help="print a commented config file with the default values"
    )
    sub.add_parser("sim", help="run the simulated cluster (see `ktopui sim --help`)", add_help=False)
    return parser


def config_command(args: argparse.Namespace) -> int:
    """`ktopui config`: the file the dashboard reads and whether it is usable, or the commented default."""
    from ktopui import config
    from ktopui.ui.settings import vocabulary

    if args.print_default:
        sys.stdout.write(config.default_text(vocabulary()))
        return 0
    path = args.config or config.default_path(os.environ)
    if args.config is None and not os.path.exists(path):
        print(f"{path}: not there; the defaults apply (`ktopui config --print-default` prints them)")
        return 0
    try:
        config.load(path, vocabulary())
    except config.ConfigFileError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"{path}: valid")
    return 0


@contextlib.contextmanager
def demo_cluster() -> Iterator[str]:
    """A small simulated cluster in this process; yields its kubeconfig path.

    With `prometheus` installed, a real Prometheus scrapes it (started in the background, so
    the demo starts as fast as without), holding the cluster's last DEMO_HISTORY from the
    start, and is found through the service proxy as in a kube-prometheus cluster; without,
    one line on stderr says history from Prometheus is off.

    Its token, CA, server key and Prometheus's data are temporary files, removed on the way out,
    Prometheus stopped first: also when the terminal goes away (SIGHUP) or someone asks the
    process to end (SIGTERM), whose default action would skip every cleanup.
    """
    import shutil
    import signal
    import tempfile
    import threading

    from ktopui.sim import prometheus as sim_prometheus
    from ktopui.sim.cluster import SimOptions
    from ktopui.sim.engines import EngineError, have_prometheus
    from ktopui.sim.server import SimServer

    def run_prometheus(server: SimServer, data_dir: str) -> None:
        # Making the past holds the interpreter for a moment: not before the dashboard's first
        # screen is up (it has asked for node metrics a second time) or a few seconds have passed.
        waited = 0.0
        while not server_stopped.wait(0.1) and waited < DEMO_PAST_DELAY:
            waited += 0.1
            if sum(r.path == "/apis/metrics.k8s.io/v1beta1/nodes" for r in list(server.requests)) >= 2:
                break
        if server_stopped.is_set():
            return
        try:
            server.run_prometheus(data_dir, history=DEMO_HISTORY)
        except EngineError as err:
            if not server_stopped.is_set():
                print(f"ktopui: the demo runs without history from Prometheus: {err}", file=sys.stderr)

    server_stopped = threading.Event()
    starting: threading.Thread | None = None
    with tempfile.TemporaryDirectory(prefix="ktopui-demo-") as tmp:
        with SimServer(SimOptions(nodes=DEMO_NODES, pods_per_node=DEMO_PODS_PER_NODE, seed=7)) as server:

            def stop() -> None:
                server_stopped.set()
                server.stop()  # Prometheus with it, also one still starting
                if starting is not None:
                    starting.join()

            def leave(signum: int, frame: object) -> None:
                # The files first: whatever the unwinding below runs into, they are gone.
                stop()
                shutil.rmtree(tmp, ignore_errors=True)
                raise SystemExit(128 + signum)

            previous = {sig: signal.signal(sig, leave) for sig in (signal.SIGHUP, signal.SIGTERM)}
            try:
                why = have_prometheus()
                if why:
                    print(f"ktopui: the demo runs without history from Prometheus: {why}", file=sys.stderr)
                else:
                    sim_prometheus.announce(server)
                    starting = threading.Thread(target=run_prometheus, args=(server, f"{tmp}/prometheus"),
                                                name="ktopui-demo-prometheus", daemon=True)
                    starting.start()
                yield str(server.write_kubeconfig(f"{tmp}/kubeconfig", context="ktopui-demo"))
            finally:
                stop()
                for sig, handler in previous.items():
                    signal.signal(sig, handler)


def parse_args(argv: list[str]) -> argparse.Namespace:
    """The flags, with the connection flags given or not (they may go before or after the subcommand)."""
    args = build_parser().parse_args(argv)
    for name in ("kubeconfig", "context", "namespace", "log"):
        setattr(args, name, getattr(args, name, None))
    return args


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["sim"]:
        from ktopui.sim.main import run as run_sim

        return run_sim(argv[1:])

    args = parse_args(argv)
    demo = getattr(args, "demo", False)

    if args.command == "config":
        return config_command(args)
    if args.command == "top":
        from ktopui.batch.top import run
    elif args.command == "history":
        from ktopui.batch.history import run
    elif args.command == "rightsize":
        from ktopui.batch.rightsize import run
    elif args.command == "doctor":
        from ktopui.doctor.cli import run
    else:
        from ktopui.ui.main import run

    if not demo:
        return run(args)
    with demo_cluster() as kubeconfig:
        args.kubeconfig, args.context = kubeconfig, None
        return run(args)
