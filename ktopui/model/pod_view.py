"""Pod rows made when looked at, not 150,000 of them at every metrics list.

A new pod metrics list changes almost every pod's numbers. Building a
PodRow per pod for it cost ~650 ms at 150,000 pods, mostly memory traffic
over per-pod objects, and a screen shows forty of them. Here the dashboard's
pods are three lists side by side in (name, namespace) order, the order a
table shows ties in: keys, PodInfos (None: not listed) and PodSamples (None:
no metrics). A row is made from them when a table asks for that line, and
kept while its inputs are the same objects, so an unchanged line keeps its
formatted text. What tables sort and filter by is read straight from the
lists (`values`, `texts`).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import compress, repeat
from operator import attrgetter, countOf, itemgetter
from typing import Any

from ktopui.model.join import pod_row
from ktopui.model.pod_info import PodInfo
from ktopui.model.rows import PodRow, pct
from ktopui.model.samples import PodSample, SampleTable, used_milli
from ktopui.model.slots import Slots
from ktopui.model.text_widths import TextWidths, text_widths

Key = tuple[str, str]
# Rows made and kept for reuse; past this the store starts again (a few
# screens' worth is what is ever looked at between two metrics lists).
MADE_LIMIT = 8192


_status = attrgetter("status")
_namespace_of, _name_of = itemgetter(0), itemgetter(1)
_TEXTS = ("namespace", "name", "node", "status")
WIDTH_SAMPLE = 8192  # pods whose texts are measured for a column's width


def _by_name(key: Key) -> tuple[str, str]:
    return (key[1], key[0])


def _usage(field: str) -> Callable[[list], list]:
    get = attrgetter(f"usage.{field}")
    return lambda samples: [None if s is None else get(s) for s in samples]


def _info(field: str, default: Any) -> Callable[[list], list]:
    get = attrgetter(field)
    return lambda infos: [default if i is None else get(i) for i in infos]


def _limit_pct(resource: str) -> Callable[[list, list], list]:
    bounded, limit = (("cpu_bounded", "cpu_limit_milli") if resource == "cpu" else ("mem_bounded", "mem_limit_milli"))

    def values(infos: list, samples: list) -> list:
        out = []
        for info, sample in zip(infos, samples):
            spec = info.spec if info is not None else None
            if spec is None or not getattr(spec, bounded):
                out.append(None)
            else:
                out.append(pct(used_milli(sample, getattr(spec, bounded), resource), getattr(spec, limit)))
        return out

    return values


_FROM_SAMPLES = {f"usage.{f}": _usage(f) for f in ("cpu_milli", "mem_bytes", "mem_milli")}
_FROM_INFOS = {
    "node": _info("node", ""),
    "status": _info("status", ""),
    "ready": _info("ready", ""),
    "restarts": _info("restarts", 0),
    **{f"{kind}.{f}": _info(f"spec.{kind}.{f}", None) for kind in ("requests", "limits") for f in ("cpu_milli", "mem_bytes", "mem_milli")},
}
_LIMIT_PCT = {"cpu_lim_pct": _limit_pct("cpu"), "mem_lim_pct": _limit_pct("mem")}
_REQUEST_PCT = {"cpu_req_pct": ("cpu_milli", "requests.cpu_milli"), "mem_req_pct": ("mem_milli", "requests.mem_milli")}


class PodRowsView(Sequence[PodRow]):
    """The pods of one refresh in (name, namespace) order; row i is made when asked for.

    Never changed once made (the next refresh makes another view), so the UI
    may read it while the next join runs.
    """

    __slots__ = ("keys", "infos", "samples", "_made", "_widths")

    def __init__(
        self,
        keys: list[Key],
        infos: list[PodInfo | None],
        samples: list[PodSample | None],
        made: dict[Key, PodRow] | None = None,
    ) -> None:
        self.keys, self.infos, self.samples = keys, infos, samples
        # Shared with the views made after this one: a row stays while its inputs do.
        self._made = made if made is not None else {}
        self._widths: dict[str, TextWidths] = {}  # attr -> its TextWidths, measured once

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, i):  # type: ignore[override]
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self.keys)))]
        key, info, sample = self.keys[i], self.infos[i], self.samples[i]
        made = self._made
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
        at = bisect.bisect_left(self.keys, _by_name(key), key=_by_name)
        return at if at < len(self.keys) and self.keys[at] == key else None

    def pod(self, namespace: str, name: str) -> PodRow | None:
        at = self.index_of((namespace, name))
        return None if at is None else self[at]

    def subset(self, positions: Iterable[int]) -> PodRowsView:
        """These positions (ascending, so still in name order) as a view of their own."""
        positions = list(positions)
        keys, infos, samples = self.keys, self.infos, self.samples
        return PodRowsView(
            [keys[i] for i in positions], [infos[i] for i in positions], [samples[i] for i in positions], self._made
        )

    def on_node(self, node: str) -> PodRowsView:
        return self.subset(i for i, info in enumerate(self.infos) if info is not None and info.node == node)

    def in_namespace(self, namespace: str) -> PodRowsView:
        return self.subset(i for i, key in enumerate(self.keys) if key[0] == namespace)

    def coverage(self) -> tuple[int, int]:
        """(pods with metrics, running pods)."""
        measured = len(self.samples) - self.samples.count(None)
        running = countOf(map(_status, filter(None, self.infos)), "Running")  # (no Python call per pod)
        return measured, running

    def values(self, attr: str) -> list | None:
        """Each row's `attr` (a PodRow attribute or dotted path), in order, without making
        rows; None for an attribute not read this way (then ask the rows)."""
        if attr == "namespace":
            return list(map(_namespace_of, self.keys))
        if attr == "name":
            return list(map(_name_of, self.keys))
        if attr in _FROM_SAMPLES:
            return _FROM_SAMPLES[attr](self.samples)
        if attr in _FROM_INFOS:
            return _FROM_INFOS[attr](self.infos)
        if attr in _REQUEST_PCT:
            used, of = _REQUEST_PCT[attr]
            return list(map(pct, _FROM_SAMPLES[f"usage.{used}"](self.samples), _FROM_INFOS[of](self.infos)))
        if attr in _LIMIT_PCT:
            return _LIMIT_PCT[attr](self.infos, self.samples)
        return None

    def text_widths(self, attr: str) -> TextWidths | None:
        """TextWidths of a text attribute (namespace, name, node, status); None for others.

        Measured on an even sample of the pods: a width is what a share of them
        need, which a sample tells as well, and reading 150,000 names scattered
        in memory cost tens of milliseconds. Whether the pods span namespaces
        is counted exactly (a namespace prefix must not be missed).
        """
        widths = self._widths.get(attr)
        if widths is None and attr in _TEXTS:
            step = max(1, len(self.keys) // WIDTH_SAMPLE)
            sample = self if step == 1 else PodRowsView(self.keys[::step], self.infos[::step], self.samples[::step])
            widths = text_widths(sample.values(attr))
            if attr == "namespace" and step > 1 and not widths.varied:
                first = self.keys[0][0]
                widths = widths._replace(varied=countOf(map(_namespace_of, self.keys), first) != len(self.keys))
            self._widths[attr] = widths
        return widths

    def measure_texts(self) -> None:
        """Measure every text attribute now (in the join's thread, not the UI's)."""
        for attr in _TEXTS:
            self.text_widths(attr)

    def keep_widths_of(self, other: PodRowsView) -> None:
        """Take `other`'s measures when made of the same pods (the same lists of keys and infos)."""
        if other.keys is self.keys and other.infos is self.infos:
            self._widths = other._widths

    def texts(self, text_of: Callable[[Any], str]) -> list[str]:
        """text_of(row) for each row, given its namespace, name, node, status, ready and
        restarts: a pod's PodInfo has them, and only a pod not listed needs its row made."""
        return [text_of(info if info is not None else self[i]) for i, info in enumerate(self.infos)]


