"""The user before the join: the UI thread gets the interpreter while input waits.

The join runs in a worker thread, but Python runs one thread at a time: while
it works through 150,000 pods, a key press gets at best half of the
interpreter, so its effect reaches the screen twice as late. The UI says when
input arrives (`input_arrived`); each join takes a checkpoint (`join()`),
calls it between batches of work and sleeps there while input is recent. A
join may wait at most JOIN_BUDGET seconds in all: a held-down key delays a
refresh by that much, then the refresh goes on and shares the interpreter.
Joins of several clusters at once each have a budget of their own.
"""

from __future__ import annotations

import time
from collections.abc import Callable

# Input counts as recent this long: a key's handling, the messages it posts
# and the repaint (most take 20-80 ms at 150,000 pods).
INPUT_WINDOW = 0.1
# Less than a refresh interval: data on screen is a metrics resolution
# (15 s) old at best, so a refresh this much later goes unnoticed.
JOIN_BUDGET = 1.5
_STEP = 0.002


class InputPriority:
    def __init__(self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self.last_input = float("-inf")  # clock() time of the latest input
        self.waited = 0.0  # seconds joins spent waiting, for benchmarks and tests

    def input_arrived(self) -> None:
        """Called by the UI thread for each key press, click or scroll."""
        self.last_input = self._clock()

    def quiet_for(self) -> float:
        """Seconds since the latest input (infinite before any)."""
        return self._clock() - self.last_input

    def join(self) -> Checkpoint:
        """The checkpoint of one join (or any long work off the UI thread), with a budget of its own."""
        return Checkpoint(self)


class Checkpoint:
    """Called between batches of one join's work: waits while input is recent, within its budget."""

    __slots__ = ("_priority", "_budget")

    def __init__(self, priority: InputPriority) -> None:
        self._priority = priority
        self._budget = JOIN_BUDGET

    def __call__(self) -> None:
        priority = self._priority
        now = priority._clock()
        if now >= priority.last_input + INPUT_WINDOW or self._budget <= 0:
            return
        start, deadline = now, now + self._budget
        while now < priority.last_input + INPUT_WINDOW and now < deadline:
            priority._sleep(_STEP)
            now = priority._clock()
        self._budget -= now - start
        priority.waited += now - start
