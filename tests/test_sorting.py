from ktopui.model.sorting import sort_rows

ROWS = [("b", 5), ("a", 5), ("c", None), ("d", 9), ("e", 1)]


def sort(descending):
    return [r[0] for r in sort_rows(ROWS, lambda r: r[1], descending=descending, name=lambda r: r[0])]


def test_descending_breaks_ties_by_name_and_puts_missing_last():
    assert sort(True) == ["d", "a", "b", "e", "c"]


def test_ascending_breaks_ties_by_name_and_puts_missing_last():
    assert sort(False) == ["e", "a", "b", "d", "c"]


def test_large_and_mixed_values_sort_like_python():
    import random

    rng = random.Random(4)
    rows = [(f"r{i:03d}", rng.choice([None, rng.randrange(50), rng.randrange(2**70)])) for i in range(300)]
    for descending in (True, False):
        got = sort_rows(rows, lambda r: r[1], descending=descending, name=lambda r: r[0])
        present = sorted((r for r in rows if r[1] is not None), key=lambda r: r[0])
        expected = sorted(present, key=lambda r: r[1], reverse=descending) + [r for r in sorted(rows) if r[1] is None]
        assert got == expected


def test_text_values_sort_by_python():
    rows = [("b", "Running"), ("a", "Pending"), ("c", "Running")]
    assert [r[0] for r in sort_rows(rows, lambda r: r[1], descending=False, name=lambda r: r[0])] == ["a", "b", "c"]


def test_integer_columns_sort_like_sort_rows():
    import random

    from ktopui.model.sorting import IntegerColumn

    rng = random.Random(7)
    rows = sorted((f"r{i:03d}", rng.choice([None, rng.randrange(-5, 20)])) for i in range(200))
    column = IntegerColumn.of([r[1] for r in rows])
    for descending in (True, False):
        expected = sort_rows(rows, lambda r: r[1], descending=descending, name=lambda r: r[0])
        assert [rows[i] for i in column.order(descending).tolist()] == expected
    assert IntegerColumn.of(["a", None]) is None and IntegerColumn.of([2**70]) is None


def test_an_ordered_view_reads_like_the_sorted_list_it_replaces():
    import numpy as np

    from ktopui.model.sorting import Ordered

    items = ["d", "a", "c", "b", "e"]
    positions = np.array([1, 3, 2, 0, 4])
    view = Ordered(items, positions)
    expected = [items[i] for i in positions]
    assert list(view) == expected and len(view) == 5 and bool(view)
    assert [view[i] for i in range(5)] == expected and view[-1] == "e"
    assert view[1:3] == expected[1:3] and view.index("c") == 2
    assert "b" in view and "z" not in view
    assert not Ordered([], np.array([], dtype=np.int64))
