"""Join metrics with Node and Pod objects into rows.

The rules follow `kubectl top` (SPEC Part A §2, Part B §2.3): usage sums are
exact and rounded once, after summing; percentages divide milli values.
Either side may be missing: metrics without an object (deleted between two
requests, or no permission to list objects) and objects without metrics
(metrics API down, pod not scraped yet) both still give a row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ktopui.kube.objects import Node, NodeMetrics, Pod, PodMetrics, ResourceList
from ktopui.model.pod_resources import (
    InvalidResource,
    Resources,
    is_sidecar,
    pod_limits,
    pod_requests,
)
from ktopui.model.quantity import (
    MAX_MILLI_NANOS,
    Quantity,
    QuantityError,
    nanos_to_milli,
    nanos_to_value,
    parse_cached,
    simple_nanos,
    sum_quantities,
)
from ktopui.model.rows import (
    Amounts,
    ContainerRow,
    LimitShare,
    NodeRow,
    PodRow,
    Usage,
)
from ktopui.model.status import node_roles, node_status, pod_ready, pod_restarts, pod_status

TERMINATED_PHASES = ("Succeeded", "Failed")


def _sum(texts: Iterable[str], label: str, problems: dict[str, str], key: str) -> Quantity | None:
    texts = list(texts)
    try:
        return sum_quantities(texts)
    except QuantityError as err:
        bad = next((t for t in texts if not _valid(t)), "?")
        problems[key] = f"invalid {label} quantity {bad!r}: {err}"
        return None


def _valid(text: str) -> bool:
    try:
        parse_cached(text)
    except QuantityError:
        return False
    return True


def _fast_totals(lists: Iterable[ResourceList]) -> tuple[int, int] | None:
    """(CPU, memory) sums in nano units when every quantity has a simple shape.

    None when some quantity needs the exact parser, or a sum is too large for
    the plain ceilings of nanos_to_milli/nanos_to_value to be Go's answer.
    """
    cpu = mem = 0
    for rl in lists:
        text = rl.get("cpu")
        if text is not None:
            n = simple_nanos(text)
            if n is None:
                return None
            cpu += n
        text = rl.get("memory")
        if text is not None:
            n = simple_nanos(text)
            if n is None:
                return None
            mem += n
    if cpu > MAX_MILLI_NANOS or mem > MAX_MILLI_NANOS:
        return None
    return cpu, mem


def usage_of(lists: list[ResourceList], problems: dict[str, str]) -> Usage:
    """Exact sum of usage lists, rounded the way kubectl rounds (SPEC §2.3)."""
    totals = _fast_totals(lists)
    if totals is not None:
        cpu_n, mem_n = totals
        return Usage(nanos_to_milli(cpu_n), nanos_to_value(mem_n), nanos_to_milli(mem_n))
    return exact_usage_of(lists, problems)


def exact_usage_of(lists: list[ResourceList], problems: dict[str, str]) -> Usage:
    """usage_of on the exact path only: Quantity parsing and Go's Add, for any spelling."""
    usage = Usage()
    cpu = _sum((rl["cpu"] for rl in lists if "cpu" in rl), "CPU", problems, "cpu")
    if cpu is not None:
        usage.cpu_milli = cpu.milli_value()
    mem = _sum((rl["memory"] for rl in lists if "memory" in rl), "memory", problems, "memory")
    if mem is not None:
        usage.mem_bytes = mem.value()
        usage.mem_milli = mem.milli_value()
    return usage


def amounts_of(resources: Mapping[str, Quantity]) -> Amounts:
    amounts = Amounts()
    if (cpu := resources.get("cpu")) is not None:
        amounts.cpu_milli = cpu.milli_value()
    if (mem := resources.get("memory")) is not None:
        amounts.mem_bytes = mem.value()
        amounts.mem_milli = mem.milli_value()
    return amounts


def _resources(rl: ResourceList, label: str, problems: dict[str, str]) -> Resources:
    out: Resources = {}
    for name in ("cpu", "memory"):
        if name in rl:
            try:
                out[name] = parse_cached(rl[name])
            except QuantityError as err:
                problems[f"{name}.{label}"] = f"invalid {label} {name} quantity {rl[name]!r}: {err}"
    return out


