"""Long loops that let a caller pause them between batches."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import TypeVar

T = TypeVar("T")
BATCH = 2048  # items between pauses: a few milliseconds of work per batch


def paced(items: Iterable[T], pause: Callable[[], None] | None, every: int = BATCH) -> Iterator[T]:
    """The items, calling pause() before each batch of `every` (no pause: the items as they are)."""
    if pause is None:
        yield from items
        return
    it = iter(items)
    while batch := list(islice(it, every)):
        pause()
        yield from batch
