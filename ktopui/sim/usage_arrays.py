"""usage.py's functions over many scrape numbers at once, with numpy: the same numbers, to the
nanocore and the byte, for generating a cluster's past (past.py) quickly.

usage.py draws its randomness from CPython's hash of small int tuples (stable across processes
for ints); `tuple_hash` is that hash (the xxHash-based one of CPython 3.8 and later) in uint64
arithmetic, and the float expressions keep usage.py's order of operations so every rounding
is the same.
"""

from __future__ import annotations

import numpy as np

from ktopui.sim.usage import _MASK, _SCALE

_P1 = np.uint64(11400714785074694791)
_P2 = np.uint64(14029467366897019727)
_P5 = np.uint64(2870177450012600261)
_MODULUS = (1 << 61) - 1  # CPython hashes an int to its value modulo 2**61 - 1
_ALL_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)
_MINUS_ONE_HASH = np.uint64(1546275796)  # what CPython gives a tuple whose hash would be -1


def _lane(value: int | np.ndarray) -> np.ndarray:
    values = np.asarray(value, dtype=np.int64)
    if (values < 0).any():
        raise ValueError("usage is drawn for non-negative salts, streams and scrape numbers only")
    return (values % _MODULUS).astype(np.uint64)


def tuple_hash(*items: int | np.ndarray) -> np.ndarray:
    """hash(tuple(items)) as uint64 (two's complement), elementwise over the array items."""
    acc = np.full(np.broadcast(*[np.asarray(i) for i in items]).shape, _P5, dtype=np.uint64)
    with np.errstate(over="ignore"):  # the hash is arithmetic modulo 2**64
        for item in items:
            acc = acc + _lane(item) * _P2
            acc = (acc << np.uint64(31)) | (acc >> np.uint64(33))
            acc = acc * _P1
        acc = acc + np.uint64(len(items) ^ (2870177450012600261 ^ 3527539))
    return np.where(acc == _ALL_ONES, _MINUS_ONE_HASH, acc)


def _draw(salt: int, stream: int, k: np.ndarray) -> np.ndarray:
    """(hash((salt, stream, k)) & _MASK) as float64: an exact 32-bit integer."""
    return (tuple_hash(salt, stream, k) & np.uint64(_MASK)).astype(np.float64)


def cpu_nanocores(base: float, salt: int, k: np.ndarray) -> np.ndarray:
    """usage.cpu_nanocores(base, salt, k) for each k (int64)."""
    k = np.asarray(k, dtype=np.int64)
    anchor, step = np.divmod(k, 8)
    a = _draw(salt, 1, anchor)
    b = _draw(salt, 1, anchor + 1)
    level = 0.55 + 0.9 * _SCALE * (a + (b - a) * step / 8)
    value = base * level * (0.9 + 0.2 * _SCALE * _draw(salt, 2, k))
    spiked = _draw(salt, 3, k) * _SCALE < 0.015
    value = np.where(spiked, value * (2.5 + 2.0 * (_draw(salt, 4, k) * _SCALE)), value)
    return value.astype(np.int64)


def memory_bytes(base: float, salt: int, k: np.ndarray) -> np.ndarray:
    """usage.memory_bytes(base, salt, k) for each k (int64)."""
    k = np.asarray(k, dtype=np.int64)
    anchor, step = np.divmod(k, 40)
    a = _draw(salt, 5, anchor)
    b = _draw(salt, 5, anchor + 1)
    level = 0.85 + 0.3 * _SCALE * (a + (b - a) * step / 40)
    return (base * level * (0.99 + 0.02 * _SCALE * _draw(salt, 6, k))).astype(np.int64) & ~4095
