"""Nodes: the row of one node, how it is made from its object, metrics and pods, and what sorts it.

The rules follow `kubectl top node` (SPEC Part A §2, Part B §2.3): usage is
exact and rounded once; percentages divide milli values. Either side may be
missing: metrics without a Node object (deleted between two requests, or no
permission to list nodes) and a node without metrics both still give a row.
Requests and limits are summed from the node's pods as `kubectl describe
node` sums them (reservations.py). A node's row also carries its share of
its pool (pools.py sums the shares column by column).

At a 2 s refresh almost nothing changed since the last one: the API server
changes an object only with a new resourceVersion, a node is scraped every
15 s or so, and the pods' sums change only where pods changed. NodeCache
keeps what was made from each, so an unchanged node keeps its row object
(and the table its formatted line).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain
from operator import attrgetter, is_
from typing import NamedTuple

import msgspec

from ktopui.kube.objects import Node, NodeMetrics
from ktopui.model.amounts import Amounts, Usage, pct
from ktopui.model.kinds import Kind
from ktopui.model.pod_info import (
    PodChanges,
    amounts_from_nanos,
    amounts_of,
    parse_resources,
)
from ktopui.model.quantity import QuantityError, parse_cached
from ktopui.model.reservations import (
    PodItems,
    Reservation,
    ReservationCache,
    reservations,
)
from ktopui.model.status import NO_POOL, POOL_LABELS, node_pool, node_roles, node_status
from ktopui.model.usage import usage_of


class PoolShare(NamedTuple):
    """What one listed node adds to its pool's sums (model/pools.py): 0 for a number it does
    not have, and a count of 1 for each it has, so a pool sums its nodes column by column in C."""

    nodes: int
    cpu: int
    mem: int
    cpu_reporting: int  # 1 when it reports CPU usage
    mem_reporting: int
    cpu_measured: int  # its allocatable CPU when it reports CPU usage: what a pool's %CPU is of
    mem_measured: int
    cpu_allocatable: int
    mem_allocatable: int
    cpu_known: int  # 1 when its allocatable CPU is known (and with it its free CPU)
    mem_known: int
    cpu_requests: int
    mem_requests: int
    cpu_free: int
    mem_free: int
    pods: int
    pods_allocatable: int
    pods_known: int  # 1 when its allocatable pods are known


class NodeRow(msgspec.Struct, gc=False):
    name: str
    status: str = "Unknown"
    roles: str = "<none>"
    pods: int = 0
    usage: Usage = msgspec.field(default_factory=Usage)
    has_metrics: bool = False
    in_node_list: bool = True
    timestamp: str = ""
    window: str = ""
    # What percentages are taken of: allocatable, or capacity when asked.
    available: Amounts = msgspec.field(default_factory=Amounts)
    requests: Amounts = msgspec.field(default_factory=Amounts)
    limits: Amounts = msgspec.field(default_factory=Amounts)
    problems: dict[str, str] = msgspec.field(default_factory=dict)
    pool: str = NO_POOL
    pods_allocatable: int | None = None  # status.allocatable.pods
    # Allocatable less the larger of requests and usage (0 at least): room left, per resource.
    free: Amounts = msgspec.field(default_factory=Amounts)
    share: PoolShare | None = None  # (None: not in the node list, so in no pool)

    @property
    def cpu_pct(self) -> int | None:
        return pct(self.usage.cpu_milli, self.available.cpu_milli)

    @property
    def mem_pct(self) -> int | None:
        return pct(self.usage.mem_milli, self.available.mem_milli)

    @property
    def cpu_req_pct(self) -> int | None:
        return pct(self.requests.cpu_milli, self.available.cpu_milli)

    @property
    def cpu_lim_pct(self) -> int | None:
        return pct(self.limits.cpu_milli, self.available.cpu_milli)

    @property
    def mem_req_pct(self) -> int | None:
        return pct(self.requests.mem_milli, self.available.mem_milli)

    @property
    def mem_lim_pct(self) -> int | None:
        return pct(self.limits.mem_milli, self.available.mem_milli)


def filter_text(row: NodeRow) -> str:
    return f"{row.name} {row.roles} {row.status}"


_name = attrgetter("name")

NODES = Kind(
    name="nodes",
    key=_name,
    order=_name,
    filter_text=filter_text,
    values={
        "name": _name,
        "status": attrgetter("status"),
        "roles": attrgetter("roles"),
        "pods": attrgetter("pods"),
        "cpu": attrgetter("usage.cpu_milli"),
        "mem": attrgetter("usage.mem_bytes"),
        "cpu_pct": attrgetter("cpu_pct"),
        "mem_pct": attrgetter("mem_pct"),
        "cpu_req_pct": attrgetter("cpu_req_pct"),
        "mem_req_pct": attrgetter("mem_req_pct"),
        "cpu_lim_pct": attrgetter("cpu_lim_pct"),
        "mem_lim_pct": attrgetter("mem_lim_pct"),
        "cpu_req": attrgetter("requests.cpu_milli"),
        "mem_req": attrgetter("requests.mem_bytes"),
        "cpu_alloc": attrgetter("available.cpu_milli"),
        "mem_alloc": attrgetter("available.mem_bytes"),
    },
)


# -- what a row is made of ---------------------------------------------------------


# (What rows are made of are msgspec Structs: made for every node at every
# refresh, they cost what a tuple costs, a NamedTuple four times that.)


class NodeStatic(msgspec.Struct, frozen=True, gc=False):
    """What a node's object gives its row: it changes only with the resourceVersion."""

    resource_version: str
    use_capacity: bool
    pool_labels: tuple[str, ...]
    status: str
    roles: str
    pool: str
    pods_allocatable: int | None
    available: Amounts
    problems: dict[str, str]