def _add_into(total: Resources, more: Resources) -> None:
    for name, q in more.items():
        total[name] = total[name] + q if name in total else q


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
    """What earlier refreshes computed, reused while the inputs are unchanged.

    metrics-server moves a pod's usage only when its timestamp moves (every
    15-60 s) and the API server changes a pod only with a new
    resourceVersion, so at a 2 s refresh almost every row is unchanged: the
    join then costs one signature per pod instead of rebuilding the row.
    """

    def __init__(self) -> None:
        self.pods: dict[tuple[str, str], tuple[tuple, PodRow]] = {}
        self.reserved: dict[tuple[str, str], tuple[str, dict[str, int], dict[str, int], str]] = {}
        # What the last pod_rows call changed, so history records only those.
        self.rebuilt: list[PodRow] = []
        self.removed: list[PodRow] = []


def _signature(version: str | None, m: PodMetrics | None) -> tuple:
    # The decoded containers compare by value (msgspec structs, in C); the
    # metrics' creationTimestamp is the request time, so it is left out.
    return (version,) if m is None else (version, m.timestamp, m.window, m.containers)


def _nanos(resources: Resources) -> dict[str, int]:
    return {name: q.nanos for name, q in resources.items()}


def _amounts_from_nanos(nanos: dict[str, int]) -> Amounts:
    """Like amounts_of, from exact integer sums (ceil to the milli, to the byte)."""
    amounts = Amounts()
    if (cpu := nanos.get("cpu")) is not None:
        amounts.cpu_milli = nanos_to_milli(cpu)
    if (mem := nanos.get("memory")) is not None:
        amounts.mem_bytes = nanos_to_value(mem)
        amounts.mem_milli = nanos_to_milli(mem)
    return amounts


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
    rows: dict[str, NodeRow] = {}
    for node in nodes or ():
        row = NodeRow(
            name=node.metadata.name,
            status=node_status(node),
            roles=node_roles(node),
        )
        source = node.status.capacity if use_capacity else node.status.allocatable
        label = "capacity" if use_capacity else "allocatable"
        row.available = amounts_of(_resources(source, label, row.problems))
        rows[row.name] = row

    for m in metrics or ():
        row = rows.get(m.metadata.name)
        if row is None:
            row = rows[m.metadata.name] = NodeRow(name=m.metadata.name, in_node_list=False)
        row.has_metrics = True
        row.timestamp = m.timestamp
        row.window = m.window
        row.usage = usage_of([m.usage], row.problems)

    if pods is not None:
        _add_pod_reservations(rows, pods, cache)
    return list(rows.values())


def _add_pod_reservations(rows: dict[str, NodeRow], pods: Iterable[Pod], cache: RowCache | None) -> None:
    """Pod counts and summed requests/limits per node, like `kubectl describe node`.

    Sums are exact integers of nanounits, rounded once per node.
    """
    requests: dict[str, dict[str, int]] = {}
    limits: dict[str, dict[str, int]] = {}
    seen: dict[tuple[str, str], tuple[str, dict[str, int], dict[str, int], str]] = {}
    for pod in pods:
        row = rows.get(pod.spec.nodeName)
        if row is None or pod.status.phase in TERMINATED_PHASES:
            continue
        row.pods += 1
        key = (pod.metadata.namespace, pod.metadata.name)
        version = pod.metadata.resourceVersion
        known = cache.reserved.get(key) if cache is not None and version else None
        if known is None or known[0] != version:
            try:
                known = (version, _nanos(pod_requests(pod)), _nanos(pod_limits(pod)), "")
            except InvalidResource as err:
                known = (version, {}, {}, f"pod {key[0]}/{key[1]}: {err}")
        seen[key] = known
        _, pod_req, pod_lim, problem = known
        if problem:
            row.problems["requests"] = problem
            continue
        for into, amounts in ((requests.setdefault(row.name, {}), pod_req), (limits.setdefault(row.name, {}), pod_lim)):
            for name, n in amounts.items():
                into[name] = into.get(name, 0) + n
    if cache is not None:
        cache.reserved = seen
    for name, row in rows.items():
        if row.in_node_list:
            row.requests = _amounts_from_nanos(requests.get(name, {}))
            row.limits = _amounts_from_nanos(limits.get(name, {}))


# -- Pods -------------------------------------------------------------------


