"""Elastic tabstops exactly as kubectl prints tables.

A port of github.com/liggitt/tabwriter (Go's text/tabwriter plus
RememberWidths) with kubectl's settings from cli-runtime
printers.GetNewTabWriter: minwidth 6, padding 3, pad with spaces, no flags
but RememberWidths. Only the subset kubectl's `top` output exercises is
ported: left alignment, no escapes, no HTML filtering, one final flush.
Byte-exactness matters here: the output is compared with kubectl's.

`render` computes the same widths as the line-by-line port
(`render_reference`) column by column, so a 150,000-line table costs a few
passes in C instead of a Python loop per cell:

* Go's tabwriter gives cell (line i, column j) the width of the *block* of
  column j around line i: the maximal run of consecutive lines that have a
  cell j (a line of n cells has cells 0..n-1; the text after its last tab
  is in no column). The width is max(minwidth, longest cell + padding).
* RememberWidths makes each block at least as wide as the earlier blocks of
  the same column: top to bottom, a running maximum.
* Consecutive lines with the same number of cells share every block, so a
  run of them is one rectangle printed with one format string.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import groupby

MINWIDTH = 6
PADDING = 3


def render(rows: Sequence[Sequence[str]]) -> str:
    """Render rows whose every cell kubectl writes as "%v\\t", lines ending in "\\n".

    Each row is a sequence of cell texts; like kubectl, every cell is
    tab-terminated, so each line also carries an empty trailing cell that
    belongs to no column (and so is never padded).
    """
    if not rows:
        return ""
    # Runs of consecutive rows with the same number of cells.
    segments = [(n, list(group)) for n, group in groupby(rows, key=len)]
    # Longest cell of each column in each segment.
    longest = [[max(map(len, column)) for column in zip(*group)] for _, group in segments]
    widths: list[list[int]] = [[0] * n for n, _ in segments]
    for column in range(max(n for n, _ in segments)):
        remembered = 0
        s = 0
        while s < len(segments):
            if segments[s][0] <= column:
                s += 1
                continue
            block_start = s
            width = MINWIDTH
            while s < len(segments) and segments[s][0] > column:
                width = max(width, longest[s][column] + PADDING)
                s += 1
            width = remembered = max(width, remembered)
            for k in range(block_start, s):
                widths[k][column] = width
    out: list[str] = []
    for (_, group), segment_widths in zip(segments, widths):
        # "%-6s" pads like Go (counting code points, as Go counts runes).
        line = "".join(f"%-{w}s" for w in segment_widths) + "\n"
        out.extend([line % tuple(cells) for cells in group])
    return "".join(out)


def render_reference(rows: Sequence[Sequence[str]]) -> str:
    """The line-by-line port of the Go algorithm; `render` must give the same bytes."""
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
