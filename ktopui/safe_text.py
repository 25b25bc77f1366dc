"""Text from the cluster, made safe to show: control characters spelled out.

Names, waiting reasons, Status messages, versions and user names come from
the API server and from whatever backs an APIService (metrics-server or
anything else), and nobody validates them. Written to a terminal as they
are, an ESC sequence sets the window title, writes the clipboard or clears
the screen, a CR overwrites the line, a bidi override reorders it.

`escape_controls` spells every character that is not printable (C0 and C1
controls, DEL, bidi and other invisible format characters, line separators,
unusual spaces) as a visible escape (`\\x1b`, `\\u202e`), as Python's repr
does; everything printable, backslashes included, stays as it is. Names are
kept verbatim everywhere else (they build request paths and are keys), so
this runs where text meets the screen, a log line or a table cell.
`escape_controls_in_json` does the same for a JSON document, losslessly:
the characters become JSON escapes that any parser turns back into the
original text.

This module imports nothing from ktopui, so every layer may use it.
"""

from __future__ import annotations

import re

_SHORT = {0x09: "\\t", 0x0A: "\\n", 0x0D: "\\r"}


def _escape(code: int) -> str:
    if code in _SHORT:
        return _SHORT[code]
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


class _Escapes(dict):
    """str.translate table filled as characters are met: printable ones map
    to themselves, the others to their escape. Lookups of characters seen
    before stay in C."""

    def __init__(self, keep: str = "") -> None:
        super().__init__()
        self.keep = frozenset(map(ord, keep))

    def __missing__(self, code: int) -> int | str:
        value = code if code in self.keep or chr(code).isprintable() else _escape(code)
        self[code] = value
        return value


_ONE_LINE = _Escapes()
_LINES = _Escapes(keep="\n")


def escape_controls(text: str, *, keep_newlines: bool = False) -> str:
    """`text` with every non-printable character spelled as a visible escape.

    `keep_newlines` leaves line feeds alone, for text shown as several lines
    (a plugin's stderr, a traceback); everything else that moves the cursor
    (CR, tabs, vertical tabs, form feeds) is still escaped.
    """
    if text.isprintable():  # ordinary names: one pass in C, no copy
        return text
    return text.translate(_LINES if keep_newlines else _ONE_LINE)


# Outside the printable ASCII range, or DEL (a JSON encoder emits C0 controls
# as \u escapes already; the newlines left are the document's own).
_JSON_SUSPECT = re.compile(r"[^\n\x20-\x7e]")


def _json_escape(match: re.Match[str]) -> str:
    char = match.group()
    if char.isprintable():
        return char
    code = ord(char)
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    code -= 0x10000  # beyond the BMP: a UTF-16 surrogate pair, as JSON spells it
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def escape_controls_in_json(document: str) -> str:
    """A JSON document with the characters escape_controls would escape written
    as JSON `\\u` escapes: the same data for a parser, nothing raw for a terminal."""
    if document.isascii() and "\x7f" not in document:
        return document
    return _JSON_SUSPECT.sub(_json_escape, document)
