"""The columns of each table: title, width, sort value, cell text and level.

A column's `value` is what it sorts by (a number, never the display string);
`priority` decides which columns go first when the terminal is narrow
(higher goes first; see layout.py for how widths are shared out).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from ktopui.model import history_keys
from ktopui.model.history import CPU, MEMORY, History
from ktopui.model.rows import ContainerRow, NodeRow, PodRow
from ktopui.ui.cells import cpu_text, level, mem_text, pct_text, sparkline

SPARK_WIDTH = 10


@dataclass(frozen=True)
class Column:
    id: str
    title: str
    width: int
    value: Callable[[Any], Any]
    text: Callable[[Any, History], str]
    # Component-class suffix for a cell's colour: "warn", "crit", "spark-cpu"...
    tone: Callable[[Any], str] = lambda row: ""
    right: bool = True
    priority: int = 0
    # A text column (a name): as wide as its longest value when there is room,
    # that extra width with priority `grow`, up to `cap` before the columns
    # after it in priority; never narrower than `width`.
    flex: bool = False
    grow: int = 0
    cap: int = 32
    middle: bool = False  # a value too long loses its middle (names), not its end
    fold: str = ""  # when not shown, its text goes in front of this column's (as `ns/name`)
    # A trend: whose history it draws (the table formats its line again when that history changes).
    history_key: Callable[[Any], tuple] | None = None
    # The row attribute (a dotted path) that `value` reads, when it reads just
    # one: rows kept as columns (PodRowsView) give those values without
    # making a row per pod. Found from an attrgetter of one path by itself.
    attr: str | None = None

    def __post_init__(self) -> None:
        # Room for the title and the sort mark after it (`RESTARTS▼`).
        object.__setattr__(self, "width", max(self.width, len(self.title) + 1))
        if self.attr is None and type(self.value) is attrgetter:
            found = re.fullmatch(r"operator\.attrgetter\('([\w.]+)'\)", repr(self.value))
            object.__setattr__(self, "attr", found.group(1) if found else None)


def _spark(key_of: Callable[[Any], tuple], metric: int, top_of: Callable[[Any], int | None]) -> Callable[[Any, History], str]:
    return lambda row, history: sparkline(history.last(key_of(row), metric, SPARK_WIDTH), SPARK_WIDTH, top_of(row))


# What a row's trend is drawn up to (from zero): a node's allocatable, a pod's or
# container's limit; without one, its own highest sample.
_NODE_TOPS = {CPU: attrgetter("available.cpu_milli"), MEMORY: attrgetter("available.mem_bytes")}
_LIMIT_TOPS = {CPU: attrgetter("limits.cpu_milli"), MEMORY: attrgetter("limits.mem_bytes")}


def _usage(resource: str) -> Column:
    """CPU or memory usage, the digits `kubectl top` prints; `?` for an invalid quantity."""
    if resource == "cpu":
        cid, title, width, get, text = "cpu", "CPU", 8, attrgetter("usage.cpu_milli"), cpu_text
    else:
        cid, title, width, get, text = "mem", "MEMORY", 9, attrgetter("usage.mem_bytes"), mem_text
    return Column(
        cid,
        title,
        width,
        get,
        lambda r, _h: text(get(r), r.problems.get(resource)) if r.has_metrics else "-",
        priority=90,
    )


def _trend(cid: str, key_of: Callable[[Any], tuple], metric: int, priority: int, tops: dict) -> Column:
    title, value, tone = (
        ("CPU TREND", attrgetter("usage.cpu_milli"), "spark-cpu")
        if metric == CPU
        else ("MEM TREND", attrgetter("usage.mem_bytes"), "spark-mem")
    )
    return Column(cid, title, SPARK_WIDTH, value, _spark(key_of, metric, tops[metric]), lambda r: tone, right=False,
                  priority=priority, history_key=key_of)


def _pct_column(
    cid: str, title: str, get: Callable[[Any], int | None], priority: int, partial=None, *, marks: bool = True
) -> Column:
    """A percentage; `marks=False` for one where high is normal (a node's limits: overcommit)."""
    return Column(
        cid,
        title,
        8,
        value=get,
        text=lambda row, _h: pct_text(get(row), partial=bool(partial and partial(row)), marks=marks),
        tone=(lambda row: level(get(row))) if marks else (lambda row: ""),
        priority=priority,
    )


# -- nodes --------------------------------------------------------------------


def node_status_text(status: str) -> str:
    """`Ready,SchedulingDisabled` does not fit a column; a cordoned Ready node reads `Cordoned`."""
    if status == "Ready,SchedulingDisabled":
        return "Cordoned"
    return status.replace(",SchedulingDisabled", "*")


_nkey = lambda r: history_keys.node(r.name)  # noqa: E731

NODE_COLUMNS = [
    Column("name", "NAME", 16, attrgetter("name"), lambda r, _h: r.name, right=False, priority=100,
           flex=True, grow=55, middle=True),
    Column(
        "status",
        "STATUS",
        9,
        attrgetter("status"),
        lambda r, _h: node_status_text(r.status),
        tone=lambda r: "" if r.status == "Ready" else "crit" if r.status.startswith("NotReady") else "warn",
        right=False,
        priority=60,
    ),
    Column("roles", "ROLES", 6, attrgetter("roles"), lambda r, _h: r.roles, right=False, priority=15,
           flex=True, grow=15, cap=20),
    Column("pods", "PODS", 5, attrgetter("pods"), lambda r, _h: str(r.pods), priority=30),
    _usage("cpu"),
    _pct_column("cpu_pct", "CPU%", attrgetter("cpu_pct"), 85),
    _pct_column("cpu_req_pct", "CPU/R%", attrgetter("cpu_req_pct"), 50),
    # Limits over allocatable are normal overcommit, not a node in trouble: no marks, no colour.
    _pct_column("cpu_lim_pct", "CPU/L%", attrgetter("cpu_lim_pct"), 25, marks=False),
    _trend("cpu_hist", _nkey, CPU, 45, _NODE_TOPS),
    _usage("memory"),
    _pct_column("mem_pct", "MEM%", attrgetter("mem_pct"), 85),
    _pct_column("mem_req_pct", "MEM/R%", attrgetter("mem_req_pct"), 50),
    _pct_column("mem_lim_pct", "MEM/L%", attrgetter("mem_lim_pct"), 25, marks=False),
    _trend("mem_hist", _nkey, MEMORY, 45, _NODE_TOPS),
]

# -- pods ---------------------------------------------------------------------

_pkey = lambda r: history_keys.pod(r.namespace, r.name)  # noqa: E731


def _status_level(row: PodRow) -> str:
    if row.status in ("Running", "Succeeded", "Completed"):
        return ""
    if row.status in ("Pending", "ContainerCreating", "Terminating") or row.status.startswith("Init:"):
        return "warn"
    return "crit"


POD_COLUMNS = [
    # Decided before the name's full width: when it is not shown, the name
    # carries it as a prefix (`ns/name`) whenever the rows span namespaces.
    Column("namespace", "NAMESPACE", 10, attrgetter("namespace"), lambda r, _h: r.namespace, right=False,
           priority=70, flex=True, grow=70, cap=20, middle=True, fold="name"),
    Column("name", "NAME", 16, attrgetter("name"), lambda r, _h: r.name, right=False, priority=100,
           flex=True, grow=65, middle=True),
    # Its full width comes after the trends: a node's name is often long.
    Column("node", "NODE", 14, attrgetter("node"), lambda r, _h: r.node or "-", right=False, priority=22,
           flex=True, grow=19, middle=True),
    Column("status", "STATUS", 9, attrgetter("status"), lambda r, _h: r.status or "-", tone=_status_level,
           right=False, priority=60, flex=True, grow=60, cap=20),
    Column("restarts", "RESTARTS", 8, attrgetter("restarts"), lambda r, _h: str(r.restarts),
           tone=lambda r: "warn" if r.restarts else "", priority=35),
    _usage("cpu"),
    _pct_column("cpu_req_pct", "%CPU/R", attrgetter("cpu_req_pct"), 80),
    _pct_column("cpu_lim_pct", "%CPU/L", attrgetter("cpu_lim_pct"), 75, partial=attrgetter("cpu_limit_share.partial")),
    _trend("cpu_hist", _pkey, CPU, 20, _LIMIT_TOPS),
    _usage("memory"),
    _pct_column("mem_req_pct", "%MEM/R", attrgetter("mem_req_pct"), 80),
    _pct_column("mem_lim_pct", "%MEM/L", attrgetter("mem_lim_pct"), 75, partial=attrgetter("mem_limit_share.partial")),
    _trend("mem_hist", _pkey, MEMORY, 20, _LIMIT_TOPS),
]

# -- containers of one pod ----------------------------------------------------


def container_columns(namespace: str, pod: str, history_key: Callable[[str], tuple] | None = None) -> list[Column]:
    """`history_key` maps a container name to where its history is kept (default: its own key)."""
    ckey = (lambda c: history_key(c.name)) if history_key else (lambda c: history_keys.container(namespace, pod, c.name))
    return [
        Column("name", "CONTAINER", 14, attrgetter("name"), lambda c, _h: c.name, right=False, priority=100,
               flex=True, grow=65, middle=True),
        Column("kind", "KIND", 7, attrgetter("kind"), lambda c, _h: c.kind, right=False, priority=50),
        Column("status", "STATE", 11, attrgetter("state"), lambda c, _h: c.state or "-", right=False, priority=55),
        Column("restarts", "RESTARTS", 8, attrgetter("restarts"), lambda c, _h: str(c.restarts), priority=40),
        _usage("cpu"),
        Column("cpu_req", "CPU/R", 7, attrgetter("requests.cpu_milli"), lambda c, _h: cpu_text(c.requests.cpu_milli), priority=45),
        Column("cpu_lim", "CPU/L", 7, attrgetter("limits.cpu_milli"), lambda c, _h: cpu_text(c.limits.cpu_milli), priority=45),
        _pct_column("cpu_req_pct", "%CPU/R", attrgetter("cpu_req_pct"), 80),
        _pct_column("cpu_lim_pct", "%CPU/L", attrgetter("cpu_lim_pct"), 75),
        _usage("memory"),
        Column("mem_req", "MEM/R", 8, attrgetter("requests.mem_bytes"), lambda c, _h: mem_text(c.requests.mem_bytes), priority=45),
        Column("mem_lim", "MEM/L", 8, attrgetter("limits.mem_bytes"), lambda c, _h: mem_text(c.limits.mem_bytes), priority=45),
        _pct_column("mem_req_pct", "%MEM/R", attrgetter("mem_req_pct"), 80),
        _pct_column("mem_lim_pct", "%MEM/L", attrgetter("mem_lim_pct"), 75),
        _trend("cpu_hist", ckey, CPU, 10, _LIMIT_TOPS),
        _trend("mem_hist", ckey, MEMORY, 10, _LIMIT_TOPS),
    ]


_pod_key = attrgetter("namespace", "name")  # in C: called for 150,000 rows at a time
_pod_name = attrgetter("name", "namespace")


def row_key(row: NodeRow | PodRow | ContainerRow) -> Any:
    return _pod_key(row) if type(row) is PodRow else row.name


def row_name(row: NodeRow | PodRow | ContainerRow) -> Any:
    return _pod_name(row) if type(row) is PodRow else row.name


# -- without the metrics API: what is reserved, clearly not usage ----------------


def _amount(cid: str, title: str, get: Callable[[Any], int | None], text, priority: int) -> Column:
    return Column(cid, title, 9, get, lambda r, _h: text(get(r)), priority=priority)


NODE_COLUMNS_RESERVED = [
    *NODE_COLUMNS[:4],
    _amount("cpu_req", "CPU REQ", attrgetter("requests.cpu_milli"), cpu_text, 90),
    _amount("cpu_alloc", "CPU ALLOC", attrgetter("available.cpu_milli"), cpu_text, 40),
    _pct_column("cpu_req_pct", "CPU/R%", attrgetter("cpu_req_pct"), 85),
    _pct_column("cpu_lim_pct", "CPU/L%", attrgetter("cpu_lim_pct"), 50, marks=False),
    _amount("mem_req", "MEM REQ", attrgetter("requests.mem_bytes"), mem_text, 90),
    _amount("mem_alloc", "MEM ALLOC", attrgetter("available.mem_bytes"), mem_text, 40),
    _pct_column("mem_req_pct", "MEM/R%", attrgetter("mem_req_pct"), 85),
    _pct_column("mem_lim_pct", "MEM/L%", attrgetter("mem_lim_pct"), 50, marks=False),
]

POD_COLUMNS_RESERVED = [
    *POD_COLUMNS[:5],
    _amount("cpu_req", "CPU REQ", attrgetter("requests.cpu_milli"), cpu_text, 90),
    _amount("cpu_lim", "CPU LIM", attrgetter("limits.cpu_milli"), cpu_text, 80),
    _amount("mem_req", "MEM REQ", attrgetter("requests.mem_bytes"), mem_text, 90),
    _amount("mem_lim", "MEM LIM", attrgetter("limits.mem_bytes"), mem_text, 80),
]
