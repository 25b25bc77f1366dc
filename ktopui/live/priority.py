"""The user before the join: the UI thread gets the interpreter while input waits.

The join runs in a worker thread, but Python runs one thread at a time: while
it works through 150,000 pods, a key press gets at best half of the
interpreter, so its effect reaches the screen twice as late. The UI says when
input arrives (`input_arrived`); the join calls `checkpoint()` between
batches of work and sleeps there while input is recent. Each join may wait
at most JOIN_BUDGET seconds in all: a held-down key delays a refresh by that
much, then the refresh goes on and shares the interpreter.
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
        self._budget = JOIN_BUDGET
        self.waited = 0.0  # seconds joins spent waiting, for benchmarks and tests

    def input_arrived(self) -> None:
        """Called by the UI thread for each key press, click or scroll."""
        self.last_input = self._clock()

    def quiet_for(self) -> float:
        """Seconds since the latest input (infinite before any)."""
        return self._clock() - self.last_input

    def join_started(self) -> None:
        """Called by the join's thread as it starts: a new budget of waiting."""
        self._budget = JOIN_BUDGET

    def checkpoint(self) -> None:
        """Called by the join between batches: wait while input is recent, within the budget."""
        now = self._clock()
        if now >= self.last_input + INPUT_WINDOW or self._budget <= 0:
            return
        start, deadline = now, now + self._budget
        while now < self.last_input + INPUT_WINDOW and now < deadline:
            self._sleep(_STEP)
            now = self._clock()
        self._budget -= now - start
        self.waited += now - start
