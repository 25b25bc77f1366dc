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


def test_rings_of_forgotten_keys_are_reused_and_memory_stays_bounded():
    h = History(capacity=8, initial=64)
    alive = {("ns", f"pod-{i}") for i in range(64)}
    for key in alive:
        h.record(key, ts(0), 1, 1)
    size = h.nbytes
    for generation in range(5):
        # A refresh forgets the departed first, then records the newcomers.
        h.forget(alive)
        alive = {("ns", f"gen{generation}-{i}") for i in range(64)}
        for key in alive:
            h.record(key, ts(15 * (generation + 1)), 2, 2)
    assert len(h) == 64
    assert h.nbytes == size


def test_a_new_key_in_a_reused_ring_starts_empty():
    h = History(initial=1)
    h.record("old", ts(0), 1, 1)
    h.forget(["old"])
    h.record("new", ts(15), 2, 2)
    assert h.series("new", CPU).tolist() == [2] and "old" not in h


def test_record_many_equals_one_by_one():
    one, many = History(capacity=5, initial=1), History(capacity=5, initial=1)
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
    assert len(h) == 2
    h.forget([("pod", "ns", "p")])
    assert ("pod", "ns", "p") not in h and h.series(("pod", "ns", "p"), CPU).size == 0


def test_a_numbered_kind_records_by_ring_and_reads_by_key():
    rings = {("ns", "a"): 0, ("ns", "b"): 5}
    h = History(capacity=8, capacities={"pod": 3})
    h.number("pod", lambda key: rings.get(key[1:]))
    by_key = History(capacity=8, capacities={"pod": 3})
    for i in range(5):  # past the capacity: the ring wraps
        stamps = [ts(15 * i), ts(15 * i)]
        assert h.record_numbered("pod", [0, 5], stamps, [i, None], [10 * i, 7]) == 2
        by_key.record_many([("pod", "ns", "a"), ("pod", "ns", "b")], stamps, [i, None], [10 * i, 7])
        assert h.record_numbered("pod", [0], [ts(15 * i)], [99], [99]) == 0  # not newer: not taken
    for key in [("pod", "ns", "a"), ("pod", "ns", "b")]:
        assert key in h and len(h.times(key)) == 3
        assert np.array_equal(h.times(key), by_key.times(key))
        for metric in (CPU, MEMORY):
            assert np.array_equal(h.series(key, metric), by_key.series(key, metric), equal_nan=True)
    assert len(h) == 2 and ("pod", "ns", "c") not in h
    # The owner forgets a key before giving its ring to another: the newcomer starts empty.
    h.forget([("pod", "ns", "b")])
    del rings[("ns", "b")]
    rings[("ns", "c")] = 5
    assert ("pod", "ns", "c") not in h and h.series(("pod", "ns", "c"), CPU).size == 0
    assert h.record_numbered("pod", [5], [ts(300)], [1], [2]) == 1
    assert h.series(("pod", "ns", "c"), CPU).tolist() == [1]
    # A sample whose time does not read is skipped, as by key.
    assert h.record_numbered("pod", [0, 5], ["", "not a time"], [1, 1], [1, 1]) == 0


def test_values_clocked_by_their_owner_keep_no_times_and_follow_its_ring():
    pods = {("ns", "a"): 0, ("ns", "b"): 1}
    containers = {("ns", "a", "app"): (0, 0), ("ns", "a", "proxy"): (1, 0), ("ns", "b", "late"): (2, 1)}
    h = History(capacity=8, capacities={"pod": 3})
    h.number("pod", lambda key: pods.get(key[1:]))
    h.clock("container", "pod", lambda key: containers.get(key[1:]), lambda: len(containers),
            lambda pod: [ring for ring, owner in containers.values() if owner == pod])
    app, proxy, late = (("container", *k) for k in containers)
    for i in range(4):  # the ring (3) wraps
        h.record_numbered("pod", [0, 1], [ts(15 * i)] * 2, [10 * i, 5], [100, 100])
        # b's container is first measured at the third sample
        rings, owners = ([0, 1, 2], [0, 0, 1]) if i >= 2 else ([0, 1], [0, 0])
        h.record_clocked("container", rings, owners, [i, 2 * i, 7 * i][: len(rings)], [1, 2, 3][: len(rings)])
    assert h.times(app).tolist() == h.times(("pod", "ns", "a")).tolist() and len(h.times(app)) == 3
    assert h.series(app, CPU).tolist() == [1, 2, 3] and h.series(proxy, CPU).tolist() == [2, 4, 6]
    assert np.array_equal(h.series(late, CPU), [np.nan, 14, 21], equal_nan=True)  # before it was seen: a gap
    assert h.last(proxy, MEMORY, 2).tolist() == [2, 2]
    # A sample its owner did not take (not newer) is not taken by its containers either.
    h.record_numbered("pod", [0], [ts(45)], [1], [1])
    assert h.record_clocked("container", [0], [0], [99], [99]) == 0
    assert h.series(app, CPU).tolist() == [1, 2, 3]
    # Emptied before the ring goes to another container.
    h.forget_numbered("container", [1])
    assert np.isnan(h.series(proxy, CPU)).all() and len(h) == 2 + 3  # two pods, three containers


def epoch_of(second):
    from ktopui.model.history import epoch

    return epoch(ts(second))


