"""`ktopui history nodes|pods|workloads`: usage series from Prometheus, as CSV or JSON.

The numbers mean what the metrics API's do (model/promql.py): CPU the rate of
cAdvisor's usage counter per container over the step (plus a scrape), in
millicores; memory the working set at each point, in bytes. Pods: one row per
container per step; nodes: the node's root cgroup; workloads: their pods'
containers summed at each step, missing ones left out of the sum.

NAME and `-l` select pods through the cluster's pod list (a pod NAME may be
gone: its history is read all the same); the series are read one query per
metric per namespace (batch/usage_history.py). A workload's pods include the
ones that no longer exist but have history in the window, attributed by their
names (batch/pod_workloads.py). The writers and their rounding are
batch/series_csv.py's.

Errors (no Prometheus and why, a query refused, a bad duration) are one line
on stderr and exit code 1; partial data (Prometheus's warnings) is a warning
on stderr and the output is still written.
"""

from __future__ import annotations

import argparse
import sys
import time

from ktopui.batch import prom_command
from ktopui.batch.top import NODE_WORDS, POD_WORDS, WORKLOAD_WORDS, UsageError

# Prometheus answers at most 11,000 points per series.
MAX_POINTS = 11_000
ROUNDING_HELP = ("time is RFC 3339 UTC; cpu_millicores has at most 3 decimals; memory_bytes is whole bytes; "
                 "a missing value is an empty field (null in JSON)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ktopui.kube import prometheus_settings

    parser.add_argument("resource", choices=NODE_WORDS + POD_WORDS + WORKLOAD_WORDS, metavar="nodes|pods|workloads")
    parser.add_argument("name", nargs="?", default="", metavar="NAME")
    parser.add_argument("-l", "--selector", default="", help="label selector (pods, workloads: of pods; nodes: of nodes)")
    parser.add_argument("-A", "--all-namespaces", action="store_true", help="pods, workloads: all namespaces")
    parser.add_argument("--since", required=True, metavar="DURATION", help="how far back: 90m, 6h, 7d, ...")
    parser.add_argument("--step", default="", metavar="DURATION",
                        help="time between points (default: the range over at most 250 points, at least 15s)")
    parser.add_argument("-o", "--output", choices=("csv", "json"), default="csv", help=ROUNDING_HELP)
    prometheus_settings.add_arguments(parser)


def durations(args: argparse.Namespace) -> tuple[float, float | None]:
    """--since and --step in seconds (step None: chosen for the range)."""
    from ktopui.model import promql

    try:
        since = promql.parse_duration(args.since)
        step = promql.parse_duration(args.step) if args.step else None
    except ValueError as err:
        raise UsageError(str(err)) from None
    if step is not None and since / step > MAX_POINTS:
        raise UsageError(f"--step {args.step} over --since {args.since} is more than {MAX_POINTS} points per "
                         "series: a longer step")
    return since, step


def validate(args: argparse.Namespace) -> None:
    if args.name and args.selector:
        raise UsageError("only one of NAME or --selector can be provided")
    if args.resource in NODE_WORDS and args.all_namespaces:
        raise UsageError("history nodes does not take -A")


def run(args: argparse.Namespace) -> int:
    try:
        validate(args)
        since, step = durations(args)
    except UsageError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1

    return prom_command.run(args, lambda session: collect(session, args, since, step))


async def collect(session: prom_command.Session, args: argparse.Namespace, since: float,
                  step: float | None) -> prom_command.Output:
    from ktopui.batch import series_csv
    from ktopui.batch.usage_history import node_usage, pod_usage, window

    win = window(since, step, time.time())
    meta = {"since": args.since, "step": win.step_seconds, "start": series_csv.time_text(win.start),
            "end": series_csv.time_text(win.end), "source": session.client.source.name}
    if args.resource in NODE_WORDS:
        nodes = [args.name] if args.name else await session.node_names(args.selector)
        usage = await node_usage(session.client, nodes, win)
        columns, kind, rows, notes, said = series_csv.NODE_COLUMNS, "NodeHistory", usage.rows(), [], usage.warnings
    elif args.resource in POD_WORDS:
        selection = await session.pod_selection(args.name, args.selector)
        usage = await pod_usage(session.client, selection, win)
        columns, kind, rows, notes, said = series_csv.POD_COLUMNS, "PodHistory", usage.rows(), [], usage.warnings
    else:
        from ktopui.batch.workload_usage import summed_by_namespace

        scope = await session.workload_scope(args.selector)
        result, said = await summed_by_namespace(session.client, scope, win, keep=scope.keep(args.name))
        columns, kind = series_csv.WORKLOAD_COLUMNS, "WorkloadHistory"
        rows, notes = result.rows, scope.notes + result.notes
    if not rows and args.name:
        what = kind.removesuffix("History").lower()
        where = "" if what == "node" else session.where() or " in any namespace"
        raise prom_command.CommandError(
            f"no history of {what} {args.name}{where} over the last {args.since} in {session.client.source.name}")
    text = (series_csv.json_text(kind, columns, rows, **meta) if args.output == "json"
            else series_csv.csv_text(columns, rows))
    warnings = notes + [f"Prometheus: {w}" for w in said]
    if not rows:
        warnings.append(f"no series over the last {args.since} in {session.client.source.name}")
    return prom_command.Output(text, warnings)

