"""When to refresh next: the interval when healthy, capped exponential backoff with jitter when not.

Jitter keeps many dashboards that failed together (an API server restart)
from coming back in lockstep; the cap keeps recovery quick once the server
is back; a server's Retry-After is honoured up to that cap (a server asking
for an hour, or 1e308 seconds, must not stop ktopui until a key is pressed).
"""

from __future__ import annotations

import random

CAP = 60.0


def next_delay(
    interval: float,
    failures: int,
    *,
    retry_after: float | None = None,
    rng: random.Random | None = None,
    cap: float = CAP,
) -> float:
    """Seconds until the next refresh after `failures` consecutive failed ones."""
    if failures <= 0:
        delay = interval
    else:
        ceiling = min(cap, interval * 2 ** min(failures, 16))
        # "Equal jitter": never less than half the backoff, never more than all of it.
        delay = ceiling / 2 + (rng or random).uniform(0, ceiling / 2)
        delay = max(delay, interval)
    if retry_after is not None:
        delay = max(delay, min(retry_after, cap))
    return delay
