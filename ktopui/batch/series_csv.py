"""Usage series as text: the CSV and JSON that `ktopui history` writes (and the dashboard's export).

Rows in, text out. A row is `(time, *names, cpu_millicores, memory_bytes)`:
`time` in seconds since the epoch, the names as the columns say (namespace,
pod, container; node; namespace, kind, workload), the two numbers floats or
None (NaN and infinities count as missing). Both writers order the rows by
time, then by the names, and write the same numbers:

* `time`: RFC 3339 in UTC, `2026-12-07T01:00:00Z` (milliseconds only when the
  time has a fraction of a second);
* `cpu_millicores`: a plain decimal rounded to 3 decimals (a thousandth of a
  millicore), trailing zeros dropped: `250`, `12.5`, `0.004`;
* `memory_bytes`: whole bytes, rounded to the nearest;
* a missing number is an empty CSV field and a JSON `null`.

Names are written as they are in JSON (control characters as `\\u` escapes);
in CSV, where they would reach a terminal, control characters are escaped
(`\\x1b`) as `ktopui top` escapes them.
"""

from __future__ import annotations

import csv
import io
import math
import time
from collections.abc import Iterable, Sequence
from itertools import groupby

import msgspec

from ktopui.safe_text import escape_controls, escape_controls_in_json

POD_COLUMNS = ("time", "namespace", "pod", "container", "cpu_millicores", "memory_bytes")
NODE_COLUMNS = ("time", "node", "cpu_millicores", "memory_bytes")
WORKLOAD_COLUMNS = ("time", "namespace", "kind", "workload", "cpu_millicores", "memory_bytes")

Row = Sequence  # (time, *names, cpu_millicores, memory_bytes)


def time_text(seconds: float) -> str:
    """RFC 3339 UTC: whole seconds, or milliseconds when there is a fraction."""
    whole = math.floor(seconds)
    text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole))
    millis = round((seconds - whole) * 1000)
    if millis == 1000:  # (a fraction that rounds up to the next second)
        return time_text(whole + 1)
    return f"{text}.{millis:03d}Z" if millis else f"{text}Z"


def _finite(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def cpu_text(milli: float | None) -> str:
    """Millicores to 3 decimals, no trailing zeros; "" when missing."""
    if not _finite(milli):
        return ""
    text = f"{milli:.3f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def memory_text(nbytes: float | None) -> str:
    """Whole bytes (nearest); "" when missing."""
    if not _finite(nbytes):
        return ""
    text = f"{nbytes:.0f}"
    return "0" if text == "-0" else text


def _sorted(rows: Iterable[Row]) -> list[Row]:
    return sorted(rows, key=lambda row: tuple(row[:-2]))


def csv_text(columns: Sequence[str], rows: Iterable[Row]) -> str:
    """The rows as CSV under a header of `columns` (one of the *_COLUMNS), sorted by time then names."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    names = len(columns) - 3
    for row in _sorted(rows):
        if len(row) != len(columns):
            raise ValueError(f"a row of {len(row)} fields for {len(columns)} columns")
        writer.writerow((time_text(row[0]), *(escape_controls(str(n)) for n in row[1:1 + names]),
                         cpu_text(row[-2]), memory_text(row[-1])))
    return out.getvalue()


def _number(text: str) -> msgspec.Raw | None:
    return msgspec.Raw(text.encode()) if text else None


def json_text(kind: str, columns: Sequence[str], rows: Iterable[Row], **fields: object) -> str:
    """One JSON document: `{"apiVersion": "ktopui/v1", "kind": kind, **fields, "series": [...]}`, a
    series per key (the names of `columns`), each `{name: value, ..., "points": [{"time",
    "cpu_millicores", "memory_bytes"}]}` in time order; the numbers as the CSV writes them."""
    names = list(columns[1:-2])
    by_key = sorted(rows, key=lambda row: (tuple(row[1:-2]), row[0]))
    series = []
    for key, group in groupby(by_key, key=lambda row: tuple(row[1:-2])):
        points = [{"time": time_text(row[0]), "cpu_millicores": _number(cpu_text(row[-2])),
                   "memory_bytes": _number(memory_text(row[-1]))} for row in group]
        series.append({**dict(zip(names, key)), "points": points})
    doc = {"apiVersion": "ktopui/v1", "kind": kind, **fields, "series": series}
    return escape_controls_in_json(msgspec.json.format(msgspec.json.encode(doc), indent=2).decode()) + "\n"