class Scrape(msgspec.Struct, frozen=True, gc=False):
    """What a row takes of its node's metrics: the texts, parsed only when they changed."""

    timestamp: str
    window: str
    cpu: str | None
    memory: str | None


class RowInputs(msgspec.Struct, frozen=True, gc=False):
    """What one node's row follows from, and only that."""

    static: NodeStatic | None
    scrape: Scrape | None
    reservation: Reservation | None


class KeptRow(msgspec.Struct, frozen=True, gc=False):
    inputs: RowInputs
    row: NodeRow


class ReservedAmounts(msgspec.Struct, frozen=True, gc=False):
    """A node's summed requests and limits as Amounts, with the sums they were made of."""

    requests_nanos: dict[str, int]
    limits_nanos: dict[str, int]
    requests: Amounts
    limits: Amounts


class NodeCache:
    """What earlier calls of node_rows made, reused while its inputs are the same."""

    def __init__(self) -> None:
        self.statics: dict[str, NodeStatic] = {}  # by name, while the resourceVersion holds
        # ((use_capacity, pool labels), the node objects) the statics are of
        self.objects: tuple[tuple[bool, tuple[str, ...]], list] | None = None
        self.rows: dict[str, KeptRow] = {}  # the last rows by name, with what each was made of
        self.amounts: dict[str, ReservedAmounts] = {}
        self.reservations = ReservationCache()


# -- making rows -------------------------------------------------------------------


def node_rows(
    nodes: Iterable[Node] | None,
    metrics: Iterable[NodeMetrics] | None,
    pods: PodItems | None = None,
    *,
    use_capacity: bool = False,
    pool_labels: Sequence[str] = POOL_LABELS,
    cache: NodeCache | None = None,
    changes: PodChanges | None = None,
) -> list[NodeRow]:
    """One row per node known from either the node list or the metrics.

    `nodes` None means the node list is unavailable (no permission, failed
    request): metrics rows still appear, without percentages. `changes`
    says which pods may differ from the pods of the call before (so the
    reservations are summed again for those only). A node's pool is the
    value of the first of `pool_labels` it carries.
    """
    pool_labels = tuple(pool_labels)
    known = cache.statics if cache is not None else {}
    statics: dict[str, NodeStatic] = {}
    if nodes is not None and not isinstance(nodes, list):
        nodes = list(nodes)
    # The same node objects as last time (the watch cache's, most refreshes): the same statics.
    same = (
        cache is not None and nodes is not None and cache.objects is not None
        and cache.objects[0] == (use_capacity, pool_labels) and len(nodes) == len(cache.objects[1])
        and all(map(is_, nodes, cache.objects[1]))
    )
    for node in () if same else nodes or ():
        meta = node.metadata
        static = known.get(meta.name)
        if (static is None or static.resource_version != meta.resourceVersion or not meta.resourceVersion
                or static.use_capacity != use_capacity or static.pool_labels != pool_labels):
            problems: dict[str, str] = {}
            source = node.status.capacity if use_capacity else node.status.allocatable
            label = "capacity" if use_capacity else "allocatable"
            available = amounts_of(parse_resources(source, label, problems))
            static = NodeStatic(meta.resourceVersion, use_capacity, pool_labels, node_status(node), node_roles(node),
                                node_pool(meta.labels, pool_labels), _pods_allocatable(node, problems), available,
                                problems)
        statics[meta.name] = static
    if same:
        statics = known
    elif cache is not None and nodes is not None:
        cache.statics, cache.objects = statics, ((use_capacity, pool_labels), nodes)
    scrapes: dict[str, Scrape] = {}
    for m in metrics or ():
        texts = m.usage
        scrapes[m.metadata.name] = Scrape(m.timestamp, m.window, texts.get("cpu"), texts.get("memory"))
    per_node = (reservations(pods, cache.reservations if cache is not None else None, changes)
                if pods is not None else {})

    # A row follows from its node's static part, its scrape and its pods' sums, and
    # only those: while they are the same objects (a node not scraped since the last
    # refresh, most at a 2 s interval, its pods unchanged) the row before is kept,
    # unbuilt, and the table keeps its line.
    before = cache.rows if cache is not None else {}
    amounts_before = cache.amounts if cache is not None else {}
    amounts: dict[str, ReservedAmounts] = {}
    rows: dict[str, KeptRow] = {}
    get_static, get_scrape, get_reservation = statics.get, scrapes.get, per_node.get
    for name in chain(statics, [name for name in scrapes if name not in statics]):
        inputs = RowInputs(get_static(name), get_scrape(name), get_reservation(name))
        old = before.get(name)
        if old is not None and old.inputs == inputs:
            rows[name] = old
            if name in amounts_before:
                amounts[name] = amounts_before[name]
            continue
        rows[name] = KeptRow(inputs, _node_row(name, inputs, amounts_before, amounts))
    if cache is not None:
        cache.rows, cache.amounts = rows, amounts
    return [kept.row for kept in rows.values()]


