"""An answer's body, inflated a bounded piece at a time.

httpx inflates each network read whole: 64 KiB of a gzip bomb becomes about
64 MiB in one call, before any size limit can look at it. Reading the raw
bytes and inflating them here with zlib's `max_length` keeps every piece
small, so a limit on the body (a list's size, a watch event's) is also a
limit on memory.

ktopui asks for gzip only (what the API server sends, as client-go asks for
it); an answer in another encoding is refused rather than guessed at.
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Iterator

import httpx

from ktopui.kube.errors import MalformedResponse

ACCEPT_ENCODING = "gzip"
PIECE = 256 * 1024  # bytes of inflated body per piece, at most


class Inflater:
    """Raw body chunks in, decoded pieces of at most `piece` bytes out."""

    def __init__(self, encoding: str, what: str, piece: int = PIECE) -> None:
        self.encoding = encoding.strip().lower()
        self.what = what
        self.piece = piece
        if self.encoding in ("", "identity"):
            self._inflater = None
        elif self.encoding in ("gzip", "x-gzip"):
            self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.encoding == "deflate":
            self._inflater = zlib.decompressobj(zlib.MAX_WBITS)
        else:
            raise MalformedResponse(f"the answer to {what} is encoded as {self.encoding!r}, which was not asked "
                                    f"for ({ACCEPT_ENCODING} only)")

    def feed(self, chunk: bytes) -> Iterator[bytes]:
        piece, inflater = self.piece, self._inflater
        if inflater is None:
            for start in range(0, len(chunk), piece):
                yield chunk[start:start + piece]
            return
        try:
            while chunk and not inflater.eof:
                out = inflater.decompress(chunk, piece)
                chunk = inflater.unconsumed_tail
                if out:
                    yield out
        except zlib.error as err:
            raise MalformedResponse(f"the answer to {self.what} is not valid {self.encoding}: {err}") from None

    def end(self) -> Iterator[bytes]:
        """What is left once every chunk is in: bounded by zlib's window, not by the body."""
        if self._inflater is not None and (rest := self._inflater.flush()):
            yield rest


async def pieces(response: httpx.Response, what: str, piece: int = PIECE) -> AsyncIterator[bytes]:
    """The body of `response`, decoded, in pieces of at most `piece` bytes."""
    inflater = Inflater(response.headers.get("content-encoding", ""), what, piece)
    async for chunk in response.aiter_raw():
        for out in inflater.feed(chunk):
            yield out
    for out in inflater.end():
        yield out
