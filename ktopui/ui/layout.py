"""Which columns a table shows at a width, and how wide each is.

A column is shown whole or not at all. Each has a priority; a text column
(a name) also asks for the width that tells its values apart, that extra
width with a priority of its own (`grow`), so a pod's whole name can matter
more than the RESTARTS column but less than its usage. Pieces are taken in
priority order while they fit; columns of equal priority (the CPU and
memory twins) come together or not at all. The sorted column is always
shown. Width left over goes to text columns, up to their longest value
(domains and all); what is still left stays blank at the right, next to
the scrollbar, rather than pushing the numbers away from the names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ktopui.model.text_widths import TextWidths

if TYPE_CHECKING:
    from ktopui.ui.columns import Column

GAP = 1  # blank cells between two columns


@dataclass(frozen=True)
class Layout:
    """The columns shown, in their declared order, with their widths."""

    columns: tuple[tuple[Column, int], ...]
    # A column not shown whose text goes in front of another's (the namespace
    # before a pod's name, as `ns/name`): {id of the column it goes into: the column}.
    folded: Mapping[str, Column]
    # Whose history the trends shown draw (each function once): a line is formatted
    # again when one of those histories changed.
    history_keys: tuple[Callable[[Any], tuple], ...] = ()

    def ids(self) -> list[str]:
        return [column.id for column, _ in self.columns]


def lay_out(columns: Sequence[Column], width: int, *, texts: Mapping[str, TextWidths], pinned: str = "") -> Layout:
    """The layout of `columns` in `width` cells.

    `texts`: the TextWidths of each text column's values; `pinned`: the
    sorted column's id. A column with `fold` goes into another only when its
    values vary (one namespace needs no prefix).
    """
    shown: dict[str, int] = {}  # column id -> width
    used = -GAP

    def folds(column: Column) -> bool:
        """Whether the column (not shown) goes in front of another."""
        return bool(column.fold) and column.id not in shown and column.id in texts and texts[column.id].varied

    def wanted(column: Column, field: str) -> int:
        """The width `field` (telling or longest) of its values takes, with what folds into it."""
        want = getattr(texts[column.id], field) if column.id in texts else column.width
        want += sum(getattr(texts[c.id], field) + 1 for c in columns if c.fold == column.id and folds(c))
        return max(want, column.width)

    def whole_width(column: Column) -> int:
        """Its width as a whole column: as its widest value needs, where it fits its values."""
        if column.fit is None or column.id not in texts:
            return column.width
        return max(column.width, texts[column.id].longest)

    groups: dict[tuple[bool, int], list[Column]] = {}
    for column in columns:
        groups.setdefault((column.id == pinned, column.priority), []).append(column)
    pieces = [(is_pinned, priority, True, group) for (is_pinned, priority), group in groups.items()]
    pieces += [(False, c.grow, False, [c]) for c in columns if c.flex]
    # The pinned column first, then by priority; at equal priority whole columns before growth.
    pieces.sort(key=lambda piece: (not piece[0], -piece[1], not piece[2]))
    for is_pinned, _, whole, group in pieces:
        if whole:
            need = sum(whole_width(c) + GAP for c in group)
            if is_pinned or used + need <= width:
                shown.update((c.id, whole_width(c)) for c in group)
                used += need
        elif (column := group[0]).id in shown:
            take = max(0, min(min(wanted(column, "telling"), column.cap) - shown[column.id], width - used))
            shown[column.id] += take
            used += take
    # What is left, first up to what tells values apart (past the caps), then shared
    # out fairly up to the longest values: the most wanting get the rest.
    flexible = sorted((c for c in columns if c.flex and c.id in shown), key=lambda c: -c.grow)
    for column in flexible:
        take = max(0, min(width - used, wanted(column, "telling") - shown[column.id]))
        shown[column.id] += take
        used += take
    flexible.sort(key=lambda c: wanted(c, "longest") - shown[c.id])
    for left, column in zip(range(len(flexible), 0, -1), flexible):
        take = max(0, min((width - used) // left, wanted(column, "longest") - shown[column.id]))
        shown[column.id] += take
        used += take
    folded = {c.fold: c for c in columns if c.fold in shown and folds(c)}
    trends = tuple(dict.fromkeys(c.history_key for c in columns if c.id in shown and c.history_key is not None))
    return Layout(tuple((c, shown[c.id]) for c in columns if c.id in shown), folded, trends)
