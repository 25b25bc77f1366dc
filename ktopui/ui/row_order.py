"""Which rows a table shows, in which order: positions into its rows, not copies of them.

A table is given its rows in a refresh (150,000 pods); between refreshes they
stay the same sequence. Their name order (the base), each column's values and
each row's filter text are read once per rows list, so a sort key costs one
argsort (numpy for number columns) and a filter key a string search. Pods
come as a PodRowsView: their values and texts are read without a row made
per pod.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

import numpy as np

from ktopui.model.kinds import Kind
from ktopui.model.pod_view import PodRowsView
from ktopui.model.sorting import IntegerColumn, order_of_other_values
from ktopui.model.text_widths import TextWidths, text_widths
from ktopui.ui.columns import Column


class RowOrder:
    """The rows a table was given, and the positions of those it shows."""

    def __init__(self, kind: Kind) -> None:
        self.kind = kind
        self.rows: Sequence[Any] = []  # as given
        self._in_name_order = False
        self._base: Sequence[Any] | None = None  # the rows in name order
        self._values: dict[str, Any] = {}  # column id -> IntegerColumn, or the plain values
        self._texts: list[str] | None = None  # each base row's filter text, in lower case
        self._keep: tuple[str, np.ndarray] | None = None  # (filter, positions in the base it keeps)
        self._widths: dict[str, TextWidths] | None = None  # text column id -> its TextWidths

    def set_rows(self, rows: Sequence[Any], *, in_name_order: bool) -> None:
        """These rows from now on; `in_name_order`: they come in the kind's name order already
        (the dashboard's pods do), which spares sorting 150,000 names."""
        self.rows, self._in_name_order = rows, in_name_order
        self.let_go()
        self._widths = None

    def columns_changed(self) -> None:
        self._values, self._widths = {}, None

    def let_go(self) -> None:
        """Drop what was read of the rows (a hidden table: read again when it is shown)."""
        self._base, self._values, self._texts, self._keep = None, {}, None, None

    def base(self) -> Sequence[Any]:
        """All rows in name order; what filtering and sorting give positions into."""
        if self._base is None:
            # (rows in name order are taken as they are: the caller does not change them)
            self._base = self.rows if self._in_name_order else sorted(self.rows, key=self.kind.order)
        return self._base

    def kept(self, filter_text: str) -> np.ndarray | None:
        """Positions in the base of the rows whose filter text has `filter_text` (None: all)."""
        if not filter_text:
            self._texts = None  # (150,000 strings: kept only while a filter is on)
            return None
        if self._keep is None or self._keep[0] != filter_text:
            base = self.base()
            if self._texts is None:
                if isinstance(base, PodRowsView):  # (no row made per pod)
                    self._texts = [text.lower() for text in base.texts(self.kind.filter_text)]
                else:
                    self._texts = [self.kind.filter_text(r).lower() for r in base]
            needle = filter_text.lower()
            kept = [i for i, text in enumerate(self._texts) if needle in text]
            self._keep = (filter_text, np.array(kept, dtype=np.int64))
        return self._keep[1]

    def order(self, column: Column | None, descending: bool, keep: np.ndarray | None) -> np.ndarray:
        """Positions in the base of the rows kept, sorted by `column` (ties in name order)."""
        base = self.base()
        if column is None:
            return np.arange(len(base)) if keep is None else keep
        values = self._values.get(column.id)
        if values is None:  # each row's value, once per rows list: sorting again is an argsort
            if isinstance(base, PodRowsView):  # (no row made per pod)
                raw = base.values(column.sort)
            else:
                raw = list(map(self.kind.values[column.sort], base))
            values = self._values[column.id] = IntegerColumn.of(raw) or raw
        if isinstance(values, IntegerColumn):
            if keep is None:
                return values.order(descending)
            return keep[IntegerColumn(values.values[keep], values.missing[keep]).order(descending)]
        # (not ints: IntegerColumn.of was tried once, when the values were read)
        if keep is None:
            return np.array(order_of_other_values(values, descending=descending), dtype=np.int64)
        subset = [values[i] for i in keep.tolist()]
        return keep[np.array(order_of_other_values(subset, descending=descending), dtype=np.int64)]

    def position(self, row: Any) -> int | None:
        """Where the row with `row`'s key sits in the base (found by bisecting the name order,
        not by a scan or an index of 150,000 keys): -1 if it is not there, None if names do
        not compare (then nothing can be bisected)."""
        base, order, key_of = self.base(), self.kind.order, self.kind.key
        name, key = order(row), key_of(row)
        try:
            at = bisect.bisect_left(base, name, key=order)
        except TypeError:
            return None
        while at < len(base) and order(base[at]) == name:
            if key_of(base[at]) == key:
                return at
            at += 1
        return -1

    def text_widths(self, columns: Sequence[Column]) -> dict[str, TextWidths]:
        """Each text column's TextWidths over all rows (not only those the filter keeps, so a
        filter does not move columns), and the width of each column that fits its values
        (Column.fit), once per rows list."""
        if self._widths is None:
            base = self.base() if self.rows else []
            widths = {}
            for column in columns:
                if column.fit is not None:  # (a number column as wide as its widest value)
                    wide = column.fit(base)
                    widths[column.id] = TextWidths(wide, wide, True)
                    continue
                if not column.flex:
                    continue
                measured = base.text_widths(column.sort) if isinstance(base, PodRowsView) else None
                if measured is None:
                    measured = text_widths([str(v) for v in map(self.kind.values[column.sort], base)])
                widths[column.id] = measured
            self._widths = widths
        return self._widths
