"""Where history keeps its samples: fixed-size numeric ring buffers, one per key.

Each key (a node, a pod, a container, the cluster) owns a ring: a row of
preallocated numpy arrays holding its last `capacity` samples of (time, CPU
millicores, memory bytes). A ring is freed when its key disappears and reused
by the next newcomer, so memory is bounded by the keys alive times the
capacity. Three ways of finding a key's ring, one class each:

* KeyedRings hands rings out itself, by key (nodes, the cluster);
* NumberedRings takes the ring numbers an owner hands out (a pod's slot), so
  150,000 pods are recorded without a key looked up;
* ClockedValues keeps values only, at the positions of another ring (a pod's
  containers are sampled with their pod), so they store no times of their own.

Every write stamps the rings it changed with the writer's generation: a
reader that drew a key's samples knows whether they changed since.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable

import numpy as np

CPU, MEMORY = 0, 1
# float32 halves the footprint (150,000 pods and their containers); times are
# stored relative to the first sample so float32 keeps sub-second precision.
DTYPE = np.float32


def floats(values: Iterable[int | float | None]) -> np.ndarray:
    """Values as float64, None as NaN (a gap)."""
    try:
        return np.array(values, dtype=np.float64)
    except TypeError:  # some None
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


class RingArrays:
    """The arrays of many rings of one capacity: times, values, counts and stamps by ring number."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.t0: float | None = None  # what stored times are relative to
        self.times = np.empty((0, capacity), dtype=DTYPE)
        self.values = np.empty((0, 2, capacity), dtype=DTYPE)
        self.count = np.zeros(0, dtype=np.int64)  # samples ever written, per ring
        self.stamps = np.zeros(0, dtype=np.int64)  # the generation of each ring's last change
        self.written = np.empty(0, dtype=np.int64)  # the rings the last write took a sample into

    def __len__(self) -> int:
        return len(self.count)

    def grow(self, at_least: int) -> None:
        """Room for `at_least` rings. New rings are left uninitialised (np.empty):
        their pages cost no memory until a ring is first written."""
        old = len(self.count)
        if at_least <= old:
            return
        new = max(64, old + old // 2, at_least)
        for name in ("times", "values"):
            grown = np.empty((new, *getattr(self, name).shape[1:]), dtype=DTYPE)
            grown[:old] = getattr(self, name)
            setattr(self, name, grown)
        for name in ("count", "stamps"):
            grown = np.zeros(new, dtype=np.int64)
            grown[:old] = getattr(self, name)
            setattr(self, name, grown)

    def clear(self, rings: list[int], generation: int) -> None:
        """Empty these rings (their keys are gone, or new)."""
        self.count[rings] = 0
        self.stamps[rings] = generation

    def relative(self, whens: list[float]) -> np.ndarray:
        if whens and self.t0 is None:
            self.t0 = min(whens)
        return (np.asarray(whens, dtype=np.float64) - (self.t0 or 0.0)).astype(DTYPE)

    def write(self, rings: list[int], whens: list[float], cpu: list, mem: list, generation: int) -> int:
        """Each sample into its ring, unless not newer than the ring's last; how many went in."""
        at = np.array(rings, dtype=np.int64)
        when = self.relative(whens)
        count = self.count[at]
        last = self.times[at, (count - 1) % self.capacity]
        fresh = (count == 0) | (when > last)  # (compared as stored: float32)
        at, count, when = at[fresh], count[fresh], when[fresh]
        pos = count % self.capacity
        self.times[at, pos] = when
        self.values[at, CPU, pos] = floats(cpu)[fresh]
        self.values[at, MEMORY, pos] = floats(mem)[fresh]
        self.count[at] = count + 1
        self.stamps[at] = generation
        self.written = at  # (what rings on this one's clock write with)
        return int(fresh.sum())

    def ordered(self, ring: int, samples: np.ndarray) -> np.ndarray:
        """Samples stored at one ring's positions (its times, or values on its clock), oldest first."""
        count = int(self.count[ring])
        if count <= self.capacity:
            return samples[:count].copy()
        start = count % self.capacity
        return np.concatenate([samples[start:], samples[:start]])

    def times_of(self, ring: int) -> np.ndarray:
        """Sample times in seconds since the epoch, oldest first."""
        if self.t0 is None or ring >= len(self.count):
            return np.empty(0)
        return self.ordered(ring, self.times[ring]).astype(np.float64) + self.t0

    def series_of(self, ring: int, metric: int) -> np.ndarray:
        return np.empty(0) if ring >= len(self.count) else self.ordered(ring, self.values[ring, metric])

    def replace(self, ring: int, whens: np.ndarray, cpu: np.ndarray, mem: np.ndarray, generation: int) -> None:
        """The ring holds these samples (times in seconds since the epoch, ascending) and only these."""
        if len(whens) and self.t0 is None:
            self.t0 = float(whens[0])
        n = len(whens)
        self.times[ring, :n] = (whens - self.t0).astype(DTYPE) if n else 0
        self.values[ring, CPU, :n] = cpu
        self.values[ring, MEMORY, :n] = mem
        self.count[ring] = n
        self.stamps[ring] = generation

    @property
    def nbytes(self) -> int:
        return self.times.nbytes + self.values.nbytes + self.count.nbytes + self.stamps.nbytes


def merged(old: tuple[np.ndarray, np.ndarray, np.ndarray], new: tuple[np.ndarray, np.ndarray, np.ndarray],
           capacity: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two runs of (times, cpu, memory) as one in time order, the newest `capacity` of them;
    at a time both have, the new sample wins."""
    times = np.concatenate([new[0], old[0]])
    cpu = np.concatenate([new[1], old[1]])
    mem = np.concatenate([new[2], old[2]])
    # Stable: of equal times the first (the new one) is kept by unique's first index.
    order = np.argsort(times, kind="stable")
    times, cpu, mem = times[order], cpu[order], mem[order]
    _, first = np.unique(times, return_index=True)
    keep = first[-capacity:]
    return times[keep], cpu[keep], mem[keep]


class KeyedRings:
    """Rings handed out here, by key."""

    def __init__(self, capacity: int, initial: int = 64) -> None:
        self.arrays = RingArrays(capacity)
        self.arrays.grow(initial)
        self._ring: dict[Hashable, int] = {}
        self._free: list[int] = list(range(len(self.arrays) - 1, -1, -1))

    @property
    def capacity(self) -> int:
        return self.arrays.capacity

    def __len__(self) -> int:
        return len(self._ring)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._ring

    def ring_of(self, key: Hashable) -> int | None:
        return self._ring.get(key)

    def rings_for(self, keys: list[Hashable], generation: int) -> list[int]:
        """The ring of each key, handed out (empty) to keys that have none."""
        found = list(map(self._ring.get, keys))
        new = [i for i, ring in enumerate(found) if ring is None]
        if len(new) > len(self._free):
            old = len(self.arrays)
            self.arrays.grow(old + len(new) - len(self._free))
            self._free[:0] = range(len(self.arrays) - 1, old - 1, -1)
        arrays = self.arrays
        for i in new:
            ring = self._ring.get(keys[i])  # (a key twice in `keys`: one ring)
            if ring is None:
                ring = self._ring[keys[i]] = self._free.pop()
                arrays.clear([ring], generation)
                arrays.times[ring] = np.nan
                arrays.values[ring] = np.nan
            found[i] = ring
        return found

    def forget(self, keys: Iterable[Hashable], generation: int) -> None:
        for key in keys:
            ring = self._ring.pop(key, None)
            if ring is not None:
                self.arrays.stamps[ring] = generation
                self._free.append(ring)

    def replace(self, ring: int, whens: np.ndarray, cpu: np.ndarray, mem: np.ndarray, generation: int) -> None:
        self.arrays.replace(ring, whens, cpu, mem, generation)

    def times(self, key: Hashable) -> np.ndarray:
        ring = self._ring.get(key)
        return np.empty(0) if ring is None else self.arrays.times_of(ring)

    def series(self, key: Hashable, metric: int) -> np.ndarray:
        ring = self._ring.get(key)
        return np.empty(0) if ring is None else self.arrays.series_of(ring, metric)

    def stamp(self, key: Hashable) -> int:
        ring = self._ring.get(key)
        return 0 if ring is None else int(self.arrays.stamps[ring])

    @property
    def nbytes(self) -> int:
        return self.arrays.nbytes


class NumberedRings:
    """Rings whose numbers an owner hands out (a pod's slot): recording looks no key
    up. `ring_of` finds a key's ring for reading; the owner clears a ring (forget)
    before it goes to another key."""

    def __init__(self, capacity: int, ring_of: Callable[[Hashable], int | None]) -> None:
        self.arrays = RingArrays(capacity)
        self._ring_of = ring_of
        self.clocked: list[ClockedValues] = []  # the values sampled at these rings' times

    @property
    def capacity(self) -> int:
        return self.arrays.capacity

    def ring_of(self, key: Hashable) -> int | None:
        """The key's ring, if it has samples."""
        ring = self._ring_of(key)
        return ring if ring is not None and ring < len(self.arrays) and self.arrays.count[ring] else None

    def ring_for(self, key: Hashable) -> int | None:
        """The ring the owner gave the key, samples or not (None: it gave none)."""
        ring = self._ring_of(key)
        if ring is not None and ring >= len(self.arrays):
            self._cover(ring + 1)
        return ring

    def __len__(self) -> int:
        return int(np.count_nonzero(self.arrays.count))

    def __contains__(self, key: Hashable) -> bool:
        return self.ring_of(key) is not None

    def _cover(self, top: int) -> None:
        old = len(self.arrays)
        if top > old:
            self.arrays.grow(top)
            self.arrays.count[old:] = 0

    def record(self, rings: list[int], whens: list[float], cpu: list, mem: list, generation: int) -> int:
        self.arrays.written = np.empty(0, dtype=np.int64)
        if not rings:
            return 0
        self._cover(max(rings) + 1)
        return self.arrays.write(rings, whens, cpu, mem, generation)

    def forget(self, rings: Iterable[int], generation: int) -> None:
        rings = [ring for ring in rings if ring < len(self.arrays)]
        self.arrays.clear(rings, generation)

    def replace(self, ring: int, whens: np.ndarray, cpu: np.ndarray, mem: np.ndarray, generation: int) -> None:
        """RingArrays.replace, the values clocked by the ring moving with their times."""
        for values in self.clocked:
            values.reclock(ring, whens, generation)
        self.arrays.replace(ring, whens, cpu, mem, generation)

    def times(self, key: Hashable) -> np.ndarray:
        ring = self.ring_of(key)
        return np.empty(0) if ring is None else self.arrays.times_of(ring)

    def series(self, key: Hashable, metric: int) -> np.ndarray:
        ring = self.ring_of(key)
        return np.empty(0) if ring is None else self.arrays.series_of(ring, metric)

    def stamp(self, key: Hashable) -> int:
        ring = self._ring_of(key)
        return 0 if ring is None or ring >= len(self.arrays) else int(self.arrays.stamps[ring])

    @property
    def nbytes(self) -> int:
        return self.arrays.nbytes


class ClockedValues:
    """CPU and memory of keys sampled with another's (a pod's containers, in the pod's
    metrics): their rings hold values only, at the positions of their owner's ring in
    `clock`, so they keep no times of their own (a third less).

    `locate(key)` gives (ring, owner's ring) or None; `rings_of(owner)` the rings
    of an owner's keys. Rings are NaN where nothing was written (before the key
    was seen, or a sample it missed); whoever numbers them empties one (forget)
    before it goes to another key.
    """

    def __init__(self, clock: NumberedRings, locate: Callable[[Hashable], tuple[int, int] | None],
                 live: Callable[[], int], rings_of: Callable[[int], list[int]]) -> None:
        self.clock = clock
        clock.clocked.append(self)
        self._locate = locate
        self._live = live
        self._rings_of = rings_of
        self.values = np.empty((0, 2, clock.capacity), dtype=DTYPE)
        self.stamps = np.zeros(0, dtype=np.int64)
        self._ready = 0  # rings below this are initialised (NaN or written)

    @property
    def capacity(self) -> int:
        return self.clock.capacity

    @property
    def ready(self) -> int:
        """Rings below this hold values (written, or NaN)."""
        return self._ready

    def __len__(self) -> int:
        return self._live()

    def __contains__(self, key: Hashable) -> bool:
        return self.locate(key) is not None

    def locate(self, key: Hashable) -> tuple[int, int] | None:
        """(ring, owner's ring) of a key whose ring holds samples."""
        found = self._locate(key)
        if found is None or found[0] >= self._ready or found[1] >= len(self.clock.arrays):
            return None
        return found

    def _reach(self, top: int) -> None:
        """Rings up to `top` exist and are initialised."""
        if top > len(self.values):
            # Uninitialised (np.empty): a ring's pages cost memory when it is first written.
            size = max(64, top, len(self.values) * 3 // 2)
            values = np.empty((size, 2, self.capacity), dtype=DTYPE)
            values[: self._ready] = self.values[: self._ready]
            stamps = np.zeros(size, dtype=np.int64)
            stamps[: len(self.stamps)] = self.stamps
            self.values, self.stamps = values, stamps
        if top > self._ready:
            self.values[self._ready : top] = np.nan
            self._ready = top

    def record(self, rings: list[int], owners: list[int], cpu: list, mem: list, generation: int) -> int:
        """Write each ring's sample where its owner's last write in the clock went; rings
        whose owner took no sample in that write get none. Returns how many went in."""
        if not rings:
            return 0
        self._reach(max(rings) + 1)
        arrays = self.clock.arrays
        took = np.zeros(len(arrays), dtype=bool)
        took[arrays.written] = True
        owners_a = np.array(owners, dtype=np.int64)
        keep = took[owners_a]
        at = np.array(rings, dtype=np.int64)[keep]
        pos = (arrays.count[owners_a[keep]] - 1) % self.capacity
        self.values[at, CPU, pos] = floats(cpu)[keep]
        self.values[at, MEMORY, pos] = floats(mem)[keep]
        self.stamps[at] = generation
        return int(keep.sum())

    def forget(self, rings: Iterable[int], generation: int) -> None:
        rings = [ring for ring in rings if ring < self._ready]
        self.values[rings] = np.nan
        self.stamps[rings] = generation

    def series_of(self, ring: int, owner: int, metric: int) -> np.ndarray:
        return self.clock.arrays.ordered(owner, self.values[ring, metric])

    def times(self, key: Hashable) -> np.ndarray:
        found = self.locate(key)
        return np.empty(0) if found is None else self.clock.arrays.times_of(found[1])

    def series(self, key: Hashable, metric: int) -> np.ndarray:
        found = self.locate(key)
        return np.empty(0) if found is None else self.series_of(*found, metric)

    def stamp(self, key: Hashable) -> int:
        found = self._locate(key)
        return 0 if found is None or found[0] >= len(self.stamps) else int(self.stamps[found[0]])

    def reclock(self, owner: int, whens: np.ndarray, generation: int) -> None:
        """The owner's ring now holds the samples at `whens` (ascending, seconds since the
        epoch), the ones it held among them: each of its keys' values moves with its time."""
        arrays = self.clock.arrays
        before = arrays.times_of(owner)
        rings = [ring for ring in self._rings_of(owner) if ring < self._ready]
        at = np.searchsorted(whens, before)
        kept = at < len(whens)
        kept[kept] = whens[at[kept]] == before[kept]  # (the oldest may have made room for newer ones)
        for ring in rings:
            moved = np.full((2, self.capacity), np.nan, dtype=DTYPE)
            for metric in (CPU, MEMORY):
                old = self.series_of(ring, owner, metric)
                moved[metric, at[kept]] = old[kept]
            self.values[ring] = moved
            self.stamps[ring] = generation

    @property
    def nbytes(self) -> int:
        return self.values.nbytes + self.stamps.nbytes
