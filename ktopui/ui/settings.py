"""How the config file reaches the screens: what it may name, and which columns it shows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from ktopui import config
from ktopui.model.kinds import Kind
from ktopui.model.namespaces import NAMESPACES
from ktopui.model.nodes import NODES
from ktopui.model.pods import PODS
from ktopui.model.workloads import WORKLOADS
from ktopui.ui.columns import Column, namespaces, nodes, pods, workloads


class View(NamedTuple):
    """A table the config file can shape: its kind of row, its columns with metrics and without."""

    kind: Kind
    columns: list[Column]
    reserved: list[Column]


# Registered here: a new kind's room, its columns, and a line (and its section in config.VIEWS).
VIEWS = {
    "nodes": View(NODES, nodes.COLUMNS, nodes.RESERVED),
    "pods": View(PODS, pods.COLUMNS, pods.RESERVED),
    "workloads": View(WORKLOADS, workloads.COLUMNS, workloads.RESERVED),
    "namespaces": View(NAMESPACES, namespaces.COLUMNS, namespaces.RESERVED),
}


def vocabulary() -> config.Vocabulary:
    """Column ids, binding ids and themes, from the columns, bindings and themes themselves."""
    from textual.theme import BUILTIN_THEMES

    from ktopui.ui.app import KtopApp
    from ktopui.ui.dashboard import DashboardScreen
    from ktopui.ui.dialogs import DoctorScreen, HelpScreen, NamespaceScreen
    from ktopui.ui.screens import MainScreen, PodScreen
    from ktopui.ui.table import RowTable

    bindings: dict[str, config.Binding] = {}
    # The screen's bindings before the app's: theirs have the longer descriptions.
    for owner in (DashboardScreen, MainScreen, PodScreen, RowTable, KtopApp, NamespaceScreen, HelpScreen, DoctorScreen):
        for binding in owner.BINDINGS:
            if binding.id is not None:
                bindings.setdefault(binding.id, config.Binding(binding.key, binding.tooltip or binding.description))
    return config.Vocabulary(
        columns={name: [c.id for c in view.columns] for name, view in VIEWS.items()},
        bindings=bindings,
        themes=sorted(BUILTIN_THEMES),
    )


# What a usage column stands for without metrics: these amounts of its resource (Column.choice).
RESERVED_AMOUNTS = ("requests", "limits", "allocatable")


def columns_for(view: str, chosen: Sequence[str] | None, *, reserved: bool,
                without: tuple[str, ...] = ()) -> list[Column]:
    """The view's columns in the order the config file lists them (all when it lists none).

    `reserved`: no metrics API, so the columns of requests and limits: the
    usage columns chosen (`cpu`, `mem`) stand for the requests, limits and
    allocatable amounts of their resource, which have no usage to show.
    """
    _, normal, reserved_columns = VIEWS[view]
    if chosen is None:
        return [c for c in (reserved_columns if reserved else normal) if c.id not in without]
    if not reserved:
        by_id = {c.id: c for c in normal}
        return [by_id[i] for i in chosen if i not in without]
    usage_of = {c.id: c.choice[1] for c in normal if c.choice[0] == "usage"}
    by_id = {c.id: c for c in reserved_columns}
    shown: dict[str, Column] = {}
    for column_id in chosen:
        if column_id in by_id:
            stands_for = [by_id[column_id]]
        else:
            resource = usage_of.get(column_id)
            stands_for = [c for c in reserved_columns if c.choice[0] in RESERVED_AMOUNTS and c.choice[1] == resource]
        shown.update((c.id, c) for c in stands_for if c.id not in without)
    return list(shown.values())

