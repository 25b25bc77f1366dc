"""Pod metrics in metrics-server's own spellings, summed a batch at a time by numpy.

metrics-server writes CPU usage as nanocores (`243381306n`, or `437u` when
that is exact) and memory as kibibytes (`3096552Ki`, or `224Mi`), a zero as
`0`. For a batch of pods spelled only those ways, the checks, the integer
conversions, the per-pod sums and kubectl's roundings run in C instead of a
Python loop per container. Anything else in
a batch (another spelling, a missing value, a pod without containers, a
number too large for int64 arithmetic to be exact) makes `usage_batch`
return None, and the caller takes its exact path for that batch.
"""

from __future__ import annotations

from itertools import chain
from operator import attrgetter
from sys import intern
from typing import NamedTuple

import numpy as np

_NANOS = 1_000_000_000
_NANOS_PER_MILLI = 1_000_000
# The spellings Go's Quantity gives metrics-server's numbers: nanocores
# rounded to the biggest exact unit (`437u` for 437000n), bytes in the
# biggest exact binary unit (`224Mi`), or plain.
_CPU_NANOS = {b"n": 1, b"u": 1_000, b"m": 1_000_000}
_MEM_BYTES = {b"Ki": 2**10, b"Mi": 2**20, b"Gi": 2**30, b"Ti": 2**40}
# Per container: a million cores, or about 90 TiB. Below these, each pod's
# sums and roundings cannot overflow int64 (a pod has far fewer than 1,000
# containers: the API server caps a pod's size).
_MAX_CPU_NANOS = 10**15
_MAX_MEM_BYTES = 10**14
_MAX_PER_POD = 1000

_containers = attrgetter("containers")
_usage = attrgetter("usage")
_name = attrgetter("name")
_cpu = attrgetter("cpu")
_memory = attrgetter("memory")


class UsageBatch(NamedTuple):
    counts: list[int]  # containers per pod
    entries: list[tuple[str, int, int]]  # per container: (name, CPU nanos, memory nanos)
    cpu_milli: list[int]  # per pod, rounded up once after summing, as kubectl does
    mem_bytes: list[int]
    mem_milli: list[int]


def _amounts(texts: list, suffixes: dict[bytes, int], plain: int, limit: int) -> np.ndarray | None:
    """Each text's amount in the smallest unit (`suffixes` give each suffix's multiple of it,
    `plain` that of a bare number), when every text is 1-18 ASCII digits and one of those
    suffixes (or none), and every amount is below `limit`; else None."""
    try:
        raw = np.array(texts, dtype="S")  # None would become b"None": it fails the checks below
    except UnicodeEncodeError:
        return None
    digits = raw
    scale = np.full(len(raw), plain, dtype=np.int64)
    for suffix, factor in suffixes.items():
        has = np.strings.endswith(raw, suffix)
        if has.any():
            digits = np.where(has, np.strings.slice(raw, 0, -len(suffix)), digits)
            scale[has] = factor
    lengths = np.strings.str_len(digits)
    if not (np.strings.isdigit(digits).all() and lengths.min() > 0 and lengths.max() <= 18):
        return None
    values = digits.astype(np.int64)
    if not (values < limit // scale).all():
        return None
    return values * scale


def usage_batch(batch: list) -> UsageBatch | None:
    """Each pod's containers and summed usage, for items with metadata and containers of
    name and usage (cpu and memory attributes); None when the batch needs the exact path."""
    per_pod = list(map(_containers, batch))
    counts = list(map(len, per_pod))
    if not batch or min(counts) == 0 or max(counts) > _MAX_PER_POD:
        return None
    flat = list(chain.from_iterable(per_pod))
    usages = list(map(_usage, flat))
    if any(type(u) is dict for u in usages):
        return None
    cpu = _amounts(list(map(_cpu, usages)), _CPU_NANOS, 1_000_000_000, _MAX_CPU_NANOS)
    mem = _amounts(list(map(_memory, usages)), _MEM_BYTES, 1, _MAX_MEM_BYTES)
    if cpu is None or mem is None:
        return None
    starts = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], out=starts[1:])
    cpu_total = np.add.reduceat(cpu, starts)
    mem_bytes = np.add.reduceat(mem, starts)
    cpu_nanos = cpu.tolist()
    mem_nanos = [b * _NANOS for b in mem.tolist()]
    return UsageBatch(
        counts,
        list(zip(map(intern, map(_name, flat)), cpu_nanos, mem_nanos)),
        (-(-cpu_total // _NANOS_PER_MILLI)).tolist(),
        mem_bytes.tolist(),
        (mem_bytes * 1000).tolist(),
    )
