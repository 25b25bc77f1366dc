"""The doctor's Prometheus section: which source, reached how, with the series history needs.

Checked in the order history meets the problems: a source (given or found,
or why none), the series the queries read and the recording rules, whether
their labels say namespace, pod, container and node, how fresh the newest
sample is and how far back history reaches. Every query is an instant query
returning a handful of series: the doctor must not be the heavy user of a
shared Prometheus.
"""

from __future__ import annotations

from ktopui.doctor.findings import FAIL, OK, SKIP, WARN, Finding
from ktopui.kube.api import KubeAPI
from ktopui.kube.prometheus import PromClient, PromError
from ktopui.kube.prometheus_settings import PromSettings, open_prometheus
from ktopui.model import promql

SOURCE, SERIES, LABELS, FRESHNESS, RETENTION = (
    "Prometheus", "Prometheus series", "Prometheus labels", "Prometheus freshness", "Prometheus retention")
NEEDED = (promql.CPU_SERIES, promql.MEMORY_SERIES)
THROTTLING = (promql.CFS_PERIODS, promql.CFS_THROTTLED)
CONTAINER_LABELS = ("namespace", "pod", "container")
# A scrape every 15-60 s: a newest sample older than this means scraping stopped.
STALE_AFTER = 300.0
# How far back history is probed, longest first (rightsize wants a week).
DEPTHS = ("30d", "7d", "1d", "1h")
SCRAPE_JOB_STEP = ("Check that Prometheus scrapes the kubelets' cAdvisor endpoint (/metrics/cadvisor): "
                   "kube-prometheus-stack's kubelet ServiceMonitor does.")


async def check(api: KubeAPI, settings: PromSettings) -> list[Finding]:
    """The section's findings for these settings (the flags and the config file's [prometheus])."""
    if not settings.enabled:
        return [Finding(SOURCE, SKIP, "turned off (--no-prometheus, or enabled = false in [prometheus])")]
    opened = await open_prometheus(settings, api)
    if opened.client is None:
        if settings.url:
            return [Finding(SOURCE, FAIL, opened.note,
                            "Check --prometheus (or url in the config file's [prometheus]) and the files it names.")]
        found = opened.found
        if found is None:  # discovered, but its first query failed
            return [Finding(SOURCE, WARN, opened.note, "ktopui shows live numbers only until it can read it.")]
        if found.hint:
            return [Finding(SOURCE, WARN, f"none usable: {found.reason}", found.hint)]
        return [Finding(SOURCE, SKIP, f"none found ({found.reason}): ktopui keeps its own history only; "
                        "--prometheus URL names one")]
    client = opened.client
    try:
        return [Finding(SOURCE, OK, _described(client)), *await _series_findings(client)]
    finally:
        await client.aclose()


def _described(client: PromClient) -> str:
    source = client.source
    if source.via == "proxy":
        return f"{source.name} ({source.flavour}) through the API server's service proxy"
    return f"{source.name}, by URL"


async def _series_findings(client: PromClient) -> list[Finding]:
    findings = []
    try:
        names = await _names(client, (*NEEDED, *THROTTLING))
        findings.append(_series(names, client.rules))
        if set(NEEDED) <= names:
            findings.append(await _labels(client))
            findings += await _age(client)
    except PromError as err:
        findings.append(Finding(SERIES, WARN, f"could not be checked: {err.message}", err.hint))
    return findings


async def _names(client: PromClient, names: tuple[str, ...]) -> set[str]:
    expr = f"count by (__name__) ({{__name__=~{promql.quote(promql.regex_alternation(names))}}})"
    return {s.labels.get("__name__", "") for s in (await client.query(expr)).series}


def _series(names: set[str], rules: promql.RecordingRules) -> Finding:
    missing = [n for n in NEEDED if n not in names]
    if missing:
        return Finding(SERIES, WARN, f"missing: {', '.join(missing)}: no history can be read", SCRAPE_JOB_STEP)
    parts = [f"{', '.join(NEEDED)} present"]
    parts.append("CFS throttling counters present" if set(THROTTLING) <= names
                 else "no CFS throttling counters (no THROTTLE%)")
    found_rules = [name for name, there in ((promql.CPU_RULE, rules.cpu_rate5m), (promql.MEMORY_RULE, rules.memory))
                   if there]
    parts.append(f"recording rules: {', '.join(found_rules)}" if found_rules else "no kube-prometheus recording rules")
    return Finding(SERIES, OK, "; ".join(parts))


async def _labels(client: PromClient) -> Finding:
    """One sample container series and one node (root cgroup) series: the labels queries group by."""
    container = await client.query(f"topk(1, {promql.MEMORY_SERIES}{{{promql.CONTAINERS}}})")
    node = await client.query(f"topk(1, {promql.MEMORY_SERIES}{{{promql.NODE_ROOT}}})")
    problems = []
    if not container.series:
        problems.append("no per-container series (container and image labels empty)")
    elif missing := [k for k in CONTAINER_LABELS if not container.series[0].labels.get(k)]:
        problems.append(f"container series lack {', '.join(missing)}")
    if not node.series:
        problems.append('no node (id="/") series')
    elif not node.series[0].labels.get("node"):
        problems.append('node series (id="/") lack node')
    if problems:
        return Finding(LABELS, WARN, "; ".join(problems),
                       "kube-prometheus-stack relabels cAdvisor's series with namespace, pod, container and node; "
                       "a scrape job of its own must keep or add them.")
    return Finding(LABELS, OK, "series carry namespace, pod, container; nodes carry node")


async def _age(client: PromClient) -> list[Finding]:
    newest = await client.query(f"max(timestamp({promql.MEMORY_SERIES}{{{promql.NODE_ROOT}}}))")
    findings = []
    if newest.series and len(newest.series[0].values):
        age = newest.series[0].times[0] - newest.series[0].values[0]
        status = OK if age <= STALE_AFTER else WARN
        findings.append(Finding(FRESHNESS, status, f"newest sample {_duration(age)} old",
                                "" if status == OK else SCRAPE_JOB_STEP))
    else:
        findings.append(Finding(FRESHNESS, WARN, "no recent sample (none in the last 5 minutes)", SCRAPE_JOB_STEP))
    findings.append(await _retention(client))
    return findings


async def _retention(client: PromClient) -> Finding:
    info = await client.runtime_info()
    kept = info.get("storageRetention", "") if isinstance(info, dict) else ""
    reach = await _reach(client)
    detail = f"history reaches back {reach}" + (f"; kept for {kept}" if kept else "")
    short = reach in ("less than 1h", "at least 1h")
    return Finding(RETENTION, WARN if short else OK, detail,
                   "Charts over longer ranges and `ktopui rightsize` need more history." if short else "")


async def _reach(client: PromClient) -> str:
    """The longest of DEPTHS at which the nodes had samples (one cheap query each, longest first)."""
    for depth in DEPTHS:
        found = await client.query(f"count({promql.MEMORY_SERIES}{{{promql.NODE_ROOT}}} offset {depth})")
        if found.series:
            return f"at least {depth}"
    return "less than 1h"


def _duration(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"
