"""How wide a column of names must be to tell its values apart.

What follows a name's first dot is a domain (`.eu-west-1.compute.internal`
on every EKS node, and on the static pods named after them) that many rows
share: it tells nothing apart. So a dotted name needs its part before the
dot, plus one cell for the `…` that says the domain was cut. And a column
is as wide as 19 of its 20 values need: the few longest (a control plane's
static pods) lose their middle rather than take width from every row.
"""

from __future__ import annotations

import math
from itertools import repeat
from operator import contains
from typing import NamedTuple

import numpy as np

WHOLE_SHARE = 0.95  # of the values, shown whole at the telling width


class TextWidths(NamedTuple):
    telling: int  # cells that tell most values apart (WHOLE_SHARE of them, each without its domain)
    longest: int  # cells of the longest value, domain and all
    varied: bool  # the values are not all the same


def text_widths(values: list[str]) -> TextWidths:
    """TextWidths of a column's values (C calls over the values: they may be 150,000 pod names)."""
    count = len(values)
    if not count:
        return TextWidths(0, 0, False)
    telling = np.fromiter(map(len, values), dtype=np.int64, count=count)
    longest = int(telling.max())
    dotted = np.flatnonzero(np.fromiter(map(contains, values, repeat(".")), dtype=bool, count=count))
    for at in dotted.tolist():  # (few pod names have a dot; nodes are thousands at most)
        telling[at] = values[at].index(".") + 1
    enough = np.searchsorted(np.cumsum(np.bincount(telling)), math.ceil(count * WHOLE_SHARE))
    return TextWidths(int(enough), longest, values.count(values[0]) != count)
