"""Elastic tabstops exactly as kubectl prints tables.

A port of github.com/liggitt/tabwriter (Go's text/tabwriter plus
RememberWidths) with kubectl's settings from cli-runtime
printers.GetNewTabWriter: minwidth 6, padding 3, pad with spaces, no flags
but RememberWidths. Only the subset kubectl's `top` output exercises is
ported: left alignment, no escapes, no HTML filtering, one final flush.
Byte-exactness matters here: the output is compared with kubectl's.

`render` computes the same widths as Go's line-by-line algorithm (ported
as such in tests/reference/tabwriter.py, which the tests compare it with)
column by column, so a 150,000-line table costs a few passes in C instead
of a Python loop per cell:

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

