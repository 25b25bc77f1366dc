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
    for _ in range(100):
        priority.checkpoint()
    assert priority.waited == 0 and clock.now == 100.0


def test_after_a_key_the_join_waits_until_its_handling_is_over(clock):
    priority = InputPriority(clock.clock, clock.sleep)
    priority.join_started()
    priority.input_arrived()
    priority.checkpoint()
    assert INPUT_WINDOW <= priority.waited < INPUT_WINDOW + 0.01
    priority.checkpoint()  # the input is old now
    assert priority.waited < INPUT_WINDOW + 0.01


def test_a_held_down_key_delays_a_join_by_its_budget_at_most(clock):
    priority = InputPriority(clock.clock, clock.sleep)
    for _ in range(2):  # and the next join has a budget of its own
        priority.join_started()
        began, worked = clock.now, 0.0
        while worked < 1.0:  # a second of work, with a key every 10 ms of it
            priority.input_arrived()
            priority.checkpoint()
            clock.now += 0.01
            worked += 0.01
        assert clock.now - began <= worked + JOIN_BUDGET + 0.01
        assert clock.now - began >= worked + JOIN_BUDGET - 0.01  # all of it was given to the keys


def test_paced_batches_pause_before_each_batch_and_keep_every_item():
    seen = []
    batches = [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    out = [(len(seen), batch) for batch in paced_batches(iter(batches), lambda: seen.append(1))]
    assert out == [(1, batches[0]), (2, batches[1]), (3, batches[2])]
