"""Per-row usage history in fixed-size numeric ring buffers.

One sample per new metrics timestamp: metrics-server refreshes every 15-60 s,
so polling faster must not invent points. Each tracked entity (node, pod,
container) owns one slot: a row in preallocated numpy arrays. A slot is freed
when its entity disappears, and reused by the next newcomer, so memory is
bounded by the number of live entities times the capacity.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from datetime import datetime

import numpy as np

CPU, MEMORY = 0, 1
DEFAULT_CAPACITY = 120  # 30 minutes at metrics-server's 15 s resolution
# float32 halves the footprint (150,000 pods and their containers); times are
# stored relative to the first sample so float32 keeps sub-second precision.
DTYPE = np.float32

_epoch_cache: dict[str, float] = {}


def epoch(timestamp: str) -> float | None:
    """RFC 3339 (`2026-08-01T11:59:51Z`) to seconds since the epoch; None if unparsable."""
    value = _epoch_cache.get(timestamp)
    if value is None:
        try:
            value = datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
        if len(_epoch_cache) > 10_000:
            _epoch_cache.clear()
        _epoch_cache[timestamp] = value
    return value


def _floats(values: list[int | None]) -> np.ndarray:
    try:
        return np.array(values, dtype=np.float64)
    except TypeError:  # some None: a gap
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)


class _Rings:
    """Ring buffers of (time, cpu millicores, memory bytes) per entity key, one capacity."""

    def __init__(self, capacity: int = DEFAULT_CAPACITY, initial_slots: int = 64) -> None:
        self.capacity = capacity
        self._slots: dict[Hashable, int] = {}
        self._free: list[int] = []
        self._t0: float | None = None
        self._times = np.full((initial_slots, capacity), np.nan, dtype=DTYPE)
        self._values = np.full((initial_slots, 2, capacity), np.nan, dtype=DTYPE)
        self._count = np.zeros(initial_slots, dtype=np.int64)  # samples ever written
        self.written = np.empty(0, dtype=np.int64)  # the rows the last write took a sample into

    def __len__(self) -> int:
        return len(self._slots)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._slots

    def _slot(self, key: Hashable) -> int:
        slot = self._slots.get(key)
        if slot is not None:
            return slot
        if not self._free:
            self._grow()
        slot = self._free.pop()
        self._slots[key] = slot
        self._count[slot] = 0
        self._times[slot] = np.nan
        self._values[slot] = np.nan
        return slot

    def _grow(self, at_least: int = 1) -> None:
        # New slots are left uninitialised (np.empty): their pages cost no
        # memory until a slot is handed out, which fills it with NaN.
        old = len(self._count)
        new = max(64, old + old // 2, old + at_least)
        times = np.empty((new, self.capacity), dtype=DTYPE)
        values = np.empty((new, 2, self.capacity), dtype=DTYPE)
        count = np.zeros(new, dtype=np.int64)
        times[:old], values[:old], count[:old] = self._times, self._values, self._count
        self._times, self._values, self._count = times, values, count
        self._free.extend(range(new - 1, old - 1, -1))

    def record(self, key: Hashable, timestamp: str, cpu_milli: int | None, mem_bytes: int | None) -> bool:
        """Add a sample unless this timestamp is not newer than the last one; True if added."""
        when = epoch(timestamp) if timestamp else None
        if when is None:
            return False
        if self._t0 is None:
            self._t0 = when
        when = DTYPE(when - self._t0)  # compared as stored
        slot = self._slot(key)
        count = int(self._count[slot])
        if count:
            last = self._times[slot, (count - 1) % self.capacity]
            if when <= last:
                return False
        pos = count % self.capacity
        self._times[slot, pos] = when
        self._values[slot, CPU, pos] = np.nan if cpu_milli is None else cpu_milli
        self._values[slot, MEMORY, pos] = np.nan if mem_bytes is None else mem_bytes
        self._count[slot] = count + 1
        return True

    def record_many(
        self,
        keys: list[Hashable],
        timestamps: list[str],
        cpu_milli: list[int | None],
        mem_bytes: list[int | None],
    ) -> int:
        """record() for many keys at once (each key at most once); returns how many were added."""
        if not keys:
            return 0
        keys, whens, cpu_milli, mem_bytes = self._dated(keys, timestamps, cpu_milli, mem_bytes)
        if not keys:
            return 0
        found = list(map(self._slots.get, keys))
        new = [i for i, slot in enumerate(found) if slot is None]
        if len(new) > len(self._free):
            self._grow(len(new) - len(self._free))
        for i in new:
            found[i] = self._slot(keys[i])
        return self._write(found, whens, cpu_milli, mem_bytes)

    def _dated(self, keys: list, timestamps: list[str], cpu_milli: list, mem_bytes: list) -> tuple[list, list, list, list]:
        """The samples whose timestamp reads, with it in seconds (keys may be rows)."""
        # Timestamps repeat (one per node scrape): convert each distinct one once.
        seconds = {t: epoch(t) if t else None for t in set(timestamps)}
        whens = list(map(seconds.__getitem__, timestamps))
        if None in seconds.values():
            keep = [i for i, w in enumerate(whens) if w is not None]
            keys = [keys[i] for i in keep]
            whens = [whens[i] for i in keep]
            cpu_milli = [cpu_milli[i] for i in keep]
            mem_bytes = [mem_bytes[i] for i in keep]
        if whens and self._t0 is None:
            self._t0 = min(whens)
        return keys, whens, cpu_milli, mem_bytes

    def _write(self, rows: list[int], whens: list[float], cpu_milli: list, mem_bytes: list) -> int:
        """Each sample into its row, unless not newer than the row's last; how many went in."""
        slots = np.array(rows, dtype=np.int64)
        when = (np.asarray(whens, dtype=np.float64) - self._t0).astype(DTYPE)
        count = self._count[slots]
        last = self._times[slots, (count - 1) % self.capacity]
        fresh = (count == 0) | (when > last)
        slots, count, when = slots[fresh], count[fresh], when[fresh]
        pos = count % self.capacity
        self._times[slots, pos] = when
        cpu = _floats(cpu_milli)[fresh]
        mem = _floats(mem_bytes)[fresh]
        self._values[slots, CPU, pos] = cpu
        self._values[slots, MEMORY, pos] = mem
        self._count[slots] = count + 1
        self.written = slots  # (what rings on this one's clock write with)
        return int(fresh.sum())

    def _ordered(self, slot: int, array: np.ndarray) -> np.ndarray:
        count = int(self._count[slot])
        if count <= self.capacity:
            return array[:count].copy()
        start = count % self.capacity
        return np.concatenate([array[start:], array[:start]])

    def times(self, key: Hashable) -> np.ndarray:
        """Sample times in seconds since the epoch, oldest first."""
        slot = self._slots.get(key)
        if slot is None or self._t0 is None:
            return np.empty(0)
        return self._ordered(slot, self._times[slot]).astype(np.float64) + self._t0

    def series(self, key: Hashable, metric: int) -> np.ndarray:
        """Samples of CPU (millicores) or MEMORY (bytes), oldest first."""
        slot = self._slots.get(key)
        return np.empty(0) if slot is None else self._ordered(slot, self._values[slot, metric])

    def last(self, key: Hashable, metric: int, n: int) -> np.ndarray:
        """The newest `n` samples, oldest first (for sparklines)."""
        return self.series(key, metric)[-n:]

    def forget(self, keys: Iterable[Hashable]) -> None:
        """Free the slots of these keys (entities known to be gone)."""
        for key in keys:
            slot = self._slots.pop(key, None)
            if slot is not None:
                self._free.append(slot)

    def retire(self, alive: Iterable[Hashable], in_scope: Callable[[Hashable], bool] = lambda _: True) -> int:
        """Free the slots of keys in scope that are no longer alive; returns how many."""
        alive = set(alive)
        gone = [k for k in self._slots if k not in alive and in_scope(k)]
        for key in gone:
            self._free.append(self._slots.pop(key))
        return len(gone)

    @property
    def nbytes(self) -> int:
        return self._times.nbytes + self._values.nbytes + self._count.nbytes


