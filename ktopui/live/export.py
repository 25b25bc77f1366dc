"""The export key: a view's rows and the history the dashboard holds for them, as CSV.

The same CSV as `ktopui history` writes (batch/series_csv.py): pods one line
per container per sample, nodes and workloads one line per sample. The
history is the session's: with Prometheus, the rows' history is first filled
from it (`keys_of`, for views up to FILL_MOST rows; beyond, what screens had
it fill); the rows are the view's as shown (its filter). Writing runs in a
worker thread: a view of 150,000 pods reads each pod's rings.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ktopui.batch.series_csv import (
    NODE_COLUMNS,
    POD_COLUMNS,
    WORKLOAD_COLUMNS,
    Row,
    csv_text,
)
from ktopui.model import history_keys
from ktopui.model.history import CPU, MEMORY, History
from ktopui.model.nodes import NodeRow
from ktopui.model.pods import PodRow
from ktopui.model.snapshot import Snapshot
from ktopui.model.workloads import WorkloadRow

# The views that can be exported, by the kind of their rows.
EXPORTED = {NodeRow: "nodes", PodRow: "pods", WorkloadRow: "workloads"}
FILL_MOST = 2000  # rows whose history is asked of Prometheus before an export


def keys_of(rows: Sequence[Any], snapshot: Snapshot | None) -> tuple[list[tuple], dict[tuple, list[str]]]:
    """The history keys an export of `rows` writes, and a workload key's pods' names."""
    keys: list[tuple] = []
    members: dict[tuple, list[str]] = {}
    for row in rows:
        if isinstance(row, NodeRow):
            keys.append(history_keys.node(row.name))
        elif isinstance(row, PodRow):
            measured = row.sample.container_names() if row.sample is not None else ()
            keys.append(history_keys.pod(row.namespace, row.name))
            keys += [history_keys.of_container(row.namespace, row.name, c, tuple(measured)) for c in measured]
        elif isinstance(row, WorkloadRow):
            key = history_keys.workload(row.kind, row.namespace, row.name)
            keys.append(key)
            if snapshot is not None:
                members[key] = [k[1] for k in snapshot.workload_pods(row.key).keys]
    return keys, members


def export_path(view: str, now: float, directory: str | Path = ".") -> Path:
    """Where a view's export goes: `ktopui-pods-20261207T010203Z.csv` in `directory`, never over a file."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    path = Path(directory) / f"ktopui-{view}-{stamp}.csv"
    n = 1
    while path.exists():
        n += 1
        path = Path(directory) / f"ktopui-{view}-{stamp}-{n}.csv"
    return path


def export(history: History, rows: Sequence[Any], path: Path) -> int:
    """Write the rows' history to `path` (a new file only the user can read); how many lines."""
    kind = type(rows[0]) if rows else PodRow
    columns, lines = {
        NodeRow: (NODE_COLUMNS, _node_rows),
        PodRow: (POD_COLUMNS, _pod_rows),
        WorkloadRow: (WORKLOAD_COLUMNS, _workload_rows),
    }[kind]
    found = list(lines(history, rows))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
        f.write(csv_text(columns, found))
    return len(found)


def _series(history: History, key: tuple, *names: str) -> Iterable[Row]:
    times, cpu, memory = history.times(key), history.series(key, CPU), history.series(key, MEMORY)
    for t, c, m in zip(times.tolist(), cpu.tolist(), memory.tolist(), strict=False):
        if np.isfinite(t) and (np.isfinite(c) or np.isfinite(m)):
            yield (t, *names, c, m)


def _node_rows(history: History, rows: Sequence[NodeRow]) -> Iterable[Row]:
    for row in rows:
        yield from _series(history, history_keys.node(row.name), row.name)


def _pod_rows(history: History, rows: Sequence[PodRow]) -> Iterable[Row]:
    for row in rows:
        measured = row.sample.container_names() if row.sample is not None else ()
        for container in measured:
            key = history_keys.of_container(row.namespace, row.name, container, tuple(measured))
            yield from _series(history, key, row.namespace, row.name, container)


def _workload_rows(history: History, rows: Sequence[WorkloadRow]) -> Iterable[Row]:
    for row in rows:
        yield from _series(history, history_keys.workload(row.kind, row.namespace, row.name),
                           row.namespace, row.kind, row.name)
