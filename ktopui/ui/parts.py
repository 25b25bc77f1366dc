"""A one-line status made of parts, each with a priority: a narrow terminal
drops the least important part first, so what must stay (the age of the
data, an error and when it is retried) is the last to go.

The header builds its lines from these; a new notice is one more Part.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from rich.text import Text


@dataclass(frozen=True)
class Part:
    text: Text
    keep: int  # higher stays longer; among equals, the later part goes first
    lead: str = ""  # what separates it from the part before: dropped with it, and when it comes first
    shrink: int = 0  # when not 0, cut down (with …) to as few as this many cells before it is dropped
    middle: bool = False  # cut in the middle (a message: what failed, and the detail at its end)
    instead: Part | None = None  # a shorter way of saying it, shown when this part has to go


def fit(parts: Sequence[Part], width: int) -> Text:
    """The parts that fit in `width` cells, in their order, least important dropped (or shrunk) first.

    A part shrunk and then given room back (something later in the queue was
    dropped) grows again as far as that room goes.
    """
    kept = [p for p in parts if p.text.cell_len]
    whole = list(kept)  # each kept part as it came, before any cut

    def length() -> int:
        return sum(p.text.cell_len + (len(p.lead) if i else 0) for i, p in enumerate(kept))

    while kept and (over := length() - width) > 0:
        at = min(reversed(range(len(kept))), key=lambda i: kept[i].keep)
        part = kept[at]
        room = part.text.cell_len - over
        if part.instead is not None:
            kept[at] = whole[at] = part.instead
        elif part.shrink and room >= part.shrink:
            kept[at] = replace(part, text=_cut(part.text, room, part.middle))
        elif len(kept) == 1:  # the most important part alone is too long: cut its end
            kept[at] = replace(part, text=_cut(part.text, max(0, width), False))
        else:
            del kept[at], whole[at]
    for at in sorted(range(len(kept)), key=lambda i: -kept[i].keep):
        spare = width - length()
        if spare > 0 and kept[at] is not whole[at]:
            grown = min(whole[at].text.cell_len, kept[at].text.cell_len + spare)
            kept[at] = whole[at] if grown == whole[at].text.cell_len else replace(
                whole[at], text=_cut(whole[at].text, grown, whole[at].middle))
    line = Text(no_wrap=True, overflow="ellipsis")
    for i, part in enumerate(kept):
        if i and part.lead:
            line.append(part.lead, style="dim")
        line.append_text(part.text)
    return line


def _cut(text: Text, width: int, middle: bool) -> Text:
    if not middle:
        cut = text.copy()
        cut.truncate(width, overflow="ellipsis")
        return cut
    # Half from each end; the start up to a word's end when that keeps up to two thirds
    # (`the server answered 500…request timed out`, `exec: executable…/plugin.py failed`).
    head = (width - 1) // 2
    space = text.plain.rfind(" ", 0, (width - 1) * 2 // 3 + 1)
    head = max(head, space)
    tail = width - 1 - head
    return Text.assemble(text[:head], "…", text[len(text) - tail:]) if tail else Text.assemble(text[:head], "…")


def notice_parts(notices: Sequence[str], style: str, keep: int) -> list[Part]:
    """What the views lack and why (a list that may not be read, so some rows are inferred):
    each said once, in plain words, cut short before it is dropped."""
    return [Part(Text(f" ⓘ {notice}", style=style), keep, lead=" │", shrink=24) for notice in notices]
