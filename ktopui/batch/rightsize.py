"""`ktopui rightsize`: per workload and container, today's requests and limits, what to request
by the days of history Prometheus holds, the change, and the history that rests on.

The rule is model/suggestions.py's, the dashboard's (krr's simple strategy): CPU the 95th
percentile of each pod's samples, memory its highest sample plus 15 %, the largest across
the workload's pods, rounded up to whole millicores and mebibytes; fewer than MIN_SAMPLES
samples give no suggestion. The samples are Prometheus's, over `--since` (default 7d) at a
step giving at most SAMPLES_PER_SERIES points (5m over 7 days): CPU the rate over the step
(plus a scrape, so no increase between points is lost), memory `max_over_time` of the
working set over the step, so a peak between two points still counts.

Today's requests and limits are the largest the workload's unfinished pods set (during a
rollout, two specs); the workloads are those of the pods in scope (-n/-A, -l); their pods
that are gone count by their history (batch/pod_workloads.py). Namespaces are read two at a
time and each reduced as soon as it is in, so a week of a whole cluster is never held at once.
"""

from __future__ import annotations

import argparse
import sys
import time

from ktopui.batch import prom_command
from ktopui.batch.top import UsageError

SAMPLES_PER_SERIES = 2016  # a week at 5m
# Namespaces read at once: each one's samples are held until reduced (rightsize_advice.figures).
NAMESPACES_AT_ONCE = 2
DEFAULT_SINCE = "7d"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ktopui.kube import prometheus_settings

    parser.add_argument("-l", "--selector", default="", help="label selector of pods (e.g. app=web)")
    parser.add_argument("-A", "--all-namespaces", action="store_true", help="all namespaces")
    parser.add_argument("--since", default=DEFAULT_SINCE, metavar="DURATION",
                        help=f"the history to size by (default {DEFAULT_SINCE})")
    parser.add_argument("-o", "--output", choices=("table", "json"), default="table")
    prometheus_settings.add_arguments(parser)


def step_for(since: float) -> float:
    """The smallest nice step giving at most SAMPLES_PER_SERIES points over `since`."""
    from ktopui.model import promql

    for step in promql.NICE_STEPS:
        if since / step <= SAMPLES_PER_SERIES:
            return float(step)
    return float(promql.NICE_STEPS[-1])


def run(args: argparse.Namespace) -> int:
    from ktopui.model import promql

    try:
        since = promql.parse_duration(args.since)
    except ValueError as err:
        print(f"error: {UsageError(err)}", file=sys.stderr)
        return 1
    return prom_command.run(args, lambda session: collect(session, args, since))


async def collect(session: prom_command.Session, args: argparse.Namespace, since: float) -> prom_command.Output:
    import asyncio

    from ktopui.batch.rightsize_advice import Figures, Groups, advise, figures
    from ktopui.batch.rightsize_output import rightsize_json, rightsize_table
    from ktopui.batch.usage_history import pod_usage, window

    win = window(since, step_for(since), time.time())
    scope = await session.workload_scope(args.selector)
    groups = Groups(scope)
    wanted = {key[0] for key in groups.keys}  # (only the namespaces of workloads to advise on)
    busy = asyncio.Semaphore(NAMESPACES_AT_ONCE)
    said: list[str] = []

    async def namespace(name: str | None, pods: list[str] | None) -> Figures:
        async with busy:
            usage = await pod_usage(session.client, {name: pods}, win, peaks=True, series=scope.series)
            said.extend(w for w in usage.warnings if w not in said)
            return figures(groups, usage)

    parts = await asyncio.gather(*(namespace(name, pods) for name, pods in scope.selection.items()
                                   if name is None or name in wanted))
    rows = advise(groups, parts)
    warnings = scope.notes + [f"Prometheus: {w}" for w in said]
    if any(row.inferred for row in rows):
        warnings.append("history of pods no longer listed was attributed to workloads by their names (marked *)")
    if not rows:
        return prom_command.Output("", warnings + [f"no workloads{session.where()}"])
    if args.output == "json":
        return prom_command.Output(rightsize_json(rows, since=args.since, step=win.step_seconds,
                                                  source=session.client.source.name), warnings)
    return prom_command.Output(rightsize_table(rows, all_namespaces=not session.namespace), warnings)
