"""What a `ktopui top` command hands back: kubectl's table text or the JSON form, and kubectl's plain errors.

Shared by `top nodes` (batch/nodes.py) and `top pods` (batch/pods.py). A name
with control characters (from metrics-server: nothing validates it) is printed
escaped (`\\x1b`), where kubectl writes it raw to the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import msgspec

from ktopui.batch.tabwriter import render
from ktopui.model.quantity import format_cpu, format_memory
from ktopui.safe_text import escape_controls, escape_controls_in_json

_PLAIN_ASCII = bytes(range(0x20, 0x7F)) + b"\n"


class TopError(Exception):
    """kubectl's plain (non-API) errors, e.g. `metrics not available yet`."""


@dataclass(repr=False)
class Result:
    stdout: str = ""
    stderr: str = ""
    code: int = 0

    def __repr__(self) -> str:
        # Short on purpose: asyncio.run() reprs the finished task, result and
        # all, when it restores the SIGINT handler; a 16 MB table took 0.15 s.
        return f"Result(stdout=<{len(self.stdout)} chars>, stderr=<{len(self.stderr)} chars>, code={self.code})"


def render_escaped(table: Sequence[Sequence[str]]) -> str:
    """The rendered table, its cells escaped when one holds a control character
    (a name from metrics-server: nothing validates it).

    Checked on the finished text, in C, not cell by cell: an ordinary table is
    printable ASCII but for its newlines, and is printed as it is.
    """
    text = render(table)
    if text.count("\n") != len(table):  # a cell with a newline of its own
        plain = False
    elif text.isascii():
        plain = not text.encode().translate(None, _PLAIN_ASCII)
    else:
        plain = text.replace("\n", "").isprintable()
    return text if plain else render([[escape_controls(cell) for cell in row] for row in table])


def cpu_cell(milli: int | None, problem: str | None = None) -> str:
    return "?" if problem or milli is None else format_cpu(milli)


def mem_cell(nbytes: int | None, problem: str | None = None) -> str:
    return "?" if problem or nbytes is None else format_memory(nbytes)


def json_list(kind: str, items: list, **extra: msgspec.Struct) -> str:
    """`-o json`: the items as a `ktopui/v1` list of `kind`, with `extra` fields beside `items`."""
    doc = {"apiVersion": "ktopui/v1", "kind": kind, "items": items, **extra}
    # Names stay exact for scripts; what could drive a terminal is written as JSON escapes.
    return escape_controls_in_json(msgspec.json.format(msgspec.json.encode(doc), indent=2).decode()) + "\n"
