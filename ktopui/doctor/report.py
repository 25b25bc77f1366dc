"""Findings for a terminal (marks plus words, readable without colour) or as JSON."""

from __future__ import annotations

import json
import textwrap

from ktopui.doctor.findings import FAIL, OK, SKIP, WARN, Finding, exit_code
from ktopui.safe_text import escape_controls_in_json

MARKS = {OK: "✔", WARN: "⚠", FAIL: "✘", SKIP: "–"}
WORDS = {OK: "ok", WARN: "warn", FAIL: "FAIL", SKIP: "skip"}
_COLOURS = {OK: "32", WARN: "33", FAIL: "31;1", SKIP: "2"}
_INDENT = " " * 8  # under the check title, past "✘ FAIL  "


def _wrap(text: str, width: int | None, first: str, rest: str) -> list[str]:
    if not width:
        return [first + text]
    return textwrap.wrap(text, width=max(width, 40), initial_indent=first, subsequent_indent=rest,
                         break_long_words=False, break_on_hyphens=False) or [first]


def render_text(findings: list[Finding], *, width: int | None = None, colour: bool = False) -> str:
    """One line per check (`✔ ok    connection: ...`), the next step indented under it.
    `width` wraps long lines (None: no wrapping, for pipes and tests)."""
    lines: list[str] = []
    for f in findings:
        mark = f"{MARKS[f.status]} {WORDS[f.status]:<4}"
        if colour:
            mark = f"\x1b[{_COLOURS[f.status]}m{mark}\x1b[0m"
        lines += _wrap(f"{f.check}: {f.detail}", width, f"{mark}  ", _INDENT)
        if f.next_step and f.status != OK:
            lines += _wrap(f"next step: {f.next_step}", width, _INDENT + "→ ", _INDENT + "  ")
    lines.append("")
    lines.append(summary(findings))
    return "\n".join(lines) + "\n"


def summary(findings: list[Finding]) -> str:
    fails = sum(f.status == FAIL for f in findings)
    warns = sum(f.status == WARN for f in findings)
    if not fails:
        tail = f" ({warns} warning{'s' if warns != 1 else ''})" if warns else ""
        return f"Everything ktopui needs works{tail}."
    return (f"{fails} problem{'s' if fails != 1 else ''} to fix"
            + (f", {warns} warning{'s' if warns != 1 else ''}" if warns else "")
            + ": see the next steps above.")


def render_json(findings: list[Finding], **context: str) -> str:
    doc = {"ok": exit_code(findings) == 0, **context, "findings": [f.to_dict() for f in findings]}
    # (the context and namespace names, too, are printed: escaped the JSON way, so nothing is lost)
    return escape_controls_in_json(json.dumps(doc, indent=2, ensure_ascii=False)) + "\n"
