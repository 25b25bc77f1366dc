"""Node pools: the listed nodes grouped by their pool (model/status.py's POOL_LABELS, or the
config file's), their row, how it is summed from node rows, and what sorts it.

A pool's numbers are sums of its nodes' rows, each rounded as `kubectl top node`
rounds it, so a pool's CPU is the sum of what `kubectl top nodes -l LABEL=VALUE`
prints. Its percentages of allocatable take the nodes that report usage of the
resource (a node without metrics would otherwise count as idle); `cpu_partial`
says when some do not. Free capacity is summed from each node's own (NodeRow.free):
room on one node cannot hold what overflows another. Nodes without any pool label
form the pool NO_POOL, last in name order.

A cluster has a few pools of thousands of nodes: the sums are C-level maps over
each pool's rows, made again only when a node row changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import compress, groupby, repeat
from operator import attrgetter, is_, is_not

import msgspec

from ktopui.model.amounts import Amounts, Usage, pct
from ktopui.model.kinds import Kind
from ktopui.model.nodes import NodeRow
from ktopui.model.status import NO_POOL


class PoolRow(msgspec.Struct, gc=False):
    name: str
    nodes: list[NodeRow]  # its listed nodes, in the order of the snapshot's
    usage: Usage = msgspec.field(default_factory=Usage)  # of the nodes reporting each resource
    has_metrics: bool = False  # some node reports usage
    available: Amounts = msgspec.field(default_factory=Amounts)  # allocatable of all its nodes
    measured: Amounts = msgspec.field(default_factory=Amounts)  # allocatable of those reporting each resource
    cpu_partial: bool = False  # some of its nodes report no CPU usage
    mem_partial: bool = False
    requests: Amounts = msgspec.field(default_factory=Amounts)
    free: Amounts = msgspec.field(default_factory=Amounts)
    pods: int = 0  # pods on its nodes that are not done
    pods_allocatable: int | None = None
    problems: dict[str, str] = msgspec.field(default_factory=dict)  # (none of its own: its nodes' are theirs)

    @property
    def cpu_pct(self) -> int | None:
        return pct(self.usage.cpu_milli, self.measured.cpu_milli)

    @property
    def mem_pct(self) -> int | None:
        return pct(self.usage.mem_milli, self.measured.mem_milli)


def _name_value(row: PoolRow) -> str | None:
    # (None sorts after every value, either way: the nodes without a pool stay last.)
    return None if row.name == NO_POOL else row.name


def _order(row: PoolRow) -> tuple[bool, str]:
    return (row.name == NO_POOL, row.name)


POOLS = Kind(
    name="pools",
    key=attrgetter("name"),
    order=_order,
    filter_text=attrgetter("name"),
    values={
        "name": _name_value,
        "nodes": lambda row: len(row.nodes),
        "cpu": attrgetter("usage.cpu_milli"),
        "mem": attrgetter("usage.mem_bytes"),
        "cpu_pct": attrgetter("cpu_pct"),
        "mem_pct": attrgetter("mem_pct"),
        "cpu_req": attrgetter("requests.cpu_milli"),
        "mem_req": attrgetter("requests.mem_bytes"),
        "cpu_free": attrgetter("free.cpu_milli"),
        "mem_free": attrgetter("free.mem_bytes"),
        "pods": attrgetter("pods"),
    },
)


_pool = attrgetter("pool")
_in_node_list = attrgetter("in_node_list")
_cpu, _mem_bytes, _mem_milli = attrgetter("usage.cpu_milli"), attrgetter("usage.mem_bytes"), attrgetter("usage.mem_milli")
_available_cpu, _available_mem_bytes, _available_mem_milli = (
    attrgetter("available.cpu_milli"), attrgetter("available.mem_bytes"), attrgetter("available.mem_milli"))
_requested_cpu, _requested_mem_bytes, _requested_mem_milli = (
    attrgetter("requests.cpu_milli"), attrgetter("requests.mem_bytes"), attrgetter("requests.mem_milli"))
_free_cpu, _free_mem = attrgetter("free.cpu_milli"), attrgetter("free.mem_bytes")
_pods, _pods_allocatable = attrgetter("pods"), attrgetter("pods_allocatable")


def _total(values) -> int | None:
    """The sum of the values that are known; None when none is."""
    values = list(values)
    if None in values:  # (rare: a node whose allocatable is not a valid quantity)
        values = [v for v in values if v is not None]
    return sum(values) if values else None


def _reporting(nodes: list[NodeRow], usage: attrgetter) -> list[NodeRow]:
    return list(compress(nodes, map(is_not, map(usage, nodes), repeat(None))))


def pool_row(name: str, nodes: list[NodeRow]) -> PoolRow:
    """The row of one pool from the rows of its nodes."""
    cpu_nodes, mem_nodes = _reporting(nodes, _cpu), _reporting(nodes, _mem_bytes)
    return PoolRow(
        name=name,
        nodes=nodes,
        usage=Usage(_total(map(_cpu, cpu_nodes)), _total(map(_mem_bytes, mem_nodes)),
                    _total(map(_mem_milli, mem_nodes))),
        has_metrics=bool(cpu_nodes or mem_nodes),
        available=Amounts(_total(map(_available_cpu, nodes)), _total(map(_available_mem_bytes, nodes)),
                          _total(map(_available_mem_milli, nodes))),
        measured=Amounts(_total(map(_available_cpu, cpu_nodes)), _total(map(_available_mem_bytes, mem_nodes)),
                         _total(map(_available_mem_milli, mem_nodes))),
        cpu_partial=bool(cpu_nodes) and len(cpu_nodes) < len(nodes),
        mem_partial=bool(mem_nodes) and len(mem_nodes) < len(nodes),
        # (a node whose pods request nothing has requested 0)
        requests=Amounts(sum(filter(None, map(_requested_cpu, nodes))),
                         sum(filter(None, map(_requested_mem_bytes, nodes))),
                         sum(filter(None, map(_requested_mem_milli, nodes)))),
        free=Amounts(_total(map(_free_cpu, nodes)), _total(map(_free_mem, nodes))),
        pods=sum(map(_pods, nodes)),
        pods_allocatable=_total(map(_pods_allocatable, nodes)),
    )


def pool_rows(nodes: Sequence[NodeRow]) -> list[PoolRow]:
    """One row per pool of the listed nodes (a node known only from its metrics has no labels)."""
    listed = sorted(compress(nodes, map(_in_node_list, nodes)), key=_pool)  # (stable: node order within a pool)
    return [pool_row(name, list(members)) for name, members in groupby(listed, _pool)]


class PoolJoin:
    """The pool rows of the last node rows given, made again only when one of those changed
    (the node rows of an unchanged node are the same objects from one refresh to the next)."""

    def __init__(self) -> None:
        self._nodes: Sequence[NodeRow] = ()
        self.rows: list[PoolRow] = []

    def update(self, nodes: Sequence[NodeRow]) -> list[PoolRow]:
        if len(nodes) != len(self._nodes) or not all(map(is_, nodes, self._nodes)):
            self._nodes, self.rows = nodes, pool_rows(nodes)
        return self.rows
