"""Memory freed by a join goes back to the system, not just to the C library's free lists."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ktopui.live.memory import release_free_memory


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc; trims glibc's heap")
def test_freed_blocks_leave_the_resident_set():
    # Many 2 KB blocks (each a malloc of its own, below the mmap threshold) with
    # one survivor at the end: the heap cannot shrink from its top, only trim.
    blocks = [bytearray(2048) for _ in range(40_000)]
    survivor = bytearray(2048)
    del blocks
    before = rss_mb()
    assert release_free_memory()
    assert rss_mb() < before - 40
    assert len(survivor) == 2048


class Cycle:
    def __init__(self) -> None:
        self.me = self


def test_joined_objects_leave_the_collectors_sight_but_cycles_are_freed_within_the_interval():
    import gc
    import weakref

    from ktopui.live.memory import Collector

    now = [0.0]
    collector = Collector(interval=60.0, clock=lambda: now[0])
    try:
        cycle = Cycle()
        alive = weakref.ref(cycle)
        collector.after_join()  # the cycle, alive, is moved out of sight
        assert gc.get_freeze_count() > 0
        del cycle
        gc.collect()  # and is not found there
        assert alive() is not None and collector.full_collections == 0
        now[0] = 61.0
        collector.after_join()
        assert alive() is None and collector.full_collections == 1
    finally:
        gc.unfreeze()


def test_a_fast_refresh_rate_brings_the_full_collection_sooner():
    import gc

    from ktopui.live.memory import Collector

    collector = Collector(interval=60.0, joins=5, clock=lambda: 0.0)
    try:
        for _ in range(4):
            collector.after_join()
        assert collector.full_collections == 0
        collector.after_join()
        assert collector.full_collections == 1
    finally:
        gc.unfreeze()


def test_the_full_collection_waits_for_a_pause_in_typing_but_not_for_ever():
    """It stops every thread for as long as it walks the heap: not in the middle of key presses."""
    import gc

    from ktopui.live.memory import FULL_COLLECTION_LATEST, QUIET_BEFORE_FULL, Collector
    from ktopui.live.priority import InputPriority

    now = [0.0]
    priority = InputPriority(clock=lambda: now[0])
    collector = Collector(interval=60.0, clock=lambda: now[0], quiet_for=priority.quiet_for)
    try:
        now[0] = 61.0
        priority.input_arrived()
        collector.after_join()  # due, but the user is typing
        assert collector.full_collections == 0
        now[0] += QUIET_BEFORE_FULL
        collector.after_join()  # a pause
        assert collector.full_collections == 1
        now[0] += 61.0
        for _ in range(int(FULL_COLLECTION_LATEST / 2.5)):  # typing without pause, a join every 2.5 s
            priority.input_arrived()
            collector.after_join()
            now[0] += 2.5
        assert collector.full_collections == 2  # once it was FULL_COLLECTION_LATEST late
    finally:
        gc.unfreeze()


def test_typing_through_many_fast_refreshes_holds_the_full_collection_back_for_a_bounded_number_of_joins():
    import gc

    from ktopui.live.memory import FULL_COLLECTION_JOINS_LATEST, Collector
    from ktopui.live.priority import InputPriority

    now = [0.0]
    priority = InputPriority(clock=lambda: now[0])
    collector = Collector(interval=60.0, joins=100, clock=lambda: now[0], quiet_for=priority.quiet_for)
    try:
        for _ in range(FULL_COLLECTION_JOINS_LATEST - 1):  # 40 joins a second, a key between each
            priority.input_arrived()
            collector.after_join()
            now[0] += 0.025
        assert collector.full_collections == 0  # due after 100 joins, held back: the user is typing
        priority.input_arrived()
        collector.after_join()
        assert collector.full_collections == 1  # but not past FULL_COLLECTION_JOINS_LATEST joins
    finally:
        gc.unfreeze()


class Mortal:
    """Says when it is freed."""

    def __init__(self, deaths: list) -> None:
        self.deaths = deaths

    def __del__(self) -> None:
        self.deaths.append(self)


def test_dispose_frees_a_batch_at_a_time_with_a_pause_between():
    from ktopui.live.memory import dispose

    deaths: list = []
    freed_at_pause: list[int] = []
    rows = [Mortal(deaths) for _ in range(25)]
    dispose(rows, lambda: freed_at_pause.append(len(deaths)), batch=10)
    assert rows == [] and len(deaths) == 25
    assert freed_at_pause == [10, 20, 25]  # the UI may run at each pause


def test_joins_overlapping_in_two_threads_keep_the_collector_off_until_the_last_one_ends():
    """Two clusters joining at once: the first to finish must not switch the collector back
    on under the other, nor the other leave it off."""
    import gc

    from ktopui.live.memory import ProcessMemory

    memory = ProcessMemory()
    assert gc.isenabled()
    first, second = memory.join(), memory.join()
    first.__enter__()
    second.__enter__()
    assert not gc.isenabled()
    first.__exit__(None, None, None)
    assert not gc.isenabled()  # the second still runs
    second.__exit__(None, None, None)
    assert gc.isenabled()
    gc.disable()  # a process that keeps its collector off keeps it off
    try:
        with memory.join():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_owner_of_the_process_freezes_and_collects_after_the_last_join_only():
    import gc

    from ktopui.live.memory import ProcessMemory

    memory = ProcessMemory()
    memory.own_process(quiet_for=lambda: float("inf"))
    frozen = []
    memory.collector.after_join = lambda: frozen.append(gc.isenabled())
    with memory.join():
        with memory.join():
            pass
        assert frozen == []
    assert frozen == [False]  # once, before the collector is back on
