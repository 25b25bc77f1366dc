"""History keeps one sample per new metrics timestamp, in bounded ring buffers."""

import numpy as np

from ktopui.model.history import CPU, MEMORY, History


def ts(second):
    return f"2026-08-01T12:{second // 60:02d}:{second % 60:02d}Z"


def test_same_timestamp_twice_adds_one_sample():
    h = History()
    assert h.record("n1", ts(0), 100, 1000)
    assert not h.record("n1", ts(0), 150, 1000)  # polled again before metrics moved
    assert not h.record("n1", ts(0), None, None)
    assert h.series("n1", CPU).tolist() == [100]


def test_older_timestamps_are_ignored():
    h = History()
    h.record("n1", ts(30), 1, 1)
    assert not h.record("n1", ts(15), 2, 2)
    assert h.series("n1", CPU).tolist() == [1]


def test_ring_buffer_keeps_the_newest_samples_in_order():
    h = History(capacity=4)
    for i in range(10):
        h.record("p", ts(15 * i), i, 10 * i)
    assert h.series("p", CPU).tolist() == [6, 7, 8, 9]
    assert h.series("p", MEMORY).tolist() == [60, 70, 80, 90]
    assert np.diff(h.times("p")).tolist() == [15, 15, 15]
    assert h.last("p", CPU, 2).tolist() == [8, 9]


def test_missing_values_are_gaps_not_zeros():
    h = History()
    h.record("p", ts(0), None, 5)
    assert np.isnan(h.series("p", CPU)[0])


def test_retired_slots_are_reused_and_memory_stays_bounded():
    h = History(capacity=8, initial_slots=64)
    for i in range(64):
        h.record(("ns", f"pod-{i}"), ts(0), 1, 1)
    size = h.nbytes
    for generation in range(5):
        # A refresh retires the departed first, then records the newcomers.
        alive = {("ns", f"gen{generation}-{i}") for i in range(64)}
        h.retire(alive)
        for key in alive:
            h.record(key, ts(15 * (generation + 1)), 2, 2)
    assert len(h) == 64
    assert h.nbytes == size


def test_retire_only_touches_keys_in_scope():
    h = History()
    h.record(("a", "p"), ts(0), 1, 1)
    h.record(("b", "p"), ts(0), 1, 1)
    assert h.retire([], in_scope=lambda key: key[0] == "a") == 1
    assert ("b", "p") in h and ("a", "p") not in h


def test_new_entity_in_a_reused_slot_starts_empty():
    h = History(initial_slots=1)
    h.record("old", ts(0), 1, 1)
    h.retire([])
    h.record("new", ts(15), 2, 2)
    assert h.series("new", CPU).tolist() == [2]
