"""The join steps aside while the user's input is handled, but is never stopped for long."""

from __future__ import annotations

import pytest

from ktopui.live.priority import INPUT_WINDOW, MAX_WAIT, MIN_RUN, InputPriority
from ktopui.model.pacing import paced


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
    priority.input_arrived()
    priority.checkpoint()
    assert INPUT_WINDOW <= priority.waited < INPUT_WINDOW + 0.01
    clock.now += MIN_RUN
    priority.checkpoint()  # the input is old now
    assert priority.waited < INPUT_WINDOW + 0.01


def test_a_held_down_key_slows_the_join_but_cannot_stop_it(clock):
    priority = InputPriority(clock.clock, clock.sleep)
    worked = 0.0
    for _ in range(200):
        priority.input_arrived()  # a key every 10 ms of join work
        priority.checkpoint()
        clock.now += 0.01
        worked += 0.01
    elapsed = clock.now - 100.0
    assert worked / elapsed >= MIN_RUN / (MIN_RUN + MAX_WAIT) - 0.01  # its share of the time
    assert priority.waited <= elapsed - worked + 1e-9


def test_paced_pauses_between_batches_and_keeps_every_item():
    pauses = []
    items = list(paced(range(10), lambda: pauses.append(1), every=4))
    assert items == list(range(10)) and len(pauses) == 3
    assert list(paced(iter(range(5)), None)) == list(range(5))
