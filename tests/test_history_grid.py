"""The time grid history is read on (batch/usage_history.py): aligned windows, series placed by time."""

from __future__ import annotations

from itertools import pairwise

import numpy as np

from ktopui.batch.usage_history import Window, on_grid, parts, window
from ktopui.kube.prometheus import Series
from ktopui.model import promql


def test_a_window_ends_on_a_multiple_of_its_step_and_covers_the_whole_range():
    win = window(3600, 60, now=1796605234.5)
    assert win.end == 1796605200 and win.start == win.end - 3600 and win.step == 60
    assert len(win.times) == 61 and np.all(win.times % 60 == 0)
    assert window(7 * 86400, None, now=1796605234.5).step == promql.step_for(7 * 86400)  # (no --step)


def test_series_land_on_their_grid_positions_and_a_key_seen_twice_keeps_the_larger_value():
    win = Window(1000.0, 1300.0, 100.0)
    labels = {"namespace": "a", "pod": "p", "container": "c"}
    series = [Series(labels, np.array([900.0, 1100.0, 1300.0]), np.array([1.0, 2.0, np.nan])),
              Series(labels, np.array([1100.0, 1200.0]), np.array([5.0, 3.0]))]
    got = on_grid(series, ("namespace", "pod", "container"), win)
    np.testing.assert_array_equal(got[("a", "p", "c")], [np.nan, 5.0, 3.0, np.nan])


def test_parts_of_a_window_are_consecutive_runs_of_its_points_each_within_the_sample_budget():
    win = Window(0.0, 300.0 * 2016, 300.0)
    runs = parts(win, series=1000, samples_per_query=250_000)
    assert len(runs) == 9 and runs[0][0] == win.start and runs[-1][1] == win.end
    for (start, end), (next_start, _) in pairwise(runs):
        assert next_start == end + win.step
    assert all((end - start) / win.step + 1 <= 250 for start, end in runs)
    assert parts(win, series=10) == [(win.start, win.end)]
    assert len(parts(Window(0.0, 60.0, 15.0), series=10**9)) == 5  # (a point each, never none)
