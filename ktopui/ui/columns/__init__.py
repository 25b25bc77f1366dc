"""The columns of a table: title, width, what it sorts by, cell text and tone.

One module per kind of row (nodes.py, pods.py, containers.py) declares its
columns; here is what a column is and the shapes they share. A column's
`sort` names the value of its kind (model/kinds.py) it sorts by: a number,
never the text shown. `priority` decides which columns go first when the
terminal is narrow (higher goes first; see layout.py for how widths are
shared out). `choice` says which sort key picks it: `c` asks for
("usage", "cpu"), `a` for ("pct", <the resource picked last>), ...
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from ktopui.model.exits import OOM_KILLED, exit_text
from ktopui.model.history import CPU, MEMORY, History
from ktopui.ui.cells import cpu_text, level, mem_text, pct_text, server_now, sparkline

SPARK_WIDTH = 10


@dataclass(frozen=True)
class Column:
    id: str
    title: str
    width: int
    sort: str  # the name of its kind's value it sorts by
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
    choice: tuple[str, str] = ("", "")  # (what, resource) a sort key asks for to pick it
    ascending_first: bool = False  # sorted A to Z when picked (names); numbers start from the highest
    # A whole column as wide as its widest value, given all rows (never narrower than `width`).
    fit: Callable[[Sequence[Any]], int] | None = None

    def __post_init__(self) -> None:
        # Room for the title and the sort mark after it (`RESTARTS▼`).
        object.__setattr__(self, "width", max(self.width, len(self.title) + 1))


def sort_choices(what: str, resource: str) -> list[tuple[str, str]]:
    """What a sort key asks for, in order of preference: `c`/`m` pick usage (requests
    where there is no usage), `a`/`r`/`l` a percentage of the resource picked last."""
    if what in ("cpu", "mem"):
        return [("usage", what), ("requests", what)]
    if what in ("pct", "req_pct", "lim_pct", "reclaim"):
        return [(what, resource)]
    return [(what, "")]


_pods = attrgetter("pods")


def picked(columns: Sequence[Column], what: str, resource: str) -> Column | None:
    """The column a sort key picks among these, if any."""
    by_choice = {c.choice: c for c in reversed(columns)}
    return next((by_choice[c] for c in sort_choices(what, resource) if c in by_choice), None)


def text_column(cid: str, title: str, width: int, text: Callable[[Any], str], priority: int, *, sort: str = "",
                **kw) -> Column:
    """A column of names or words, sorted by its value `sort` (default: `cid`), A to Z first."""
    return Column(cid, title, width, sort or cid, lambda row, _h: text(row), right=False, priority=priority,
                  choice=(cid, ""), ascending_first=True, **kw)


def pods_width(rows: Sequence[Any]) -> int:
    """Cells a `running/pods` count takes at most over summed rows (running <= pods): a
    DaemonSet on 5,000 nodes wants 9, a namespace of them 11."""
    most = max(map(_pods, rows), default=0)
    return 2 * len(str(most)) + 1


def usage(resource: str) -> Column:
    """CPU or memory usage, the digits `kubectl top` prints; `?` for an invalid quantity."""
    if resource == "cpu":
        cid, title, width, get, text = "cpu", "CPU", 8, attrgetter("usage.cpu_milli"), cpu_text
    else:
        cid, title, width, get, text = "mem", "MEMORY", 9, attrgetter("usage.mem_bytes"), mem_text
    problem = "cpu" if resource == "cpu" else "memory"
    return Column(cid, title, width, cid, lambda r, _h: text(get(r), r.problems.get(problem)) if r.has_metrics else "-",
                  priority=90, choice=("usage", cid))


def trend(cid: str, key_of: Callable[[Any], tuple], metric: int, priority: int, top_of: Callable[[Any], int | None]) -> Column:
    """The last samples of a row's history, drawn from zero up to `top_of(row)` (its allocatable,
    its limit; without one, its own highest sample)."""
    title, sort, tone = ("CPU TREND", "cpu", "spark-cpu") if metric == CPU else ("MEM TREND", "mem", "spark-mem")

    def text(row: Any, history: History) -> str:
        return sparkline(history.last(key_of(row), metric, SPARK_WIDTH), SPARK_WIDTH, top_of(row))

    return Column(cid, title, SPARK_WIDTH, sort, text, lambda r: tone, right=False, priority=priority,
                  history_key=key_of)


LIMIT_TOPS = {CPU: attrgetter("limits.cpu_milli"), MEMORY: attrgetter("limits.mem_bytes")}


def percentage(cid: str, title: str, get: Callable[[Any], int | None], priority: int, choice: tuple[str, str],
            partial: Callable[[Any], bool] | None = None, *, marks: bool = True) -> Column:
    """A percentage; `marks=False` for one where high is normal (a node's limits: overcommit)."""
    return Column(
        cid, title, 8, cid,
        text=lambda row, _h: pct_text(get(row), partial=bool(partial and partial(row)), marks=marks),
        tone=(lambda row: level(get(row))) if marks else (lambda row: ""),
        priority=priority, choice=choice,
    )


def amount(cid: str, title: str, width: int, get: Callable[[Any], int | None], resource: str, measure: str,
           priority: int) -> Column:
    """An amount of CPU or memory (requests, limits, allocatable): digits as `kubectl top` prints them."""
    text = cpu_text if resource == "cpu" else mem_text
    return Column(cid, title, width, cid, lambda r, _h: text(get(r)), priority=priority, choice=(measure, resource))


def reclaimable(resource: str) -> Column:
    """What a workload's (a namespace's) pods would free at the suggested requests (model/reclaim.py);
    kept by narrow terminals after the usage and its percentages."""
    if resource == "cpu":
        return amount("reclaim_cpu", "RECLAIM CPU", 12, attrgetter("reclaim_cpu_milli"), "cpu", "reclaim", 30)
    return amount("reclaim_mem", "RECLAIM MEM", 12, attrgetter("reclaim_mem_bytes"), "mem", "reclaim", 30)


def last_exit(priority: int) -> Column:
    """How a container's last run ended, or a pod's most recent such end (`OOMKilled 12m ago`),
    sorted by when: the most recent first."""
    return Column(
        "last_exit", "LAST EXIT", 19, "last_exit", lambda row, _h: exit_text(row.last_exit, server_now()),
        tone=lambda row: "warn" if row.last_exit is not None and row.last_exit.reason == OOM_KILLED else "",
        right=False, priority=priority, choice=("last_exit", ""),
    )
