"""The join steps aside while the user's input is handled, but is never stopped for long."""

from __future__ import annotations

import pytest

from ktopui.live.priority import INPUT_WINDOW, JOIN_BUDGET, InputPriority
from ktopui.model.pacing import paced_batches


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock():
    return FakeTime()


def test_without_input_the_join_never_waits(clock):
    priority = InputPriority(clock.clock, clock.sleep)
    checkpoint = priority.join()
    for _ in range(100):
        checkpoint()
    assert priority.waited == 0 and clock.now == 100.0


def test_after_a_key_the_join_waits_until_its_handling_is_over(clock):
    priority = InputPriority(clock.clock, clock.sleep)
    checkpoint = priority.join()
    priority.input_arrived()
    checkpoint()
    assert INPUT_WINDOW <= priority.waited < INPUT_WINDOW + 0.01
    checkpoint()  # the input is old now
    assert priority.waited < INPUT_WINDOW + 0.01


def test_a_held_down_key_delays_a_join_by_its_budget_at_most(clock):
    priority = InputPriority(clock.clock, clock.sleep)
    for _ in range(2):  # and the next join has a budget of its own
        checkpoint = priority.join()
        began, worked = clock.now, 0.0
        while worked < 1.0:  # a second of work, with a key every 10 ms of it
            priority.input_arrived()
            checkpoint()
            clock.now += 0.01
            worked += 0.01
        assert clock.now - began <= worked + JOIN_BUDGET + 0.01
        assert clock.now - began >= worked + JOIN_BUDGET - 0.01  # all of it was given to the keys


def test_two_joins_at_once_each_wait_within_their_own_budget(clock):
    """Two clusters joining side by side: one exhausting its budget leaves the other's whole."""
    priority = InputPriority(clock.clock, clock.sleep)
    first, second = priority.join(), priority.join()
    began = clock.now
    while clock.now - began < 3 * JOIN_BUDGET:  # a key held down
        priority.input_arrived()
        first()
        clock.now += 0.01
    spent = priority.waited
    assert JOIN_BUDGET - 0.01 <= spent <= JOIN_BUDGET + 0.01
    priority.input_arrived()
    second()
    assert priority.waited - spent >= INPUT_WINDOW - 0.01  # it still steps aside


def test_paced_batches_pause_before_each_batch_and_keep_every_item():
    seen = []
    batches = [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    out = [(len(seen), batch) for batch in paced_batches(iter(batches), lambda: seen.append(1))]
    assert out == [(1, batches[0]), (2, batches[1]), (3, batches[2])]
