from ktopui.model.sorting import sort_rows

ROWS = [("b", 5), ("a", 5), ("c", None), ("d", 9), ("e", 1)]


def sort(descending):
    return [r[0] for r in sort_rows(ROWS, lambda r: r[1], descending=descending, name=lambda r: r[0])]


def test_descending_breaks_ties_by_name_and_puts_missing_last():
    assert sort(True) == ["d", "a", "b", "e", "c"]


def test_ascending_breaks_ties_by_name_and_puts_missing_last():
    assert sort(False) == ["e", "a", "b", "d", "c"]
