"""The process's memory policy, one owner for every join: the collector, the allocator, freeing.

A join at 150,000 pods makes dicts and lists of 150,000 entries each. The
cyclic garbage collector walks every entry of every such container in each
collection of its generation: about 110, 55 and 60 ms as they age through
the three generations, whenever the UI thread happens to allocate (often in
the middle of a key press). None of them is in a cycle; refcounting frees
them. `Collector` moves each join's objects to the permanent generation
uncollected (even one young collection walks those lists: 9-30 ms a join),
and runs one full collection a minute (or every 100 joins), so any cycle
that hid there is freed; that one waits for a pause in the user's typing,
as it stops every thread.

A join also frees tens of MB at once; glibc keeps freed blocks in its heap
and the resident size stays at its peak: malloc_trim(0) returns the free
pages (1-3 ms). On a C library without it (musl, macOS) that does nothing.

The collector and the allocator are the process's, not a cluster's: joins of
several clusters (and `ktopui top`'s one pass) go through one owner, MEMORY,
which switches the collector off while any join runs and back on, as it was,
when the last one ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import cache

FULL_COLLECTION_INTERVAL = 60.0
# ...or after this many joins, whichever comes first: what died in a cycle
# after being frozen waits for the next full collection, so its amount
# follows the refresh rate (a soak refreshing 30 times a second held 110 MB).
FULL_COLLECTION_JOINS = 100
# A full collection walks everything alive: over a second at 150,000 pods, in
# which no other thread runs. It waits until the user has left the keys alone
# this long, but not past FULL_COLLECTION_LATEST since the last one.
QUIET_BEFORE_FULL = 2.0
FULL_COLLECTION_LATEST = 600.0
# ...nor past this many joins: what waits is frozen garbage, and its amount
# follows the refresh rate (the soak, refreshing 40 times a second with a key
# every 0.6 s, grew 92 MB in 37 s while the collection waited for a pause).
# At the 2 s interval this is the same 10 minutes.
FULL_COLLECTION_JOINS_LATEST = 300


@cache
def _libc(name: str):
    """A C library function taking and returning ints, or None where there is none. Looked up
    when first needed: finding the C library takes tens of ms, which `ktopui top` never needs."""
    import ctypes
    import ctypes.util

    try:
        function = getattr(ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6"), name)
    except (OSError, AttributeError):
        return None
    function.argtypes = {"malloc_trim": [ctypes.c_size_t], "mallopt": [ctypes.c_int, ctypes.c_int]}[name]
    function.restype = ctypes.c_int
    return function


M_MMAP_THRESHOLD = -3
HEAP_BLOCKS_UP_TO = 32 * 1024 * 1024  # glibc's largest mmap threshold on 64-bit


def keep_big_blocks_in_the_heap() -> bool:
    """Serve blocks up to 32 MB from the heap, not each from a mapping of its own.

    A metrics list goes through hundreds of blocks of 100 KB-30 MB (the
    decompressed chunks, the growing body, lists of 150,000 items). Each
    mapped one is unmapped when freed, and with two threads every unmapping
    flushes the other CPU's TLB: on a virtual machine the kernel time of a
    150,000-pod list's GET was 210-235 ms, against 40-140 ms from the heap.
    The heap's free pages still go back to the system after each new
    metrics list (release_free_memory). False where the C library has no
    mallopt.
    """
    mallopt = _libc("mallopt")
    return mallopt is not None and mallopt(M_MMAP_THRESHOLD, HEAP_BLOCKS_UP_TO) == 1


def release_free_memory() -> bool:
    """Return free heap pages to the system; False where the C library cannot."""
    trim = _libc("malloc_trim")
    if trim is None:
        return False
    trim(0)
    return True


class Collector:
    """What the owner of the process does with the cyclic collector after each join."""

    def __init__(
        self,
        interval: float = FULL_COLLECTION_INTERVAL,
        joins: int = FULL_COLLECTION_JOINS,
        clock: Callable[[], float] = time.monotonic,
        quiet_for: Callable[[], float] = lambda: float("inf"),
    ) -> None:
        self.interval = interval
        self.joins = joins
        self._clock = clock
        self._quiet_for = quiet_for  # seconds since the user's last input
        self._collected_at = clock()
        self._joins_since = 0
        self.full_collections = 0
        # Thread CPU seconds spent after joins, for benchmarks: in full collections, in freezes.
        self.collecting = 0.0
        self.freezing = 0.0

    def after_join(self) -> None:
        """Called by the join's thread before the collector is enabled again."""
        now = self._clock()
        self._joins_since += 1
        due = now - self._collected_at >= self.interval or self._joins_since >= self.joins
        overdue = now - self._collected_at >= FULL_COLLECTION_LATEST or self._joins_since >= FULL_COLLECTION_JOINS_LATEST
        began = time.thread_time()
        if due and (self._quiet_for() >= QUIET_BEFORE_FULL or overdue):
            gc.unfreeze()
            gc.collect()
            self._collected_at, self._joins_since = now, 0
            self.full_collections += 1
            self.collecting += time.thread_time() - began
            began = time.thread_time()
        # What the join made leaves the collector's sight uncollected: a young
        # collection would walk its 150,000-item lists (9-30 ms a join).
        gc.freeze()
        self.freezing += time.thread_time() - began


