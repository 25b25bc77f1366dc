"""Sorting rows by a column: numbers by value, ties by name, missing values last."""

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
    """Rows ordered by `value`; ties by `name` ascending; rows without a value last.

    Python's sort is stable even with reverse=True, so sorting by name first
    keeps ties in name order whichever way the column goes.
    """
    by_name = sorted(rows, key=name)
    present = [r for r in by_name if value(r) is not None]
    missing = [r for r in by_name if value(r) is None]
    present.sort(key=value, reverse=descending)
    return present + missing
