"""What to request: a suggested request per workload container from the usage history holds.

The rule is krr's "simple" strategy: CPU, the 95th percentile of the usage
seen; memory, the highest usage seen plus 15 %. As krr does, each pod's
series is reduced on its own (its percentile, its maximum; krr asks
Prometheus for `quantile_over_time` and `max_over_time` per pod) and the
workload's container takes the largest of its pods' figures, so one busy
replica is not averaged away by idle ones. The percentile interpolates
linearly between the two nearest samples, as numpy's default and
Prometheus's `quantile_over_time` do. Pods without a sample of a container
add nothing to it.

A suggestion is written as a human writes a spec: CPU rounded up to whole
millicores, memory up to whole mebibytes, never below 1m or 1Mi. It needs
MIN_SAMPLES samples in all (fewer: no suggestion), and under
PROVISIONAL_SECONDS of history it is provisional. `ktopui rightsize`
(batch/rightsize_advice.py) feeds days of Prometheus samples into the same
functions.

Plain numpy over arrays of series (one row per pod's container), so the
same functions serve one workload on screen and every workload at once.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

CPU_PERCENTILE = 95
MEMORY_HEADROOM = 0.15  # added to the highest memory seen
MIN_SAMPLES = 4  # a minute of samples at metrics-server's 15 s
PROVISIONAL_SECONDS = 3600.0
MEBIBYTE = 1 << 20

_Q = CPU_PERCENTILE / 100


class SeriesStats(NamedTuple):
    """Each series reduced on its own (arrays, one entry per series)."""

    cpu: np.ndarray  # the CPU percentile, millicores (NaN: no CPU sample)
    mem: np.ndarray  # the highest memory, bytes (NaN: no memory sample)
    samples: np.ndarray  # how many samples it holds (CPU or memory)
    first: np.ndarray  # the time of its first and last sample, seconds (NaN: none)
    last: np.ndarray


class Suggestions(NamedTuple):
    """A suggestion per group (a workload's container), arrays by group number."""

    cpu_milli: np.ndarray  # rounded as written in a spec (NaN: no suggestion)
    mem_bytes: np.ndarray
    samples: np.ndarray  # samples the suggestion rests on, all its pods together
    span: np.ndarray  # seconds from its first sample to its last
    pods: np.ndarray  # pods with samples

    def provisional(self) -> np.ndarray:
        return self.span < PROVISIONAL_SECONDS


def percentile(values: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """The CPU_PERCENTILE of each row's valid values (NaN where a row has none), computed
    as np.percentile's default (linear) method computes it, all rows at once."""
    with np.errstate(invalid="ignore"):  # (positions not valid may be any bits: never read)
        return _sorted_percentile(np.where(valid, values, np.nan))


def _sorted_percentile(values: np.ndarray) -> np.ndarray:
    """percentile() of each row's values but NaN, sorting `values` in place."""
    # Sorted as stored (float32 in the rings: half the work; NaN goes last), interpolated in
    # float64: a float32 value is exactly the same float64 value, so the result is numpy's.
    values.sort(axis=1)
    n = np.count_nonzero(~np.isnan(values), axis=1)
    virtual = (n - 1) * _Q  # (numpy's "linear" index, and its interpolation below)
    below = np.floor(virtual)
    above = below + 1
    top = virtual >= n - 1
    below[top] = above[top] = n[top] - 1
    rows = np.arange(len(values))
    lo = values[rows, np.clip(below, 0, None).astype(np.intp)].astype(np.float64)
    hi = values[rows, np.clip(above, 0, None).astype(np.intp)].astype(np.float64)
    t = virtual - below
    diff = hi - lo
    out = np.where(t >= 0.5, hi - diff * (1 - t), lo + diff * t)
    out[n == 0] = np.nan
    return out


def series_stats(cpu: np.ndarray, mem: np.ndarray, times: np.ndarray | None, held: np.ndarray) -> SeriesStats:
    """Each row's figures: `cpu`, `mem`, `times` are (series, positions) arrays, `held` says
    which positions hold a sample (a value may still be NaN: a sample that lacked it); without
    `times`, first and last are NaN."""
    with np.errstate(invalid="ignore"):  # (positions not held may be any bits: never read)
        if not held.all():  # (rings not yet full)
            cpu, mem = np.where(held, cpu, np.nan), np.where(held, mem, np.nan)
        else:
            cpu = cpu.copy()  # (sorted below)
        empty = np.isnan(cpu) & np.isnan(mem)
        # (NaN-skipping reductions as stored, then widened: a float32 maximum is the float64 one.)
        top = np.fmax.reduce(mem, axis=1).astype(np.float64)
        if times is None:
            first, last = np.full(len(held), np.nan), np.full(len(held), np.nan)
        else:
            when = np.where(empty, np.nan, times)
            first = np.fmin.reduce(when, axis=1).astype(np.float64)
            last = np.fmax.reduce(when, axis=1).astype(np.float64)
    return SeriesStats(_sorted_percentile(cpu), top, len(held[0]) - np.count_nonzero(empty, axis=1) if len(held)
                       else np.zeros(0, dtype=np.int64), first, last)


def rounded_cpu(milli: np.ndarray) -> np.ndarray:
    """Millicores as a spec says them: whole, rounded up, at least 1m."""
    return np.maximum(np.ceil(milli), 1.0)


def rounded_memory(peak: np.ndarray) -> np.ndarray:
    """The peak plus the headroom, in whole mebibytes rounded up, at least 1Mi."""
    return np.maximum(np.ceil(peak * (1 + MEMORY_HEADROOM) / MEBIBYTE), 1.0) * MEBIBYTE


def suggest(stats: SeriesStats, group: np.ndarray, groups: int, *, spans: bool = True) -> Suggestions:
    """Each group's suggestion from its series' figures (`group`: each series' group number);
    `spans=False`: no time spans (0), for figures that need none."""
    cpu = np.full(groups, np.nan)
    mem = np.full(groups, np.nan)
    first = np.full(groups, np.nan)
    last = np.full(groups, np.nan)
    np.fmax.at(cpu, group, stats.cpu)  # (fmax, fmin: NaN, a series without samples, loses)
    np.fmax.at(mem, group, stats.mem)
    if spans:
        np.fmin.at(first, group, stats.first)
        np.fmax.at(last, group, stats.last)
    samples = np.bincount(group, weights=stats.samples, minlength=groups)[:groups]
    pods = np.bincount(group, weights=stats.samples > 0, minlength=groups)[:groups]
    thin = samples < MIN_SAMPLES
    cpu, mem = rounded_cpu(cpu), rounded_memory(mem)
    cpu[thin] = mem[thin] = np.nan
    span = np.where(np.isnan(first), 0.0, last - first)
    return Suggestions(cpu, mem, samples.astype(np.int64), span, pods.astype(np.int64))


def gaps(requests: np.ndarray, suggested: np.ndarray) -> np.ndarray:
    """Today's request less the suggestion (positive: asked for more than it uses); NaN where
    the request is not set (NaN) or there is no suggestion."""
    return requests - suggested


def reclaimable(gap: np.ndarray, group: np.ndarray, groups: int) -> tuple[np.ndarray, np.ndarray]:
    """Per group, the sum of the positive gaps, and whether any gap was known (False: nothing to say)."""
    known = ~np.isnan(gap)
    total = np.bincount(group[known], weights=np.maximum(gap[known], 0.0), minlength=groups)[:groups]
    return np.rint(total), np.bincount(group[known], minlength=groups)[:groups] > 0


def history_text(samples: int, span: float, pods: int) -> str:
    """`12 min of history, 5 pods: provisional (< 1 h)`."""
    minutes = int(span // 60)
    length = f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"
    text = f"{length} of history, {samples} sample{'s' * (samples != 1)}, {pods} pod{'s' * (pods != 1)}"
    return f"{text}: provisional (< 1 h)" if span < PROVISIONAL_SECONDS else text
