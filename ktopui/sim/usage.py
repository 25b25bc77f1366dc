"""Resource usage as a pure function of (container, scrape number).

Being a function of the scrape number rather than a stepped state means any cluster
time can be evaluated directly (clock jumps cost nothing) and two readers of the same
frozen state always agree. Level changes are smooth (interpolated between random
anchors, so they wander like a random walk), with per-scrape jitter and rare spikes.
"""

from __future__ import annotations

_MASK = 0xFFFFFFFF
_SCALE = 1.0 / 4294967296.0


def unit(salt: int, stream: int, k: int) -> float:
    """Uniform in [0, 1), deterministic; int/tuple hashing is not randomised per process."""
    return (hash((salt, stream, k)) & _MASK) * _SCALE


def cpu_nanocores(base: float, salt: int, k: int) -> int:
    """CPU rate around `base`: ±45 % drift over ~2 minutes, ±10 % jitter, 1.5 % spikes of 2.5-4.5x."""
    anchor, step = divmod(k, 8)
    a = hash((salt, 1, anchor)) & _MASK
    b = hash((salt, 1, anchor + 1)) & _MASK
    level = 0.55 + 0.9 * _SCALE * (a + (b - a) * step / 8)
    value = base * level * (0.9 + 0.2 * _SCALE * (hash((salt, 2, k)) & _MASK))
    if (hash((salt, 3, k)) & _MASK) * _SCALE < 0.015:
        value *= 2.5 + 2.0 * unit(salt, 4, k)
    return int(value)


def memory_bytes(base: float, salt: int, k: int) -> int:
    """Working set around `base`: ±15 % drift over ~10 minutes, ±1 % jitter; whole 4 KiB pages, as cgroups count."""
    anchor, step = divmod(k, 40)
    a = hash((salt, 5, anchor)) & _MASK
    b = hash((salt, 5, anchor + 1)) & _MASK
    level = 0.85 + 0.3 * _SCALE * (a + (b - a) * step / 40)
    return int(base * level * (0.99 + 0.02 * _SCALE * (hash((salt, 6, k)) & _MASK))) & ~4095
