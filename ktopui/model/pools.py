"""Node pools: the listed nodes grouped by their pool (model/status.py's POOL_LABELS, or the
config file's), their row, how it is summed from node rows, and what sorts it.

A pool's numbers are sums of its nodes' rows, each rounded as `kubectl top node`
rounds it, so a pool's CPU is the sum of what `kubectl top nodes -l LABEL=VALUE`
prints. Its percentages of allocatable take the nodes that report usage of the
resource (a node without metrics would otherwise count as idle); `cpu_partial`
says when some do not. Free capacity is summed from each node's own (NodeRow.free):
room on one node cannot hold what overflows another. Nodes without any pool label
form the pool NO_POOL, last in name order.

A cluster has a few pools of thousands of nodes: each node row carries its share of
its pool's sums (a PoolShare, made with the row), so a pool's sums are column sums
in C, made again only when a node row changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import compress, groupby
from operator import attrgetter, is_

import msgspec

from ktopui.model.amounts import Amounts, Usage, pct
from ktopui.model.kinds import Kind
from ktopui.model.nodes import NodeRow, PoolShare
from ktopui.model.status import NO_POOL


class PoolRow(msgspec.Struct, gc=False):
    name: str
    nodes: list[NodeRow]  # its listed nodes, in the order of the snapshot's
    usage: Usage = msgspec.field(default_factory=Usage)  # of the nodes reporting each resource (no mem_milli)
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
        return pct(self.usage.mem_bytes, self.measured.mem_bytes)


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


_pool, _share = attrgetter("pool"), attrgetter("share")


def pool_row(name: str, nodes: list[NodeRow]) -> PoolRow:
    """The row of one pool from the rows of its (listed) nodes."""
    s = PoolShare(*map(sum, zip(*map(_share, nodes))))  # (column sums, in C: no Python step per node)
    return PoolRow(
        name=name,
        nodes=nodes,
        usage=Usage(s.cpu if s.cpu_reporting else None, s.mem if s.mem_reporting else None),
        has_metrics=bool(s.cpu_reporting or s.mem_reporting),
        available=Amounts(s.cpu_allocatable if s.cpu_known else None, s.mem_allocatable if s.mem_known else None),
        measured=Amounts(s.cpu_measured if s.cpu_reporting else None, s.mem_measured if s.mem_reporting else None),
        cpu_partial=0 < s.cpu_reporting < s.nodes,
        mem_partial=0 < s.mem_reporting < s.nodes,
        requests=Amounts(s.cpu_requests, s.mem_requests),  # (a node whose pods request nothing has requested 0)
        free=Amounts(s.cpu_free if s.cpu_known else None, s.mem_free if s.mem_known else None),
        pods=s.pods,
        pods_allocatable=s.pods_allocatable if s.pods_known else None,
    )


def pool_rows(nodes: Sequence[NodeRow]) -> list[PoolRow]:
    """One row per pool of the listed nodes (a node known only from its metrics has no labels)."""
    listed = sorted(compress(nodes, map(_share, nodes)), key=_pool)  # (stable: node order within a pool)
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
