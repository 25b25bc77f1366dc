"""What a table needs to know of the rows of one kind (nodes, pods, containers).

Each kind's room (nodes.py, pods.py, containers.py) declares one: which row
is which across refreshes, the name order ties are shown in, the text a
filter searches, and the values its columns sort by, by name. A column
names the value it sorts by; it never derives one from how it is drawn.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Kind:
    name: str
    key: Callable[[Any], Hashable]  # the same node, pod or container in the next refresh's rows
    order: Callable[[Any], Any]  # name order: how ties are shown, and the order rows come in
    filter_text: Callable[[Any], str]  # what `/` searches
    values: Mapping[str, Callable[[Any], Any]]  # value name -> the row's value (None: no data)