class _SlotRings(_Rings):
    """Rings whose rows are numbers the keys' owner hands out (a pod's slot).

    Recording then looks no key up: the caller gives the rows. `row_of` finds
    a key's row for reading; a row goes to another key only after forget().
    """

    def __init__(self, capacity: int, row_of: Callable[[Hashable], int | None]) -> None:
        super().__init__(capacity, initial_slots=0)
        self._row_of = row_of

    def _row(self, key: Hashable) -> int | None:
        row = self._row_of(key)
        return row if row is not None and row < len(self._count) and self._count[row] else None

    def __len__(self) -> int:
        return int(np.count_nonzero(self._count))

    def __contains__(self, key: Hashable) -> bool:
        return self._row(key) is not None

    def record(self, key: Hashable, timestamp: str, cpu_milli: int | None, mem_bytes: int | None) -> bool:
        row = self._row_of(key)
        return row is not None and self.record_rows([row], [timestamp], [cpu_milli], [mem_bytes]) == 1

    def record_many(self, keys: list[Hashable], timestamps: list[str], cpu_milli: list, mem_bytes: list) -> int:
        rows = list(map(self._row_of, keys))
        picked = [i for i, row in enumerate(rows) if row is not None]
        return self.record_rows([rows[i] for i in picked], [timestamps[i] for i in picked],
                                [cpu_milli[i] for i in picked], [mem_bytes[i] for i in picked])

    def record_rows(self, rows: list[int], timestamps: list[str], cpu_milli: list, mem_bytes: list) -> int:
        """record_many() by row: no key looked up."""
        self.written = np.empty(0, dtype=np.int64)
        if not rows:
            return 0
        rows, whens, cpu_milli, mem_bytes = self._dated(rows, timestamps, cpu_milli, mem_bytes)
        if not rows:
            return 0
        top = max(rows) + 1
        if top > len(self._count):
            self._grow(top - len(self._count))
            self._free.clear()  # (rows are not handed out here)
        return self._write(rows, whens, cpu_milli, mem_bytes)

    def times(self, key: Hashable) -> np.ndarray:
        row = self._row(key)
        return np.empty(0) if row is None else self.times_of_row(row)

    def times_of_row(self, row: int) -> np.ndarray:
        if self._t0 is None or row >= len(self._count):
            return np.empty(0)
        return self._ordered(row, self._times[row]).astype(np.float64) + self._t0

    def series(self, key: Hashable, metric: int) -> np.ndarray:
        row = self._row(key)
        return np.empty(0) if row is None else self._ordered(row, self._values[row, metric])

    def forget(self, keys: Iterable[Hashable]) -> None:
        self.forget_rows(row for row in map(self._row_of, keys) if row is not None)

    def forget_rows(self, rows: Iterable[int]) -> None:
        rows = [row for row in rows if row < len(self._count)]
        self._count[rows] = 0

    def retire(self, alive: Iterable[Hashable], in_scope: Callable[[Hashable], bool] = lambda _: True) -> int:
        raise NotImplementedError("rows by slot are freed by their owner (forget)")


