"""Per-key usage history: one sample per new metrics timestamp.

metrics-server refreshes every 15-60 s, so polling faster must not invent
points: a sample is taken only when its time is newer than the key's last.
Keys (history_keys.py) are tuples whose first item names their kind; each
kind keeps its samples in rings of its own capacity (rings.py): 150,000 pods
and their containers cannot keep as long a history as 5,000 nodes in the same
memory. Samples that arrive from elsewhere (a backfill) are merged in by time
with `ingest`.

The join's thread writes while the UI's reads (sparklines, charts, the
header): both go through a lock, and every change bumps `generation` and
stamps the keys it touched, so a reader that drew a key knows when to draw
it again (`stamp`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable
from datetime import datetime
from functools import lru_cache

import numpy as np

from ktopui.model.rings import (
    CPU,
    MEMORY,
    ClockedValues,
    KeyedRings,
    NumberedRings,
    floats,
    merged,
)

__all__ = ["CPU", "MEMORY", "DEFAULT_CAPACITY", "History", "epoch"]

DEFAULT_CAPACITY = 120  # 30 minutes at metrics-server's 15 s resolution

Pool = KeyedRings | NumberedRings | ClockedValues


@lru_cache(maxsize=16384)
def epoch(timestamp: str) -> float | None:
    """RFC 3339 (`2026-08-01T11:59:51Z`) to seconds since the epoch; None if unparsable."""
    try:
        return datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _dated(keys: list, timestamps: list[str], cpu: list, mem: list) -> tuple[list, list, list, list]:
    """The samples whose timestamp reads, with it in seconds (keys may be ring numbers)."""
    # Timestamps repeat (one per node scrape): each distinct one is read once.
    seconds = {t: epoch(t) if t else None for t in set(timestamps)}
    whens = list(map(seconds.__getitem__, timestamps))
    if None in seconds.values():
        keep = [i for i, w in enumerate(whens) if w is not None]
        keys, whens = [keys[i] for i in keep], [whens[i] for i in keep]
        cpu, mem = [cpu[i] for i in keep], [mem[i] for i in keep]
    return keys, whens, cpu, mem


class History:
    """Usage history by key: times, CPU millicores and memory bytes, oldest first.

    `capacities` gives some kinds fewer samples than `capacity`; keys of other
    kinds (or not tuples) keep `capacity` samples.
    """

    def __init__(self, capacity: int = DEFAULT_CAPACITY, initial: int = 64,
                 capacities: dict[str, int] | None = None) -> None:
        self.capacity = capacity
        self._initial = initial
        self._capacities = dict(capacities or {})
        self._pools: dict[str | None, Pool] = {}
        self._lock = threading.RLock()
        self.generation = 0  # bumped by every change

    # -- kinds ------------------------------------------------------------------

    def _kind(self, key: Hashable) -> str | None:
        if type(key) is tuple and key and key[0] in self._capacities:
            return key[0]
        return None

    def capacity_for(self, key: Hashable) -> int:
        """How many samples the key's kind keeps."""
        kind = self._kind(key)
        return self._capacities.get(kind, self.capacity) if kind else self.capacity

    def _pool(self, key: Hashable, create: bool = False) -> Pool | None:
        kind = self._kind(key)
        pool = self._pools.get(kind)
        if pool is None and create:
            pool = self._pools[kind] = KeyedRings(self.capacity_for(key), self._initial)
        return pool

    def number(self, kind: str, ring_of: Callable[[Hashable], int | None]) -> None:
        """Rings of `kind` are numbers its owner hands out (`ring_of` finds a key's): it
        records by ring (record_numbered) and clears a ring (forget_numbered) before it
        goes to another key. Replaces what that kind had."""
        self._capacities.setdefault(kind, self.capacity)
        self._pools[kind] = NumberedRings(self._capacities[kind], ring_of)

    def clock(self, kind: str, by: str, locate: Callable[[Hashable], tuple[int, int] | None],
              live: Callable[[], int], rings_of: Callable[[int], list[int]]) -> None:
        """Keys of `kind` are sampled with keys of the numbered kind `by`: they keep values
        only, at their owner's positions (rings.ClockedValues, which says what the callables give)."""
        clock = self._numbered(by)
        self._capacities[kind] = clock.capacity
        self._pools[kind] = ClockedValues(clock, locate, live, rings_of)

    def _numbered(self, kind: str) -> NumberedRings:
        pool = self._pools.get(kind)
        if not isinstance(pool, NumberedRings):
            raise TypeError(f"{kind!r} is not numbered by its owner")
        return pool

    def numbered_rings(self, kind: str) -> NumberedRings:
        """The rings of a numbered kind, for reading many at once (by the thread that writes:
        a reader elsewhere goes through the methods below, under the lock)."""
        return self._numbered(kind)

    def clocked_rings(self, kind: str) -> ClockedValues:
        """The values of a clocked kind, as numbered_rings."""
        return self._clocked_pool(kind)

    def _clocked_pool(self, kind: str) -> ClockedValues:
        pool = self._pools.get(kind)
        if not isinstance(pool, ClockedValues):
            raise TypeError(f"{kind!r} is not clocked by another kind")
        return pool

    # -- writing ------------------------------------------------------------------

    def _changed(self) -> int:
        self.generation += 1
        return self.generation

    def record(self, key: Hashable, timestamp: str, cpu_milli: int | None, mem_bytes: int | None) -> bool:
        """Add a sample unless this timestamp is not newer than the key's last; True if added."""
        return self.record_many([key], [timestamp], [cpu_milli], [mem_bytes]) == 1

    def record_many(self, keys: list[Hashable], timestamps: list[str], cpu_milli: list, mem_bytes: list, *,
                    same_kind: bool = False) -> int:
        """record() for many keys at once (each key at most once); returns how many were added.

        `same_kind`: the caller knows all keys are of one kind (spares looking at each).
        """
        if not keys:
            return 0
        kinds = {self._kind(keys[0])} if same_kind else {self._kind(k) for k in keys}
        if len(kinds) > 1:
            added = 0
            for kind in kinds:
                picked = [i for i, k in enumerate(keys) if self._kind(k) == kind]
                added += self.record_many([keys[i] for i in picked], [timestamps[i] for i in picked],
                                          [cpu_milli[i] for i in picked], [mem_bytes[i] for i in picked],
                                          same_kind=True)
            return added
        keys, whens, cpu_milli, mem_bytes = _dated(keys, timestamps, cpu_milli, mem_bytes)
        if not keys:
            return 0
        with self._lock:
            generation = self._changed()
            pool = self._pool(keys[0], create=True)
            if isinstance(pool, KeyedRings):
                return pool.arrays.write(pool.rings_for(keys, generation), whens, cpu_milli, mem_bytes, generation)
            if isinstance(pool, NumberedRings):
                rings = list(map(pool.ring_for, keys))
                picked = [i for i, ring in enumerate(rings) if ring is not None]
                return pool.record([rings[i] for i in picked], [whens[i] for i in picked],
                                   [cpu_milli[i] for i in picked], [mem_bytes[i] for i in picked], generation)
            # Clocked: a sample goes in only at a time its owner took one.
            return sum(self._merge(key, np.array([when]), floats([cpu]), floats([mem]), generation, add=False)
                       for key, when, cpu, mem in zip(keys, whens, cpu_milli, mem_bytes))

    def record_numbered(self, kind: str, rings: list[int], timestamps: list[str], cpu_milli: list,
                        mem_bytes: list) -> int:
        """record_many() for a numbered kind, by ring: no key looked up."""
        rings, whens, cpu_milli, mem_bytes = _dated(rings, timestamps, cpu_milli, mem_bytes)
        with self._lock:
            return self._numbered(kind).record(rings, whens, cpu_milli, mem_bytes, self._changed())

    def record_clocked(self, kind: str, rings: list[int], owners: list[int], cpu_milli: list, mem_bytes: list) -> int:
        """Samples of a clocked kind, taken with their owners' last record_numbered()."""
        with self._lock:
            return self._clocked_pool(kind).record(rings, owners, cpu_milli, mem_bytes, self._changed())

    def ingest(self, key: Hashable, times: Iterable[float], cpu_milli: Iterable[float | None],
               mem_bytes: Iterable[float | None]) -> int:
        """Merge samples from elsewhere (times in seconds since the epoch) with the key's,
        in time order, keeping the newest the kind has room for; at a time it already has,
        the sample given wins. Returns how many of them were kept.

        A numbered key needs the ring its owner gave it (else nothing is taken); a
        clocked key's times become its owner's too (its owner and siblings show gaps there).
        """
        times_a = np.asarray(list(times), dtype=np.float64)
        cpu_a, mem_a = floats(list(cpu_milli)), floats(list(mem_bytes))
        order = np.argsort(times_a, kind="stable")
        with self._lock:
            return self._merge(key, times_a[order], cpu_a[order], mem_a[order], self._changed(), add=True)

    def _merge(self, key: Hashable, times: np.ndarray, cpu: np.ndarray, mem: np.ndarray, generation: int,
               *, add: bool) -> int:
        pool = self._pool(key, create=True)
        if isinstance(pool, ClockedValues):
            return self._merge_clocked(pool, key, times, cpu, mem, generation, add=add)
        ring = pool.rings_for([key], generation)[0] if isinstance(pool, KeyedRings) else pool.ring_for(key)
        if ring is None:
            return 0
        arrays = pool.arrays
        old = (arrays.times_of(ring), arrays.series_of(ring, CPU), arrays.series_of(ring, MEMORY))
        kept = merged(old, (times, cpu, mem), pool.capacity)
        pool.replace(ring, *kept, generation)
        return int(np.isin(times, kept[0]).sum())

    def _merge_clocked(self, pool: ClockedValues, key: Hashable, times: np.ndarray, cpu: np.ndarray,
                       mem: np.ndarray, generation: int, *, add: bool) -> int:
        found = pool.locate(key)
        if found is None:
            return 0
        ring, owner = found
        arrays = pool.clock.arrays
        own = arrays.times_of(owner)
        if add:  # the owner's clock gains the times it lacks, as gaps in its own samples
            gaps = np.full(len(times), np.nan)
            new = ~np.isin(times, own)
            kept = merged((own, arrays.series_of(owner, CPU), arrays.series_of(owner, MEMORY)),
                          (times[new], gaps[new], gaps[new]), pool.capacity)
            pool.clock.replace(owner, *kept, generation)
            own = kept[0]
        at = np.searchsorted(own, times)
        hit = at < len(own)
        hit[hit] = own[at[hit]] == times[hit]
        start = int(arrays.count[owner]) - len(own)  # the ring position of the oldest of `own`
        pos = (start + at[hit]) % pool.capacity
        pool.values[ring, CPU, pos] = cpu[hit]
        pool.values[ring, MEMORY, pos] = mem[hit]
        pool.stamps[ring] = generation
        return int(hit.sum())

    def forget(self, keys: Iterable[Hashable]) -> None:
        """Let these keys' samples go (their nodes, pods or containers are gone)."""
        with self._lock:
            generation = self._changed()
            for key in keys:
                pool = self._pool(key)
                if isinstance(pool, KeyedRings):
                    pool.forget((key,), generation)
                elif isinstance(pool, NumberedRings):
                    ring = pool.ring_of(key)
                    if ring is not None:
                        pool.forget([ring], generation)
                elif isinstance(pool, ClockedValues):
                    found = pool.locate(key)
                    if found is not None:
                        pool.forget([found[0]], generation)

    def forget_numbered(self, kind: str, rings: Iterable[int]) -> None:
        """Clear these rings of a numbered or clocked kind before they go to other keys."""
        with self._lock:
            pool = self._pools.get(kind)
            if not isinstance(pool, (NumberedRings, ClockedValues)):
                raise TypeError(f"{kind!r} is not numbered by its owner")
            pool.forget(rings, self._changed())

    # -- reading ------------------------------------------------------------------

    def __len__(self) -> int:
        with self._lock:
            return sum(len(p) for p in self._pools.values())

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            pool = self._pool(key)
            return pool is not None and key in pool

    def times(self, key: Hashable) -> np.ndarray:
        """Sample times in seconds since the epoch, oldest first."""
        with self._lock:
            pool = self._pool(key)
            return np.empty(0) if pool is None else pool.times(key)

    def series(self, key: Hashable, metric: int) -> np.ndarray:
        """Samples of CPU (millicores) or MEMORY (bytes), oldest first."""
        with self._lock:
            pool = self._pool(key)
            return np.empty(0) if pool is None else pool.series(key, metric)

    def last(self, key: Hashable, metric: int, n: int) -> np.ndarray:
        """The newest `n` samples, oldest first (for sparklines)."""
        return self.series(key, metric)[-n:]

    def stamp(self, key: Hashable) -> int:
        """The generation of the key's last change (0: it never had samples): a reader
        draws a key's samples again only when this moved."""
        with self._lock:
            pool = self._pool(key)
            return 0 if pool is None else pool.stamp(key)

    @property
    def nbytes(self) -> int:
        with self._lock:
            return sum(p.nbytes for p in self._pools.values())
