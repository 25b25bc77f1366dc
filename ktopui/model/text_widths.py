"""How wide a column of names must be to tell its values apart.

What follows a name's first dot is a domain (`.eu-west-1.compute.internal`
on every EKS node, and on the static pods named after them) that many rows
share: it tells nothing apart. So a dotted name needs its part before the
dot, plus one cell for the `…` that says the domain was cut.
"""

from __future__ import annotations

import re
from itertools import filterfalse
from typing import NamedTuple

_dotted = re.compile(r"\.").search


class TextWidths(NamedTuple):
    telling: int  # cells that tell the values apart
    longest: int  # cells of the longest value, domain and all
    varied: bool  # the values are not all the same


def text_widths(values: list[str]) -> TextWidths:
    """TextWidths of a column's values (C calls over the values: they may be 150,000 pod names)."""
    plain = max(map(len, filterfalse(_dotted, values)), default=0)
    dotted = list(filter(_dotted, values))
    hosts = max((text.index(".") + 1 for text in dotted), default=0)
    varied = bool(values) and values.count(values[0]) != len(values)
    return TextWidths(max(plain, hosts), max(plain, max(map(len, dotted), default=0)), varied)