class _ClockedValues:
    """CPU and memory of entities that are sampled with another's (a pod's containers,
    in the pod's metrics): their rows hold values only, at the positions of their
    owner's ring in `clock`, so they keep no times of their own (a third less).

    `locate(key)` gives (row, owner's row in the clock) or None. Rows are NaN
    where nothing was written (before the entity was seen, or a sample it
    missed); forget_rows() empties rows before they go to other keys.
    """

    def __init__(self, clock: _SlotRings, locate: Callable[[Hashable], tuple[int, int] | None], live: Callable[[], int]) -> None:
        self.capacity = clock.capacity
        self._clock = clock
        self._locate = locate
        self._live = live
        self._values = np.empty((0, 2, self.capacity), dtype=DTYPE)
        self._ready = 0  # rows below this are initialised (NaN or written)

    def __len__(self) -> int:
        return self._live()

    def __contains__(self, key: Hashable) -> bool:
        return self.series(key, CPU).size > 0

    def _reach(self, top: int) -> None:
        """Rows up to `top` exist and are initialised."""
        if top > len(self._values):
            # Uninitialised (np.empty): a row's pages cost memory when it is first written.
            values = np.empty((max(64, top, len(self._values) * 3 // 2), 2, self.capacity), dtype=DTYPE)
            values[: self._ready] = self._values[: self._ready]
            self._values = values
        if top > self._ready:
            self._values[self._ready : top] = np.nan
            self._ready = top

    def record_rows(self, rows: list[int], owners: list[int], cpu_milli: list, mem_bytes: list) -> int:
        """Write each row's sample where its owner's last write in the clock went; rows
        whose owner took no sample in that write get none. Returns how many went in."""
        if not rows:
            return 0
        self._reach(max(rows) + 1)
        clock = self._clock
        took = np.zeros(len(clock._count), dtype=bool)
        took[clock.written] = True
        owners_a = np.array(owners, dtype=np.int64)
        keep = took[owners_a]
        rows_a = np.array(rows, dtype=np.int64)[keep]
        pos = (clock._count[owners_a[keep]] - 1) % self.capacity
        self._values[rows_a, CPU, pos] = _floats(cpu_milli)[keep]
        self._values[rows_a, MEMORY, pos] = _floats(mem_bytes)[keep]
        return int(keep.sum())

    def forget_rows(self, rows: Iterable[int]) -> None:
        rows = [row for row in rows if row < self._ready]
        self._values[rows] = np.nan

    def forget(self, keys: Iterable[Hashable]) -> None:
        self.forget_rows(found[0] for found in map(self._locate, keys) if found is not None)

    def times(self, key: Hashable) -> np.ndarray:
        found = self._locate(key)
        return np.empty(0) if found is None or found[0] >= self._ready else self._clock.times_of_row(found[1])

    def series(self, key: Hashable, metric: int) -> np.ndarray:
        found = self._locate(key)
        if found is None or found[0] >= self._ready or found[1] >= len(self._clock._count):
            return np.empty(0)
        return self._clock._ordered(found[1], self._values[found[0], metric])

    def last(self, key: Hashable, metric: int, n: int) -> np.ndarray:
        return self.series(key, metric)[-n:]

    def record(self, *args, **kwargs) -> bool:
        raise TypeError("recorded by row, with its clock (record_values)")

    record_many = record

    def retire(self, alive: Iterable[Hashable], in_scope: Callable[[Hashable], bool] = lambda _: True) -> int:
        raise NotImplementedError("rows are freed by their owner (forget_rows)")

    @property
    def nbytes(self) -> int:
        return self._values.nbytes


class History:
    """Per-entity usage history: ring buffers, with a capacity per kind of entity.

    Keys are tuples whose first item names the kind ("node", "pod", ...);
    `capacities` gives some kinds fewer samples than `capacity` (150,000 pods
    and their containers cannot keep as long a history as 5,000 nodes in the
    same memory). Other keys use `capacity`.
    """

    def __init__(
        self, capacity: int = DEFAULT_CAPACITY, initial_slots: int = 64, capacities: dict[str, int] | None = None
    ) -> None:
        self.capacity = capacity
        self._initial_slots = initial_slots
        self._capacities = dict(capacities or {})
        self._pools: dict[str | None, _Rings | _ClockedValues] = {}

    def _kind(self, key: Hashable) -> str | None:
        if type(key) is tuple and key and key[0] in self._capacities:
            return key[0]
        return None

    def _pool(self, key: Hashable, create: bool = False) -> _Rings | None:
        kind = self._kind(key)
        pool = self._pools.get(kind)
        if pool is None and create:
            capacity = self._capacities.get(kind, self.capacity) if kind else self.capacity
            pool = self._pools[kind] = _Rings(capacity, self._initial_slots)
        return pool

    def attach(self, kind: str, row_of: Callable[[Hashable], int | None]) -> None:
        """Rows of `kind` are numbers the caller hands out: it records by row
        (record_rows), forgets a key before its row goes to another, and
        `row_of` finds a key's row. Replaces what that kind had."""
        self._capacities.setdefault(kind, self.capacity)
        self._pools[kind] = _SlotRings(self._capacities[kind], row_of)

    def attach_clocked(
        self, kind: str, clock_kind: str, locate: Callable[[Hashable], tuple[int, int] | None], live: Callable[[], int]
    ) -> None:
        """Rows of `kind` are sampled with rows of `clock_kind` (attached by rows): they
        keep values only, at their owner's positions (see _ClockedValues)."""
        clock = self._rows_pool(clock_kind)
        self._capacities[kind] = clock.capacity
        self._pools[kind] = _ClockedValues(clock, locate, live)

    def record_rows(self, kind: str, rows: list[int], timestamps: list[str], cpu_milli: list, mem_bytes: list) -> int:
        """record_many() for a kind attached by rows; returns how many were added."""
        return self._rows_pool(kind).record_rows(rows, timestamps, cpu_milli, mem_bytes)

    def record_values(self, kind: str, rows: list[int], owners: list[int], cpu_milli: list, mem_bytes: list) -> int:
        """Samples of a clocked kind, taken with their owners' last record_rows()."""
        pool = self._pools.get(kind)
        if not isinstance(pool, _ClockedValues):
            raise TypeError(f"{kind!r} is not attached to a clock")
        return pool.record_rows(rows, owners, cpu_milli, mem_bytes)

    def forget_rows(self, kind: str, rows: Iterable[int]) -> None:
        """Clear these rows of a kind attached by rows (before they go to other keys)."""
        pool = self._pools.get(kind)
        if not isinstance(pool, (_SlotRings, _ClockedValues)):
            raise TypeError(f"{kind!r} is not attached by rows")
        pool.forget_rows(rows)

    def _rows_pool(self, kind: str) -> _SlotRings:
        pool = self._pools.get(kind)
        if not isinstance(pool, _SlotRings):
            raise TypeError(f"{kind!r} is not attached by rows")
        return pool

    def capacity_of(self, key: Hashable) -> int:
        kind = self._kind(key)
        return self._capacities[kind] if kind else self.capacity

    def __len__(self) -> int:
        return sum(len(p) for p in self._pools.values())

    def __contains__(self, key: Hashable) -> bool:
        pool = self._pool(key)
        return pool is not None and key in pool

    def record(self, key: Hashable, timestamp: str, cpu_milli: int | None, mem_bytes: int | None) -> bool:
        """Add a sample unless this timestamp is not newer than the last one; True if added."""
        return self._pool(key, create=True).record(key, timestamp, cpu_milli, mem_bytes)

    def record_many(
        self, keys: list[Hashable], timestamps: list[str], cpu_milli: list, mem_bytes: list, *, same_kind: bool = False
    ) -> int:
        """record() for many keys at once (each key at most once); returns how many were added.

        `same_kind`: the caller knows all keys are of one kind (spares looking at each).
        """
        if not keys:
            return 0
        kinds = {self._kind(keys[0])} if same_kind else {self._kind(k) for k in keys}
        if len(kinds) == 1:
            return self._pool(keys[0], create=True).record_many(keys, timestamps, cpu_milli, mem_bytes)
        added = 0
        for kind in kinds:
            picked = [i for i, k in enumerate(keys) if self._kind(k) == kind]
            pool = self._pool(keys[picked[0]], create=True)
            added += pool.record_many([keys[i] for i in picked], [timestamps[i] for i in picked],
                                      [cpu_milli[i] for i in picked], [mem_bytes[i] for i in picked])
        return added

    def times(self, key: Hashable) -> np.ndarray:
        """Sample times in seconds since the epoch, oldest first."""
        pool = self._pool(key)
        return np.empty(0) if pool is None else pool.times(key)

    def series(self, key: Hashable, metric: int) -> np.ndarray:
        """Samples of CPU (millicores) or MEMORY (bytes), oldest first."""
        pool = self._pool(key)
        return np.empty(0) if pool is None else pool.series(key, metric)

    def last(self, key: Hashable, metric: int, n: int) -> np.ndarray:
        """The newest `n` samples, oldest first (for sparklines)."""
        return self.series(key, metric)[-n:]

    def forget(self, keys: Iterable[Hashable]) -> None:
        """Free the slots of these keys (entities known to be gone)."""
        for key in keys:
            pool = self._pool(key)
            if pool is not None:
                pool.forget((key,))

    def retire(self, alive: Iterable[Hashable], in_scope: Callable[[Hashable], bool] = lambda _: True) -> int:
        """Free the slots of keys in scope that are no longer alive; returns how many."""
        alive = set(alive)
        return sum(pool.retire(alive, in_scope) for pool in self._pools.values())

    @property
    def nbytes(self) -> int:
        return sum(p.nbytes for p in self._pools.values())
