"""Every PromQL expression ktopui sends, built as text (no HTTP here).

The numbers must mean what the metrics API's do, so that history read back
from Prometheus continues the live sparklines: CPU is the rate of cAdvisor's
`container_cpu_usage_seconds_total` per container, in millicores; memory is
`container_memory_working_set_bytes` (what metrics-server reports). cAdvisor
also exports the pod's own cgroup (`container=""`, `image=""`), the pause
sandbox (`container=""` or `"POD"`, a pause image) and the node's root cgroup
(`id="/"`): containers exclude all three, nodes are the root cgroup alone.

Names and namespaces come from the cluster and go into string literals and
regexes: both are escaped here, so no name can change the query's meaning.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from ktopui.model.pod_owners import OWNER_PREFIX, SUFFIX

# cAdvisor's per-container series: the pod cgroup and the pause sandbox left out.
CONTAINERS = 'container!="", container!="POD", image!=""'
# The CPU rule sums by (namespace, pod, container): no `image` left to match on.
RULE_CONTAINERS = 'container!="", container!="POD"'
NODE_ROOT = 'id="/"'
BY_CONTAINER = "namespace, pod, container"

CPU_SERIES = "container_cpu_usage_seconds_total"
MEMORY_SERIES = "container_memory_working_set_bytes"
CFS_PERIODS = "container_cpu_cfs_periods_total"
CFS_THROTTLED = "container_cpu_cfs_throttled_periods_total"
# kube-prometheus's recording rules (kubernetes-mixin): the same numbers, precomputed.
CPU_RULE = "node_namespace_pod_container:container_cpu_usage_seconds_total:sum_rate5m"
MEMORY_RULE = "node_namespace_pod_container:container_memory_working_set_bytes"
CPU_RULE_WINDOW = 300.0

# The scrape interval assumed when choosing windows (kube-prometheus's kubelet job).
SCRAPE_INTERVAL = 15.0
# Steps that read well on an axis; a range gets the smallest giving at most MAX_POINTS.
NICE_STEPS = (15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
MAX_POINTS = 250
# The longest `pod=~` alternation in one query: longer lists are split (batches()). Small enough
# that a query with one, URL-encoded, stays a GET through the API server's service proxy (a POST
# there needs `create services/proxy`, which read-only users seldom have).
MAX_MATCHER_CHARS = 4000

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400, "y": 365 * 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)")
# Go's regexp.QuoteMeta set: RE2 (Prometheus's regex engine) treats each as literal once escaped.
_REGEX_META = re.compile(r"([\\.+*?()|\[\]{}^$])")
_STRING_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


@dataclass(frozen=True)
class RecordingRules:
    """Which of kube-prometheus's recording rules the source has (probed once, at open)."""

    cpu_rate5m: bool = False
    memory: bool = False

    @classmethod
    def from_names(cls, names: Iterable[str]) -> RecordingRules:
        found = set(names)
        return cls(cpu_rate5m=CPU_RULE in found, memory=MEMORY_RULE in found)


NO_RULES = RecordingRules()


def rules_probe() -> str:
    """One cheap instant query naming which recording rules exist (a series per rule found)."""
    return f'count by (__name__) ({{__name__=~{quote(regex_alternation([CPU_RULE, MEMORY_RULE]))}}})'


# -- text -------------------------------------------------------------------


