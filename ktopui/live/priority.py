"""The user before the join: the UI thread gets the interpreter while input waits.

The join runs in a worker thread, but Python runs one thread at a time: while
it works through 150,000 pods, a key press gets at best half of the
interpreter, so its effect reaches the screen twice as late. The UI says when
input arrives (`input_arrived`); the join calls `checkpoint()` between
batches of work and sleeps there while input is recent. Each wait is bounded,
and after one the join runs a while before it waits again, so a held-down
key slows refreshes but cannot stop them.
"""

from __future__ import annotations

import time
from collections.abc import Callable

# Input counts as recent this long: a key's handling, the messages it posts
# and the repaint (most take 20-60 ms at 150,000 pods). Between a fast
# typist's keys the join still gets about half of the time.
INPUT_WINDOW = 0.1
MAX_WAIT = 0.2  # the longest one checkpoint sleeps
MIN_RUN = 0.1  # after a wait, work at least this long before the next one
_STEP = 0.002


class InputPriority:
    def __init__(self, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._input_until = 0.0
        self._run_until = 0.0
        self.waited = 0.0  # seconds the join spent waiting, for benchmarks and tests

    def input_arrived(self) -> None:
        """Called by the UI thread for each key press, click or scroll."""
        self._input_until = self._clock() + INPUT_WINDOW

    def checkpoint(self) -> None:
        """Called by the join between batches: wait while input is recent."""
        now = self._clock()
        if now >= self._input_until or now < self._run_until:
            return
        start, deadline = now, now + MAX_WAIT
        while now < self._input_until and now < deadline:
            self._sleep(_STEP)
            now = self._clock()
        self.waited += now - start
        self._run_until = now + MIN_RUN
