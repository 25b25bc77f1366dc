"""How much of one answer ktopui reads, and for how long, before giving up on it.

The server decides how big and how slow its answers are. Without limits a
gzip bomb or an endless body becomes a memory hog, and a server that trickles
a byte a second holds a request forever (httpx's timeout is per read). Each
request's limits derive from what it can legitimately return: a generous size
per object times the objects it can hold (a page's `limit`, or how many the
cluster was last seen to have), or, when nothing is known yet, what a large
cluster's answer weighs. KTOPUI_MAX_RESPONSE_MB raises every limit to at least
that many MiB, for clusters bigger than these guesses.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass

KiB, MiB = 1 << 10, 1 << 20
SETTING = "KTOPUI_MAX_RESPONSE_MB"

# The most JSON one object plausibly takes: several times a real one (pods
# with big annotations reach tens of KB; metrics-server copies the labels of
# nodes and pods into their metrics).
OBJECT_BYTES = {
    "nodes": 64 * KiB,
    "pods": 64 * KiB,
    "namespaces": 16 * KiB,
    "nodes.metrics.k8s.io": 16 * KiB,
    "pods.metrics.k8s.io": 2 * KiB,
}
# When the count is not known yet: a large cluster's whole list (5,000 nodes,
# 150,000 pods; `ktopui top pods -A` asks for pod metrics knowing nothing).
UNKNOWN_COUNT_BYTES = {
    "nodes": 256 * MiB,
    "pods": 1024 * MiB,
    "nodes.metrics.k8s.io": 64 * MiB,
    "pods.metrics.k8s.io": 256 * MiB,
}
# Anything else (one object, discovery, the version), and the least any list may take.
FLOOR = 16 * MiB
# An error answer is read this far for its message; the rest is not needed.
ERROR_BODY = 64 * KiB
# The slowest an answer may arrive at, decompressed (large ones come gzipped,
# so about a tenth of this on the wire).
SLOWEST_RATE = 4 * MiB


@dataclass(frozen=True, slots=True)
class Budget:
    """What one request may take: bytes of decompressed body, seconds from start to end."""

    max_bytes: int
    deadline: float


@dataclass(frozen=True, slots=True)
class ResponseLimits:
    at_least: int = 0  # bytes every answer may take (the setting)
    min_deadline: float = 30.0  # seconds even the smallest request is given

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None, *, min_deadline: float = 30.0
                         ) -> ResponseLimits:
        """The limits with KTOPUI_MAX_RESPONSE_MB applied (ignored unless a positive number)."""
        text = (os.environ if environ is None else environ).get(SETTING, "")
        try:
            mib = float(text)
        except ValueError:
            mib = 0.0
        at_least = int(mib * MiB) if math.isfinite(mib) and mib > 0 else 0
        return cls(at_least=at_least, min_deadline=min_deadline)

    def budget(self, resource: str, items: int | None) -> Budget:
        """The budget of a request for `resource` that can return `items` objects (None: unknown)."""
        per_object = OBJECT_BYTES.get(resource)
        if per_object is None:
            size = FLOOR
        elif items is None:
            size = UNKNOWN_COUNT_BYTES.get(resource, FLOOR)
        else:
            size = max(FLOOR, per_object * items)
        size = max(size, self.at_least)
        return Budget(size, max(self.min_deadline, size / SLOWEST_RATE))


def size_text(size: int) -> str:
    return f"{size / MiB:.0f} MiB" if size >= MiB else f"{size / KiB:.0f} KiB"


def raise_hint(size: int) -> str:
    """How to let answers of this size (and twice it) through."""
    return (f"If the cluster really is that big, raise the limit: {SETTING}={2 * -(-size // MiB)} "
            "(MiB) in the environment.")
