import numpy as np

from ktopui.ui.cells import pct_text, sparkline


def test_sparkline_shows_the_trend_within_the_window():
    assert sparkline(np.array([100.0, 110, 120, 130]), 4) == "▁▃▆█"


def test_sparkline_keeps_a_flat_series_flat():
    line = sparkline(np.array([1000.0, 1001, 999, 1000]), 4)
    assert len(set(line)) <= 2


def test_sparkline_leaves_gaps_blank_and_pads_on_the_left():
    assert sparkline(np.array([1.0, np.nan, 2.0]), 5) == "  ▁ █"


def test_sparkline_of_nothing_is_blank():
    assert sparkline(np.array([]), 3) == "   "


def test_percent_marks_read_without_colour():
    assert [pct_text(v) for v in (None, 12, 70, 93)] == ["-", "12%", "70%!", "93%!!"]
    assert pct_text(55, partial=True) == "~55%"
