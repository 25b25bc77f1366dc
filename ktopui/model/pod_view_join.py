"""Each refresh's PodRowsView made from the last one, touching only what changed.

At 150,000 pods, sorting the keys again, or looking every pod up in a new
mapping, costs more than a refresh may: a view is patched where the watch
says pods came, went or changed, and a new metrics list is read by slot
(position by position, no key looked up).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping
from itertools import compress, repeat
from operator import attrgetter
from typing import NamedTuple

from ktopui.model.pod_info import PodChanges, PodInfo
from ktopui.model.pod_view import Key, PodRowsView, by_name
from ktopui.model.samples import PodSample, SampleTable
from ktopui.model.slots import Slots


class GonePod(NamedTuple):
    """A pod the last update dropped, with what it had (to free its history and slot)."""

    key: Key
    info: PodInfo | None
    sample: PodSample | None


class ViewEdit(NamedTuple):
    """How the last update made its view out of the one before (for those who keep
    numbers by the view's positions and would rather follow it than read 150,000 pods)."""

    # id() of the view edited: not the view itself, which must die as soon as no table shows
    # it (a follower that holds that view knows it by its id).
    before: int
    keep: bytearray | None  # by position in `before`: 0 where the pod left (None: all stayed)
    insert_at: list[int]  # positions in `before` the new pods went before, in order
    touched: set[Key]  # the keys whose pods may have changed, come or gone (the rest are as they were)
    new_samples: bool  # a new metrics list: every position's sample may have changed


class Insert(NamedTuple):
    """A pod to put into the lists, before position `at`."""

    at: int
    key: Key
    info: PodInfo | None
    sample: PodSample | None
    slot: int


def _splice(items: list, keep: bytearray | None, inserts: list[Insert], field: str) -> list:
    """A copy of `items` without the positions `keep` marks 0, with each insert's `field`
    put before its position (inserts in position order)."""
    if keep is None and not inserts:
        return list(items)
    out: list = []
    done = 0
    get = attrgetter(field)
    for insert in inserts:
        at = insert.at
        out.extend(items[done:at] if keep is None else compress(items[done:at], keep[done:at]))
        out.append(get(insert))
        done = at
    out.extend(items[done:] if keep is None else compress(items[done:], keep[done:]))
    return out


def _all_read(sams: list, table: Mapping) -> bool:
    """Whether the view's samples are all the table has (a pod measured out of the view: no)."""
    return len(sams) - sams.count(None) == len(table)


class PodViewJoin:
    """Keeps a PodRowsView's lists from refresh to refresh, touching only what changed.

    `gone` says which pods the last update dropped, so their history (and,
    with samples in a SampleTable, their slots) can be freed. A new table is read by the slots of the view's pods, and the pods
    it measures that are not in the view are found among the slots handed out
    since the last one; a pod whose slot is kept while it is out of the view
    (out of scope) makes the next table rebuild the view.
    """

    def __init__(self) -> None:
        self.view = PodRowsView([], [], [])
        self.gone: list[GonePod] = []
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
        self.rebuilt = 0  # views made afresh, not patched: for tests and benchmarks
        # How the last update's view came from the one before (None: made afresh).
        self.edit: ViewEdit | None = None
        self._edit: tuple = (None, [], set())  # (a patch's keep, insert_at, touched)

    def slots_of(self, view: PodRowsView) -> list[int] | None:
        """The slot of each pod of `view` (-1: none yet) when it is the view last made and its
        samples are read by slot (None otherwise); not to be changed."""
        if view is self.view and self._slots is not None and len(self._at) == len(view.keys):
            return self._at
        return None

    def update(
        self,
        pods: Mapping[Key, PodInfo] | None,
        samples: Mapping[Key, PodSample] | None,
        *,
        changes: PodChanges | None = None,
        pause: Callable[[], None] | None = None,
    ) -> PodRowsView:
        """The view of these pods and metrics.

        `changes`: which keys may differ between the last pods and these, from
        whoever made `pods` out of the last ones, so that only those keys are
        looked up in the pods.
        """
        pause = pause or (lambda: None)
        self.gone = []
        if pods is self._pods and samples is self._samples:
            self.edit = ViewEdit(id(self.view), None, [], set(), False)
            return self.view
        samples = samples if samples is not None else {}
        view = None
        before = self.view
        if pods is not None and self.view.keys:
            if pods is self._pods:
                view = self._patch(pods, samples, (), pause)
            elif changes is not None and changes.before is self._pods and changes.after is pods:
                view = self._patch(pods, samples, changes.touched, pause)
        if view is None:
            view = self._rebuild(pods or {}, samples, pause)
            self.edit = None
        else:
            self.edit = ViewEdit(id(before), *self._edit, samples is not self._samples)
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
        changes name, and (with new metrics) the pods not listed whose metrics came or
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
        self._edit = (None, [], touched)
        if not touched:  # new metrics for the same pods: only the samples move
            if by_slot is None:
                return PodRowsView(old.keys, old.infos, list(map(samples.get, old.keys)), old.made)
            sams = list(map(by_slot.__getitem__, self._at))
            return PodRowsView(old.keys, old.infos, sams, old.made) if _all_read(sams, samples) else None
        # Positions are found in the old lists, then each list is copied once with
        # the pods gone left out and the new ones put in (one by one, inserting
        # a few hundred pods into 150,000-item lists cost ~100 ms).
        old_keys, count = old.keys, len(old.keys)
        index = self._slots.index if self._at else None
        keep: bytearray | None = None
        inserts: list[Insert] = []
        infos, at_slots = list(old.infos), list(self._at)
        for key in sorted(touched, key=by_name):
            info, sample = pods.get(key), samples.get(key)
            if info is None and sample is not None:
                unlisted.add(key)
            else:
                unlisted.discard(key)
            at = bisect.bisect_left(old_keys, by_name(key), key=by_name)
            present = at < count and old_keys[at] == key
            if info is None and sample is None:
                if present:
                    self.gone.append(GonePod(key, old.infos[at], old.samples[at]))
                    if keep is None:
                        keep = bytearray(b"\x01") * count
                    keep[at] = 0
                elif index is not None and key in index:
                    self.gone.append(GonePod(key, None, None))  # measured by a list that was not kept
            elif present:
                infos[at] = info
                if index is not None:
                    at_slots[at] = index.get(key, -1)
            else:
                inserts.append(Insert(at, key, info, sample, -1 if index is None else index.get(key, -1)))
        self._edit = (keep, [insert.at for insert in inserts], touched)
        keys = _splice(old_keys, keep, inserts, "key")
        infos = _splice(infos, keep, inserts, "info")
        if index is not None:
            at_slots = self._at = _splice(at_slots, keep, inserts, "slot")
        if by_slot is not None:
            pause()
            sams = list(map(by_slot.__getitem__, at_slots))
            if not _all_read(sams, samples):
                return None
        elif samples is not self._samples:
            pause()
            sams = list(map(samples.get, keys))
        else:
            sams = _splice(old.samples, keep, inserts, "sample")
        return PodRowsView(keys, infos, sams, old.made)

    def _rebuild(self, pods: Mapping, samples: Mapping, pause: Callable[[], None]) -> PodRowsView:
        self.rebuilt += 1
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
            self.gone = [GonePod(old.keys[at], old.infos[at], old.samples[at]) for at in spots]
        if old.keys and len(added) + len(removed) <= 1000:
            keys = list(old.keys)
            for key in removed:
                del keys[bisect.bisect_left(keys, by_name(key), key=by_name)]
            for key in added:
                keys.insert(bisect.bisect_left(keys, by_name(key), key=by_name), key)
        else:
            keys = sorted(keyset, key=by_name)
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
        return PodRowsView(keys, infos, sams, old.made)
