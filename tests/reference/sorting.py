"""Sorting rows by a column, stated with Python's sort.

The rule the tables follow: rows with a value ordered by it, ties in name
order whichever way the column goes, rows without a value (None) last in
name order. The package sorts column values with numpy where they are
integers (`ktopui.model.sorting`); tests check it against this.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

T = TypeVar("T")


def sort_rows(
    rows: Sequence[T],
    value: Callable[[T], Any],
    *,
    descending: bool,
    name: Callable[[T], Any],
) -> list[T]:
    """Rows ordered by `value`; ties by `name` ascending; rows without a value last."""
    by_name = sorted(rows, key=name)
    present = [r for r in by_name if value(r) is not None]
    # Python's sort is stable in both directions: equal values keep name order.
    present.sort(key=value, reverse=descending)
    return present + [r for r in by_name if value(r) is None]
