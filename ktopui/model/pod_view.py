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
from operator import attrgetter
from typing import Any

from ktopui.model.join import pod_row
from ktopui.model.pod_info import PodInfo
from ktopui.model.rows import PodRow, pct
from ktopui.model.samples import PodSample, used_milli

Key = tuple[str, str]
# Rows made and kept for reuse; past this the store starts again (a few
# screens' worth is what is ever looked at between two metrics lists).
MADE_LIMIT = 8192


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

    __slots__ = ("keys", "infos", "samples", "_made")

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
        running = sum(1 for info in self.infos if info is not None and info.status == "Running")
        return measured, running

    def values(self, attr: str) -> list | None:
        """Each row's `attr` (a PodRow attribute or dotted path), in order, without making
        rows; None for an attribute not read this way (then ask the rows)."""
        if attr == "namespace":
            return [k[0] for k in self.keys]
        if attr == "name":
            return [k[1] for k in self.keys]
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

    def texts(self, text_of: Callable[[Any], str]) -> list[str]:
        """text_of(row) for each row, given its namespace, name, node, status, ready and
        restarts: a pod's PodInfo has them, and only a pod not listed needs its row made."""
        return [text_of(info if info is not None else self[i]) for i, info in enumerate(self.infos)]


class PodViewJoin:
    """Keeps a PodRowsView's lists from refresh to refresh, touching only what changed.

    `gone` says which pods the last update dropped, as (key, info, sample),
    so their history can be freed.
    """

    def __init__(self) -> None:
        self.view = PodRowsView([], [], [])
        self.gone: list[tuple[Key, PodInfo | None, PodSample | None]] = []
        self._pods: object = None  # the inputs the view was made from
        self._samples: object = None
        self._keyset: set[Key] = set()

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
        whoever made `pods` out of the last ones, so that with the same
        metrics only those keys are looked at.
        """
        pause = pause or (lambda: None)
        self.gone = []
        if pods is self._pods and samples is self._samples:
            return self.view
        if (
            samples is self._samples
            and hint is not None
            and hint[0] is self._pods
            and hint[1] is pods
            and pods is not None
        ):
            view = self._patch(pods, samples or {}, hint[2])
        else:
            view = self._rebuild(pods or {}, samples or {}, pause)
        self.view, self._pods, self._samples = view, pods, samples
        return view

    def _patch(self, pods: Mapping, samples: Mapping, touched: Iterable[Key]) -> PodRowsView:
        old = self.view
        keys, infos, sams = list(old.keys), list(old.infos), list(old.samples)
        keyset = self._keyset
        for key in touched:
            info, sample = pods.get(key), samples.get(key)
            at = bisect.bisect_left(keys, _by_name(key), key=_by_name)
            present = at < len(keys) and keys[at] == key
            if info is None and sample is None:
                if present:
                    self.gone.append((key, infos[at], sams[at]))
                    del keys[at], infos[at], sams[at]
                    keyset.discard(key)
            elif present:
                infos[at] = info
            else:
                keys.insert(at, key)
                infos.insert(at, info)
                sams.insert(at, sample)
                keyset.add(key)
        return PodRowsView(keys, infos, sams, old._made)

    def _rebuild(self, pods: Mapping, samples: Mapping, pause: Callable[[], None]) -> PodRowsView:
        old = self.view
        keyset = set(pods)
        keyset.update(samples.keys() - keyset)  # metrics of pods not (or no longer) listed
        pause()
        added, removed = keyset - self._keyset, self._keyset - keyset
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
        self._keyset = keyset
        pause()
        infos = list(map(pods.get, keys))
        pause()
        sams = list(map(samples.get, keys))
        return PodRowsView(keys, infos, sams, old._made)
