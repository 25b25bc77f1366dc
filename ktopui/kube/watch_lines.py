"""A watch's body split into its events, one a line, decompressed as it comes, each bounded.

httpx's aiter_lines keeps a line in memory however long it grows; a watch
event is at most 16 MiB in client-go, and a server (or a proxy) that sends
an endless line must cost one failed watch, not memory.
"""

from __future__ import annotations

from collections.abc import Iterator

from ktopui.kube.errors import MalformedResponse
from ktopui.kube.inflate import Inflater
from ktopui.kube.limits import size_text


class EventTooLarge(MalformedResponse):
    """A watch event longer than the limit."""


class EventLines:
    """A watch body split into its lines (one event each), decompressed as it comes.

    httpx's aiter_lines keeps a line in memory however long it grows; here a
    line longer than `limit` bytes (decompressed) fails at once, and no more
    than about `limit` bytes are ever held.
    """

    def __init__(self, encoding: str, limit: int) -> None:
        self._inflater = Inflater(encoding, "the watch")
        self.limit = limit
        self._partial = bytearray()

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        """The lines this chunk completes, each as soon as it is complete."""
        for piece in self._inflater.feed(chunk):
            yield from self._split(piece)

    def end(self) -> Iterator[bytes]:
        """A last line left without its newline when the body ended."""
        for piece in self._inflater.end():
            yield from self._split(piece)
        if self._partial:
            line, self._partial = bytes(self._partial), bytearray()
            yield line

    def _split(self, data: bytes) -> Iterator[bytes]:
        start, limit, partial = 0, self.limit, self._partial
        while (end := data.find(b"\n", start)) >= 0:
            if len(partial) + end - start > limit:
                raise EventTooLarge(f"a watch event longer than {size_text(limit)}")
            if partial:
                partial += memoryview(data)[start:end]
                line = bytes(partial)
                partial.clear()
            else:
                line = data[start:end]
            start = end + 1
            yield line
        if len(partial) + len(data) - start > limit:
            raise EventTooLarge(f"a watch event longer than {size_text(limit)}")
        partial += memoryview(data)[start:]