class ProcessMemory:
    """The owner of the process's collector and allocator policy (re-entrant, thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._joins = 0
        self._collecting_before = False  # whether the collector ran before the first join began
        self.collector: Collector | None = None

    def own_process(self, quiet_for: Callable[[], float]) -> None:
        """A process that lives on (the dashboard): each join's objects leave the collector's sight,
        full collections wait for a pause in the user's typing (`quiet_for`), and big blocks stay
        in the heap. Once per process."""
        with self._lock:
            if self.collector is None:
                self.collector = Collector(quiet_for=quiet_for)
                keep_big_blocks_in_the_heap()

    @contextlib.contextmanager
    def join(self, *, release: bool = False) -> Iterator[None]:
        """A join runs inside: it allocates about a million short-lived tuples, ints and
        structs, none in cycles, and with the cyclic collector running its passes over
        everything alive cost a third of the join. `release`: the join let a big list
        go, whose memory goes back to the system."""
        with self._lock:
            if self._joins == 0:
                self._collecting_before = gc.isenabled()
                gc.disable()
            self._joins += 1
        try:
            yield
        finally:
            with self._lock:
                self._joins -= 1
                if self._joins == 0:
                    if self.collector is not None:
                        self.collector.after_join()
                    if self._collecting_before:
                        gc.enable()
            # A steady refresh frees little, and keeps it: pages given back are
            # faulted in again by the next refresh (microseconds each on a VM).
            if release:
                release_free_memory()


MEMORY = ProcessMemory()


DISPOSE_BATCH = 10_000


def dispose(objects: list, pause: Callable[[], None], batch: int = DISPOSE_BATCH) -> None:
    """Drop the references in `objects` (a list no one else has) a batch at a time.

    The rows and samples of the refresh before last die together, 150,000 of
    each: freed by one `del` they stop every thread for ~200 ms. Freed here
    in batches, with `pause` (the join's checkpoint) between, a key press
    need not wait for them.
    """
    while objects:
        del objects[-batch:]
        pause()


class Disposer:
    """Frees what an object held once nothing refers to it: in a worker thread, a batch at
    a time, after the UI's handling of whatever let it go.

    A table lets the pod view it showed go when it takes the next refresh's;
    the samples of a metrics list die with it, 150,000 of them, which on the
    UI thread took up to 200 ms. The joiner says what to free (`when_gone`);
    nobody hands anything back.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ktopui-dispose")
        self._closed = False

    def when_gone(self, owner: object, free: Callable[[list], None], parts: list) -> None:
        """Call free(parts) in the worker once `owner` is gone. `parts` is held until then; `free`
        takes its items out of it, so that it holds their last references, and must not
        refer to `owner`."""
        weakref.finalize(owner, self._gone, free, parts)

    def _gone(self, free: Callable[[list], None], parts: list) -> None:
        # Called where the owner died (the UI thread, mostly, in a message handler):
        # the work starts after that handler, when the screens hold the new snapshot.
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._submit, free, parts)

    def _submit(self, free: Callable[[list], None], parts: list) -> None:
        if not self._closed:
            self._worker.submit(free, parts)

    def close(self) -> None:
        self._closed = True
        self._worker.shutdown(wait=False, cancel_futures=True)
