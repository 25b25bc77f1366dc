import numpy as np

from ktopui.ui.cells import pct_text, sparkline


def test_sparkline_draws_from_zero_so_a_flat_series_stays_flat():
    # 18.3-19.9 cores: a line near the top, not a mountain range.
    assert set(sparkline(np.array([18300.0, 19900, 18400, 19800, 18300]), 5)) <= {"▇", "█"}


def test_sparkline_draws_up_to_the_rows_capacity_so_rows_compare():
    assert sparkline(np.array([0.0, 50, 100]), 3, top=100) == "▁▅█"
    assert sparkline(np.array([25.0, 25]), 2, top=100) == sparkline(np.array([250.0, 250]), 2, top=1000) == "▃▃"
    assert sparkline(np.array([150.0]), 1, top=100) == "█"  # over the limit: full


def test_sparkline_leaves_gaps_blank_and_pads_on_the_left():
    assert sparkline(np.array([1.0, np.nan, 2.0]), 5) == "  ▅ █"


def test_sparkline_of_nothing_is_blank():
    assert sparkline(np.array([]), 3) == "   "


def test_percent_marks_read_without_colour():
    assert [pct_text(v) for v in (None, 12, 70, 93)] == ["-", "12%", "70%!", "93%!!"]
    assert pct_text(55, partial=True) == "~55%"
