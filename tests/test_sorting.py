"""Sorting a column: the tables' numpy orders against the rule stated with Python's sort."""

import random

import numpy as np

from ktopui.model.sorting import IntegerColumn, Ordered, order_of_other_values
from reference.sorting import sort_rows

ROWS = [("b", 5), ("a", 5), ("c", None), ("d", 9), ("e", 1)]


def by_name(rows):
    return sorted(rows, key=lambda r: r[0])


def table_order(rows, descending):
    """Rows (in name order) as the table orders a column: numpy for integers, Python for the rest."""
    values = [r[1] for r in rows]
    column = IntegerColumn.of(values)
    if column is not None:
        positions = column.order(descending).tolist()
    else:
        positions = order_of_other_values(values, descending=descending)
    return [rows[i] for i in positions]


def reference_order(rows, descending):
    return sort_rows(rows, lambda r: r[1], descending=descending, name=lambda r: r[0])


def test_descending_breaks_ties_by_name_and_puts_missing_last():
    expected = ["d", "a", "b", "e", "c"]
    assert [r[0] for r in table_order(by_name(ROWS), True)] == expected
    assert [r[0] for r in reference_order(ROWS, True)] == expected


def test_ascending_breaks_ties_by_name_and_puts_missing_last():
    expected = ["e", "a", "b", "d", "c"]
    assert [r[0] for r in table_order(by_name(ROWS), False)] == expected
    assert [r[0] for r in reference_order(ROWS, False)] == expected


def test_large_and_mixed_values_sort_like_python():
    rng = random.Random(4)
    rows = [(f"r{i:03d}", rng.choice([None, rng.randrange(50), rng.randrange(2**70)])) for i in range(300)]
    for descending in (True, False):
        present = sorted((r for r in rows if r[1] is not None), key=lambda r: r[0])
        expected = sorted(present, key=lambda r: r[1], reverse=descending) + [r for r in sorted(rows) if r[1] is None]
        assert table_order(by_name(rows), descending) == expected
        assert reference_order(rows, descending) == expected


def test_text_values_sort_by_python():
    rows = [("a", "Pending"), ("b", "Running"), ("c", "Running")]
    assert [r[0] for r in table_order(rows, False)] == ["a", "b", "c"]
    assert [r[0] for r in table_order(rows, True)] == ["b", "c", "a"]


def test_integer_columns_sort_like_pythons_sort():
    rng = random.Random(7)
    rows = sorted((f"r{i:03d}", rng.choice([None, rng.randrange(-5, 20)])) for i in range(200))
    column = IntegerColumn.of([r[1] for r in rows])
    for descending in (True, False):
        assert [rows[i] for i in column.order(descending).tolist()] == reference_order(rows, descending)
    assert IntegerColumn.of(["a", None]) is None and IntegerColumn.of([2**70]) is None


def test_an_ordered_view_reads_like_the_sorted_list_it_replaces():
    items = ["d", "a", "c", "b", "e"]
    positions = np.array([1, 3, 2, 0, 4])
    view = Ordered(items, positions)
    expected = [items[i] for i in positions]
    assert list(view) == expected and len(view) == 5 and bool(view)
    assert [view[i] for i in range(5)] == expected and view[-1] == "e"
    assert view[1:3] == expected[1:3] and view.index("c") == 2
    assert "b" in view and "z" not in view
    assert not Ordered([], np.array([], dtype=np.int64))
