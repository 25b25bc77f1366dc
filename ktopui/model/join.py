"""Join metrics with Node and Pod objects into rows.

The rules follow `kubectl top` (SPEC Part A §2, Part B §2.3): usage sums are
exact and rounded once, after summing; percentages divide milli values.
Either side may be missing: metrics without an object (deleted between two
requests, or no permission to list objects) and objects without metrics
(metrics API down, pod not scraped yet) both still give a row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from itertools import chain
from operator import is_

from ktopui.kube.objects import Node, NodeMetrics, Pod
from ktopui.model.pod_info import (
    NO_PROBLEMS,
    PodInfo,
    SpecMemo,
    amounts_from_nanos,
    amounts_of,
    parse_resources,
    pod_info,
)
from ktopui.model.quantity import MAX_MILLI_NANOS, simple_nanos
from ktopui.model.rows import (
    Amounts,
    ContainerRow,
    LimitShare,
    NodeRow,
    PodRow,
    Usage,
)
from ktopui.model.samples import (
    PodSample,
    container_usage,
    pod_samples,
    used_milli,
)
from ktopui.model.status import node_roles, node_status
from ktopui.model.usage import usage_of

TERMINATED_PHASES = ("Succeeded", "Failed")


# -- `kubectl top pod` lines, straight from metrics ---------------------------

# What a `kubectl top pod` table needs of one pod, without building a PodRow:
# (namespace, name, CPU millicores, memory bytes, the metrics' containers or
# None); a usage is None when an invalid quantity spoils it (the cell shows `?`).
PodUsageLine = tuple[str, str, int | None, int | None, list | None]
# One container of it: (name, CPU millicores, memory bytes).
ContainerUsageLine = tuple[str, int | None, int | None]

_MILLI = 1_000_000  # nano units per milli
_UNIT = 1_000_000_000  # nano units per unit
_KI_NANOS = 1024 * _UNIT


def pod_usage_lines(metrics: Iterable, *, containers: bool = True) -> list[PodUsageLine]:
    """The numbers of `kubectl top pod`, one tuple per pod, same rounding as pod_rows.

    Takes PodMetrics or any shape with metadata.namespace/name and containers
    of name and usage (a ResourceList). Metrics-server's spellings (nanocores
    "243381306n", kibibytes "3096552Ki") are summed as integers here; other
    simple shapes through simple_nanos; a pod with any other spelling goes
    through usage_of and so the exact path. With containers=False the lines
    carry None instead of the metrics' containers, so those can be freed.
    """
    out: list[PodUsageLine] = []
    append = out.append
    limit = MAX_MILLI_NANOS
    for m in metrics:
        kept = m.containers if containers else None
        cpu = mem = 0  # nano units
        for c in m.containers:
            rl = c.usage
            text = rl.get("cpu")
            if text is not None:
                digits = text[:-1]
                if text[-1:] == "n" and digits.isdigit() and digits.isascii() and len(digits) < 19:
                    cpu += int(digits)
                else:
                    n = simple_nanos(text)
                    if n is None:
                        break
                    cpu += n
            text = rl.get("memory")
            if text is not None:
                digits = text[:-2]
                if text[-2:] == "Ki" and digits.isdigit() and digits.isascii() and len(digits) < 19:
                    mem += int(digits) * _KI_NANOS
                else:
                    n = simple_nanos(text)
                    if n is None:
                        break
                    mem += n
        else:
            if cpu <= limit and mem <= limit:
                meta = m.metadata
                append((meta.namespace, meta.name, -(-cpu // _MILLI), -(-mem // _UNIT), kept))
                continue
        usage = usage_of([c.usage for c in m.containers], {})
        meta = m.metadata
        append((meta.namespace, meta.name, usage.cpu_milli, usage.mem_bytes, kept))
    return out


def container_usage_lines(containers: Iterable) -> list[ContainerUsageLine]:
    """(name, CPU millicores, memory bytes) of each container, rounded one by one."""
    out: list[ContainerUsageLine] = []
    for c in containers:
        usage = usage_of([c.usage], {})
        out.append((c.name, usage.cpu_milli, usage.mem_bytes))
    return out


class RowCache:
    """What earlier refreshes computed for the node rows, reused while the inputs are unchanged.

    The API server changes an object only with a new resourceVersion, so at
    a 2 s refresh almost every node is unchanged, and the pods' requests and
    limits summed per node change only where pods changed.
    """

    def __init__(self) -> None:
        self.memo = SpecMemo()
        self.nodes: dict[str, tuple] = {}  # per node: what its object gives, while its resourceVersion holds
        self.node_objects: tuple[bool, list] | None = None  # (use_capacity, the node objects) nodes was made from
        self.node_rows: dict[str, tuple[tuple, NodeRow]] = {}  # the last rows by name, with what each was made of
        self.infos: dict[tuple[str, str], tuple[str, PodInfo]] = {}  # per pod: (resourceVersion, its PodInfo)
        self._reserved_of: object = None  # the pod collection the reservations were summed from
        self._reserved: dict[str, list] = {}  # per node: see _reserve
        self._reserved_amounts: dict[str, tuple] = {}  # per node: (requests, limits) sums and their Amounts
        self._last_changes: tuple | None = None  # (old pods, new pods, their _changes)
        # (old pods, new pods, the keys that may differ between them): set by
        # whoever made `new` from `old`, so _changes need not compare them all.
        self.changes_hint: tuple | None = None


# -- Nodes ------------------------------------------------------------------


def node_rows(
    nodes: Iterable[Node] | None,
    metrics: Iterable[NodeMetrics] | None,
    pods: Iterable[Pod] | None = None,
    *,
    use_capacity: bool = False,
    cache: RowCache | None = None,
) -> list[NodeRow]:
    """One row per node known from either the node list or the metrics.

    `nodes` None means the node list is unavailable (no permission, failed
    request): metrics rows still appear, without percentages.
    """
    known = cache.nodes if cache is not None else {}
    statics: dict[str, tuple] = {}
    if nodes is not None and not isinstance(nodes, list):
        nodes = list(nodes)
    # The same node objects as last time (the watch cache's, most refreshes): the same statics.
    same = (
        cache is not None and nodes is not None and cache.node_objects is not None
        and cache.node_objects[0] == use_capacity and len(nodes) == len(cache.node_objects[1])
        and all(map(is_, nodes, cache.node_objects[1]))
    )
    for node in () if same else nodes or ():
        # What a node object gives changes only with its resourceVersion.
        meta = node.metadata
        static = known.get(meta.name)
        if static is None or static[0] != meta.resourceVersion or not meta.resourceVersion or static[1] != use_capacity:
            problems: dict[str, str] = {}
            source = node.status.capacity if use_capacity else node.status.allocatable
            label = "capacity" if use_capacity else "allocatable"
            available = amounts_of(parse_resources(source, label, problems))
            static = (meta.resourceVersion, use_capacity, node_status(node), node_roles(node), available, problems)
        statics[meta.name] = static
    if same:
        statics = known
    elif cache is not None and nodes is not None:
        cache.nodes, cache.node_objects = statics, (use_capacity, nodes)
    scraped: dict[str, tuple] = {}  # (timestamp, window, cpu, memory) texts: what a row takes of its metrics
    for m in metrics or ():
        texts = m.usage
        scraped[m.metadata.name] = (m.timestamp, m.window, texts.get("cpu"), texts.get("memory"))
    per_node = _reservations(pods, cache) if pods is not None else {}

    # A row follows from its node's static part, its metrics' texts and its
    # pods' sums, and only those: while they are the same objects (a node not
    # scraped since the last refresh, most at a 2 s interval, its pods
    # unchanged) the row before is kept, unbuilt, and the table keeps its line.
    before = cache.node_rows if cache is not None else {}
    reserved_before = cache._reserved_amounts if cache is not None else {}
    amounts: dict[str, tuple] = {}
    rows: dict[str, tuple[tuple, NodeRow]] = {}
    get_static, get_scraped, get_reserved = statics.get, scraped.get, per_node.get
    for name in chain(statics, [name for name in scraped if name not in statics]):
        inputs = (get_static(name), get_scraped(name), get_reserved(name))
        old = before.get(name)
        if old is not None and old[0] == inputs:
            rows[name] = old
            if name in reserved_before:
                amounts[name] = reserved_before[name]
            continue
        rows[name] = (inputs, _node_row(name, *inputs, reserved_before, amounts))
    if cache is not None:
        cache.node_rows, cache._reserved_amounts = rows, amounts
    return [row for _, row in rows.values()]


def _node_row(name: str, static: tuple | None, scraped: tuple | None, reserved: list | None,
              amounts_before: dict[str, tuple], amounts: dict[str, tuple]) -> NodeRow:
    if static is None:
        row = NodeRow(name=name, in_node_list=False)
    else:
        _, _, status, roles, available, problems = static
        row = NodeRow(name=name, status=status, roles=roles, available=available, problems=dict(problems))
    if scraped is not None:
        row.has_metrics = True
        row.timestamp, row.window, cpu, memory = scraped
        texts = {}
        if cpu is not None:
            texts["cpu"] = cpu
        if memory is not None:
            texts["memory"] = memory
        row.usage = usage_of([texts], row.problems)
    if reserved is None:
        if row.in_node_list:
            row.requests, row.limits = Amounts(), Amounts()
        return row
    row.pods = reserved[0]
    if reserved[3]:
        row.problems["requests"] = reserved[3]
    if row.in_node_list:
        # A node's totals are new objects only when its pods changed: so are its Amounts.
        pair = amounts_before.get(name)
        if pair is None or pair[0] is not reserved[1] or pair[1] is not reserved[2]:
            pair = (reserved[1], reserved[2], amounts_from_nanos(reserved[1]), amounts_from_nanos(reserved[2]))
        amounts[name] = pair
        row.requests, row.limits = pair[2], pair[3]
    return row


def _reservations(pods: PodItems, cache: RowCache | None) -> dict[str, list]:
    """Pod counts and summed requests/limits per node (see _reserve), like `kubectl describe node`.

    Sums are exact integers of nanounits, rounded once per node. They depend
    only on the pods, so with a cache they are summed again only when the pod
    collection is a new object, and then only for the pods that changed. A
    node's entry is a new object exactly when its pods changed.
    """
    if cache is not None and cache._reserved_of is pods:
        return cache._reserved
    if cache is not None and (per_node := _reserved_changes(cache, cache._reserved_of, pods, cache._reserved)) is not None:
        cache._reserved_of, cache._reserved = pods, per_node
        return per_node
    per_node = {}
    for key, info in _infos(pods, cache):
        _reserve(per_node, key, info, 1)
    if cache is not None:
        cache._reserved_of, cache._reserved = pods, per_node
    return per_node


def _reserve(per_node: dict, key: tuple[str, str], info: PodInfo, sign: int) -> None:
    """Add (sign 1) or take away (sign -1) one pod's share of its node's totals."""
    if info.phase in TERMINATED_PHASES:
        return
    node = per_node.get(info.node)
    if node is None:
        # pods, requests, limits, problem, and how many pods set each resource
        node = per_node[info.node] = [0, {}, {}, "", {}]
    node[0] += sign
    spec = info.spec
    if spec.problem:
        node[3] = f"pod {key[0]}/{key[1]}: {spec.problem}"
        return
    setting = node[4]
    for kind, into, amounts in (("requests", node[1], spec.requests_nanos), ("limits", node[2], spec.limits_nanos)):
        for name, n in amounts.items():
            # A resource no pod sets any more is absent, as in a fresh sum (not 0).
            pods = setting[kind, name] = setting.get((kind, name), 0) + sign
            if pods:
                into[name] = into.get(name, 0) + sign * n
            else:
                del into[name]


def _changes(cache: RowCache, old: Mapping, new: Mapping) -> tuple[list, list]:
    """Keys whose value is a different object in `new`, and keys gone from it.

    The node reservations and the pod rows both ask for the same pair in one
    refresh: the answer of the last call is kept for the second.
    """
    last = cache._last_changes
    if last is not None and last[0] is old and last[1] is new:
        return last[2]
    hint = cache.changes_hint
    if hint is not None and hint[0] is old and hint[1] is new:
        get = old.get
        changed = [key for key in hint[2] if key in new and get(key) is not new[key]]
        result = changed, [key for key in hint[2] if key in old and key not in new]
    else:
        result = _diff(old, new)
    cache._last_changes = (old, new, result)
    return result


def _diff(old: Mapping, new: Mapping) -> tuple[list, list]:
    get = old.get
    changed = [key for key, value in new.items() if get(key) is not value]
    gone = [key for key in old.keys() - new.keys()]
    return changed, gone


def _reserved_changes(cache: RowCache, old: object, new: PodItems, per_node: dict) -> dict | None:
    """The per-node totals moved by what changed between two pod mappings; None to sum afresh.

    Sums of integers can be taken back exactly; a pod with an invalid spec
    cannot (its message would stick), so then everything is summed again.
    """
    if not isinstance(old, Mapping) or not isinstance(new, Mapping):
        return None
    changed, gone = _changes(cache, old, new)
    if len(changed) + len(gone) > len(new) // 4:
        return None
    before = [(key, old[key]) for key in changed if key in old] + [(key, old[key]) for key in gone]
    after = [(key, new[key]) for key in changed]
    if any(info.spec.problem for _, info in before + after):
        return None
    # The previous totals stay as they were: copied are only the nodes touched.
    per_node = dict(per_node)
    for name in {info.node for _, info in before + after} & per_node.keys():
        n = per_node[name]
        per_node[name] = [n[0], dict(n[1]), dict(n[2]), n[3], dict(n[4])]
    for key, info in before:
        _reserve(per_node, key, info, -1)
    for key, info in after:
        _reserve(per_node, key, info, 1)
    return per_node


# -- Pods -------------------------------------------------------------------

PodItems = Iterable[Pod] | Iterable[PodInfo] | Mapping[tuple[str, str], PodInfo]


_NO_SHARE = LimitShare()


def pod_row(key: tuple[str, str], info: PodInfo | None, sample: PodSample | None) -> PodRow:
    """The row of one pod from its summary and its summed metrics (either may be None)."""
    if info is None:
        return PodRow(
            key[0], key[1], has_metrics=True, in_pod_list=False, timestamp=sample.timestamp, window=sample.window,
            usage=sample.usage, problems=sample.problems, cpu_limit_share=_NO_SHARE, mem_limit_share=_NO_SHARE,
            info=None, sample=sample,
        )
    spec = info.spec
    problems = sample.problems if sample is not None else NO_PROBLEMS
    if spec.problem:
        problems = {**problems, "requests": spec.problem}
    cpu_share = _NO_SHARE
    if spec.cpu_bounded:
        cpu_share = LimitShare(used_milli(sample, spec.cpu_bounded, "cpu"), spec.cpu_limit_milli, spec.cpu_partial)
    mem_share = _NO_SHARE
    if spec.mem_bounded:
        mem_share = LimitShare(used_milli(sample, spec.mem_bounded, "mem"), spec.mem_limit_milli, spec.mem_partial)
    return PodRow(
        info.namespace, info.name, info.node, info.status, info.ready, info.restarts,
        sample.usage if sample is not None else Usage(),
        sample is not None, True,
        sample.timestamp if sample is not None else "",
        sample.window if sample is not None else "",
        spec.requests, spec.limits, cpu_share, mem_share, problems, info, sample,
    )



def container_rows(info: PodInfo | None, sample: PodSample | None) -> list[ContainerRow]:
    """The container rows of one pod (spec order: init containers and sidecars, then app containers)."""
    entries = sample.entries() if sample is not None else ()
    usage = {entry[0]: entry for entry in entries}
    rows = []
    if info is None:
        for entry in entries:
            used, problems = container_usage(entry)
            rows.append(ContainerRow(entry[0], "app", used, True, problems=dict(problems)))
        return rows
    for spec, (restarts, state) in zip(info.spec.containers, info.states):
        row = ContainerRow(spec.name, spec.kind, requests=spec.requests, limits=spec.limits, restarts=restarts, state=state)
        problems = dict(spec.problems)
        entry = usage.get(spec.name)
        if entry is not None:
            row.has_metrics = True
            row.usage, used_problems = container_usage(entry)
            problems.update(used_problems)
        row.problems = problems
        rows.append(row)
    return rows


def _infos(pods: PodItems | None, cache: RowCache | None) -> Iterable[tuple[tuple[str, str], PodInfo]]:
    """(key, PodInfo) pairs; decoded Pods are summarised, reusing the summary while the version holds."""
    if pods is None:
        return ()
    if isinstance(pods, Mapping):
        return pods.items()
    known = cache.infos if cache is not None else {}
    memo = cache.memo if cache is not None else SpecMemo()
    out = []
    seen: dict[tuple[str, str], tuple[str, PodInfo]] = {}
    for pod in pods:
        if isinstance(pod, PodInfo):
            out.append((pod.key, pod))
            continue
        key = (pod.metadata.namespace, pod.metadata.name)
        version = pod.metadata.resourceVersion
        found = known.get(key)
        if found is None or not version or found[0] != version:
            found = (version, pod_info(pod, memo))
        seen[key] = found
        out.append((key, found[1]))
    if cache is not None:
        cache.infos = seen
    return out


def pod_rows(pods: PodItems | None, metrics: Iterable | None) -> list[PodRow]:
    """One row per pod known from either the pod list or the metrics.

    `pods` holds decoded Pods, PodInfos, or a mapping of key to PodInfo;
    `metrics` PodMetrics (or a leaner shape, see pod_samples) or PodSamples
    by key. Rows come in the order given: pods, then pods known only from
    their metrics. (The dashboard keeps its pods as a PodRowsView instead,
    which makes a row only when one is looked at.)
    """
    samples = metrics if isinstance(metrics, Mapping) else pod_samples(metrics or ())
    rows: dict[tuple[str, str], PodRow] = {}
    get_sample = samples.get
    for key, info in _infos(pods, None):
        rows[key] = pod_row(key, info, get_sample(key))
    for key, sample in samples.items():
        if key not in rows:  # metrics of pods not (or no longer) listed
            rows[key] = pod_row(key, None, sample)
    return list(rows.values())
