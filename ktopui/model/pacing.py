"""Long loops that let a caller pause them between batches."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def paced_batches(batches: Iterable[list[T]], pause: Callable[[], None]) -> Iterator[list[T]]:
    """The batches, calling pause() before each (a batch: a few milliseconds of work)."""
    for batch in batches:
        pause()
        yield batch