def test_samples_from_elsewhere_are_merged_in_by_time_and_the_newest_kept():
    h = History(capacity=4)
    for second in (60, 75):
        h.record(("node", "n"), ts(second), second, 1)
    # A backfill: two before what the key has, one at a time it has (the given one wins), one between.
    taken = h.ingest(("node", "n"), [epoch_of(s) for s in (30, 45, 75, 67)], [30, 45, 750, 67], [2, 2, 2, 2])
    assert taken == 4 - 1  # the oldest made room for the newer ones
    assert h.series(("node", "n"), CPU).tolist() == [45, 60, 67, 750]
    assert h.times(("node", "n")).tolist() == [epoch_of(s) for s in (45, 60, 67, 75)]
    assert h.record(("node", "n"), ts(90), 90, 1)  # and recording goes on after it
    assert h.series(("node", "n"), CPU).tolist() == [60, 67, 750, 90]
    assert h.ingest(("node", "new"), [epoch_of(0)], [None], [5]) == 1  # a key seen first in a backfill
    assert np.isnan(h.series(("node", "new"), CPU)).all() and h.series(("node", "new"), MEMORY).tolist() == [5]


def test_a_backfill_of_a_pod_or_a_container_keeps_every_container_on_its_pods_clock():
    pods = {("ns", "a"): 0}
    containers = {("ns", "a", "app"): (0, 0), ("ns", "a", "proxy"): (1, 0)}
    h = History(capacity=8, capacities={"pod": 4})
    h.number("pod", lambda key: pods.get(key[1:]))
    h.clock("container", "pod", lambda key: containers.get(key[1:]), lambda: len(containers),
            lambda pod: [ring for ring, owner in containers.values() if owner == pod])
    pod, app, proxy = ("pod", "ns", "a"), ("container", "ns", "a", "app"), ("container", "ns", "a", "proxy")
    for i, second in enumerate((30, 45, 60, 75, 90)):  # wraps the pods' ring (4)
        h.record_numbered("pod", [0], [ts(second)], [10 * i], [1])
        h.record_clocked("container", [0, 1], [0, 0], [i, 100 + i], [1, 1])
    assert h.ingest(pod, [epoch_of(52)], [99], [1]) == 1
    assert h.series(pod, CPU).tolist() == [99, 20, 30, 40]
    assert h.times(pod).tolist() == [epoch_of(s) for s in (52, 60, 75, 90)]
    # The containers' samples moved with their times; at the new time, gaps.
    assert np.array_equal(h.series(app, CPU), [np.nan, 2, 3, 4], equal_nan=True)
    assert np.array_equal(h.series(proxy, CPU), [np.nan, 102, 103, 104], equal_nan=True)
    # A container's backfill: at its pod's times it fills in; a time the pod lacks becomes a gap of the pod's.
    assert h.ingest(app, [epoch_of(60), epoch_of(82)], [7, 8], [1, 1]) == 2
    assert h.times(pod).tolist() == [epoch_of(s) for s in (60, 75, 82, 90)]
    assert np.array_equal(h.series(pod, CPU), [20, 30, np.nan, 40], equal_nan=True)
    assert np.array_equal(h.series(app, CPU), [7, 3, 8, 4], equal_nan=True)
    assert np.array_equal(h.series(proxy, CPU), [102, 103, np.nan, 104], equal_nan=True)
    # Recorded by key, a container takes a sample only at a time its pod has.
    assert h.record(proxy, ts(82), 5, 5) and not h.record(proxy, ts(81), 6, 6)
    assert h.series(proxy, CPU).tolist() == [102, 103, 5, 104]
    # And a pod whose ring its owner has not given: nothing to merge into.
    assert h.ingest(("pod", "ns", "unknown"), [epoch_of(0)], [1], [1]) == 0


def test_each_change_moves_the_stamp_of_the_keys_it_touched_only():
    rings = {("ns", "a"): 0, ("ns", "b"): 1}
    h = History(capacities={"pod": 4})
    h.number("pod", lambda key: rings.get(key[1:]))
    n, a, b = ("node", "n"), ("pod", "ns", "a"), ("pod", "ns", "b")
    assert h.stamp(n) == h.stamp(a) == 0  # no samples yet
    h.record(n, ts(0), 1, 1)
    h.record_numbered("pod", [0, 1], [ts(0)] * 2, [1, 1], [1, 1])
    node_stamp, a_stamp, b_stamp = h.stamp(n), h.stamp(a), h.stamp(b)
    assert 0 < node_stamp < a_stamp == b_stamp == h.generation
    h.record_numbered("pod", [0], [ts(15)], [2], [2])
    assert h.stamp(a) > a_stamp and (h.stamp(n), h.stamp(b)) == (node_stamp, b_stamp)
    h.record_numbered("pod", [1], [ts(0)], [3], [3])  # not newer: nothing changed
    assert h.stamp(b) == b_stamp
    h.ingest(n, [epoch_of(-15)], [0], [0])
    assert h.stamp(n) > node_stamp


def test_readers_see_whole_samples_while_another_thread_records():
    import threading

    h = History(capacity=16)
    keys = [("node", f"n{i}") for i in range(500)]
    stop = threading.Event()
    torn = []

    def read():
        while not stop.is_set():
            cpu = h.series(keys[-1], CPU)
            # Step i writes i: a read in the middle of a write would see a count without its value.
            if len(cpu) and not np.array_equal(cpu, np.arange(cpu[0], cpu[0] + len(cpu))):
                torn.append(cpu)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for step in range(300):
            h.record_many(keys, [ts(step)] * len(keys), [step] * len(keys), [step] * len(keys))
    finally:
        stop.set()
        reader.join()
    assert not torn