def pod_rows(
    pods: Iterable[Pod] | None, metrics: Iterable[PodMetrics] | None, *, cache: RowCache | None = None
) -> list[PodRow]:
    """One row per pod known from either the pod list or the metrics.

    With a cache, a pod whose resourceVersion and metrics are unchanged keeps
    the row object of the previous refresh; cache.rebuilt and cache.removed
    then say what changed.
    """
    by_key: dict[tuple[str, str], PodMetrics] = {
        (m.metadata.namespace, m.metadata.name): m for m in metrics or ()
    }
    previous = cache.pods if cache is not None else {}
    built: dict[tuple[str, str], tuple[tuple, PodRow]] = {}
    rebuilt: list[PodRow] = []
    rows: list[PodRow] = []

    def row_for(key: tuple[str, str], pod: Pod | None, m: PodMetrics | None) -> PodRow:
        version = pod.metadata.resourceVersion if pod is not None else None
        if pod is not None and not version:
            row = _pod_row(pod, m)  # nothing tells us it is unchanged
            rebuilt.append(row)
            return row
        signature = _signature(version, m)
        known = previous.get(key)
        if known is not None and known[0] == signature:
            row = known[1]
        else:
            row = _pod_row(pod, m)
            rebuilt.append(row)
        built[key] = (signature, row)
        return row

    for pod in pods or ():
        key = (pod.metadata.namespace, pod.metadata.name)
        rows.append(row_for(key, pod, by_key.pop(key, None)))
    for key, m in by_key.items():
        rows.append(row_for(key, None, m))
    if cache is not None:
        cache.removed = [row for key, (_, row) in previous.items() if key not in built]
        cache.pods, cache.rebuilt = built, rebuilt
    return rows


def _pod_row(pod: Pod | None, m: PodMetrics | None) -> PodRow:
    meta = (pod or m).metadata  # type: ignore[union-attr]
    row = PodRow(namespace=meta.namespace, name=meta.name)
    usage_by_container: dict[str, ResourceList] = {}
    if m is not None:
        row.has_metrics = True
        row.timestamp = m.timestamp
        row.window = m.window
        row.usage = usage_of([c.usage for c in m.containers], row.problems)
        usage_by_container = {c.name: c.usage for c in m.containers}

    if pod is None:
        row.in_pod_list = False
        row.containers = [
            _container_row(c.name, "app", usage_by_container.get(c.name), None, {})
            for c in m.containers  # type: ignore[union-attr]
        ]
        return row

    row.node = pod.spec.nodeName
    row.status = pod_status(pod)
    row.ready = pod_ready(pod)
    row.restarts = pod_restarts(pod)
    try:
        row.requests = amounts_of(pod_requests(pod))
        row.limits = amounts_of(pod_limits(pod))
    except InvalidResource as err:
        row.problems["requests"] = str(err)

    statuses = {s.name: s for s in pod.status.containerStatuses}
    statuses.update({s.name: s for s in pod.status.initContainerStatuses})
    for c in pod.spec.initContainers:
        kind = "sidecar" if is_sidecar(c) else "init"
        row.containers.append(_container_row(c.name, kind, usage_by_container.get(c.name), c, statuses))
    for c in pod.spec.containers:
        row.containers.append(_container_row(c.name, "app", usage_by_container.get(c.name), c, statuses))
    row.cpu_limit_share = _limit_share(row.containers, "cpu")
    row.mem_limit_share = _limit_share(row.containers, "memory")
    return row


def _container_row(name, kind, usage: ResourceList | None, spec, statuses) -> ContainerRow:
    row = ContainerRow(name=name, kind=kind)
    if usage is not None:
        row.has_metrics = True
        row.usage = usage_of([usage], row.problems)
    if spec is not None:
        row.requests = amounts_of(_resources(spec.resources.requests, "request", row.problems))
        row.limits = amounts_of(_resources(spec.resources.limits, "limit", row.problems))
    status = statuses.get(name)
    if status is not None:
        row.restarts = status.restartCount
        state = status.state
        if state.waiting is not None:
            row.state = state.waiting.reason or "Waiting"
        elif state.terminated is not None:
            row.state = state.terminated.reason or "Terminated"
        else:
            row.state = "Running"
    return row


def _limit_share(containers: list[ContainerRow], resource: str) -> LimitShare:
    """Usage over limit, counting only the running containers that set a limit.

    k9s divides the whole pod's usage by the sum of the limits that happen to
    be set, which overstates the percentage when some containers are
    unbounded; here the unbounded ones are left out and flagged instead.
    """
    share = LimitShare()
    used = limit = 0
    bounded = 0
    running = [c for c in containers if c.kind != "init"]
    for c in running:
        lim = c.limits.cpu_milli if resource == "cpu" else c.limits.mem_milli
        if lim is None:
            continue
        use = c.usage.cpu_milli if resource == "cpu" else c.usage.mem_milli
        bounded += 1
        limit += lim
        used += use or 0
    if bounded:
        share.used_milli = used
        share.limit_milli = limit
        share.partial = bounded < len(running)
    return share
