"""When to ask Prometheus again after a failure: opening it, and the queries of a source open.

A failure that may pass on its own (down, a 5xx or the proxy's 503, a timeout,
an answer that is not its API: a proxy's error page in front of a starting
pod) backs off from REOPENING.first doubling to REOPENING.most, jittered so
that dashboards that failed together do not come back in lockstep; a refusal
(401/403) waits REOPENING.refused, rights changing rarely and not on their own.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ktopui.kube.prometheus import (
    PromError,
    PromMalformed,
    PromRefused,
    PromTimeout,
    PromUnavailable,
    PromUnreachable,
)


@dataclass(frozen=True)
class Reopening:
    """How soon Prometheus is asked again after failing (seconds)."""

    # After the first failure (a Prometheus pod still starting is often up within it); doubling after each next one...
    first: float = 10.0
    most: float = 300.0  # ...up to this
    refused: float = 600.0  # after a 401/403: rights change rarely, and not on their own


REOPENING = Reopening()
# Failures that may pass on their own (a restart, a rollout, a proxy in front of a starting pod).
PASSING = (PromUnreachable, PromUnavailable, PromTimeout, PromMalformed)


def retry_delay(error: PromError | None, failures: int, rng: random.Random | None = None,
                reopening: Reopening | None = None) -> float | None:
    """Seconds before the next attempt after `failures` failed ones in a row; None: a failure that
    will not pass on its own (a setting to fix, a query it cannot answer)."""
    reopening = reopening or REOPENING
    if isinstance(error, PromRefused):
        return reopening.refused * (rng or random).uniform(0.9, 1.0)
    if not isinstance(error, PASSING):
        return None
    ceiling = min(reopening.most, reopening.first * 2 ** min(failures - 1, 16))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)
