"""Pod rows made when looked at, not 150,000 of them at every metrics list.

A new pod metrics list changes almost every pod's numbers. Building a
PodRow per pod for it cost ~650 ms at 150,000 pods, mostly memory traffic
over per-pod objects, and a screen shows forty of them. Here the dashboard's
pods are three lists side by side in (name, namespace) order, the order a
table shows ties in: keys, PodInfos (None: not listed) and PodSamples (None:
no metrics). A row is made from them when a table asks for that line, and
kept while its inputs are the same objects, so an unchanged line keeps its
formatted text. What tables sort and filter by is read straight from the
lists (`values`: every value of pods.VALUES, `texts`).

pod_view_join.py makes each refresh's view from the last one.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import attrgetter, countOf, itemgetter
from typing import Any

from ktopui.model.amounts import pct
from ktopui.model.pod_info import PodInfo
from ktopui.model.pods import PodRow, limited_use, pod_row
from ktopui.model.samples import PodSample
from ktopui.model.text_widths import TextWidths, text_widths

Key = tuple[str, str]
# Rows made and kept for reuse; past this the store starts again (a few
# screens' worth is what is ever looked at between two metrics lists).
MADE_LIMIT = 8192


_status = attrgetter("status")
_namespace_of, _name_of = itemgetter(0), itemgetter(1)
_TEXTS = ("namespace", "name", "node", "status")
WIDTH_SAMPLE = 8192  # pods whose texts are measured for a column's width


def by_name(key: Key) -> tuple[str, str]:
    """A key as tables order pods: by name, then namespace."""
    return (key[1], key[0])


def _from_samples(field: str) -> Callable[[PodRowsView], list]:
    get = attrgetter(f"usage.{field}")
    return lambda view: [None if s is None else get(s) for s in view.samples]


def _from_infos(field: str, default: Any) -> Callable[[PodRowsView], list]:
    get = attrgetter(field)
    return lambda view: [default if i is None else get(i) for i in view.infos]


def _request_pct(used: str, of: str) -> Callable[[PodRowsView], list]:
    used_of, of_of = _from_samples(used), _from_infos(of, None)
    return lambda view: list(map(pct, used_of(view), of_of(view)))


def _limit_pct(resource: str) -> Callable[[PodRowsView], list]:
    bounded, limit = (("cpu_bounded", "cpu_limit_milli") if resource == "cpu" else ("mem_bounded", "mem_limit_milli"))

    def values(view: PodRowsView) -> list:
        out = []
        for info, sample in zip(view.infos, view.samples):
            spec = info.spec if info is not None else None
            if spec is None or not getattr(spec, bounded):
                out.append(None)
            else:
                out.append(pct(limited_use(sample, getattr(spec, bounded), resource), getattr(spec, limit)))
        return out

    return values


def _last_exit_at(view: PodRowsView) -> list:
    return [None if i is None or i.last_exit is None else i.last_exit.finished for i in view.infos]


# Each value of pods.VALUES, for all pods at once (what a PodRow would say, without one).
_VALUES: dict[str, Callable[[PodRowsView], list]] = {
    "namespace": lambda view: list(map(_namespace_of, view.keys)),
    "name": lambda view: list(map(_name_of, view.keys)),
    "node": _from_infos("node", ""),
    "status": _from_infos("status", ""),
    "ready": _from_infos("ready", ""),
    "restarts": _from_infos("restarts", 0),
    "last_exit": _last_exit_at,
    "cpu": _from_samples("cpu_milli"),
    "mem": _from_samples("mem_bytes"),
    "cpu_req_pct": _request_pct("cpu_milli", "spec.requests.cpu_milli"),
    "mem_req_pct": _request_pct("mem_milli", "spec.requests.mem_milli"),
    "cpu_lim_pct": _limit_pct("cpu"),
    "mem_lim_pct": _limit_pct("mem"),
    "cpu_req": _from_infos("spec.requests.cpu_milli", None),
    "mem_req": _from_infos("spec.requests.mem_bytes", None),
    "cpu_lim": _from_infos("spec.limits.cpu_milli", None),
    "mem_lim": _from_infos("spec.limits.mem_bytes", None),
}


class PodRowsView(Sequence[PodRow]):
    """The pods of one refresh in (name, namespace) order; row i is made when asked for.

    Never changed once made (the next refresh makes another view), so the UI
    may read it while the next join runs.
    """

    __slots__ = ("keys", "infos", "samples", "made", "_widths", "_on_node", "__weakref__")

    def __init__(
        self,
        keys: list[Key],
        infos: list[PodInfo | None],
        samples: list[PodSample | None],
        made: dict[Key, PodRow] | None = None,
    ) -> None:
        self.keys, self.infos, self.samples = keys, infos, samples
        # Shared with the views made after this one: a row stays while its inputs do.
        self.made = made if made is not None else {}
        self._widths: dict[str, TextWidths] = {}  # value name -> its TextWidths, measured once
        self._on_node: dict[str, PodRowsView] = {}

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self.keys)))]
        key, info, sample = self.keys[i], self.infos[i], self.samples[i]
        made = self.made
        row = made.get(key)
        if row is None or row.info is not info or row.sample is not sample:
            row = pod_row(key, info, sample)
            if len(made) >= MADE_LIMIT:
                made.clear()
            made[key] = row
        return row

    def __iter__(self) -> Iterator[PodRow]:
        for i in range(len(self.keys)):
            yield self[i]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, PodRowsView):
            return self.keys == other.keys and self.infos == other.infos and self.samples == other.samples
        if isinstance(other, list):
            return list(self) == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"PodRowsView({len(self.keys)} pods)"

    # -- looking things up without making rows --------------------------------

    def index_of(self, key: Key) -> int | None:
        at = bisect.bisect_left(self.keys, by_name(key), key=by_name)
        return at if at < len(self.keys) and self.keys[at] == key else None

    def pod(self, namespace: str, name: str) -> PodRow | None:
        at = self.index_of((namespace, name))
        return None if at is None else self[at]

    def subset(self, positions: Iterable[int]) -> PodRowsView:
        """These positions (ascending, so still in name order) as a view of their own."""
        positions = list(positions)
        keys, infos, samples = self.keys, self.infos, self.samples
        return PodRowsView(
            [keys[i] for i in positions], [infos[i] for i in positions], [samples[i] for i in positions], self.made
        )

    def on_node(self, node: str) -> PodRowsView:
        """The pods of one node, in order (the same view when asked again: a table shown
        again sees the same rows, nothing to sort again)."""
        # One scan per node asked for: at 150,000 pods a scan is ~13 ms, an
        # index of every node ~65 ms, and a node's screen asks for one node.
        found = self._on_node.get(node)
        if found is None:
            found = self._on_node[node] = self.subset(
                i for i, info in enumerate(self.infos) if info is not None and info.node == node)
        return found

    def in_namespace(self, namespace: str) -> PodRowsView:
        return self.subset(i for i, key in enumerate(self.keys) if key[0] == namespace)

    def coverage(self) -> tuple[int, int]:
        """(pods with metrics, running pods)."""
        measured = len(self.samples) - self.samples.count(None)
        running = countOf(map(_status, filter(None, self.infos)), "Running")  # (no Python call per pod)
        return measured, running

    def namespaces(self) -> set[str]:
        return set(map(_namespace_of, self.keys))

    def values(self, name: str) -> list:
        """Each row's value `name` (one of pods.VALUES), in order, without making rows."""
        return _VALUES[name](self)

    def text_widths(self, name: str) -> TextWidths | None:
        """TextWidths of a text value (namespace, name, node, status); None for others.

        Measured on an even sample of the pods: a width is what a share of them
        need, which a sample tells as well, and reading 150,000 names scattered
        in memory cost tens of milliseconds. Whether the pods span namespaces
        is counted exactly (a namespace prefix must not be missed).
        """
        widths = self._widths.get(name)
        if widths is None and name in _TEXTS:
            step = max(1, len(self.keys) // WIDTH_SAMPLE)
            sample = self if step == 1 else PodRowsView(self.keys[::step], self.infos[::step], self.samples[::step])
            widths = text_widths(sample.values(name))
            if name == "namespace" and step > 1 and not widths.varied:
                first = self.keys[0][0]
                widths = widths._replace(varied=countOf(map(_namespace_of, self.keys), first) != len(self.keys))
            self._widths[name] = widths
        return widths

    def measure_texts(self) -> None:
        """Measure every text value now (in the join's thread, not the UI's)."""
        for name in _TEXTS:
            self.text_widths(name)

    def keep_widths_of(self, other: PodRowsView) -> None:
        """Take `other`'s measures when made of the same pods (the same lists of keys and infos)."""
        if other.keys is self.keys and other.infos is self.infos:
            self._widths = other._widths

    def texts(self, text_of: Callable[[Any], str]) -> list[str]:
        """text_of(row) for each row, given its namespace, name, node, status, ready and
        restarts: a pod's PodInfo has them, and only a pod not listed needs its row made."""
        return [text_of(info if info is not None else self[i]) for i, info in enumerate(self.infos)]
