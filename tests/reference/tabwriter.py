"""Go's text/tabwriter (liggitt/tabwriter with RememberWidths), ported line by line.

kubectl's settings (cli-runtime printers.GetNewTabWriter): minwidth 6, padding 3,
pad with spaces, left alignment, one final flush. `ktopui.batch.tabwriter.render`
computes the same widths column by column; tests check both give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence

MINWIDTH = 6
PADDING = 3


def render_reference(rows: Sequence[Sequence[str]]) -> str:
    """Rows rendered as Go's tabwriter does it: block by block, recursively, line by line."""
    # A line's cells: the real ones plus the empty cell after the last tab.
    lines = [[*row, ""] for row in rows]
    cell_widths = [[len(c) for c in line] for line in lines]
    out: list[str] = []
    widths: list[int] = []
    remembered: list[int] = []

    def write_lines(line0: int, line1: int) -> None:
        for i in range(line0, line1):
            parts = []
            for j, text in enumerate(lines[i]):
                parts.append(text)
                if j < len(widths):
                    parts.append(" " * (widths[j] - cell_widths[i][j]))
            out.append("".join(parts) + "\n")

    def format_block(line0: int, line1: int) -> None:
        column = len(widths)
        this = line0
        while this < line1:
            if column >= len(lines[this]) - 1:
                this += 1
                continue
            write_lines(line0, this)
            line0 = this
            width = MINWIDTH
            while this < line1 and column < len(lines[this]) - 1:
                width = max(width, cell_widths[this][column] + PADDING)
                this += 1
            # RememberWidths: a later block of the same column is at least as
            # wide as the widest earlier one.
            if len(remembered) < len(widths):
                remembered.extend(widths[len(remembered):])
            if len(remembered) == len(widths):
                remembered.append(width)
            elif remembered[column] > width:
                width = remembered[column]
            else:
                remembered[column] = width
            widths.append(width)
            format_block(line0, this)
            widths.pop()
            line0 = this
        write_lines(line0, line1)

    format_block(0, len(lines))
    return "".join(out)
