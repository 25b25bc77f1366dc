"""The suggestion rule (model/suggestions.py) on hand-made series: krr's simple strategy,
rounded as a spec is written, with the history it rests on."""

from __future__ import annotations

import numpy as np
import pytest

from ktopui.model.suggestions import (
    MEBIBYTE,
    MIN_SAMPLES,
    gaps,
    history_text,
    percentile,
    reclaimable,
    series_stats,
    suggest,
)

MI = MEBIBYTE


def series(*rows, times=None):
    """(cpu, mem, times, held) for rows of (cpu samples, memory samples), padded with unheld positions."""
    width = max(len(cpu) for cpu, _ in rows)
    cpu = np.full((len(rows), width), np.nan)
    mem = np.full((len(rows), width), np.nan)
    held = np.zeros((len(rows), width), dtype=bool)
    for i, (c, m) in enumerate(rows):
        cpu[i, : len(c)], mem[i, : len(m)], held[i, : len(c)] = c, m, True
    when = np.tile(np.arange(width, dtype=np.float64) * 15, (len(rows), 1)) if times is None else times
    return cpu, mem, when, held


@pytest.mark.parametrize("n", [1, 2, 3, 7, 20, 21, 59, 60, 120])
def test_the_cpu_percentile_is_numpys_95th_exactly(n):
    values = np.random.default_rng(n).random((4, n)) * 2000
    got = percentile(values, np.ones_like(values, dtype=bool))
    assert (got == np.percentile(values, 95, axis=1)).all()


def test_the_cpu_percentile_reads_only_the_positions_that_hold_samples():
    values = np.array([[5.0, 1.0, 9.0, 1e9, 1e9], [3.0, 1e9, 1e9, 1e9, 1e9]])
    held = np.array([[True, True, True, False, False], [True, False, False, False, False]])
    assert percentile(values, held).tolist() == [np.percentile([5, 1, 9], 95), 3.0]
    assert np.isnan(percentile(values, np.zeros_like(held)))[0]


def test_cpu_is_the_largest_pods_95th_percentile_and_memory_the_peak_plus_15_percent():
    # Two pods of one workload's container: krr reduces each pod, then takes the largest.
    busy = (list(range(100, 120)), [200 * MI] * 20)
    idle = (list(range(10, 30)), [300 * MI] * 20)
    stats = series_stats(*series(busy, idle))
    s = suggest(stats, np.array([0, 0]), 1)
    assert s.cpu_milli[0] == np.ceil(np.percentile(busy[0], 95)) == 119
    assert s.mem_bytes[0] == np.ceil(300 * 1.15) * MI
    assert (s.samples[0], s.pods[0], s.span[0]) == (40, 2, 19 * 15)
    assert s.provisional()[0]


def test_suggestions_round_up_to_whole_millicores_and_mebibytes_and_never_below_1m_or_1Mi():
    rows = [([0.2] * 5, [100.0] * 5), ([120.01] * 5, [MI + 1] * 5), ([0.0] * 5, [0.0] * 5)]
    s = suggest(series_stats(*series(*rows)), np.array([0, 1, 2]), 3)
    assert s.cpu_milli.tolist() == [1, 121, 1]
    assert s.mem_bytes.tolist() == [MI, 2 * MI, MI]


def test_pods_without_samples_are_ignored_and_too_few_samples_make_no_suggestion():
    cpu, mem, times, held = series(([50.0] * 10, [64 * MI] * 10), ([900.0] * 10, [900 * MI] * 10),
                                   ([7.0] * (MIN_SAMPLES - 1), [MI] * (MIN_SAMPLES - 1)))
    held[1] = False  # the second pod: no samples held (a ring not yet written)
    s = suggest(series_stats(cpu, mem, times, held), np.array([0, 0, 1]), 2)
    assert s.cpu_milli[0] == 50 and s.mem_bytes[0] == np.ceil(64 * 1.15) * MI
    assert s.pods[0] == 1 and s.samples[0] == 10
    assert np.isnan(s.cpu_milli[1]) and np.isnan(s.mem_bytes[1])


def test_a_sample_missing_one_value_counts_for_the_other():
    cpu, mem, times, held = series(([10.0, np.nan, 30.0, 40.0, 50.0], [MI, 9 * MI, np.nan, MI, MI]))
    stats = series_stats(cpu, mem, times, held)
    assert stats.cpu[0] == np.percentile([10, 30, 40, 50], 95)
    assert stats.mem[0] == 9 * MI and stats.samples[0] == 5


def test_an_hour_of_history_is_no_longer_provisional():
    times = np.array([[0.0, 1200.0, 2400.0, 3600.0]])
    s = suggest(series_stats(*series(([1.0] * 4, [MI] * 4), times=times)), np.array([0]), 1)
    assert not s.provisional()[0]
    assert history_text(int(s.samples[0]), float(s.span[0]), int(s.pods[0])) == "60 min of history, 4 samples, 1 pod"
    assert history_text(5, 12 * 60 + 30, 5) == "12 min of history, 5 samples, 5 pods: provisional (< 1 h)"


def test_no_request_means_no_gap_and_reclaimable_sums_the_positive_gaps_only():
    requests = np.array([500.0, np.nan, 100.0, 300.0])
    suggested = np.array([120.0, 50.0, 150.0, np.nan])
    gap = gaps(requests, suggested)
    assert gap[0] == 380 and np.isnan(gap[1]) and gap[2] == -50 and np.isnan(gap[3])
    total, known = reclaimable(gap, np.array([0, 0, 0, 1]), 2)
    # Asking for less than it uses frees nothing: only 380 of the first workload's counts.
    assert total.tolist() == [380, 0] and known.tolist() == [True, False]