def _node_row(name: str, inputs: RowInputs, amounts_before: dict[str, ReservedAmounts],
              amounts: dict[str, ReservedAmounts]) -> NodeRow:
    static, scrape, reservation = inputs.static, inputs.scrape, inputs.reservation
    if static is None:
        row = NodeRow(name=name, in_node_list=False)
    else:
        row = NodeRow(name=name, status=static.status, roles=static.roles, available=static.available,
                      problems=dict(static.problems), pool=static.pool, pods_allocatable=static.pods_allocatable)
    if scrape is not None:
        row.has_metrics = True
        row.timestamp, row.window = scrape.timestamp, scrape.window
        texts = {}
        if scrape.cpu is not None:
            texts["cpu"] = scrape.cpu
        if scrape.memory is not None:
            texts["memory"] = scrape.memory
        row.usage = usage_of([texts], row.problems)
    if reservation is None:
        if row.in_node_list:
            row.requests, row.limits = Amounts(), Amounts()
            _room_left(row)
        return row
    row.pods = reservation.pods
    if reservation.problem:
        row.problems["requests"] = reservation.problem
    if row.in_node_list:
        # A node's sums are new objects only when its pods changed: so are its Amounts.
        kept = amounts_before.get(name)
        if kept is None or kept.requests_nanos is not reservation.requests or kept.limits_nanos is not reservation.limits:
            kept = ReservedAmounts(reservation.requests, reservation.limits, amounts_from_nanos(reservation.requests),
                                   amounts_from_nanos(reservation.limits))
        amounts[name] = kept
        row.requests, row.limits = kept.requests, kept.limits
        _room_left(row)
    return row


def _pods_allocatable(node: Node, problems: dict[str, str]) -> int | None:
    text = node.status.allocatable.get("pods")
    if text is None:
        return None
    try:
        return parse_cached(text).value()
    except QuantityError as err:
        problems["pods.allocatable"] = f"invalid allocatable pods quantity {text!r}: {err}"
        return None


def _room(available: int | None, requested: int | None, used: int | None) -> int | None:
    if available is None:
        return None
    return max(0, available - max(requested or 0, used or 0))


def _room_left(row: NodeRow) -> None:
    """A listed node's free capacity, and its share of its pool's sums.

    Free is allocatable less what is requested or used, whichever is more
    (without metrics, the requests alone); never below 0: a node over its
    allocatable leaves no room, and takes none from the others of its pool.
    """
    available, requested, used = row.available, row.requests, row.usage
    free = row.free = Amounts(_room(available.cpu_milli, requested.cpu_milli, used.cpu_milli),
                              _room(available.mem_bytes, requested.mem_bytes, used.mem_bytes))
    cpu_reporting, mem_reporting = used.cpu_milli is not None, used.mem_bytes is not None
    row.share = PoolShare(
        1, used.cpu_milli or 0, used.mem_bytes or 0, cpu_reporting, mem_reporting,
        (available.cpu_milli or 0) if cpu_reporting else 0, (available.mem_bytes or 0) if mem_reporting else 0,
        available.cpu_milli or 0, available.mem_bytes or 0,
        available.cpu_milli is not None, available.mem_bytes is not None,
        requested.cpu_milli or 0, requested.mem_bytes or 0, free.cpu_milli or 0, free.mem_bytes or 0,
        row.pods, row.pods_allocatable or 0, row.pods_allocatable is not None,
    )
