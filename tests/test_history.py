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


def test_record_many_equals_one_by_one():
    one, many = History(capacity=5, initial_slots=1), History(capacity=5, initial_slots=1)
    keys = [("pod", "ns", f"p{i}") for i in range(40)]
    for step in range(8):
        stamps = [ts(15 * step + (i % 3)) if i % 7 else "" for i in range(40)]  # some without a time
        cpu = [None if i % 5 == 0 else i * step for i in range(40)]
        mem = [i * 1000 for i in range(40)]
        added = many.record_many(keys, stamps, cpu, mem)
        assert added == sum(one.record(k, t, c, m) for k, t, c, m in zip(keys, stamps, cpu, mem))
        assert many.record_many(keys, stamps, cpu, mem) == 0  # the same timestamps again add nothing
    for key in keys:
        for metric in (CPU, MEMORY):
            assert np.array_equal(one.series(key, metric), many.series(key, metric), equal_nan=True)
        assert np.array_equal(one.times(key), many.times(key))


def test_a_timestamp_is_never_newer_than_itself_after_float32_rounding():
    h = History()
    h.record("n", "2026-08-01T12:00:00Z", 1, 1)
    odd = "2026-08-01T12:00:07.123456Z"  # not representable exactly relative to the first sample
    assert h.record("n", odd, 2, 2)
    assert not h.record("n", odd, 3, 3)
    assert h.record_many(["n"], [odd], [4], [4]) == 0


def test_kinds_can_keep_shorter_histories():
    h = History(capacity=6, capacities={"pod": 3})
    for i in range(10):
        h.record_many([("node", "n"), ("pod", "ns", "p")], [ts(15 * i)] * 2, [i, i], [i, i])
    assert h.series(("node", "n"), CPU).tolist() == [4, 5, 6, 7, 8, 9]
    assert h.series(("pod", "ns", "p"), CPU).tolist() == [7, 8, 9]
    assert h.capacity_of(("pod", "ns", "p")) == 3 and len(h) == 2
    h.forget([("pod", "ns", "p")])
    assert ("pod", "ns", "p") not in h and h.series(("pod", "ns", "p"), CPU).size == 0


def test_a_kind_attached_by_rows_records_by_row_and_reads_by_key():
    rows = {("ns", "a"): 0, ("ns", "b"): 5}
    h = History(capacity=8, capacities={"pod": 3})
    h.attach("pod", lambda key: rows.get(key[1:]))
    by_key = History(capacity=8, capacities={"pod": 3})
    for i in range(5):  # past the capacity: the ring wraps
        stamps = [ts(15 * i), ts(15 * i)]
        assert h.record_rows("pod", [0, 5], stamps, [i, None], [10 * i, 7]) == 2
        by_key.record_many([("pod", "ns", "a"), ("pod", "ns", "b")], stamps, [i, None], [10 * i, 7])
        assert h.record_rows("pod", [0], [ts(15 * i)], [99], [99]) == 0  # not newer: not taken
    for key in [("pod", "ns", "a"), ("pod", "ns", "b")]:
        assert key in h and h.capacity_of(key) == 3
        assert np.array_equal(h.times(key), by_key.times(key))
        for metric in (CPU, MEMORY):
            assert np.array_equal(h.series(key, metric), by_key.series(key, metric), equal_nan=True)
    assert len(h) == 2 and ("pod", "ns", "c") not in h
    # The owner forgets a key before giving its row to another: the newcomer starts empty.
    h.forget([("pod", "ns", "b")])
    del rows[("ns", "b")]
    rows[("ns", "c")] = 5
    assert ("pod", "ns", "c") not in h and h.series(("pod", "ns", "c"), CPU).size == 0
    assert h.record_rows("pod", [5], [ts(300)], [1], [2]) == 1
    assert h.series(("pod", "ns", "c"), CPU).tolist() == [1]
    # A sample whose time does not read is skipped, as by key.
    assert h.record_rows("pod", [0, 5], ["", "not a time"], [1, 1], [1, 1]) == 0


def test_values_clocked_by_their_owner_keep_no_times_and_follow_its_ring():
    pods = {("ns", "a"): 0, ("ns", "b"): 1}
    containers = {("ns", "a", "app"): (0, 0), ("ns", "a", "proxy"): (1, 0), ("ns", "b", "late"): (2, 1)}
    h = History(capacity=8, capacities={"pod": 3})
    h.attach("pod", lambda key: pods.get(key[1:]))
    h.attach_clocked("container", "pod", lambda key: containers.get(key[1:]), lambda: len(containers))
    app, proxy, late = (("container", *k) for k in containers)
    for i in range(4):  # the ring (3) wraps
        h.record_rows("pod", [0, 1], [ts(15 * i)] * 2, [10 * i, 5], [100, 100])
        # b's container is first measured at the third sample
        rows, owners = ([0, 1, 2], [0, 0, 1]) if i >= 2 else ([0, 1], [0, 0])
        h.record_values("container", rows, owners, [i, 2 * i, 7 * i][: len(rows)], [1, 2, 3][: len(rows)])
    assert h.times(app).tolist() == h.times(("pod", "ns", "a")).tolist() and len(h.times(app)) == 3
    assert h.series(app, CPU).tolist() == [1, 2, 3] and h.series(proxy, CPU).tolist() == [2, 4, 6]
    assert np.array_equal(h.series(late, CPU), [np.nan, 14, 21], equal_nan=True)  # before it was seen: a gap
    assert h.last(proxy, MEMORY, 2).tolist() == [2, 2] and h.capacity_of(app) == 3
    # A sample its owner did not take (not newer) is not taken by its containers either.
    h.record_rows("pod", [0], [ts(45)], [1], [1])
    assert h.record_values("container", [0], [0], [99], [99]) == 0
    assert h.series(app, CPU).tolist() == [1, 2, 3]
    # Emptied before the row goes to another container.
    h.forget_rows("container", [1])
    assert np.isnan(h.series(proxy, CPU)).all() and len(h) == 2 + 3  # two pods, three containers
