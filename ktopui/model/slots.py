"""Numbers for pods and their containers, kept from one metrics list to the next.

What is kept per pod across lists (summed metrics, history rings) lives in
lists and arrays indexed by these numbers, so a 150,000-pod list looks each
pod's key up once, not once per structure, and history is written by ring.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from sys import intern

Key = tuple[str, str]


class Slots:
    """A number per pod key (its slot); a slot is handed out again only after free()."""

    __slots__ = ("index", "keys", "_free", "_added")

    def __init__(self) -> None:
        self.index: dict[Key, int] = {}
        self.keys: list[Key | None] = []  # by slot; None: free
        self._free: list[int] = []
        self._added: list[int] = []

    def __len__(self) -> int:
        """Slots handed out so far, free ones included (the length of arrays by slot)."""
        return len(self.keys)

    def of(self, keys: list[Key]) -> list[int]:
        """The slot of each key; a key not seen before gets one."""
        found = list(map(self.index.get, keys))
        if None in found:
            for i in [i for i, slot in enumerate(found) if slot is None]:
                found[i] = self.add(keys[i])
        return found

    def add(self, key: Key) -> int:
        slot = self.index.get(key)
        if slot is None:
            # Interned as the pod list's keys are, and kept: the decoded strings it
            # came from are dropped with their list.
            key = (intern(key[0]), intern(key[1]))
            if self._free:
                slot = self._free.pop()
                self.keys[slot] = key
            else:
                slot = len(self.keys)
                self.keys.append(key)
            self.index[key] = slot
            self._added.append(slot)
        return slot

    def take_added(self) -> list[int]:
        """The slots handed out since the last call (pods newly measured)."""
        added, self._added = self._added, []
        return added

    def free(self, keys: Iterable[Key]) -> list[int]:
        """Let the slots of these keys (pods gone) go; returns them."""
        freed = []
        for key in keys:
            slot = self.index.pop(key, None)
            if slot is not None:
                self.keys[slot] = None
                self._free.append(slot)
                freed.append(slot)
        return freed


def _same_names(old: tuple[str, ...], new: tuple[str, ...]) -> bool:
    return len(old) == len(new) and set(old) == set(new) and len(set(new)) == len(new)


class ContainerRings:
    """History rings for the containers of pods that have more than one, by pod slot.

    A pod's containers hold a ring each while their names stay the same (they
    do for the pod's life, whatever order a list gives them in); a pod whose
    names change gets new rings, and the old ones are handed back for clearing.
    """

    __slots__ = ("slots", "_blocks", "_free", "_top", "_orders")

    def __init__(self, slots: Slots) -> None:
        self.slots = slots
        self._blocks: list[tuple[tuple[str, ...], list[int]] | None] = []  # by pod slot: (names, rings)
        self._free: list[int] = []
        self._top = 0  # rings handed out so far, free ones included
        # (names as first seen, names as listed) -> where each listed name is in the first
        self._orders: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[int, ...]] = {}

    def rings(self, pod_slots: Sequence[int], names: Sequence[tuple[str, ...]]) -> tuple[list[int], list[int]]:
        """The rings of each pod's containers, in order, one list for all; and rings
        that were let go (a pod's names changed), to be cleared before reuse."""
        self._cover()
        blocks = self._blocks
        out: list[int] = []
        let_go: list[int] = []
        for slot, these in zip(pod_slots, names):
            block = blocks[slot]
            if block is not None and block[0] == these:
                out += block[1]
                continue
            # metrics-server lists a pod's containers from a Go map: in any order.
            # The block keeps the first order; the others are read through it.
            order = None if block is None else self._orders.get((block[0], these))
            if order is None and block is not None and _same_names(block[0], these):
                if len(self._orders) > 10_000:  # (workloads have few name sets)
                    self._orders.clear()
                order = self._orders[(block[0], these)] = tuple(map(block[0].index, these))
            if order is not None:
                out += map(block[1].__getitem__, order)
                continue
            if block is not None:
                let_go += block[1]
            block = blocks[slot] = (these, self._take(len(these)))
            out += block[1]
        self._free += let_go
        return out, let_go

    def _take(self, count: int) -> list[int]:
        free = self._free
        reused = min(count, len(free))
        taken = free[len(free) - reused :]
        del free[len(free) - reused :]
        taken += range(self._top, self._top + count - reused)
        self._top += count - reused
        return taken

    def release_held(self, pod_slots: Sequence[int]) -> list[int]:
        """release() for those of these pods that hold rings (a pod down to one container)."""
        self._cover()
        held = [slot for slot, block in zip(pod_slots, map(self._blocks.__getitem__, pod_slots)) if block is not None]
        return self.release(held) if held else []

    def _cover(self) -> None:
        if len(self._blocks) < len(self.slots):
            self._blocks += [None] * (len(self.slots) - len(self._blocks))

    def blocks(self, pod_slots: Sequence[int]) -> list[tuple[tuple[str, ...], list[int]] | None]:
        """Each pod's (container names, their rings), None for a pod that holds none (or slot -1)."""
        self._cover()
        return list(map([*self._blocks, None].__getitem__, pod_slots))  # (-1: the None put last)

    def live(self) -> int:
        """Rings held by containers."""
        return self._top - len(self._free)

    def rings_of(self, pod_slot: int) -> list[int]:
        """The rings of one pod's containers (none when it holds none)."""
        block = self._blocks[pod_slot] if pod_slot < len(self._blocks) else None
        return [] if block is None else list(block[1])

    def release(self, pod_slots: Iterable[int]) -> list[int]:
        """Let the rings of these pods' containers go (the pods are gone); returns them."""
        blocks, freed = self._blocks, []
        for slot in pod_slots:
            if slot < len(blocks) and blocks[slot] is not None:
                freed += blocks[slot][1]
                blocks[slot] = None
        self._free += freed
        return freed

    def locate(self, key: tuple) -> tuple[int, int] | None:
        """(ring, pod slot) of ("container", namespace, pod, container), if it has a ring."""
        slot = self.slots.index.get(key[1:3])
        if slot is None or slot >= len(self._blocks) or (block := self._blocks[slot]) is None:
            return None
        try:
            return block[1][block[0].index(key[3])], slot
        except ValueError:
            return None