def quote(text: str) -> str:
    """`text` as a PromQL double-quoted string literal (Go's escapes)."""
    out = []
    for char in text:
        escaped = _STRING_ESCAPES.get(char)
        if escaped is not None:
            out.append(escaped)
        elif not char.isprintable():
            code = ord(char)
            out.append(f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def regex_alternation(names: Iterable[str]) -> str:
    """A regex matching exactly these names (Prometheus anchors it), metacharacters escaped;
    pass it through quote() into a `=~` matcher."""
    return "|".join(_REGEX_META.sub(r"\\\1", name) for name in names)


def parse_duration(text: str) -> float:
    """Seconds in a Prometheus duration ("90s", "1h30m", "7d", "2w"); a bare number is seconds.
    ValueError with a message for a person when it is none of those."""
    spelled = text.strip()
    try:
        seconds = float(spelled)
    except ValueError:
        pos, seconds = 0, 0.0
        for match in _DURATION.finditer(spelled):
            if match.start() != pos:
                break
            seconds += float(match.group(1)) * _UNITS[match.group(2)]
            pos = match.end()
        if pos != len(spelled) or not spelled:
            raise ValueError(f"{text!r} is not a duration: use a number and a unit, e.g. 90s, 15m, 6h, 7d") from None
    if not math.isfinite(seconds) or seconds <= 0:
        raise ValueError(f"{text!r} is not a duration: it must be more than zero")
    return seconds


def format_duration(seconds: float) -> str:
    """A duration as PromQL writes it, in the largest unit that divides it ("5m", "75s", "1h")."""
    ms = round(seconds * 1000)
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


# -- steps and windows ------------------------------------------------------


def step_for(range_seconds: float) -> float:
    """A nice step giving at most MAX_POINTS points over the range, never below one scrape."""
    for step in NICE_STEPS:
        if range_seconds / step <= MAX_POINTS:
            return float(step)
    return float(math.ceil(range_seconds / MAX_POINTS / 86400) * 86400)


def rate_window(step: float) -> str:
    """The rate() window for points `step` apart.

    Grafana's $__rate_interval rule: the step plus one scrape, so consecutive
    windows overlap and no increase between two points is lost, and at least
    four scrapes, so a missed scrape still leaves enough samples for a rate.
    """
    return format_duration(max(step + SCRAPE_INTERVAL, 4 * SCRAPE_INTERVAL))


def cpu_window(step: float, rules: RecordingRules = NO_RULES) -> str:
    """The window for CPU at this step: the recording rule's 5m where the step is 5m and the
    rule exists (its windows then tile the range), else rate_window()."""
    return format_duration(CPU_RULE_WINDOW) if rules.cpu_rate5m and step == CPU_RULE_WINDOW else rate_window(step)


# -- matchers and batches ---------------------------------------------------


def _pod_matchers(namespace: str | Sequence[str] | None, pods: Sequence[str] | None,
                  owners: Sequence[str] | None = None) -> str:
    """`namespace`: one, or several (a page across namespaces); `owners`: pods of these owner prefixes."""
    parts = []
    if isinstance(namespace, str):
        parts.append(f"namespace={quote(namespace)}")
    elif namespace is not None:
        parts.append(f"namespace=~{quote(regex_alternation(namespace))}")
    if pods is not None:
        parts.append(f"pod=~{quote(regex_alternation(pods))}")
    if owners is not None:
        parts.append(f"pod=~{quote(f'(?:{regex_alternation(owners)})(?:-{SUFFIX})?')}")
    return "".join(f", {part}" for part in parts)


def _node_matchers(nodes: Sequence[str] | None) -> str:
    return f", node=~{quote(regex_alternation(nodes))}" if nodes is not None else ""


def batches(names: Sequence[str], max_chars: int = MAX_MATCHER_CHARS) -> Iterator[list[str]]:
    """`names` split into runs whose `=~` alternation stays under `max_chars` (one query each)."""
    batch: list[str] = []
    size = 0
    for name in names:
        cost = len(quote(regex_alternation([name]))) + 1
        if batch and size + cost > max_chars:
            yield batch
            batch, size = [], 0
        batch.append(name)
        size += cost
    if batch:
        yield batch


def page_batches(pods: Sequence[tuple[str, str]], max_chars: int = MAX_MATCHER_CHARS) -> Iterator[tuple[list[str], list[str]]]:
    """(namespace, pod) pairs as (namespaces, pods) matcher lists, one query each: a page across
    namespaces is one query, split only where the two alternations pass `max_chars` together.
    The matchers cross (a pod name of one namespace also matches in another): callers keep only
    the (namespace, pod) they asked for."""
    namespaces: dict[str, None] = {}
    names: dict[str, None] = {}
    size = 0
    for namespace, pod in sorted(pods):
        cost = (0 if pod in names else len(quote(regex_alternation([pod]))) + 1) + \
            (0 if namespace in namespaces else len(quote(regex_alternation([namespace]))) + 1)
        if names and size + cost > max_chars:
            yield list(namespaces), list(names)
            namespaces, names, size = {}, {}, 0
            cost = len(quote(regex_alternation([pod]))) + len(quote(regex_alternation([namespace]))) + 2
        namespaces[namespace] = None
        names[pod] = None
        size += cost
    if names:
        yield list(namespaces), list(names)


# -- expressions ------------------------------------------------------------


def pod_cpu(namespace: str | Sequence[str] | None, pods: Sequence[str] | None, window: str,
            rules: RecordingRules = NO_RULES, *, owners: Sequence[str] | None = None) -> str:
    """Millicores per (namespace, pod, container); `pods` None: every pod (of the namespace)."""
    matchers = _pod_matchers(namespace, pods, owners)
    if rules.cpu_rate5m and parse_duration(window) == CPU_RULE_WINDOW:
        return f"sum by ({BY_CONTAINER}) ({CPU_RULE}{{{RULE_CONTAINERS}{matchers}}}) * 1000"
    return f"sum by ({BY_CONTAINER}) (rate({CPU_SERIES}{{{CONTAINERS}{matchers}}}[{window}])) * 1000"


def pod_memory(namespace: str | Sequence[str] | None, pods: Sequence[str] | None, rules: RecordingRules = NO_RULES,
               *, owners: Sequence[str] | None = None) -> str:
    """Working-set bytes per (namespace, pod, container)."""
    series = MEMORY_RULE if rules.memory else MEMORY_SERIES
    return f"max by ({BY_CONTAINER}) ({series}{{{CONTAINERS}{_pod_matchers(namespace, pods, owners)}}})"


def by_owner(aggregation: str, per_pod: str) -> str:
    """`per_pod` (series labelled namespace and pod) aggregated per (namespace, owner), `owner`
    being the pod's owner prefix (model/pod_owners): one series per workload, not per pod."""
    return (f'{aggregation} by (namespace, owner) '
            f'(label_replace({per_pod}, "owner", "$1", "pod", {quote(OWNER_PREFIX)}))')


def pod_throttle(namespace: str | Sequence[str] | None, pods: Sequence[str] | None, window: str = "5m",
                 *, owners: Sequence[str] | None = None) -> str:
    """Throttled CFS periods over periods per (namespace, pod, container), a fraction;
    only containers with a CPU limit have the counters."""
    where = CONTAINERS + _pod_matchers(namespace, pods, owners)
    throttled = f"sum by ({BY_CONTAINER}) (rate({CFS_THROTTLED}{{{where}}}[{window}]))"
    periods = f"sum by ({BY_CONTAINER}) (rate({CFS_PERIODS}{{{where}}}[{window}]))"
    return f"{throttled} / {periods}"


def node_cpu(nodes: Sequence[str] | None, window: str) -> str:
    """Millicores per node, from each node's root cgroup."""
    return f"sum by (node) (rate({CPU_SERIES}{{{NODE_ROOT}{_node_matchers(nodes)}}}[{window}])) * 1000"


def node_memory(nodes: Sequence[str] | None) -> str:
    """Working-set bytes per node, from each node's root cgroup."""
    return f"sum by (node) ({MEMORY_SERIES}{{{NODE_ROOT}{_node_matchers(nodes)}}})"
