"""A virtual table: only the visible lines are formatted.

Textual's DataTable rebuilds per-row structures on every change and stalls
past ~10,000 rows. This widget keeps the rows as given, filters and sorts
positions into them (row_order.py), and formats a line only when Textual
asks for it (`render_line`, kept per row object), so a refresh of 150,000
pods costs one argsort, not 150,000 widgets. The cursor follows a row *key*,
so it stays on the same node or pod wherever sorting moves it.

It is one widget, a little over the usual size: its cursor, scrolling, line
cache and rendering share the same few fields, and the ordering already lives
apart (row_order.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from ktopui.model.history import History
from ktopui.model.kinds import Kind
from ktopui.model.sorting import Ordered
from ktopui.safe_text import escape_controls
from ktopui.ui.cells import qualified, shorten
from ktopui.ui.columns import Column
from ktopui.ui.layout import GAP, Layout, lay_out
from ktopui.ui.row_order import RowOrder

# Lines kept formatted (a few screens' worth): a repaint of rows that did not
# change (a focus change, the view switched back, the cursor moving one line)
# then formats nothing. Cleared when it outgrows this.
LINE_CACHE = 1024
TONES = ("warn", "crit", "dim", "spark-cpu", "spark-mem")


class RowTable(ScrollView, can_focus=True):
    COMPONENT_CLASSES = {
        "row-table--header",
        "row-table--header-sorted",
        "row-table--cursor",
        "row-table--warn",
        "row-table--crit",
        "row-table--dim",
        "row-table--empty",
        "row-table--spark-cpu",
        "row-table--spark-mem",
    }

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", id="cursor.up", show=False),
        Binding("down,j", "cursor(1)", "Down", id="cursor.down", show=False),
        Binding("pageup", "page(-1)", "Page up", id="cursor.page_up", show=False),
        Binding("pagedown", "page(1)", "Page down", id="cursor.page_down", show=False),
        Binding("home,g", "jump(0)", "First", id="cursor.first", show=False),
        Binding("end", "jump(-1)", "Last", id="cursor.last", show=False),
        Binding("enter", "activate", "Open", id="open", show=False),
    ]

    class Activated(Message):
        """Enter (or a double click) on a row."""

        def __init__(self, table: RowTable, row: Any) -> None:
            super().__init__()
            self.table = table
            self.row = row

    class SortRequested(Message):
        """A click on a column header."""

        def __init__(self, table: RowTable, column_id: str) -> None:
            super().__init__()
            self.table = table
            self.column_id = column_id

    def __init__(
        self,
        columns: Sequence[Column],
        *,
        kind: Kind,
        history: History,
        empty_message: str = "No rows.",
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.columns = list(columns)
        self.kind = kind
        self.history = history
        self.empty_message = empty_message
        self._order = RowOrder(kind)  # the rows given, and the positions of those shown
        self._rows: Sequence[Any] = []  # sorted and filtered: what is shown (an Ordered view)
        self._index: dict[Any, int] | None = None  # row key -> position in rows, built when needed
        self.pending = False  # rows came while the table was hidden: sorted when it is shown
        self._held: Any = None  # meanwhile, the row that was under the cursor
        self.sort_column = ""
        self.sort_descending = False
        self.filter_text = ""
        self.cursor_key: Any = None
        self._cursor = 0
        self._layout: Layout | None = None
        self._layout_of: tuple = ()  # (width, sort column, text widths) the layout was made for
        # id(row) -> (row, (width, layout, style of the line, palette, history stamps), strip).
        # A row is never changed once made (a refresh brings new row objects) and
        # the stamps say whether its trends' history changed, so a line is the same
        # while these are.
        self._lines: dict[int, tuple[Any, tuple, Strip]] = {}
        self._palette: dict[str, Style] | None = None  # tone -> its style, looked up once per style change
        self.formatted = 0  # lines formatted (not taken from the cache): for tests and benchmarks

    # -- data ---------------------------------------------------------------

    def set_columns(self, columns: Sequence[Column]) -> None:
        """Swap the column set, keeping the sort when the new set has that column."""
        if list(columns) == self.columns:
            return
        self.columns = list(columns)
        self._layout = None
        self._order.columns_changed()
        self.forget_lines()
        if self._column(self.sort_column) is None:
            self.sort_column, self.sort_descending = "name", False
        self._rebuild()

    def set_rows(self, rows: Sequence[Any], *, in_name_order: bool = False) -> None:
        """Show these rows (the caller does not change the sequence afterwards).

        `in_name_order`: the rows already come in their kind's name order (the
        dashboard's pod rows do), which spares sorting 150,000 names.
        """
        if rows is self._order.rows:
            return  # the same list again: a refresh in which nothing changed
        self._order.set_rows(rows, in_name_order=in_name_order)
        self._rebuild()

    def start_over(self, rows: Sequence[Any], *, sort: tuple[str, bool]) -> None:
        """Show other rows as if new (a screen reused for another node or pod):
        no filter, this sort, the cursor on the first line."""
        self.filter_text = ""
        self.sort_column, self.sort_descending = sort
        self.cursor_key, self._cursor = None, 0
        self.forget_lines()
        self._order.set_rows(rows, in_name_order=False)
        self._rebuild()
        self.scroll_to(y=0, animate=False)

    def pick_sort(self, column_id: str) -> None:
        """Sort by this column: reversed when it is the sorted one already, else names A to Z and
        numbers from the highest (a column that sorts nothing is left as it is)."""
        column = self._column(column_id)
        if column is not None and not column.sort:
            return
        if self.sort_column == column_id:
            self.sort_by(column_id, not self.sort_descending)
        else:
            column = self._column(column_id)
            self.sort_by(column_id, column is not None and not column.ascending_first)

    def sort_by(self, column_id: str, descending: bool) -> None:
        self.sort_column = column_id
        self.sort_descending = descending
        self._rebuild()

    def set_filter(self, text: str) -> None:
        self.filter_text = text
        self._rebuild()

    def catch_up(self) -> None:
        """Sort and filter rows that arrived while the table was hidden."""
        if self.pending:
            self._rebuild()

    def on_show(self) -> None:
        self.catch_up()

    @property
    def rows(self) -> Sequence[Any]:
        """The rows shown, sorted and filtered."""
        if self.pending:
            self._rebuild(force=True)
        return self._rows

    def _rebuild(self, force: bool = False) -> None:
        # A hidden table (the other view of the main screen) sorts its
        # 150,000 rows only when it is shown again (or asked for them).
        if not self.display and not force:
            if not self.pending:
                # Only the row under the cursor is needed to find it again: the
                # rows shown before (a whole metrics list's samples at 150,000
                # pods) are let go while the table waits.
                self._held = self._rows[self._cursor] if self._cursor < len(self._rows) else None
                self._rows, self._index = [], None
                self._order.let_go()
            self.pending = True
            return
        if self.pending:
            under_cursor, self._held = self._held, None
        else:
            under_cursor = self._rows[self._cursor] if self._cursor < len(self._rows) else None
        self.pending = False
        at_top = self._cursor == 0 and under_cursor is not None
        base = self._order.base()
        keep = self._order.kept(self.filter_text)  # positions in base that pass the filter (None: all)
        order = self._order.order(self._column(self.sort_column), self.sort_descending, keep)  # as shown
        rows = self._rows = Ordered(base, order)
        self._index = None
        self.virtual_size = Size(self.size.width, len(rows) + 1)
        found = None
        if at_top and rows:
            # The cursor on the first line means looking at the top of the list
            # (as in top and htop): after `c` the busiest rows are what shows.
            found = 0
            self.cursor_key = self.kind.key(rows[0])
        elif under_cursor is not None and self.cursor_key is not None:
            # The row under the cursor (or its successor after a refresh), found in base.
            at = self._order.position(under_cursor)
            if at is None:
                found = self._find(self.cursor_key)
            elif at >= 0:
                shown_at = np.flatnonzero(order == at)  # empty when the filter hides it
                found = int(shown_at[0]) if len(shown_at) else None
        if found is not None:
            self._cursor = found
        else:
            # The row went away (or nothing was selected): stay at the same
            # position, which now holds its neighbour.
            self._cursor = min(self._cursor, max(0, len(rows) - 1))
            self.cursor_key = self.kind.key(rows[self._cursor]) if rows else None
        self._scroll_cursor_into_view()
        self.refresh()

    def _column(self, column_id: str) -> Column | None:
        return next((c for c in self.columns if c.id == column_id), None)

    @property
    def cursor_index(self) -> int:
        """The cursor's line among the rows shown (0 when there are none)."""
        return self._cursor

    @property
    def cursor_row(self) -> Any:
        return self.rows[self._cursor] if self.rows else None

    def _find(self, key: Any) -> int | None:
        """Position of the row with this key; where the cursor was is looked at first."""
        if key is None:
            return None
        at = self._cursor
        if at < len(self.rows) and self.kind.key(self.rows[at]) == key:
            return at
        if self._index is None:
            self._index = {k: i for i, k in enumerate(map(self.kind.key, self.rows))}
        return self._index.get(key)

    # -- movement -----------------------------------------------------------

    def _move_to(self, index: int) -> None:
        if not self.rows:
            return
        self._cursor = max(0, min(index, len(self.rows) - 1))
        self.cursor_key = self.kind.key(self.rows[self._cursor])
        self._scroll_cursor_into_view()
        self.refresh()

    def _visible_rows(self) -> int:
        return max(1, self.size.height - 1)

    def shown_rows(self) -> Sequence[Any]:
        """The rows on screen now (none before the table is laid out)."""
        if not self.size.height:
            return []
        top = int(self.scroll_offset.y)
        return self.rows[top:top + self._visible_rows()]

    def _scroll_cursor_into_view(self) -> None:
        top = int(self.scroll_offset.y)
        visible = self._visible_rows()
        if self._cursor < top:
            self.scroll_to(y=self._cursor, animate=False)
        elif self._cursor >= top + visible:
            self.scroll_to(y=self._cursor - visible + 1, animate=False)

    def action_cursor(self, delta: int) -> None:
        self._move_to(self._cursor + delta)

    def action_page(self, direction: int) -> None:
        self._move_to(self._cursor + direction * self._visible_rows())

    def action_jump(self, where: int) -> None:
        self._move_to(0 if where == 0 else len(self.rows) - 1)

    def action_activate(self) -> None:
        if self.cursor_row is not None:
            self.post_message(self.Activated(self, self.cursor_row))

    # -- mouse --------------------------------------------------------------

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        if offset.y == 0:
            column = self._column_at(offset.x)
            if column is not None:
                self.post_message(self.SortRequested(self, column.id))
            return
        index = int(self.scroll_offset.y) + offset.y - 1
        if 0 <= index < len(self.rows):
            self._move_to(index)
            if event.chain == 2:
                self.action_activate()

    def _column_at(self, x: int) -> Column | None:
        pos = 0
        for column, width in self.layout().columns:
            if pos <= x < pos + width + GAP:
                return column
            pos += width + GAP
        return None

    # -- layout and rendering -------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        self.virtual_size = Size(event.size.width, len(self.rows) + 1)
        self._scroll_cursor_into_view()

    @property
    def line_width(self) -> int:
        """Cells a line has: the width less the scrollbar's column (its gutter is kept
        whether or not the rows scroll, so columns do not move when they start to)."""
        return self.scrollable_content_region.width

    def layout(self) -> Layout:
        """The columns shown at the current width (see layout.py); the sorted one always."""
        width, widths = self.line_width, self._order.text_widths(self.columns)
        made_for = (width, self.sort_column, widths)
        if self._layout is None or self._layout_of != made_for:
            self._layout = lay_out(self.columns, width, texts=widths, pinned=self.sort_column)
            self._layout_of = made_for
        return self._layout

    def visible_column_ids(self) -> list[str]:
        return self.layout().ids()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._palette = None  # (cached lines whose styles still match stay usable)

    def _tone_styles(self) -> dict[str, Style]:
        if self._palette is None:
            self._palette = {t: self.get_component_rich_style(f"row-table--{t}", partial=True) for t in TONES}
        return self._palette

    def forget_lines(self) -> None:
        """Format every line again when it is next drawn."""
        self._lines.clear()

    def render_line(self, y: int) -> Strip:
        width = self.line_width
        base = self.rich_style
        if y == 0:
            return self._header_strip(width, base)
        index = int(self.scroll_offset.y) + y - 1
        if not self.rows:
            if y == 2:
                message = self.empty_message
                if self.filter_text and self._order.rows:
                    message = f"No match for {self.filter_text!r} among {len(self._order.rows):,} rows. Esc clears the filter."
                text = escape_controls(message)[:width].center(width)
                style = base + self.get_component_rich_style("row-table--empty")
                return Strip([Segment(text, style)], width)
            return Strip.blank(width, base)
        if index >= len(self.rows):
            return Strip.blank(width, base)
        row = self.rows[index]
        selected = index == self._cursor
        row_style = base + self.get_component_rich_style("row-table--cursor") if selected else base
        palette = self._tone_styles()
        layout = self.layout()  # (a sort can bring a column back at the same width)
        history = self.history
        looks = (width, layout, row_style, palette, [history.stamp(key_of(row)) for key_of in layout.history_keys])
        cached = self._lines.get(id(row))
        if cached is not None and cached[0] is row and cached[1] == looks:
            return cached[2]
        segments = []
        for column, w in layout.columns:
            # Every cell, whatever its column: names and reasons come from the cluster.
            folded = layout.folded.get(column.id)
            if folded is None:
                text = _fit(escape_controls(column.text(row, self.history)), w, column)
            else:
                text = qualified(escape_controls(folded.text(row, self.history)),
                                 escape_controls(column.text(row, self.history)), w).ljust(w)
            style = row_style
            tone = column.tone(row)
            # On the selected row, warn/crit colours would fight the cursor's
            # background; the `!`/`!!` marks still carry the level there.
            if tone and not (selected and tone in ("warn", "crit")):
                # partial: only the tone's colour, so the cursor's background stays.
                tone_style = palette.get(tone)
                if tone_style is None:
                    tone_style = self.get_component_rich_style(f"row-table--{tone}", partial=True)
                style = style + tone_style
            segments.append(Segment(text, style))
            segments.append(Segment(" " * GAP, row_style))
        strip = Strip(segments).adjust_cell_length(width, row_style)
        self.formatted += 1
        if len(self._lines) >= LINE_CACHE:
            self._lines.clear()
        self._lines[id(row)] = (row, looks, strip)
        return strip

    def _header_strip(self, width: int, base: Style) -> Strip:
        header = base + self.get_component_rich_style("row-table--header")
        sorted_style = header + self.get_component_rich_style("row-table--header-sorted", partial=True)
        segments = []
        layout = self.layout()
        for column, w in layout.columns:
            title = column.title
            if column.id in layout.folded:
                title = f"{layout.folded[column.id].title}/{title}"
            style = header
            if column.id == self.sort_column:
                title = f"{title}{'▼' if self.sort_descending else '▲'}"
                style = sorted_style
            segments.append(Segment(_fit(title, w, column), style))
            segments.append(Segment(" " * GAP, header))
        return Strip(segments).adjust_cell_length(width, header)


def _fit(text: str, width: int, column: Column) -> str:
    if len(text) > width:
        if column.middle:
            return shorten(text, width)
        return text[: max(0, width - 1)] + "…" if width > 1 else text[:width]
    return text.rjust(width) if column.right else text.ljust(width)