def _splice(items: list, keep: bytearray | None, inserts: list[tuple], field: int) -> list:
    """A copy of `items` without the positions `keep` marks 0, with inserts[k][field]
    put before position inserts[k][0] (inserts in position order)."""
    if keep is None and not inserts:
        return list(items)
    out: list = []
    done = 0
    for insert in inserts:
        at = insert[0]
        out.extend(items[done:at] if keep is None else compress(items[done:at], keep[done:at]))
        out.append(insert[field])
        done = at
    out.extend(items[done:] if keep is None else compress(items[done:], keep[done:]))
    return out


def _all_read(sams: list, table: Mapping) -> bool:
    """Whether the view's samples are all the table has (a pod measured out of the view: no)."""
    return len(sams) - sams.count(None) == len(table)


class PodViewJoin:
    """Keeps a PodRowsView's lists from refresh to refresh, touching only what changed.

    `gone` says which pods the last update dropped, as (key, info, sample),
    so their history (and, with samples in a SampleTable, their slots) can be
    freed. A new table is read by the slots of the view's pods, and the pods
    it measures that are not in the view are found among the slots handed out
    since the last one; a pod whose slot is kept while it is out of the view
    (out of scope) makes the next table rebuild the view.
    """

    def __init__(self) -> None:
        self.view = PodRowsView([], [], [])
        self.gone: list[tuple[Key, PodInfo | None, PodSample | None]] = []
        self._pods: object = None  # the inputs the view was made from
        self._samples: object = None
        # The listed pods' keys, and the keys of metrics for pods not listed.
        self._listed: set[Key] = set()
        self._unlisted: set[Key] = set()
        # With samples in a SampleTable: its slots, and the slot of the pod at each
        # position of the view (-1: none yet), so that a new table is read by
        # position, with no key looked up.
        self._slots: Slots | None = None
        self._at: list[int] = []

    def update(
        self,
        pods: Mapping[Key, PodInfo] | None,
        samples: Mapping[Key, PodSample] | None,
        *,
        hint: tuple | None = None,
        pause: Callable[[], None] | None = None,
    ) -> PodRowsView:
        """The view of these pods and metrics.

        `hint`: (old pods, new pods, keys that may differ between them), from
        whoever made `pods` out of the last ones, so that only those keys are
        looked up in the pods.
        """
        pause = pause or (lambda: None)
        self.gone = []
        if pods is self._pods and samples is self._samples:
            return self.view
        samples = samples if samples is not None else {}
        view = None
        if pods is not None and self.view.keys:
            if pods is self._pods:
                view = self._patch(pods, samples, (), pause)
            elif hint is not None and hint[0] is self._pods and hint[1] is pods:
                view = self._patch(pods, samples, hint[2], pause)
        if view is None:
            view = self._rebuild(pods or {}, samples, pause)
        view.keep_widths_of(self.view)
        self.view, self._pods, self._samples = view, pods, samples
        return view

    def _by_slot(self, samples: Mapping) -> list | None:
        """The table's samples by slot (-1 reading None), if the positions' slots are its."""
        if isinstance(samples, SampleTable) and samples.slots is self._slots:
            return [*samples.by_slot, *repeat(None, len(samples.slots) - len(samples.by_slot)), None]
        return None

    def _patch(
        self, pods: Mapping, samples: Mapping, touched: Iterable[Key], pause: Callable[[], None]
    ) -> PodRowsView | None:
        """The view with only the keys that may have come or gone looked at: those the
        hint names, and (with new metrics) the pods not listed whose metrics came or
        went. None when that is many (a rebuild is then as cheap), or when the table
        measures a pod the view does not have that was not handed a slot since."""
        touched = set(touched)
        listed, unlisted = self._listed, self._unlisted
        for key in touched:
            if key in pods:
                listed.add(key)
            else:
                listed.discard(key)
        by_slot = None
        if samples is not self._samples:
            pause()
            by_slot = self._by_slot(samples)
            if by_slot is not None:
                # Newly measured pods (listed or not), and unlisted pods no longer measured.
                keys_of = self._slots.keys
                touched.update(keys_of[slot] for slot in self._slots.take_added())
                touched.update(key for key in unlisted if key not in samples)
            elif isinstance(samples, SampleTable):
                return None  # a table of other slots: start again with them
            else:
                touched |= (samples.keys() - listed) ^ unlisted
                self._slots, self._at = None, []
        if len(touched) > 1000:
            return None  # (the rebuild starts again from `pods` and `samples`)
        old = self.view
        if not touched:  # new metrics for the same pods: only the samples move
            if by_slot is None:
                return PodRowsView(old.keys, old.infos, list(map(samples.get, old.keys)), old._made)
            sams = list(map(by_slot.__getitem__, self._at))
            return PodRowsView(old.keys, old.infos, sams, old._made) if _all_read(sams, samples) else None
        # Positions are found in the old lists, then each list is copied once with
        # the pods gone left out and the new ones put in (one by one, inserting
        # a few hundred pods into 150,000-item lists cost ~100 ms).
        old_keys, count = old.keys, len(old.keys)
        index = self._slots.index if self._at else None
        keep: bytearray | None = None
        inserts: list[tuple[int, Key, PodInfo | None, PodSample | None, int]] = []
        infos, at_slots = list(old.infos), list(self._at)
        for key in sorted(touched, key=_by_name):
            info, sample = pods.get(key), samples.get(key)
            if info is None and sample is not None:
                unlisted.add(key)
            else:
                unlisted.discard(key)
            at = bisect.bisect_left(old_keys, _by_name(key), key=_by_name)
            present = at < count and old_keys[at] == key
            if info is None and sample is None:
                if present:
                    self.gone.append((key, old.infos[at], old.samples[at]))
                    if keep is None:
                        keep = bytearray(b"\x01") * count
                    keep[at] = 0
                elif index is not None and key in index:
                    self.gone.append((key, None, None))  # measured by a list that was not kept
            elif present:
                infos[at] = info
                if index is not None:
                    at_slots[at] = index.get(key, -1)
            else:
                inserts.append((at, key, info, sample, -1 if index is None else index.get(key, -1)))
        keys = _splice(old_keys, keep, inserts, 1)
        infos = _splice(infos, keep, inserts, 2)
        if index is not None:
            at_slots = self._at = _splice(at_slots, keep, inserts, 4)
        if by_slot is not None:
            pause()
            sams = list(map(by_slot.__getitem__, at_slots))
            if not _all_read(sams, samples):
                return None
        elif samples is not self._samples:
            pause()
            sams = list(map(samples.get, keys))
        else:
            sams = _splice(old.samples, keep, inserts, 3)
        return PodRowsView(keys, infos, sams, old._made)

    def _rebuild(self, pods: Mapping, samples: Mapping, pause: Callable[[], None]) -> PodRowsView:
        old = self.view
        listed = set(pods)
        unlisted = samples.keys() - listed  # metrics of pods not (or no longer) listed
        self._listed, self._unlisted = listed, unlisted
        keyset = listed | unlisted
        pause()
        self.gone = []  # (a patch given up may have begun it)
        before = set(old.keys)
        added, removed = keyset - before, before - keyset
        if removed:
            if len(removed) > 1000:
                where = {key: at for at, key in enumerate(old.keys)}
                spots = [where[key] for key in removed]
            else:
                spots = [old.index_of(key) for key in removed]
            self.gone = [(old.keys[at], old.infos[at], old.samples[at]) for at in spots]
        if old.keys and len(added) + len(removed) <= 1000:
            keys = list(old.keys)
            for key in removed:
                del keys[bisect.bisect_left(keys, _by_name(key), key=_by_name)]
            for key in added:
                keys.insert(bisect.bisect_left(keys, _by_name(key), key=_by_name), key)
        else:
            keys = sorted(keyset, key=_by_name)
        pause()
        infos = list(map(pods.get, keys))
        pause()
        if isinstance(samples, SampleTable):
            self._slots = samples.slots
            self._slots.take_added()  # (all in the view now)
            self._at = list(map(self._slots.index.get, keys, repeat(-1)))
            sams = list(map(self._by_slot(samples).__getitem__, self._at))
        else:
            self._slots, self._at = None, []
            sams = list(map(samples.get, keys))
        return PodRowsView(keys, infos, sams, old._made)
